//! Notification receivers that answer slowly, and deliveries due for them: what the shutdown
//! tests need to catch a sender mid-delivery.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use sqlx::PgPool;

/// A receiver that takes `delay` to answer each notification; answers its address and how many
/// notifications reached it.
pub async fn slow_receiver(delay: Duration) -> (Arc<AtomicUsize>, String) {
    let hits = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let counted = Arc::clone(&hits);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (hits, url)
}

/// A subscription to `url` and `how_many` deliveries of `event` due for it now.
pub async fn due_deliveries(pool: &PgPool, url: &str, event: &str, how_many: i64) {
    let receiver: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_subscriptions (name, kind, url, secret, events, created_by)
         VALUES ('slow', 'generic', $1, 'secret', ARRAY[$2], 'test') RETURNING id",
    )
    .bind(url)
    .bind(event)
    .fetch_one(pool)
    .await
    .unwrap();
    for seq in 1..=how_many {
        // Event numbers of their own (negative): no audit event is needed for a delivery.
        sqlx::query(
            "INSERT INTO webhook_deliveries (subscription_id, event_seq, event, payload)
             VALUES ($1, -$2, $3, '{}')",
        )
        .bind(receiver)
        .bind(seq)
        .bind(event)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// Deliveries due now (not sent, not held by a claim).
pub const DUE_NOW: &str = "SELECT count(*) FROM webhook_deliveries
                           WHERE delivered_at IS NULL AND next_attempt_at <= now()";
