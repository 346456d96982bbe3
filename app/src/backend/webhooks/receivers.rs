//! A receiver's settings, each change an audit event: subscribing one (with a fresh signing
//! secret), turning it off and on, replacing its secret, sending a delivery again; and the
//! lists the notifications page shows.

use serde_json::json;
use sqlx::PgPool;

use crate::{
    backend::{
        audit::{self, Actor},
        catalog::queries::utc,
    },
    domain::webhook::CheckedSubscription,
    webhooks::{DeliveryView, SubscriptionView},
};

/// The audit actions of a receiver's settings.
pub const RECEIVER_ADDED: &str = "notifications.receiver_added";
pub const RECEIVER_ON: &str = "notifications.receiver_turned_on";
pub const RECEIVER_OFF: &str = "notifications.receiver_turned_off";
pub const SECRET_REPLACED: &str = "notifications.secret_replaced";
pub const DELIVERY_RESENT: &str = "notifications.delivery_resent";

/// How long a replaced secret still signs (beside the new one).
pub const PREVIOUS_SECRET_HOURS: i32 = 24;

/// A fresh signing secret. Panics only when the operating system has no random source, where
/// nothing secret can be made at all.
fn new_secret() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the operating system's random source");
    format!("whsec_{}", hex::encode(key))
}

/// Replaces a receiver's signing secret; the old one signs beside it for
/// [`PREVIOUS_SECRET_HOURS`]. Answers whether there was such a receiver.
pub async fn rotate_secret(pool: &PgPool, actor: &Actor, id: i64) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE webhook_subscriptions
         SET previous_secret = secret, secret = $2,
             previous_secret_until = now() + make_interval(hours => $3)
         WHERE id = $1 RETURNING name",
    )
    .bind(id)
    .bind(new_secret())
    .bind(PREVIOUS_SECRET_HOURS)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(name) = name else {
        return Ok(false);
    };
    audit::record(
        &mut *tx,
        actor,
        SECRET_REPLACED,
        Some(&format!("receiver:{id}")),
        json!({ "receiver": name, "previous_signs_for_hours": PREVIOUS_SECRET_HOURS }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Subscribes a receiver; answers its id.
pub async fn subscribe(pool: &PgPool, actor: &Actor, s: &CheckedSubscription) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_subscriptions (name, kind, url, secret, events, api_ids, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&s.name)
    .bind(s.kind.as_str())
    .bind(&s.url)
    .bind(new_secret())
    .bind(&s.events)
    .bind(&s.api_ids)
    .bind(&actor.name)
    .fetch_one(&mut *tx)
    .await?;
    // What it hears and where it sends; never the secret.
    audit::record(
        &mut *tx,
        actor,
        RECEIVER_ADDED,
        Some(&format!("receiver:{id}")),
        json!({ "receiver": s.name, "kind": s.kind.as_str(), "url": s.url,
                "events": s.events, "apis": s.api_ids }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Stops sending to a receiver (its undelivered deliveries wait, and go if it is turned on).
/// Answers whether there was such a receiver; turning it to what it already is records nothing.
pub async fn set_enabled(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    enabled: bool,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let before: Option<(String, bool)> = sqlx::query_as(
        "SELECT name, disabled_at IS NULL FROM webhook_subscriptions WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((name, was_on)) = before else {
        return Ok(false);
    };
    if was_on != enabled {
        sqlx::query(
            "UPDATE webhook_subscriptions SET disabled_at = CASE WHEN $2 THEN NULL ELSE now() END
             WHERE id = $1",
        )
        .bind(id)
        .bind(enabled)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            if enabled { RECEIVER_ON } else { RECEIVER_OFF },
            Some(&format!("receiver:{id}")),
            json!({ "receiver": name }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Sends a delivery again now (delivered or not); answers whether there was such a delivery.
pub async fn resend(pool: &PgPool, actor: &Actor, id: i64) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let resent: Option<(String, String)> = sqlx::query_as(
        "UPDATE webhook_deliveries d SET delivered_at = NULL, next_attempt_at = now()
         FROM webhook_subscriptions s WHERE d.id = $1 AND s.id = d.subscription_id
         RETURNING s.name, d.event",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((receiver, event)) = resent else {
        return Ok(false);
    };
    audit::record(
        &mut *tx,
        actor,
        DELIVERY_RESENT,
        Some(&format!("delivery:{id}")),
        json!({ "receiver": receiver, "event": event }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

type SubscriptionListRow = (
    i64,
    String,
    String,
    String,
    String,
    Vec<String>,
    Vec<String>,
    String,
    Option<time::OffsetDateTime>,
    i64,
    i64,
);
type DeliveryRow = (
    i64,
    String,
    String,
    Option<i64>,
    i32,
    Option<i16>,
    Option<String>,
    time::OffsetDateTime,
    Option<time::OffsetDateTime>,
    time::OffsetDateTime,
);

pub async fn subscriptions(pool: &PgPool) -> sqlx::Result<Vec<SubscriptionView>> {
    let rows: Vec<SubscriptionListRow> = sqlx::query_as(
        "SELECT s.id, s.name, s.kind, s.url, s.secret, s.events, s.api_ids, s.created_by, s.disabled_at,
                (SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.delivered_at IS NOT NULL),
                (SELECT count(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id AND d.delivered_at IS NULL)
         FROM webhook_subscriptions s ORDER BY s.id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, kind, url, secret, events, api_ids, by, disabled, delivered, waiting)| {
                SubscriptionView {
                    id,
                    name,
                    kind,
                    url,
                    secret,
                    events,
                    api_ids,
                    created_by: by,
                    enabled: disabled.is_none(),
                    delivered,
                    waiting,
                }
            },
        )
        .collect())
}

/// The newest deliveries (a page's worth).
pub async fn deliveries(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<DeliveryView>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT d.id, s.name, d.event, d.change_set_id, d.attempts, d.last_status, d.last_error,
                d.created_at, d.delivered_at, d.next_attempt_at
         FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
         ORDER BY d.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                receiver,
                event,
                change_set,
                attempts,
                status,
                error,
                created,
                delivered,
                next,
            )| DeliveryView {
                id,
                receiver,
                event,
                change_set,
                attempts,
                last_status: status,
                last_error: error,
                created_at: utc(created),
                status: match delivered {
                    Some(at) => format!("delivered {}", utc(at)),
                    None if attempts == 0 => "waiting to be sent".into(),
                    None => format!("failed {attempts}×, next try {}", utc(next)),
                },
                delivered: delivered.is_some(),
            },
        )
        .collect())
}
