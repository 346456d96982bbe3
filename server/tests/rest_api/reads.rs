//! The rest of the REST API as a pipeline or an auditor's script uses it: the catalog (routes,
//! groups, roles, people) and the approved mappings, a draft grown and shrunk item by item, the
//! plan, the history and an export with its manifest. And the maker of a service token cannot
//! approve what the token wrote.

use std::time::Duration;

use gatehouse::{
    audit::Actor,
    catalog::{Catalog, Syncer},
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{make_token, orders_team, server_fn, Api, ROLE};
use crate::common::{
    orders_api, pushing::push_settings, spawn_app_with, spawn_client, start_moto, TestApp,
};

const PIPELINE: &str =
    "name=reads&kind=service&service=reads-pipeline&scope_read=on&scope_draft=on&scope_push=on&days=1";

fn grant(api_id: &str, method: &str) -> Value {
    json!({"kind": "grant", "role_arn": ROLE, "target": "123456789012/us-east-1", "api_id": api_id,
           "stage": "prod", "method": method, "path": "/orders"})
}

/// `who` approves change set `id` as the page does, with the content they were shown.
async fn review(who: &TestApp, id: i64) -> (StatusCode, Value) {
    let (_, detail) = server_fn(who, "/api/change-sets/get", &format!("id={id}")).await;
    let hash = detail["content_hash"].as_str().unwrap().to_string();
    server_fn(
        who,
        "/api/change-sets/review",
        &format!("id={id}&decision=approve&comment=fine&content_hash={hash}"),
    )
    .await
}

#[tokio::test]
async fn a_token_reads_the_catalog_grows_a_draft_and_exports_the_history() {
    let moto = start_moto().await;
    let api_id = orders_api(&moto.clients().await).await;
    let aws = moto.settings();
    let mut app = spawn_app_with({
        let aws = aws.clone();
        move |s| {
            s.aws = aws;
            s.push = push_settings();
        }
    })
    .await;
    orders_team(&app).await;
    Syncer::new(app.pool.clone(), &aws, None)
        .await
        .sync(&Actor::system("test"), Catalog::Apis)
        .await
        .unwrap();
    for (oid, name) in [("p1", "Pat One"), ("p2", "Pat Two"), ("p3", "Pat Three")] {
        sqlx::query(
            "INSERT INTO directory_people (source, object_id, directory_ref, display_name, user_principal_name)
             VALUES ('file', $1, $1, $2, $1 || '@contoso.test')",
        )
        .bind(oid)
        .bind(name)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    // Sam is an admin and a reviewer: they make the pipeline's token.
    let secret = make_token(&mut app, "admin-reviewer", PIPELINE).await;
    let sam = TestApp {
        client: app.client.clone(),
        ..spawn_client(&app)
    };
    let api = Api::new(&app, &secret);

    // The catalog: an API's routes, a group, people a page at a time.
    let (s, _, routes) = api.get(&format!("/api/v1/apis/{api_id}/routes")).await;
    assert_eq!(s, StatusCode::OK, "{routes}");
    assert!(
        routes["stages"]
            .as_array()
            .unwrap()
            .contains(&json!("prod")),
        "{routes}"
    );
    assert!(
        routes["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["path"] == "/orders" && r["method"] == "GET"),
        "{routes}"
    );
    let (s, _, _) = api.get("/api/v1/apis/nope/routes").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, groups) = api.get("/api/v1/groups?search=orders").await;
    assert_eq!(s, StatusCode::OK, "{groups}");
    assert_eq!(groups["total"], 1, "{groups}");
    assert_eq!(groups["items"][0]["name"], "Orders team");
    let (_, _, first) = api.get("/api/v1/people?search=pat&size=2").await;
    assert_eq!(first["total"], 3, "{first}");
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&first), ["Pat One", "Pat Three"]);
    let next = first["next"].as_str().unwrap();
    let (_, _, second) = api
        .get(&format!("/api/v1/people?search=pat&size=2&after={next}"))
        .await;
    assert_eq!(names(&second), ["Pat Two"]);
    assert!(second["next"].is_null(), "{second}");
    let (s, _, bad) = api.get("/api/v1/people?after=nonsense").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "after");

    // A draft grown and shrunk item by item; a bad item changes nothing.
    let (s, _, made) = api
        .post(
            "/api/v1/change-sets",
            &json!({"title": "Orders readers", "justification": "The orders dashboard reads orders.",
                    "items": [{"kind": "bind", "group_source": "file", "group_id": "orders-team", "role_arn": ROLE}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let id = made["id"].as_i64().unwrap();
    let items_url = format!("/api/v1/change-sets/{id}/items");
    let (s, _, grown) = api
        .post(
            &items_url,
            &json!({"items": [grant(&api_id, "GET"), grant(&api_id, "DELETE")]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{grown}");
    assert_eq!(grown["items"].as_array().unwrap().len(), 3, "{grown}");
    let mut bad_item = grant(&api_id, "GET");
    bad_item["role_arn"] = json!("not-an-arn");
    let (s, _, refused) = api.post(&items_url, &json!({"items": [bad_item]})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let delete_index = grown["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["text"].as_str().unwrap().contains("DELETE"))
        .unwrap()["index"]
        .as_u64()
        .unwrap();
    let (s, _, shrunk) = api
        .send(
            api.client
                .delete(app.url(&format!("{items_url}/{delete_index}"))),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{shrunk}");
    let texts: Vec<&str> = shrunk["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{shrunk}");
    assert!(texts.iter().all(|t| !t.contains("DELETE")), "{texts:?}");
    let (s, _, early) = api.get(&format!("/api/v1/change-sets/{id}/plan")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no plan before approval: {early}");
    let (s, _, submitted) = api
        .post(&format!("/api/v1/change-sets/{id}/submit"), &json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{submitted}");
    let (s, _, late) = api
        .post(&items_url, &json!({"items": [grant(&api_id, "POST")]}))
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a submitted change set is not edited: {late}"
    );

    // Sam made the token that wrote it: Sam may not approve it. Rita may.
    let (_, by_maker) = review(&sam, id).await;
    assert!(
        by_maker.to_string().contains("which you made"),
        "the token's maker is refused: {by_maker}"
    );
    let rita = spawn_client(&app);
    let _ = rita.sign_in("reviewer", "/").await.response.text().await;
    let (s, approved) = review(&rita, id).await;
    assert_eq!(s, StatusCode::OK, "{approved}");

    // The mappings hold it; the plan lists the AWS calls a push would make.
    let (_, _, mappings) = api.get("/api/v1/mappings?search=orders").await;
    let row = &mappings["items"][0];
    assert_eq!(row["group"], "Orders team", "{mappings}");
    assert!(
        row["role"].as_str().unwrap().contains("orders-readers"),
        "{mappings}"
    );
    assert!(
        row["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("GET /orders")),
        "{mappings}"
    );
    let (s, _, plan) = api.get(&format!("/api/v1/change-sets/{id}/plan")).await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    assert!(plan["error"].is_null(), "{plan}");
    let operations: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["operation"].as_str().unwrap())
        .collect();
    assert!(!operations.is_empty(), "{plan}");

    // The history, filtered; a bad filter is named.
    let (s, _, history) = api
        .get(&format!(
            "/api/v1/history?action=change_set.approved&change_set={id}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{history}");
    let events = history["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{history}");
    assert!(events[0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("Rita Reviewer"));
    assert_eq!(events[0]["details"]["after"], "approved", "{history}");
    let (s, _, bad) = api.get("/api/v1/history?from=yesterday").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["errors"][0]["field"], "from");

    // An export of this change set's events, followed until ready; its file matches its manifest.
    let (s, _, bad) = api
        .post("/api/v1/exports", &json!({"format": "xlsx"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (s, _, export) = api
        .post(
            "/api/v1/exports",
            &json!({"format": "jsonl", "filter": {"change_set": id.to_string()}}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{export}");
    let rows = export["rows"].as_i64().unwrap();
    assert!(rows >= 4, "edited, submitted, approved, applied: {export}");
    let status_url = export["status_url"].as_str().unwrap().to_string();
    let mut status = Value::Null;
    for _ in 0..100 {
        status = api.get(&status_url).await.2;
        if status["ready"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status["ready"], true, "{status}");
    let file = api
        .client
        .get(app.url(status["file_url"].as_str().unwrap()))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    let text = file.text().await.unwrap();
    assert_eq!(text.lines().count() as i64, rows);
    let (s, _, manifest) = api.get(status["manifest_url"].as_str().unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{manifest}");
    assert_eq!(manifest["rows"], rows, "{manifest}");
    let downloads: Vec<String> = sqlx::query_scalar(
        "SELECT actor_name FROM audit_events WHERE action = 'audit.export_downloaded'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(downloads.len(), 1, "{downloads:?}");
    assert!(
        downloads[0].starts_with("service reads-pipeline"),
        "{downloads:?}"
    );

    // A key claimed by a request that never finished (its process stopped): refused while it
    // may still be running, taken over by the same request once it cannot be.
    let token = api.get("/api/v1/me").await.2["token"].as_i64().unwrap();
    let body = json!({"title": "Orders writers", "justification": "The orders service writes orders.",
                      "items": [grant(&api_id, "PUT")]});
    let bytes = serde_json::to_vec(&body).unwrap();
    let hash = <sha2::Sha256 as sha2::Digest>::digest(&bytes).to_vec();
    sqlx::query(
        "INSERT INTO api_idempotency (token_id, key, request_sha256, status, body)
         VALUES ($1, 'stuck', $2, 0, 'null')",
    )
    .bind(token)
    .bind(&hash)
    .execute(&app.pool)
    .await
    .unwrap();
    let create = || {
        api.send(
            api.client
                .post(app.url("/api/v1/change-sets"))
                .header("idempotency-key", "stuck")
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
        )
    };
    let (s, _, busy) = create().await;
    assert_eq!(s, StatusCode::CONFLICT, "{busy}");
    sqlx::query(
        "UPDATE api_idempotency SET created_at = now() - interval '3 minutes' WHERE key = 'stuck'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let (s, _, made) = create().await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
}
