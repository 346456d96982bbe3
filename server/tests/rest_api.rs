//! The REST API as a pipeline uses it: an admin makes a service token on the tokens page; the
//! token drafts and submits a change set (idempotently), cannot approve it, a reviewer approves
//! it in the browser, and the token pushes it and follows it to "pushed". Then every refusal and
//! error shape, and the OpenAPI document checked against what the server answers.

use crate::common;
#[path = "rest_api/contract.rs"]
mod contract;
#[path = "rest_api/reads.rs"]
mod reads;

use std::time::Duration;

use common::{orders_api, pushing::push_settings, spawn_app_with, start_moto, TestApp};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

pub const ROLE: &str = "arn:aws:iam::123456789012:role/orders-readers";

/// A server function call as the browser's page makes it (JSON back).
pub async fn server_fn(app: &TestApp, path: &str, form: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(path))
        .header(header::ORIGIN, &app.base_url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Signs `who` in and makes a token with `form`; answers the token's secret.
pub async fn make_token(app: &mut TestApp, who: &str, form: &str) -> String {
    app.client = common::browser();
    let _ = app.sign_in(who, "/").await.response.text().await;
    let (status, made) = server_fn(app, "/api/tokens/create", form).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (status, list) = server_fn(app, "/api/tokens/list", "").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let secret = list["fresh"]["secret"]
        .as_str()
        .expect("the new secret, once")
        .to_string();
    // Shown once: the next read of the list has no secret.
    let (_, again) = server_fn(app, "/api/tokens/list", "").await;
    assert!(again["fresh"].is_null(), "{again}");
    secret
}

pub struct Api<'a> {
    pub app: &'a TestApp,
    pub token: String,
    pub client: reqwest::Client,
}

impl<'a> Api<'a> {
    pub fn new(app: &'a TestApp, token: &str) -> Self {
        Api {
            app,
            token: token.to_string(),
            client: reqwest::Client::new(),
        }
    }

    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> (StatusCode, header::HeaderMap, Value) {
        let response = request
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, header::HeaderMap, Value) {
        self.send(self.client.get(self.app.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, header::HeaderMap, Value) {
        self.send(self.client.post(self.app.url(path)).json(body))
            .await
    }
}

pub fn new_change_set(api_id: &str) -> Value {
    json!({
        "title": "Orders readers read orders",
        "justification": "The orders dashboard reads orders; the pipeline that ships it asks for this.",
        "ticket": "CHG-42",
        "submit": true,
        "items": [
            {"kind": "bind", "group_source": "file", "group_id": "orders-team", "role_arn": ROLE},
            {"kind": "grant", "role_arn": ROLE, "target": "123456789012/us-east-1", "api_id": api_id,
             "stage": "prod", "method": "GET", "path": "/orders"}
        ]
    })
}

/// The group, as a directory sync stores it.
pub async fn orders_team(app: &TestApp) {
    sqlx::query(
        "INSERT INTO directory_groups (source, object_id, display_name, directory_ref)
         VALUES ('file', 'orders-team', 'Orders team', 'orders-team')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
}

const SERVICE_TOKEN: &str =
    "name=orders+pipeline&kind=service&service=orders-pipeline&scope_read=on&scope_draft=on&scope_push=on&days=30";

#[tokio::test]
async fn a_pipeline_token_drafts_and_submits_a_person_approves_and_the_token_pushes() {
    let moto = start_moto().await;
    let api_id = orders_api(&moto.clients().await).await;
    let aws = moto.settings();
    let mut app = spawn_app_with(move |s| {
        s.aws = aws;
        s.push = push_settings();
    })
    .await;
    orders_team(&app).await;
    let secret = make_token(&mut app, "admin", SERVICE_TOKEN).await;
    let api = Api::new(&app, &secret);

    let (status, _, me) = api.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["kind"], "service");
    assert_eq!(me["scopes"], json!(["read", "draft", "push"]));

    // Drafted and submitted in one request; the same key and body answer the same again.
    let body = new_change_set(&api_id);
    let create = |key: &'static str, body: Value| {
        let request = api
            .client
            .post(app.url("/api/v1/change-sets"))
            .header("idempotency-key", key)
            .json(&body);
        api.send(request)
    };
    let (status, _, made) = create("ship-orders-1", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_i64().unwrap();
    assert_eq!(made["state"], "submitted");
    assert!(
        made["author"]
            .as_str()
            .unwrap()
            .starts_with("service orders-pipeline via token"),
        "{made}"
    );
    assert_eq!(made["items"].as_array().unwrap().len(), 2);
    let (status, headers, replayed) = create("ship-orders-1", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replayed["id"], id);
    assert_eq!(headers["idempotent-replayed"], "true");
    let mut other = body.clone();
    other["title"] = json!("Something else");
    let (status, _, refused) = create("ship-orders-1", other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "Idempotency-Key");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM change_sets")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "one change set for one key");

    // The token may not approve, whatever its scopes.
    let (status, _, problem) = api
        .post(
            &format!("/api/v1/change-sets/{id}/reviews"),
            &json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(problem["type"], "/api/v1/docs#problem-forbidden");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("separation of duties"),
        "{problem}"
    );

    // A reviewer approves it, signed in, with the content they were shown.
    let mut reviewer = common::spawn_client(&app);
    let _ = reviewer
        .sign_in("reviewer", "/")
        .await
        .response
        .text()
        .await;
    let (_, detail) = server_fn(&reviewer, "/api/change-sets/get", &format!("id={id}")).await;
    let hash = detail["content_hash"]
        .as_str()
        .expect("the page's content hash")
        .to_string();
    let (status, reviewed) = server_fn(
        &reviewer,
        "/api/change-sets/review",
        &format!("id={id}&decision=approve&comment=fine&content_hash={hash}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reviewed}");
    reviewer.client = common::browser();

    // Read with an ETag: the same ETag answers 304 with nothing.
    let (status, headers, approved) = api.get(&format!("/api/v1/change-sets/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(approved["state"], "approved");
    let etag = headers[header::ETAG].to_str().unwrap().to_string();
    let (status, _, _) = api
        .send(
            api.client
                .get(app.url(&format!("/api/v1/change-sets/{id}")))
                .header(header::IF_NONE_MATCH, &etag),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // The token pushes it and follows it to the end.
    let (status, _, started) = api
        .post(&format!("/api/v1/change-sets/{id}/push"), &json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    assert!(started["run"].as_i64().is_some(), "{started}");
    let url = started["status_url"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for _ in 0..240 {
        let (status, _, s) = api.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{s}");
        last = s;
        if last["state"] == "pushed" || last["state"] == "push_failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(last["state"], "pushed", "{last}");
    assert_eq!(last["run"]["state"], "succeeded");
    let steps = last["run"]["steps"].as_array().unwrap();
    assert!(
        !steps.is_empty() && steps.iter().all(|s| s["state"] == "done"),
        "{last}"
    );

    // The history names the service for each of its acts, and each request is recorded.
    let actors: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, actor_name FROM audit_events
         WHERE action IN ('change_set.edited', 'change_set.submitted', 'change_set.approved', 'push.started')
         ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let by = |action: &str| {
        actors
            .iter()
            .find(|(a, _)| a == action)
            .map(|(_, n)| n.clone())
            .unwrap()
    };
    assert!(
        by("change_set.submitted").starts_with("service orders-pipeline"),
        "{actors:?}"
    );
    assert!(
        by("push.started").starts_with("service orders-pipeline"),
        "{actors:?}"
    );
    assert!(
        by("change_set.approved").starts_with("Rita Reviewer"),
        "{actors:?}"
    );
    let uses: Vec<(String, String, i16)> =
        sqlx::query_as("SELECT method, path, status FROM api_token_uses ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(
        uses.contains(&(
            "POST".into(),
            format!("/api/v1/change-sets/{id}/reviews"),
            403
        )),
        "{uses:?}"
    );
    assert!(
        uses.contains(&("POST".into(), format!("/api/v1/change-sets/{id}/push"), 202)),
        "{uses:?}"
    );
}

/// `gatehouse changes FILE --as SERVICE`: what a pipeline runs instead of calling the API.
#[tokio::test]
async fn the_changes_command_makes_a_change_set_from_yaml_and_refuses_a_bad_item() {
    let app = common::spawn_app().await;
    orders_team(&app).await;
    let dir = std::env::temp_dir().join(format!("gatehouse-changes-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("orders.yaml");
    std::fs::write(
        &good,
        format!(
            "title: Orders readers\njustification: The orders dashboard reads orders.\nitems:\n  - kind: bind\n    group_source: file\n    group_id: orders-team\n    role_arn: {ROLE}\n"
        ),
    )
    .unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"title": "Bad", "justification": "A role that is no ARN.", "items": [{"kind": "bind", "group_source": "file", "group_id": "orders-team", "role_arn": "orders-readers"}]}"#,
    )
    .unwrap();
    let run = |file: std::path::PathBuf| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args([
                "changes",
                file.to_str().unwrap(),
                "--as",
                "deploy-pipeline",
                "--submit",
                "--json",
            ])
            .env("DATABASE_URL", &app.owner_url)
            .output()
    };
    let made = run(good).await.unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let out: Value = serde_json::from_slice(&made.stdout).unwrap();
    assert_eq!(out["state"], "submitted", "{out}");
    let (author, state): (String, String) =
        sqlx::query_as("SELECT author_name, state FROM change_sets WHERE id = $1")
            .bind(out["id"].as_i64().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(author, "service deploy-pipeline via the command line");
    assert_eq!(state, "submitted");

    let refused = run(bad).await.unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let problem: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(problem["errors"][0]["field"], "role_arn", "{problem}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM change_sets")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "the bad file made nothing");
    std::fs::remove_dir_all(dir).ok();
}
