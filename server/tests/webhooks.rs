//! Notifications as a receiver sees them: each event once, signed (the signature checks out
//! with the receiver's secret), a change set's events in order, and a receiver that was down
//! for a while gets everything once it is back (the outbox keeps them).

mod common;

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
use common::{approved, count, pushing::binding, spawn_app_with};
use serde_json::Value;

#[derive(Clone, Default)]
struct Receiver {
    up: Arc<AtomicBool>,
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    refused: Arc<Mutex<usize>>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if !r.up.load(Ordering::SeqCst) {
        *r.refused.lock().unwrap() += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    r.got.lock().unwrap().push((headers, body));
    StatusCode::NO_CONTENT
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    r.up.store(true, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

/// (event, change set) of what the receiver got, in order, each signature checked.
fn received(r: &Receiver, secret: &str) -> Vec<(String, i64)> {
    received_since(r, secret, 0)
}

/// As [`received`], from the `from`-th message on.
fn received_since(r: &Receiver, secret: &str, from: usize) -> Vec<(String, i64)> {
    r.got
        .lock()
        .unwrap()
        .iter()
        .skip(from)
        .map(|(headers, body)| {
            let timestamp: i64 = headers["x-gatehouse-timestamp"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let signature = headers["x-gatehouse-signature"].to_str().unwrap();
            // One `v1=` per secret that signs (two while a replaced secret still counts).
            let given: Vec<&str> = signature.split(", ").collect();
            assert!(
                given.contains(&gatehouse::webhooks::signature(secret, timestamp, body).as_str()),
                "the signature checks out: {signature}"
            );
            assert!(!given.contains(
                &gatehouse::webhooks::signature("another secret", timestamp, body).as_str()
            ));
            let payload: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(
                headers["x-gatehouse-event"],
                payload["event"].as_str().unwrap()
            );
            assert!(
                payload["summary"].as_str().unwrap().contains("Change set"),
                "{payload}"
            );
            (
                payload["event"].as_str().unwrap().to_string(),
                payload["change_set"]["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn wait_for(r: &Receiver, count: usize) {
    for _ in 0..200 {
        if r.got.lock().unwrap().len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the receiver got {} of {count}",
        r.got.lock().unwrap().len()
    );
}

#[tokio::test]
async fn each_event_once_signed_in_order_and_nothing_lost_while_the_receiver_is_down() {
    let (r, url) = receiver().await;
    let mut app = spawn_app_with(|s| {
        s.webhook_poll = Duration::from_millis(100);
        s.webhook_retry = Duration::from_millis(200);
    })
    .await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    let post = |app: &common::TestApp, path: &str, form: String| {
        app.client
            .post(app.url(path))
            .header("origin", &app.base_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(form)
            .send()
    };
    // A wrong address is said next to its field; nothing is subscribed.
    let refused: Value = post(
        &app,
        "/api/notifications/subscribe",
        "name=x&kind=generic&url=ftp://x&event_submitted=on".into(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(refused["errors"][0][0], "url", "{refused}");
    let made = post(
        &app,
        "/api/notifications/subscribe",
        format!("name=CI+receiver&kind=generic&url={url}&event_submitted=on&event_approved=on&event_rejected=on"),
    )
    .await
    .unwrap();
    assert_eq!(made.status(), StatusCode::OK);
    let list = app.call("/api/notifications/list", &[]).await;
    let secret = list["subscriptions"][0]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    // Reviewers and auditors may not see or change receivers.
    app.client = common::browser();
    let _ = app.sign_in("reviewer", "/").await.response.text().await;
    let status = post(&app, "/api/notifications/list", String::new())
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Up: a change set's submission and approval arrive, once each, in order.
    let first = approved(&app.pool, vec![binding("role-a")]).await;
    wait_for(&r, 2).await;
    assert_eq!(
        received(&r, &secret),
        [
            ("submitted".to_string(), first),
            ("approved".to_string(), first)
        ]
    );

    // Down for a while: two more change sets happen meanwhile; nothing arrives, every try is
    // refused, and once it is back everything arrives, each once, each change set in order.
    r.up.store(false, Ordering::SeqCst);
    let second = approved(&app.pool, vec![binding("role-b")]).await;
    let third = approved(&app.pool, vec![binding("role-c")]).await;
    for _ in 0..100 {
        if *r.refused.lock().unwrap() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        *r.refused.lock().unwrap() >= 3,
        "the receiver was tried while down"
    );
    let failed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL AND last_status = 503",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        failed >= 2,
        "failed deliveries wait with their error: {failed}"
    );
    r.up.store(true, Ordering::SeqCst);
    wait_for(&r, 6).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = received(&r, &secret);
    assert_eq!(got.len(), 6, "each once: {got:?}");
    for id in [second, third] {
        let of: Vec<&str> = got
            .iter()
            .filter(|(_, cs)| *cs == id)
            .map(|(e, _)| e.as_str())
            .collect();
        assert_eq!(
            of,
            ["submitted", "approved"],
            "change set {id} in order: {got:?}"
        );
    }
    let waiting: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(waiting, 0);

    // What monitoring sees: the deliveries and the refused tries, counted by outcome.
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let delivered = series(
        &metrics,
        r#"gatehouse_webhook_deliveries_total{kind="generic",outcome="delivered"}"#,
    );
    let failed = series(
        &metrics,
        r#"gatehouse_webhook_deliveries_total{kind="generic",outcome="failed"}"#,
    );
    assert_eq!(delivered, 6.0, "{metrics}");
    assert!(failed >= 3.0, "each refused try counted: {failed}");

    // A new secret: the next messages are signed with it and, for a day, with the old one too.
    app.client = common::browser();
    let _ = app.sign_in("admin", "/").await.response.text().await;
    let id = list["subscriptions"][0]["id"].as_i64().unwrap();
    let replaced = app
        .call("/api/notifications/new-secret", &[("id", &id.to_string())])
        .await;
    assert!(
        replaced["message"]
            .as_str()
            .unwrap_or("")
            .contains("new secret"),
        "{replaced}"
    );
    let list = app.call("/api/notifications/list", &[]).await;
    let new_secret = list["subscriptions"][0]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_secret, secret);
    let fourth = approved(&app.pool, vec![binding("role-d")]).await;
    wait_for(&r, 8).await;
    let signatures: Vec<String> = r.got.lock().unwrap()[6..]
        .iter()
        .map(|(h, _)| h["x-gatehouse-signature"].to_str().unwrap().to_string())
        .collect();
    assert!(
        signatures.iter().all(|s| s.split(", ").count() == 2),
        "{signatures:?}"
    );
    let with_new = received_since(&r, &new_secret, 6);
    let with_old = received_since(&r, &secret, 6);
    assert_eq!(with_new, with_old);
    assert_eq!(
        with_new,
        [
            ("submitted".to_string(), fourth),
            ("approved".to_string(), fourth)
        ]
    );
    let audited = count(
        &app.pool,
        "SELECT count(*) FROM audit_events WHERE action = 'notifications.secret_replaced'",
    )
    .await;
    assert_eq!(audited, 1);

    // Every change to a receiver is in the history: who subscribed it (never its secret), who
    // turned it off and on (turning it off twice is one change), who sent a delivery again.
    let off = [("id", id.to_string()), ("enabled", "false".to_string())];
    let off: Vec<(&str, &str)> = off.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.call("/api/notifications/enable", &off).await;
    app.call("/api/notifications/enable", &off).await;
    app.call(
        "/api/notifications/enable",
        &[("id", &id.to_string()), ("enabled", "true")],
    )
    .await;
    let delivery: i64 = sqlx::query_scalar("SELECT min(id) FROM webhook_deliveries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.call(
        "/api/notifications/resend",
        &[("id", &delivery.to_string())],
    )
    .await;
    let history: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT action, actor_name, details FROM audit_events
         WHERE action LIKE 'notifications.%' AND action <> 'notifications.secret_replaced'
         ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let actions: Vec<&str> = history.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "notifications.receiver_added",
            "notifications.receiver_turned_off",
            "notifications.receiver_turned_on",
            "notifications.delivery_resent"
        ]
    );
    assert!(
        history.iter().all(|(_, by, _)| by.contains("Admin")),
        "{history:?}"
    );
    let added = &history[0].2;
    assert_eq!(added["receiver"], "CI receiver");
    assert_eq!(
        added["events"],
        serde_json::json!(["submitted", "approved", "rejected"])
    );
    assert!(!added.to_string().contains(&secret), "{added}");
    assert_eq!(history[3].2["event"], "submitted");
}

/// The value of one series in Prometheus text (`name{labels} value`), 0 when absent.
fn series(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}
