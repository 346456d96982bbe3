//! Hostile input: oversized bodies, deep JSON, invalid UTF-8, huge filters and a 10,000-item
//! change set each get a clear refusal (a 4xx, or the form's own field error; never a 500) and
//! change nothing.

use crate::common;

use app::domain::{
    desired::ChangeItem,
    grant::{Binding, GroupRef},
    names::RoleArn,
};
use common::*;
use gatehouse::{
    audit::Actor,
    mappings::workflow::{self, Purpose},
};
use reqwest::{header, StatusCode};

async fn counts(app: &TestApp) -> (i64, i64) {
    (
        count(&app.pool, "SELECT count(*) FROM audit_events").await,
        count(&app.pool, "SELECT count(*) FROM change_sets").await,
    )
}

async fn post(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String) {
    let response = app
        .client
        .post(app.url(path))
        .header(header::ORIGIN, &app.base_url)
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    body_of(response).await
}

async fn body_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn hostile_requests_get_a_clear_4xx_and_change_nothing() {
    let app = spawn_app().await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    let before = counts(&app).await;

    // 3 MB where a few kilobytes are expected: refused before any work.
    let huge = format!(
        "id=1&title={}&justification=x&ticket=&submit=",
        "a".repeat(3 << 20)
    );
    let (status, _) = post(&app, "/api/change-sets/save", FORM, huge.into_bytes()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // JSON nested 10,000 deep, to a server function that reads a form.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (status, text) = post(
        &app,
        "/api/catalog/apis",
        "application/json",
        deep.into_bytes(),
    )
    .await;
    assert!(status.is_client_error(), "{status} {text:.200}");

    // Bytes that are not UTF-8.
    let (status, text) = post(
        &app,
        "/api/catalog/apis",
        FORM,
        b"search=\xff\xfe&sort=".to_vec(),
    )
    .await;
    assert!(status.is_client_error(), "{status} {text:.200}");

    // A 100 KB history filter: refused next to its field (the History form's own answer: no
    // events, the field's error), no database time spent on it.
    let filter = format!(
        "filter[from]=&filter[to]=&filter[actor]=&filter[action]=&filter[change_set]=&filter[mentions]={}",
        "a".repeat(100_000)
    );
    let (status, text) = post(&app, "/api/history/page", FORM, filter.into_bytes()).await;
    let page: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status, StatusCode::OK, "{text:.200}");
    assert_eq!(page["events"], serde_json::json!([]));
    assert_eq!(
        page["errors"],
        serde_json::json!([["mentions", "too long: 200 characters at most"]])
    );
    // An impossible date is named next to its field, not a 500.
    let (status, text) = post(
        &app,
        "/api/history/page",
        FORM,
        b"filter[from]=2026-02-31&filter[to]=&filter[actor]=&filter[action]=&filter[change_set]=&filter[mentions]=".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text:.200}");
    assert!(text.contains("February 2026 has 28 days"), "{text}");

    // A 10,000-item change set: refused whole.
    let author = Actor::person(
        uuid::Uuid::from_u128(1),
        uuid::Uuid::from_u128(7),
        "Mass Editor",
        "mass@contoso.test",
    );
    let role = RoleArn::parse("arn:aws:iam::123456789012:role/orders-readers").unwrap();
    let items: Vec<ChangeItem> = (0..10_000)
        .map(|i| {
            ChangeItem::AddBinding(Binding {
                group: GroupRef::group("file", &format!("group-{i}")),
                role: role.clone(),
            })
        })
        .collect();
    let purpose = Purpose {
        key: "bulk".into(),
        title: "Bulk".into(),
    };
    let err = workflow::edit_for(&app.pool, &author, &purpose, items)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 500 items"), "{err}");

    assert_eq!(
        counts(&app).await,
        before,
        "nothing was changed or recorded"
    );
}
