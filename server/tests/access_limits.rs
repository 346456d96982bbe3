//! An API's longest access, and access requests for a set of routes, through the real server:
//! an admin sets the limit (bad input changes nothing, others are refused), every path a change
//! set opens to the API must end within it (at submission and again at approval), requests offer
//! no longer, and a person asking for routes is bound to the fewest roles that give them, the
//! request saying what else those roles allow.

use crate::common;

use app::domain::{
    desired::ChangeItem,
    grant::{Binding, GroupRef},
    names::RoleArn,
};
use common::{approved, count, field_errors, grant_on, person, signed_in, spawn_app, TestApp};
use gatehouse::mappings::{store, workflow};
use serde_json::Value;

const ORDERS: &str = "a1b2c3d4e5";
const PAYMENTS: &str = "p9q8r7s6t5";

fn role(name: &str) -> String {
    format!("arn:aws:iam::123456789012:role/{name}")
}

fn grant(role_name: &str, api: &str, method: &str, path: &str) -> ChangeItem {
    grant_on(&role(role_name), api, method, path)
}

fn bind(group: &str, role_name: &str) -> ChangeItem {
    ChangeItem::AddBinding(Binding {
        group: GroupRef::group("file", group),
        role: RoleArn::parse(&role(role_name)).unwrap(),
    })
}

/// A draft of `items` by Ada, submitted with `ends` typed as the end (empty: none).
async fn submit(app: &TestApp, items: Vec<ChangeItem>, ends: &str) -> (i64, Result<(), String>) {
    let ada = person(1, "Ada Admin");
    let mut id = 0;
    for item in items {
        id = workflow::edit(&app.pool, &ada, item).await.unwrap();
    }
    let details = workflow::Details {
        title: "Payments team pays".into(),
        justification: "The payments team pays refunds this week.".into(),
        ticket: String::new(),
        access_ends: ends.into(),
    };
    let result = workflow::save_details(&app.pool, &ada, id, details, true).await;
    let said = match result {
        Ok(_) => Ok(()),
        Err(workflow::WorkflowError::Fields(f)) => Err(format!("{f:?}")),
        Err(e) => Err(e.to_string()),
    };
    (id, said)
}

fn in_hours(hours: i64) -> String {
    (gatehouse::clock::now() + time::Duration::hours(hours))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn seed(app: &TestApp) {
    let nora = "0a1b2c3d-0000-4000-8000-000000000005";
    for sql in [
        format!(
            "INSERT INTO directory_people (source, object_id, directory_ref, display_name, user_principal_name)
             VALUES ('file', '{nora}', '{nora}', 'Nora Nobody', 'nora.nobody@contoso.test')"
        ),
        format!("INSERT INTO rest_apis (target, api_id, name, snapshot) VALUES ('123456789012/us-east-1', '{ORDERS}', 'orders', '{{}}'), ('123456789012/us-east-1', '{PAYMENTS}', 'payments', '{{}}')"),
        format!("INSERT INTO api_resources (target, api_id, resource_id, path) VALUES ('123456789012/us-east-1', '{ORDERS}', 'r1', '/orders'), ('123456789012/us-east-1', '{PAYMENTS}', 'r2', '/payments')"),
        format!("INSERT INTO api_methods (target, api_id, resource_id, http_method, authorization_type) VALUES ('123456789012/us-east-1', '{ORDERS}', 'r1', 'GET', 'AWS_IAM'), ('123456789012/us-east-1', '{ORDERS}', 'r1', 'POST', 'AWS_IAM'), ('123456789012/us-east-1', '{PAYMENTS}', 'r2', 'POST', 'AWS_IAM')"),
    ] {
        sqlx::query(&sql).execute(&app.pool).await.unwrap();
    }
    approved(
        &app.pool,
        vec![
            grant("orders-readers", ORDERS, "GET", "/orders"),
            grant("orders-writers", ORDERS, "GET", "/orders"),
            grant("orders-writers", ORDERS, "POST", "/orders"),
            grant("payers", PAYMENTS, "POST", "/payments"),
        ],
    )
    .await;
}

#[tokio::test]
async fn every_path_to_an_api_ends_within_its_longest_access() {
    let app = spawn_app().await;
    seed(&app).await;
    let admin = signed_in(&app, "admin").await;
    let set = |amount: &'static str, unit: &'static str| {
        let admin = &admin;
        async move {
            admin
                .call(
                    "/api/api-owners/longest",
                    &[("api_id", PAYMENTS), ("amount", amount), ("unit", unit)],
                )
                .await
        }
    };

    // Bad input is said next to the field and changes nothing; a reviewer may not set it.
    for (amount, unit, says) in [
        ("eight", "hours", "whole number"),
        ("400", "days", "366 days"),
        ("8", "weeks", "hours or days"),
    ] {
        let bad = set(amount, unit).await;
        let errors = field_errors(&bad);
        assert_eq!(errors.len(), 1, "{bad}");
        assert_eq!(errors[0].0, "amount");
        assert!(errors[0].1.contains(says), "{bad}");
    }
    let reviewer = signed_in(&app, "reviewer").await;
    let refused = reviewer
        .call(
            "/api/api-owners/longest",
            &[("api_id", PAYMENTS), ("amount", "8"), ("unit", "hours")],
        )
        .await;
    assert_eq!(refused["status"], 403, "{refused}");
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM api_access_limits").await,
        0
    );

    let made = set("8", "hours").await;
    assert!(
        made["message"]
            .as_str()
            .unwrap_or("")
            .contains("8 hours at most"),
        "{made}"
    );
    let shown = admin
        .call("/api/api-owners/get", &[("api_id", PAYMENTS)])
        .await;
    assert_eq!(shown["longest"]["label"], "8 hours", "{shown}");

    // Paths to payments without an end, or ending too late, are refused next to the end.
    let (draft, no_end) = submit(&app, vec![bind("payments-team", "payers")], "").await;
    let no_end = no_end.unwrap_err();
    assert!(no_end.contains("access_ends"), "{no_end}");
    assert!(
        no_end.contains("payments allows access for 8 hours at most: set when this access ends"),
        "{no_end}"
    );
    let ada = person(1, "Ada Admin");
    let details = |ends: &str| workflow::Details {
        title: "Payments team pays".into(),
        justification: "The payments team pays refunds this week.".into(),
        ticket: String::new(),
        access_ends: ends.into(),
    };
    let too_late =
        workflow::save_details(&app.pool, &ada, draft, details(&in_hours(48)), true).await;
    assert!(
        matches!(&too_late, Err(workflow::WorkflowError::Fields(f)) if f[0].1.contains("end it by")),
        "a binding ending in two days: {too_late:?}"
    );
    let state: String = sqlx::query_scalar("SELECT state FROM change_sets WHERE id = $1")
        .bind(draft)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "draft", "a refused submission changes nothing");
    // A grant on payments is a path too (added to the same draft, still refused without an end).
    let same = workflow::edit(
        &app.pool,
        &ada,
        grant("orders-readers", PAYMENTS, "POST", "/payments"),
    )
    .await
    .unwrap();
    assert_eq!(same, draft);
    let refused = workflow::save_details(&app.pool, &ada, draft, details(""), true).await;
    assert!(
        matches!(&refused, Err(workflow::WorkflowError::Fields(f)) if f[0].1.contains("set when this access ends")),
        "{refused:?}"
    );
    // Within the limit: submitted.
    workflow::save_details(&app.pool, &ada, draft, details(&in_hours(7)), true)
        .await
        .unwrap();

    // The limit shortened while it waits: the approval is refused, saying why.
    set("2", "hours").await;
    let late = workflow::review(&app.pool, &person(2, "Rita Reviewer"), draft, true, "ok", 1).await;
    let Err(workflow::WorkflowError::Refused(why)) = late else {
        panic!("{late:?}")
    };
    assert!(
        why.contains("2 hours at most") && why.contains("withdraw"),
        "{why}"
    );
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM bindings WHERE group_id = 'payments-team'"
        )
        .await,
        0
    );
    // An API without a limit: permanent access goes through as before.
    approved(&app.pool, vec![bind("orders-team", "orders-readers")]).await;

    let actions: Vec<(String, Value)> = admin.audit_actions().await;
    let limits: Vec<&Value> = actions
        .iter()
        .filter(|(a, _)| a == "api.max_access_set")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(limits.len(), 2, "each setting audited once");
    assert_eq!(limits[1]["before"]["max_hours"], 8);
    assert_eq!(limits[1]["after"]["max_hours"], 2);
}

#[tokio::test]
async fn a_person_asks_for_routes_and_is_bound_to_the_fewest_roles_that_give_them() {
    let app = spawn_app().await;
    seed(&app).await;
    let admin = signed_in(&app, "admin").await;
    admin
        .call(
            "/api/api-owners/longest",
            &[("api_id", PAYMENTS), ("amount", "8"), ("unit", "hours")],
        )
        .await;

    let nora = signed_in(&app, "norole").await;
    let options = nora.call("/api/requests/options", &[]).await;
    let routes = options["routes"].as_array().unwrap();
    let key = |method: &str, path: &str| -> String {
        routes
            .iter()
            .find(|r| r["method"] == method && r["path"] == path)
            .unwrap_or_else(|| panic!("{method} {path} offered: {options}"))["key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (get, post, pay) = (
        key("GET", "/orders"),
        key("POST", "/orders"),
        key("POST", "/payments"),
    );
    let payers = options["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "payers")
        .unwrap();
    assert_eq!(payers["longest"], "8 hours", "{options}");

    // Nothing ticked, a route no role gives, a duration the API does not allow: said, nothing made.
    let ask = |routes: Vec<String>, hours: &'static str| {
        let nora = &nora;
        async move {
            let mut form: Vec<(String, String)> = routes
                .into_iter()
                .enumerate()
                .map(|(i, k)| (format!("routes[r{i}]"), k))
                .collect();
            form.push(("hours".into(), hours.into()));
            form.push((
                "justification".into(),
                "release 4.2 needs the batch job".into(),
            ));
            let form: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            nora.call("/api/requests/create-routes", &form).await
        }
    };
    let none = ask(vec![], "8").await;
    assert_eq!(field_errors(&none)[0].0, "routes", "{none}");
    let gone = ask(vec![format!("{ORDERS} prod DELETE /orders")], "8").await;
    assert!(
        field_errors(&gone)[0].1.contains("DELETE /orders"),
        "{gone}"
    );
    let long = ask(vec![pay.clone()], "24").await;
    let long = field_errors(&long);
    assert_eq!(long[0].0, "hours");
    assert!(long[0].1.contains("8 hours at most"), "{long:?}");
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM change_sets WHERE purpose = 'access-request'"
        )
        .await,
        0
    );

    // GET and POST /orders: one role gives both (the writers), not readers + writers.
    let made = ask(vec![get.clone(), post.clone()], "8").await;
    let id = made["change_set"]
        .as_i64()
        .unwrap_or_else(|| panic!("{made}"));
    let mut conn = app.pool.acquire().await.unwrap();
    let cs = store::change_set(&mut conn, id, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cs.state.as_str(), "submitted");
    assert_eq!(cs.items.len(), 1, "{:?}", cs.items);
    let ChangeItem::AddBinding(b) = &cs.items[0] else {
        panic!("{:?}", cs.items)
    };
    assert!(b.group.is_person());
    assert_eq!(b.role.name(), "orders-writers");
    assert_eq!(
        cs.title,
        "Access request: Nora Nobody → 2 routes via orders-writers"
    );
    assert!(
        cs.justification
            .contains("Asked for 2 routes: GET /orders on orders")
            && cs.justification.contains("which give nothing else"),
        "{}",
        cs.justification
    );
    // The same routes again while it is open: refused next to the routes.
    let again = ask(vec![get.clone(), post.clone()], "8").await;
    assert!(field_errors(&again)[0].1.contains("still open"), "{again}");

    // GET /orders alone: the readers role; the request says nothing else comes with it.
    let read = ask(vec![get.clone()], "2").await;
    let read = read["change_set"]
        .as_i64()
        .unwrap_or_else(|| panic!("{read}"));
    let cs = store::change_set(&mut conn, read, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cs.items[0].role().unwrap().name(), "orders-readers");

    // A reviewer approves the writers request: Nora then holds those routes, so they are not
    // offered to her again, and asking for them is refused.
    let state = workflow::review(&app.pool, &person(2, "Rita Reviewer"), id, true, "ok", 1)
        .await
        .unwrap();
    assert_eq!(state.as_str(), "approved");
    let after = nora.call("/api/requests/options", &[]).await;
    let held: Vec<&Value> = after["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["held"] == true)
        .collect();
    assert_eq!(held.len(), 2, "{after}");
    let twice = ask(vec![post], "8").await;
    assert!(
        field_errors(&twice)[0]
            .1
            .contains("already call POST /orders"),
        "{twice}"
    );

    // The request's audit event names the routes asked for and the roles given.
    let submitted: Value = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action = 'change_set.submitted'
         AND subject = $1",
    )
    .bind(format!("change_set:{id}"))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(submitted["request"]["routes"].as_array().unwrap().len(), 2);
    assert_eq!(
        submitted["request"]["roles"][0],
        role("orders-writers"),
        "{submitted}"
    );

    // Routes Nora may call through a group she is in (nested) count as held too.
    for sql in [
        "INSERT INTO directory_groups (source, object_id, display_name, directory_ref) VALUES
         ('file', 'finance', 'Finance', 'finance'), ('file', 'finance-ops', 'Finance ops', 'finance-ops')",
        "INSERT INTO directory_memberships (source, group_id, member_id, member_kind) VALUES
         ('file', 'finance', 'finance-ops', 'group'),
         ('file', 'finance-ops', '0a1b2c3d-0000-4000-8000-000000000005', 'person')",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
    // (The limit is cleared first: binding a group to payers for good must pass.)
    admin
        .call(
            "/api/api-owners/longest",
            &[("api_id", PAYMENTS), ("amount", ""), ("unit", "hours")],
        )
        .await;
    approved(&app.pool, vec![bind("finance", "payers")]).await;
    let options = nora.call("/api/requests/options", &[]).await;
    let payments = options["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/payments")
        .unwrap();
    assert_eq!(payments["held"], true, "{options}");
    let through_group = ask(vec![pay], "8").await;
    assert!(
        field_errors(&through_group)[0]
            .1
            .contains("already call POST /payments"),
        "{through_group}"
    );
}
