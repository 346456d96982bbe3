//! Access review campaigns through the real server: an auditor starts one (bad input changes
//! nothing), each line goes to its API's owners or to Gatehouse reviewers, only they may
//! certify it and never their own access, the due date closes it once (restart, two replicas)
//! with the default for undecided lines, the revokes become one change set waiting for review,
//! and the campaign's events export with a manifest that verifies offline.

use crate::common;

use app::domain::{
    desired::ChangeItem,
    grant::{Binding, GroupRef},
    names::RoleArn,
};
use common::{approved, count, signed_in, spawn_app, TestApp};
use futures_util::StreamExt;
use gatehouse::{
    audit::Actor,
    campaigns::close,
    history::{export::Format, exports, offline},
};
use serde_json::Value;

const ORDERS_ROLE: &str = "arn:aws:iam::123456789012:role/orders-readers";
const PAYMENTS_ROLE: &str = "arn:aws:iam::123456789012:role/payments-payers";

fn grant(role: &str, api: &str, method: &str, path: &str) -> ChangeItem {
    common::grant_on(role, api, method, path)
}

fn bind(group: &str, role: &str) -> ChangeItem {
    ChangeItem::AddBinding(Binding {
        group: GroupRef::group("file", group),
        role: RoleArn::parse(role).unwrap(),
    })
}

fn error_fields(outcome: &Value) -> Vec<String> {
    outcome["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e[0].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Orders (no owner) and payments (owned by "Payments owners", which holds Sam); the orders
/// team and finance (Rita is in finance) are bound to their roles.
async fn world(app: &TestApp) {
    for sql in [
        "INSERT INTO rest_apis (target, api_id, name, snapshot) VALUES
            ('123456789012/us-east-1', 'a1b2c3d4e5', 'orders', '{}'),
            ('123456789012/us-east-1', 'p9q8r7s6t5', 'payments', '{}')",
        "INSERT INTO directory_groups (source, object_id, display_name, directory_ref) VALUES
            ('file', 'orders-team', 'Orders team', 'orders-team'),
            ('file', 'finance', 'Finance', 'finance'),
            ('file', 'payments-owners', 'Payments owners', 'payments-owners')",
        "INSERT INTO directory_memberships (source, group_id, member_id, member_kind) VALUES
            ('file', 'payments-owners', '0a1b2c3d-0000-4000-8000-000000000004', 'person'),
            ('file', 'finance', '0a1b2c3d-0000-4000-8000-000000000002', 'person')",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
    approved(
        &app.pool,
        vec![
            grant(ORDERS_ROLE, "a1b2c3d4e5", "GET", "/orders"),
            grant(PAYMENTS_ROLE, "p9q8r7s6t5", "POST", "/payments"),
            bind("orders-team", ORDERS_ROLE),
            bind("finance", PAYMENTS_ROLE),
        ],
    )
    .await;
    // Owned from now on (the mappings above were approved before).
    sqlx::query(
        "INSERT INTO api_owners (api_id, group_source, group_id, set_by)
         VALUES ('p9q8r7s6t5', 'file', 'payments-owners', 'test')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
}

fn tomorrow() -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .date()
        .to_string()
}

/// Line number of the line whose item matches `pred`.
async fn line_of(app: &TestApp, id: i64, item: &ChangeItem) -> i32 {
    sqlx::query_scalar(
        "SELECT line FROM review_campaign_lines WHERE campaign_id = $1 AND item = $2",
    )
    .bind(id)
    .bind(sqlx::types::Json(item))
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_campaign_is_certified_by_its_reviewers_and_closes_once_into_one_revocation() {
    let app = spawn_app().await;
    world(&app).await;
    let arun = signed_in(&app, "auditor").await;
    let rita = signed_in(&app, "reviewer").await;
    let sam = signed_in(&app, "admin-reviewer").await;

    // Bad input: every wrong field says why; nothing is started.
    let bad = arun
        .call(
            "/api/campaigns/start",
            &[
                ("name", " "),
                ("reviewers", "group"),
                ("group", "No such group"),
                ("due", "2020-01-01"),
                ("default_decision", "revoke"),
            ],
        )
        .await;
    assert_eq!(error_fields(&bad), ["name", "due"], "{bad}");
    let unknown_group = arun
        .call(
            "/api/campaigns/start",
            &[
                ("name", "Q4"),
                ("reviewers", "group"),
                ("group", "No such group"),
                ("due", &tomorrow()),
                ("default_decision", "revoke"),
            ],
        )
        .await;
    assert_eq!(error_fields(&unknown_group), ["group"], "{unknown_group}");
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM review_campaigns").await,
        0
    );
    // A reviewer does not start campaigns: the server refuses, whatever the page shows.
    let refused = rita
        .call(
            "/api/campaigns/start",
            &[
                ("name", "Mine"),
                ("reviewers", "owners"),
                ("group", ""),
                ("due", &tomorrow()),
                ("default_decision", "keep"),
            ],
        )
        .await;
    assert_eq!(refused["status"], 403, "{refused}");

    let started = arun
        .call(
            "/api/campaigns/start",
            &[
                ("name", "Q4 access review"),
                ("reviewers", "owners"),
                ("group", ""),
                ("due", &tomorrow()),
                ("default_decision", "revoke"),
            ],
        )
        .await;
    assert!(
        started["message"]
            .as_str()
            .unwrap_or("")
            .contains("4 lines"),
        "{started}"
    );
    let id: i64 = sqlx::query_scalar("SELECT id FROM review_campaigns")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let orders_binding = line_of(&app, id, &bind("orders-team", ORDERS_ROLE)).await;
    let finance_binding = line_of(&app, id, &bind("finance", PAYMENTS_ROLE)).await;
    let payments_grant = line_of(
        &app,
        id,
        &grant(PAYMENTS_ROLE, "p9q8r7s6t5", "POST", "/payments"),
    )
    .await;
    let orders_grant = line_of(
        &app,
        id,
        &grant(ORDERS_ROLE, "a1b2c3d4e5", "GET", "/orders"),
    )
    .await;

    // Payments lines go to its owners; orders (no owner) to Gatehouse reviewers.
    let view = rita
        .call("/api/campaigns/get", &[("id", &id.to_string())])
        .await;
    let lines = view["lines"].as_array().unwrap();
    let reviewers_of = |line: i32| {
        lines.iter().find(|l| l["line"] == line).unwrap()["reviewers"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(reviewers_of(payments_grant), "Payments owners");
    assert_eq!(reviewers_of(orders_grant), "Gatehouse reviewers");
    assert_eq!(
        view["summary"]["yours"], 2,
        "Rita certifies the orders lines: {view}"
    );

    let decide = |who: &'static str, line: i32, decision: &'static str, comment: &'static str| {
        let client = match who {
            "rita" => &rita,
            _ => &sam,
        };
        let (id, line) = (id.to_string(), line.to_string());
        async move {
            client
                .call(
                    "/api/campaigns/decide",
                    &[
                        ("id", &id),
                        ("line", &line),
                        ("decision", decision),
                        ("comment", comment),
                    ],
                )
                .await
        }
    };
    // Not hers: a payments line is for its owners.
    let not_hers = decide("rita", payments_grant, "keep", "").await;
    assert!(
        not_hers["refused"]
            .as_str()
            .unwrap()
            .contains("other reviewers"),
        "{not_hers}"
    );
    // A revoke says why.
    let no_reason = decide("rita", orders_binding, "revoke", " ").await;
    assert_eq!(error_fields(&no_reason), ["comment"], "{no_reason}");
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM review_campaign_lines WHERE decision IS NOT NULL"
        )
        .await,
        0
    );
    let ok = decide(
        "rita",
        orders_binding,
        "revoke",
        "The orders team moved to the new API",
    )
    .await;
    assert!(ok["message"].as_str().unwrap().contains("revoked"), "{ok}");
    assert!(decide("rita", orders_grant, "keep", "").await["message"].is_string());
    // Sam owns payments: he keeps its grant. Nobody decides the finance binding.
    assert!(
        decide("sam", payments_grant, "keep", "needed for payouts").await["message"].is_string()
    );
    // Rita is in finance: she may not certify finance's access even were it hers to review.
    let own = decide("rita", finance_binding, "keep", "").await;
    assert!(
        own["refused"].as_str().unwrap().contains("your own"),
        "{own}"
    );

    // Closing is for auditors and admins.
    let refused = rita
        .call("/api/campaigns/close", &[("id", &id.to_string())])
        .await;
    assert_eq!(refused["status"], 403);

    // Before the due date the schedule leaves it open (a restart changes nothing).
    let due: time::OffsetDateTime =
        sqlx::query_scalar("SELECT due_at FROM review_campaigns WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let early = close::run_once(&app.pool, due - time::Duration::hours(1))
        .await
        .unwrap();
    assert!(early.closed.is_empty());
    assert_eq!(
        early.reminded,
        [id],
        "undecided lines: a reminder before the due date"
    );
    // Two replicas at the due date: one closes it.
    let at = due + time::Duration::minutes(1);
    let (a, b) = tokio::join!(
        close::run_once(&app.pool, at),
        close::run_once(&app.pool, at)
    );
    let closed: Vec<_> = a
        .unwrap()
        .closed
        .into_iter()
        .chain(b.unwrap().closed)
        .collect();
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0].defaulted, 1);
    assert!(close::run_once(&app.pool, at)
        .await
        .unwrap()
        .closed
        .is_empty());

    // One change set revokes the orders team's binding (decided) and finance's (default).
    let cs = closed[0].revocation.expect("a revocation");
    let (state, items, campaign): (String, sqlx::types::Json<Vec<ChangeItem>>, Option<i64>) =
        sqlx::query_as("SELECT state, items, campaign_id FROM change_sets WHERE id = $1")
            .bind(cs)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((state.as_str(), campaign), ("submitted", Some(id)));
    assert_eq!(items.0.len(), 2, "{:?}", items.0);
    assert!(items.0.contains(&bind("finance", PAYMENTS_ROLE).opposite()));
    assert!(items
        .0
        .contains(&bind("orders-team", ORDERS_ROLE).opposite()));
    // Decisions are final once closed.
    let late = decide("sam", finance_binding, "keep", "").await;
    assert!(
        late["refused"].as_str().unwrap().contains("closed"),
        "{late}"
    );

    // Every step is an audit event naming the campaign; its export verifies offline.
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_events WHERE details @> jsonb_build_object('campaign', $1::bigint) ORDER BY id",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "campaign.started",
            "campaign.line_decided",
            "campaign.line_decided",
            "campaign.line_decided",
            "campaign.reminder",
            "change_set.submitted",
            "campaign.closed"
        ]
    );
    let filter = app::history::HistoryFilter {
        campaign: id.to_string(),
        ..Default::default()
    };
    let record = exports::create_export(&app.pool, &Actor::system("test"), &filter, Format::Jsonl)
        .await
        .unwrap();
    assert_eq!(record.rows, 7);
    let mut bytes = Vec::new();
    let mut chunks = Box::pin(exports::file_stream(app.pool.clone(), &record));
    while let Some(c) = chunks.next().await {
        bytes.extend_from_slice(c.unwrap().as_bytes());
    }
    let manifest = exports::prepare(&app.pool, None, &record)
        .await
        .unwrap()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("gatehouse-campaign-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, mpath) = (dir.join("c.jsonl"), dir.join("c.manifest.json"));
    std::fs::write(&file, &bytes).unwrap();
    std::fs::write(&mpath, serde_json::to_vec(&manifest).unwrap()).unwrap();
    assert_eq!(offline::verify(&file, &mpath, None).unwrap().rows, 7);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("The orders team moved to the new API"));
    std::fs::remove_dir_all(&dir).ok();
}
