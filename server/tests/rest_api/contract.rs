//! The REST API's contract: every refusal answers the one problem shape with the right status;
//! the OpenAPI document describes exactly the endpoints of the authorisation table, and every
//! endpoint, called for real, answers a status the document lists with a body its schema
//! accepts.

use std::collections::BTreeSet;

use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use super::{make_token, new_change_set, orders_team, server_fn, Api, ROLE};
use crate::common::{spawn_app, TestApp};

const FULL_SERVICE: &str =
    "name=contract&kind=service&service=contract-check&scope_read=on&scope_draft=on&scope_push=on&days=1";

fn assert_problem(
    status: StatusCode,
    headers: &header::HeaderMap,
    body: &Value,
    want: StatusCode,
    kind: &str,
) {
    assert_eq!(status, want, "{body}");
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{body}"
    );
    assert_eq!(
        body["type"],
        format!("/api/v1/docs#problem-{kind}"),
        "{body}"
    );
    assert_eq!(body["status"], want.as_u16(), "{body}");
    assert!(!body["title"].as_str().unwrap().is_empty(), "{body}");
    assert!(!body["detail"].as_str().unwrap().is_empty(), "{body}");
}

async fn change_sets(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM change_sets")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_refusal_is_a_problem_with_the_right_status_and_changes_nothing() {
    let mut app = spawn_app().await;
    orders_team(&app).await;
    let secret = make_token(&mut app, "admin", FULL_SERVICE).await;
    let admin_browser = app.client.clone();

    // No token, a malformed one, an unknown one; the signed-in browser's cookie is no token.
    let nobody = Api::new(&app, "");
    let bare = nobody
        .client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    assert!(bare.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let (s, h, b) = Api::new(&app, "nope").get("/api/v1/me").await;
    assert_problem(s, &h, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(b["detail"].as_str().unwrap().contains("gth_"), "{b}");
    let unknown = format!("gth_{}", "0".repeat(64));
    let (s, h, b) = Api::new(&app, &unknown).get("/api/v1/me").await;
    assert_problem(s, &h, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let with_cookie = admin_browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::UNAUTHORIZED);

    // An auditor's personal token reads, and may not draft; nor can the auditor give it `draft`.
    let auditor = make_token(
        &mut app,
        "auditor",
        "name=reports&kind=person&scope_read=on&days=7",
    )
    .await;
    let (_, refused) = server_fn(
        &app,
        "/api/tokens/create",
        "name=x&kind=person&scope_draft=on&days=7",
    )
    .await;
    assert_eq!(refused["errors"][0][0], "scopes", "{refused}");
    let reader = Api::new(&app, &auditor);
    let (s, _, b) = reader.get("/api/v1/change-sets").await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, h, b) = reader
        .post("/api/v1/change-sets", &new_change_set("nope"))
        .await;
    assert_problem(s, &h, &b, StatusCode::FORBIDDEN, "forbidden");
    assert!(
        b["detail"].as_str().unwrap().contains("`draft` scope"),
        "{b}"
    );

    // Bad input: each wrong field named, nothing made.
    let api = Api::new(&app, &secret);
    let mut empty = new_change_set("nope");
    empty["items"] = json!([]);
    let (s, h, b) = api.post("/api/v1/change-sets", &empty).await;
    assert_problem(s, &h, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(b["errors"][0]["field"], "items");
    let mut bad_role = new_change_set("nope");
    bad_role["items"][0]["role_arn"] = json!("orders-readers");
    let (s, h, b) = api.post("/api/v1/change-sets", &bad_role).await;
    assert_problem(s, &h, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(b["errors"][0]["field"], "role_arn", "{b}");
    let mut no_why = new_change_set("nope");
    no_why["justification"] = json!("");
    let (s, h, b) = api.post("/api/v1/change-sets", &no_why).await;
    assert_problem(s, &h, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(b["errors"][0]["field"], "justification", "{b}");
    let mut bad_end = new_change_set("nope");
    bad_end["access_ends"] = json!("next friday");
    let (s, h, b) = api.post("/api/v1/change-sets", &bad_end).await;
    assert_problem(s, &h, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(b["errors"][0]["field"], "access_ends", "{b}");
    let (s, h, b) = api
        .send(
            api.client
                .post(app.url("/api/v1/change-sets"))
                .header(header::CONTENT_TYPE, "application/json")
                .body("{\"title\": 4"),
        )
        .await;
    assert_problem(s, &h, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(change_sets(&app).await, 0, "nothing was made");

    // Missing things, and paths the API does not have.
    let (s, h, b) = api.get("/api/v1/change-sets/999999").await;
    assert_problem(s, &h, &b, StatusCode::NOT_FOUND, "not-found");
    let (s, h, b) = api.get("/api/v1/nothing-here").await;
    assert_problem(s, &h, &b, StatusCode::NOT_FOUND, "not-found");

    // Revoked: the next request is refused, and says so.
    let (_, list) = server_fn(&app, "/api/tokens/list", "").await;
    let id = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "reports")
        .unwrap()["id"]
        .clone();
    let mut admin = crate::common::spawn_client(&app);
    admin.client = admin_browser;
    let (_, list) = server_fn(&admin, "/api/tokens/list", "").await;
    let service_id = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "service")
        .unwrap()["id"]
        .clone();
    let (status, revoked) =
        server_fn(&admin, "/api/tokens/revoke", &format!("id={service_id}")).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    // An admin may not revoke someone else's personal token.
    let (status, _) = server_fn(&admin, "/api/tokens/revoke", &format!("id={id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (s, h, b) = api.get("/api/v1/me").await;
    assert_problem(s, &h, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(b["detail"].as_str().unwrap().contains("revoked"), "{b}");
    let (s, _, _) = reader.get("/api/v1/me").await;
    assert_eq!(s, StatusCode::OK, "the auditor's own token still works");
}

/// `#/components/schemas/X` checked against `value` with the document's components beside it.
fn check_schema(doc: &Value, schema: &Value, value: &Value, what: &str) {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::new(&root)
        .unwrap_or_else(|e| panic!("{what}: the document's schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:?}\n{value}");
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint_and_each_answer_matches_it() {
    let mut app = spawn_app().await;
    orders_team(&app).await;
    let secret = make_token(&mut app, "admin", FULL_SERVICE).await;
    let api = Api::new(&app, &secret);
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    // The document and the authorisation table name the same endpoints.
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let table: BTreeSet<(String, String)> = app::access::REST
        .iter()
        .filter(|e| e.rule != app::access::TokenRule::Public)
        .map(|e| (e.method.to_string(), e.path.to_string()))
        .collect();
    assert_eq!(documented, table);

    // A change set to call the id paths on.
    // Time-bound: the end comes back as it is shown.
    let ends = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
    let (status, _, made) = api.post("/api/v1/change-sets", &json!({
        "title": "Contract", "justification": "Checks the API against its document.",
        "access_ends": ends.format(&time::format_description::well_known::Rfc3339).unwrap(),
        "items": [{"kind": "bind", "group_source": "file", "group_id": "orders-team", "role_arn": ROLE}]
    })).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(
        made["access_ends_at"],
        app::domain::expiry::show(ends),
        "{made}"
    );
    assert_eq!(made["revoked_by"], Value::Null);
    // No owned API among what it touches: no owner approval waited for.
    assert_eq!(made["owner_approvals"], json!([]), "{made}");
    let id = made["id"].as_i64().unwrap();

    let mut called = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let url = path
                .replace("{id}", &id.to_string())
                .replace("{api_id}", "nope")
                .replace("{index}", "0");
            let request = match (method.as_str(), path.as_str()) {
                ("get", "/api/v1/explain") => api.client.get(app.url(&format!(
                    "{url}?person=nobody%40contoso.test&api=nope&stage=prod&method=GET&path=/orders"
                ))),
                ("get", _) => api.client.get(app.url(&url)),
                ("post", "/api/v1/change-sets") => {
                    api.client.post(app.url(&url)).json(&new_change_set("nope"))
                }
                ("post", _) => api.client.post(app.url(&url)).json(&json!({})),
                ("delete", _) => api.client.delete(app.url(&url)),
                (m, _) => panic!("a method the test does not call: {m}"),
            };
            let (status, headers, body) = api.send(request).await;
            let what = format!("{} {url} → {status}", method.to_uppercase());
            let documented = &op["responses"][status.as_str()];
            assert!(
                documented.is_object(),
                "{what}: the document does not list this status\n{body}"
            );
            if let Some((kind, content)) = documented["content"]
                .as_object()
                .and_then(|c| c.iter().next())
            {
                assert_eq!(
                    headers[header::CONTENT_TYPE].to_str().unwrap(),
                    kind,
                    "{what}"
                );
                check_schema(&doc, &content["schema"], &body, &what);
            }
            called += 1;
        }
    }
    assert_eq!(called, table.len());
}
