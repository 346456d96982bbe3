//! The audit log as an auditor's tool, against real PostgreSQL: the hash chain (a tampered row
//! is named), concurrent writers (no forks), the History filters, and exports that verify
//! offline and fail when a cell is changed or a row removed.

use crate::common;

use app::history::HistoryFilter;
use common::migrated_database;
use futures_util::StreamExt;
use gatehouse::{
    audit::{self, Actor},
    history::{chain::Broken, export::Format, exports as backend, offline, store},
};
use serde_json::json;
use sqlx::PgPool;

async fn event(
    pool: &PgPool,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    details: serde_json::Value,
) {
    sqlx::query(
        "INSERT INTO audit_events (occurred_at, actor_name, action, subject, details) VALUES ($1::timestamptz, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(details)
    .execute(pool)
    .await
    .unwrap();
}

async fn sample(pool: &PgPool) {
    event(
        pool,
        "2026-10-01T09:00:00Z",
        "Ada Admin <ada@contoso.test>",
        "change_set.edited",
        "change_set:1",
        json!({"after": {"role": "arn:aws:iam::123456789012:role/orders-readers"}}),
    )
    .await;
    event(
        pool,
        "2026-10-02T10:00:00Z",
        "Rita Reviewer <rita@contoso.test>",
        "change_set.approved",
        "change_set:1",
        json!({"comment": "ok"}),
    )
    .await;
    event(
        pool,
        "2026-10-15T11:00:00Z",
        "system (push 1)",
        "push.call",
        "change_set:1",
        json!({"call": "put inline policy gatehouse-invoke on role orders-readers"}),
    )
    .await;
    event(
        pool,
        "2026-11-01T12:00:00Z",
        "=HYPERLINK(\"http://evil\")",
        "auth.sign_in",
        "",
        json!({"note": "line one\nline two, \"quoted\""}),
    )
    .await;
    event(
        pool,
        "2026-11-20T13:00:00Z",
        "Ada Admin <ada@contoso.test>",
        "change_set.edited",
        "change_set:2",
        json!({"after": {"group": "payments-team"}}),
    )
    .await;
}

fn seqs(page: &[app::history::EventView]) -> Vec<i64> {
    page.iter().map(|e| e.seq).collect()
}

async fn filtered(pool: &PgPool, f: HistoryFilter) -> Vec<i64> {
    let (events, _, _) = store::page(pool, &f.check().unwrap(), None).await.unwrap();
    seqs(&events)
}

#[tokio::test]
async fn the_chain_verifies_and_a_tampered_row_is_named() {
    let pool = migrated_database().await;
    sample(&pool).await;
    assert_eq!(store::verify(&pool).await.unwrap(), Ok(5));

    // A superuser can switch the trigger off; the chain still tells.
    sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE audit_events SET details = '{\"comment\": \"rubber stamp\"}' WHERE seq = 2",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        store::verify(&pool).await.unwrap(),
        Err(Broken::Altered { seq: 2 })
    );
    sqlx::query("DELETE FROM audit_events WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        store::verify(&pool).await.unwrap(),
        Err(Broken::Gap {
            seq: 3,
            previous: 1
        })
    );
}

#[tokio::test]
async fn concurrent_writers_make_one_chain_without_forks() {
    let pool = migrated_database().await;
    let mut tasks = Vec::new();
    for w in 0..4 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                audit::record(
                    &pool,
                    &Actor::system(&format!("writer {w}")),
                    "test.event",
                    None,
                    json!({"i": i}),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store::verify(&pool).await.unwrap(), Ok(200));
    let distinct: i64 = sqlx::query_scalar("SELECT count(DISTINCT prev_hash) FROM audit_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(distinct, 200, "no two events follow the same one");
}

#[tokio::test]
async fn filters_return_exactly_the_expected_rows() {
    let pool = migrated_database().await;
    sample(&pool).await;
    let f =
        |from: &str, to: &str, actor: &str, action: &str, cs: &str, mentions: &str| HistoryFilter {
            from: from.into(),
            to: to.into(),
            actor: actor.into(),
            action: action.into(),
            change_set: cs.into(),
            mentions: mentions.into(),
            campaign: String::new(),
        };
    assert_eq!(
        filtered(&pool, f("", "", "", "", "", "")).await,
        [5, 4, 3, 2, 1]
    );
    assert_eq!(
        filtered(&pool, f("2026-10-02", "2026-10-15", "", "", "", "")).await,
        [3, 2]
    );
    assert_eq!(
        filtered(&pool, f("2026-10-01T09:30", "", "", "", "", "")).await,
        [5, 4, 3, 2]
    );
    assert_eq!(filtered(&pool, f("", "", "ada", "", "", "")).await, [5, 1]);
    assert_eq!(
        filtered(&pool, f("", "", "", "change_set", "", "")).await,
        [5, 2, 1]
    );
    assert_eq!(
        filtered(&pool, f("", "", "", "push.call", "", "")).await,
        [3]
    );
    assert_eq!(filtered(&pool, f("", "", "", "", "1", "")).await, [3, 2, 1]);
    assert_eq!(
        filtered(&pool, f("", "", "", "", "", "orders-readers")).await,
        [3, 1]
    );
    assert_eq!(
        filtered(&pool, f("", "", "", "", "", "payments-team")).await,
        [5]
    );
    assert_eq!(
        filtered(&pool, f("", "", "", "", "", "100%")).await,
        Vec::<i64>::new()
    );
    // Keyset pages: 60 more events (by two actors, taking turns), newest first, 50 then the rest.
    for i in 0..60 {
        audit::record(
            &pool,
            &Actor::system(if i % 2 == 0 { "bulk" } else { "batch" }),
            "test.bulk",
            None,
            json!({"i": i}),
        )
        .await
        .unwrap();
    }
    let all = HistoryFilter::default().check().unwrap();
    let (first, more, _) = store::page(&pool, &all, None).await.unwrap();
    assert_eq!((first.len(), more, first[0].seq), (50, true, 65));
    let (second, more, newer) = store::page(&pool, &all, Some(first[49].seq)).await.unwrap();
    assert_eq!(
        (second.len(), more, second[0].seq, newer),
        (15, false, 15, Some(0))
    );
    // Filtered by actor, the pages interleave every actor whose name matches (any case), in
    // sequence order: the 60 events of both system actors and the push's, 50 then 11.
    let system = f("", "", "SYSTEM (", "", "", "").check().unwrap();
    let (first, more, _) = store::page(&pool, &system, None).await.unwrap();
    let seqs: Vec<i64> = first.iter().map(|e| e.seq).collect();
    assert_eq!((seqs.len(), more), (50, true));
    assert_eq!(seqs, (16..=65).rev().collect::<Vec<_>>());
    let (second, more, newer) = store::page(&pool, &system, Some(first[49].seq))
        .await
        .unwrap();
    let seqs: Vec<i64> = second.iter().map(|e| e.seq).collect();
    let mut expected: Vec<i64> = (6..=15).rev().collect();
    expected.push(3);
    assert_eq!((seqs, more, newer), (expected, false, Some(0)));
    // The newer page of a later page is found the same way.
    let (_, _, newer) = store::page(&pool, &system, Some(20)).await.unwrap();
    assert_eq!(
        newer,
        Some(0),
        "20 … 65 are no more than a page: the newer page is the first"
    );
    let (_, _, newer) = store::page(&pool, &system, Some(10)).await.unwrap();
    assert_eq!(
        newer,
        Some(60),
        "the newer page is 10 … 59, the 50 events before 60"
    );
}

async fn export_file(
    pool: &PgPool,
    filter: HistoryFilter,
    format: Format,
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let record = backend::create_export(pool, &Actor::system("test"), &filter, format)
        .await
        .unwrap();
    let mut bytes = Vec::new();
    let mut chunks = Box::pin(backend::file_stream(pool.clone(), &record));
    while let Some(c) = chunks.next().await {
        bytes.extend_from_slice(c.unwrap().as_bytes());
    }
    let file = dir.join(record.file_name());
    std::fs::write(&file, &bytes).unwrap();
    // Until its rows are hashed the export is "being prepared", and has no manifest to serve.
    let status = |id| async move {
        let record = backend::export_record(pool, id).await.unwrap().unwrap();
        record.status()
    };
    let before = status(record.id).await;
    assert!(before.running() && before.hashed_rows == 0 && before.bytes.is_none());
    let manifest = backend::prepare(pool, None, &record)
        .await
        .unwrap()
        .unwrap();
    let after = status(record.id).await;
    assert!(after.ready && !after.running());
    assert_eq!((after.hashed_rows, after.rows), (record.rows, record.rows));
    // The record now knows the file's length and serves the same manifest.
    let stored = backend::export_record(pool, record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.bytes, Some(bytes.len() as i64));
    assert_eq!(stored.hashed_rows, stored.rows);
    assert_eq!(stored.manifest.map(|m| m.0), Some(manifest.clone()));
    let mpath = dir.join(format!("{}.manifest.json", record.file_name()));
    std::fs::write(&mpath, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    (file, mpath)
}

#[tokio::test]
async fn exports_verify_offline_and_a_changed_cell_or_a_removed_row_is_found() {
    let pool = migrated_database().await;
    sample(&pool).await;
    let dir = std::env::temp_dir().join(format!("gatehouse-export-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();

    let (csv, manifest) = export_file(&pool, HistoryFilter::default(), Format::Csv, &dir).await;
    assert_eq!(
        offline::verify(&csv, &manifest, None),
        Ok(offline::Verified { rows: 5 })
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    // The formula is neutralised; the multi-line, quoted JSON survives the trip.
    assert!(
        text.contains(",\"'=HYPERLINK(\"\"http://evil\"\")\","),
        "{text}"
    );
    assert!(!text
        .lines()
        .any(|l| l.split(',').any(|c| c.starts_with('='))));

    // A changed cell: the file's hash no longer matches.
    std::fs::write(&csv, text.replace("Rita Reviewer", "Rita Reviewr")).unwrap();
    assert!(offline::verify(&csv, &manifest, None)
        .unwrap_err()
        .to_string()
        .contains("SHA-256 is not the manifest's); the first row that shows it: event 2"));
    // The same change with the manifest's hash redone to match: the row's own hash is wrong.
    let forged = text.replace("Rita Reviewer", "Rita Reviewr");
    std::fs::write(&csv, &forged).unwrap();
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["file_sha256"] = json!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        forged.as_bytes()
    )));
    std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
    assert_eq!(
        offline::verify(&csv, &manifest, None)
            .unwrap_err()
            .to_string(),
        "event 2: its hash does not match its content (altered)"
    );
    // A removed row (hash and count redone): the chain has a gap there.
    let without: String = text
        .split_inclusive("\r\n")
        .filter(|l| !l.starts_with("3,"))
        .collect();
    std::fs::write(&csv, &without).unwrap();
    m["file_sha256"] = json!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        without.as_bytes()
    )));
    m["rows"] = json!(4);
    std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
    assert_eq!(
        offline::verify(&csv, &manifest, None)
            .unwrap_err()
            .to_string(),
        "event 4 follows event 2: events are missing"
    );

    // JSON Lines, filtered: rows need not follow each other, but each verifies.
    let filter = HistoryFilter {
        actor: "ada".into(),
        ..Default::default()
    };
    let (jsonl, manifest) = export_file(&pool, filter, Format::Jsonl, &dir).await;
    assert_eq!(
        offline::verify(&jsonl, &manifest, None),
        Ok(offline::Verified { rows: 2 })
    );
    // Each export is an audit event, and the chain stays whole.
    let exported: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'audit.exported'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(exported, 2);
    assert!(store::verify(&pool).await.unwrap().is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn access_as_of_a_date_is_rebuilt_from_the_change_sets_applied_before_it() {
    use app::domain::{
        desired::ChangeItem,
        grant::{Binding, Grant, GrantInput, GroupRef},
        names::RoleArn,
    };
    use gatehouse::{history::reports, mappings::workflow};
    let pool = migrated_database().await;
    let ada = Actor::person(
        uuid::Uuid::from_u128(1),
        uuid::Uuid::from_u128(1),
        "Ada",
        "ada@contoso.test",
    );
    let rita = Actor::person(
        uuid::Uuid::from_u128(1),
        uuid::Uuid::from_u128(2),
        "Rita",
        "rita@contoso.test",
    );
    let role = "arn:aws:iam::123456789012:role/orders-readers";
    let items = [
        ChangeItem::AddBinding(Binding {
            group: GroupRef::group("file", "orders-team"),
            role: RoleArn::parse(role).unwrap(),
        }),
        ChangeItem::AddGrant(
            Grant::parse(&GrantInput {
                role_arn: role.into(),
                account: "123456789012".into(),
                region: "us-east-1".into(),
                api_id: "a1b2c3d4e5".into(),
                stage: "prod".into(),
                method: "GET".into(),
                path: "/orders".into(),
            })
            .unwrap(),
        ),
    ];
    let mut id = 0;
    for item in items {
        id = workflow::edit(&pool, &ada, item).await.unwrap();
    }
    let details = workflow::Details {
        title: "Orders".into(),
        justification: "The orders team reads orders.".into(),
        ticket: String::new(),
        ..workflow::Details::default()
    };
    workflow::save_details(&pool, &ada, id, details, true)
        .await
        .unwrap();
    workflow::review(&pool, &rita, id, true, "ok", 1)
        .await
        .unwrap();

    let before = reports::desired_as_of(&pool, "2020-01-02T00:00:00Z")
        .await
        .unwrap();
    assert!(reports::access_rows(&pool, &before)
        .await
        .unwrap()
        .is_empty());
    let now = reports::desired_as_of(&pool, "2999-01-01T00:00:00Z")
        .await
        .unwrap();
    let rows = reports::access_rows(&pool, &now).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].role, role);
    assert!(rows[0].route.starts_with("GET /orders"), "{:?}", rows[0]);
}
