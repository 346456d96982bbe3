//! Access requests through the real server: a person without any Gatehouse role asks for a
//! role for themselves, bad input changes nothing, a requester cannot approve their own
//! request, a reviewer approves it, and the person's access then reads "bound to them
//! directly" until it ends.

use crate::common;

use app::domain::desired::ChangeItem;
use common::{approved, count, field_errors, person, signed_in, spawn_app};
use gatehouse::mappings::{store, workflow};

const NORA: &str = "0a1b2c3d-0000-4000-8000-000000000005";
const SAM: &str = "0a1b2c3d-0000-4000-8000-000000000004";
const ROLE: &str = "arn:aws:iam::123456789012:role/orders-readers";

fn grant(path: &str) -> ChangeItem {
    common::grant_on(ROLE, "a1b2c3d4e5", "GET", path)
}

#[tokio::test]
async fn a_person_without_a_role_requests_a_role_and_a_reviewer_approves_it() {
    let app = spawn_app().await;
    for sql in [
        format!(
            "INSERT INTO directory_people (source, object_id, directory_ref, display_name, user_principal_name)
             VALUES ('file', '{NORA}', '{NORA}', 'Nora Nobody', 'nora.nobody@contoso.test'),
                    ('file', '{SAM}', '{SAM}', 'Sam Both', 'sam.both@contoso.test')"
        ),
        "INSERT INTO rest_apis (target, api_id, name, snapshot) VALUES ('123456789012/us-east-1', 'a1b2c3d4e5', 'orders', '{}')".to_string(),
        "INSERT INTO api_resources (target, api_id, resource_id, path) VALUES ('123456789012/us-east-1', 'a1b2c3d4e5', 'r1', '/orders')".to_string(),
        "INSERT INTO api_methods (target, api_id, resource_id, http_method, authorization_type) VALUES ('123456789012/us-east-1', 'a1b2c3d4e5', 'r1', 'GET', 'AWS_IAM')".to_string(),
    ] {
        sqlx::query(&sql).execute(&app.pool).await.unwrap();
    }
    approved(&app.pool, vec![grant("/orders")]).await;

    // Nora holds no Gatehouse role: the request page is open to her, the rest is not.
    let nora = signed_in(&app, "norole").await;
    assert_eq!(nora.get("/requests").await.status(), 200);
    assert_eq!(nora.get("/change-sets").await.status(), 403);
    let options = nora.call("/api/requests/options", &[]).await;
    assert_eq!(options["in_directory"], true, "{options}");
    let roles: Vec<&str> = options["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["orders-readers"], "{options}");
    assert!(options["roles"][0]["routes"][0]
        .as_str()
        .unwrap()
        .contains("GET /orders on orders"));

    // Bad input: each field says what is wrong, and nothing is made.
    let bad = nora
        .call(
            "/api/requests/create",
            &[
                ("role_arn", "orders"),
                ("hours", "8760"),
                ("justification", "pls"),
            ],
        )
        .await;
    let fields: Vec<String> = field_errors(&bad).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["role_arn", "hours", "justification"], "{bad}");
    let ungranted = nora
        .call(
            "/api/requests/create",
            &[
                ("role_arn", "arn:aws:iam::123456789012:role/payments-admins"),
                ("hours", "8"),
                ("justification", "on call for payments this week"),
            ],
        )
        .await;
    assert!(
        field_errors(&ungranted)[0]
            .1
            .contains("may call no API route"),
        "{ungranted}"
    );
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM change_sets WHERE purpose = 'access-request'"
        )
        .await,
        0
    );

    // A good request is submitted at once, for her, ending after the chosen time.
    let asked = [
        ("role_arn", ROLE),
        ("hours", "8"),
        ("justification", "on call for orders this week"),
    ];
    let made = nora.call("/api/requests/create", &asked).await;
    let id = made["change_set"]
        .as_i64()
        .unwrap_or_else(|| panic!("{made}"));
    let mut conn = app.pool.acquire().await.unwrap();
    let cs = store::change_set(&mut conn, id, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cs.state.as_str(), "submitted");
    assert!(cs.is_request());
    assert!(
        cs.author_name.starts_with("Nora Nobody"),
        "{}",
        cs.author_name
    );
    let hours = (cs.access_ends_at.unwrap() - gatehouse::clock::now()).whole_minutes();
    assert!((470..=480).contains(&hours), "ends in {hours} minutes");
    let ChangeItem::AddBinding(b) = &cs.items[0] else {
        panic!("{:?}", cs.items)
    };
    assert!(b.group.is_person());
    assert_eq!(b.group.object_id, NORA);
    // Asking again while it is open is refused next to the role.
    let again = nora.call("/api/requests/create", &asked).await;
    assert!(field_errors(&again)[0].1.contains("still open"), "{again}");

    // Sam (admin and reviewer) asks for himself: he cannot approve his own request.
    let sam = signed_in(&app, "admin-reviewer").await;
    let his = sam.call("/api/requests/create", &asked).await["change_set"]
        .as_i64()
        .unwrap();
    let own_sam = gatehouse::audit::Actor::person(
        uuid::Uuid::parse_str("00000000-0000-0000-0000-000000000001").unwrap(),
        uuid::Uuid::parse_str(SAM).unwrap(),
        "Sam Both",
        "sam.both@contoso.test",
    );
    let refused = workflow::review(&app.pool, &own_sam, his, true, "mine", 1).await;
    assert!(
        matches!(&refused, Err(workflow::WorkflowError::Refused(why)) if why.contains("you wrote this change set")),
        "{refused:?}"
    );
    // Nobody withdraws another person's request; its id tells them nothing.
    let theirs = nora
        .call("/api/requests/withdraw", &[("id", &his.to_string())])
        .await;
    assert!(
        theirs["refused"]
            .as_str()
            .unwrap_or("")
            .contains("no change set"),
        "{theirs}"
    );

    // The role changes while Nora's request waits: it cannot be approved as asked, and her
    // page asks her to confirm it against the role as it is now.
    approved(&app.pool, vec![grant("/orders/{id}")]).await;
    let stale = workflow::review(&app.pool, &person(2, "Rita Reviewer"), id, true, "ok", 1).await;
    assert!(stale.is_err(), "{stale:?}");
    let page = nora.call("/api/requests/options", &[]).await;
    assert_eq!(page["mine"][0]["stale"], true, "{page}");
    assert!(page["mine"][0]["outcome"]
        .as_str()
        .unwrap()
        .contains("The role changed since you asked"));
    // Only she may confirm it.
    let not_hers = sam
        .call("/api/requests/confirm", &[("id", &id.to_string())])
        .await;
    assert!(
        not_hers["refused"]
            .as_str()
            .unwrap_or("")
            .contains("no change set"),
        "{not_hers}"
    );
    let confirmed = nora
        .call("/api/requests/confirm", &[("id", &id.to_string())])
        .await;
    assert!(
        confirmed["message"]
            .as_str()
            .unwrap_or("")
            .contains("waits for a reviewer"),
        "{confirmed}"
    );
    assert_eq!(
        nora.call("/api/requests/options", &[]).await["mine"][0]["stale"],
        false
    );

    // Rita approves Nora's: the desired state binds Nora herself, and her page says so.
    let state = workflow::review(
        &app.pool,
        &person(2, "Rita Reviewer"),
        id,
        true,
        "ok for the week",
        1,
    )
    .await
    .unwrap();
    assert_eq!(state.as_str(), "approved");
    let kind: String = sqlx::query_scalar(
        "SELECT principal_kind || ' ' || sort_name FROM bindings WHERE group_id = $1",
    )
    .bind(NORA)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(kind, "person nora nobody");
    let mine = nora.call("/api/requests/options", &[]).await;
    let first = &mine["mine"][0];
    assert_eq!(first["id"].as_i64(), Some(id), "{mine}");
    assert_eq!(first["state"], "approved");
    assert_eq!(
        first["reviews"][0],
        "Rita Reviewer approved: “ok for the week”"
    );
    // She holds it now: it is no longer offered.
    assert_eq!(mine["roles"][0]["held"], true, "{mine}");
    let desired = store::desired_state(&mut conn).await.unwrap();
    let settings = gatehouse::config::AwsSettings {
        region: None,
        account_id: None,
        endpoint_url: None,
        targets: Vec::new(),
    };
    let view =
        gatehouse::person_access::person_with(&app.pool, &desired, &settings, "file", NORA, None)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(view.roles.len(), 1, "{:?}", view.roles);
    assert_eq!(
        view.roles[0].through,
        "bound to them directly (an access request)"
    );
    assert!(
        view.groups.iter().all(|g| !g.name.contains("Nora")),
        "{:?}",
        view.groups
    );
    assert_eq!(
        view.routes[0].chain[0],
        "bound to them directly (an access request)"
    );
    // "Who can call GET /orders?" lists her too, through her own binding.
    let callers =
        gatehouse::callers::caller_set(&app.pool, &desired, None, "a1b2c3d4e5", "/orders", "GET")
            .await
            .unwrap()
            .page(0);
    let nora_calls = callers
        .people
        .iter()
        .find(|p| p.name == "Nora Nobody")
        .unwrap_or_else(|| panic!("{:?}", callers.people));
    assert_eq!(
        nora_calls.chains,
        ["bound to them directly (an access request) → role orders-readers → grant GET /orders on prod"]
    );
    // Once approved, withdrawing is refused (revoking takes a change set).
    let late = nora
        .call("/api/requests/withdraw", &[("id", &id.to_string())])
        .await;
    assert!(
        late["refused"]
            .as_str()
            .unwrap_or("")
            .contains("cannot be withdrawn"),
        "{late}"
    );
}
