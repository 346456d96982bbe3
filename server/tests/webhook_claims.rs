//! The notification sender's claims: a process shutting down hands back what it claimed and
//! did not send. Here rather than in the `webhooks` binary, whose test counts the process's
//! delivery metrics.

use std::{sync::Arc, time::Duration};

use crate::common::{
    self, count,
    receivers::{due_deliveries, slow_receiver, DUE_NOW},
};

/// On shutdown a process hands back the deliveries it claimed and has not sent (due at once, for
/// another replica) instead of keeping them out of reach for minutes; the one being sent
/// finishes, and nothing more is claimed.
#[tokio::test]
async fn unsent_claims_are_handed_back_on_shutdown() {
    use app::backend::webhooks::{deliver_due, Claims};

    let pool = common::migrated_database().await;
    let (_, url) = slow_receiver(Duration::from_millis(1500)).await;
    due_deliveries(&pool, &url, "submitted", 3).await;
    let delivered = "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NOT NULL";

    let claims = Arc::new(Claims::default());
    let sending = {
        let (pool, claims) = (pool.clone(), Arc::clone(&claims));
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            deliver_due(&pool, &client, Duration::from_secs(1), 20, &claims).await
        })
    };
    // The first is on its way; all three are claimed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count(&pool, DUE_NOW).await, 0);

    assert_eq!(claims.hand_back(&pool).await.unwrap(), 2);
    assert_eq!(
        count(&pool, DUE_NOW).await,
        2,
        "the two unsent are due again"
    );
    assert_eq!(
        sending.await.unwrap().unwrap(),
        1,
        "the one under way was delivered, and no other was sent"
    );
    assert_eq!(count(&pool, delivered).await, 1);
    // Shutting down, it claims nothing more.
    let client = reqwest::Client::new();
    let again = deliver_due(&pool, &client, Duration::from_secs(1), 20, &claims).await;
    assert_eq!(again.unwrap(), 0);
    assert_eq!(count(&pool, DUE_NOW).await, 2);
}

/// With no subscription, audit events are passed over in one step however many there are (a
/// large import must not be read through in batches of 500, looking up each change set, with
/// nothing to make); with one, each event of a batch is delivered once.
#[tokio::test]
async fn events_nobody_subscribed_to_are_passed_over_at_once() {
    use app::backend::webhooks::enqueue;

    let pool = common::migrated_database().await;
    sqlx::query(
        "INSERT INTO audit_events (actor_name, action, subject, details)
         SELECT 'Importer', 'change_set.submitted', 'change_set:' || i, '{}'::jsonb
         FROM generate_series(1, 1200) AS i",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(enqueue(&pool, "http://gatehouse.test").await.unwrap(), 0);
    let (cursor, newest): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT last_seq FROM webhook_cursor), (SELECT max(seq) FROM audit_events)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(cursor, newest, "one call passes over every event");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM webhook_deliveries").await,
        0
    );
}
