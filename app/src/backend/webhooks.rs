//! The notification outbox: audit events after the cursor become deliveries for each matching
//! subscription (in one transaction with the cursor, so none is made twice or missed), and due
//! deliveries are sent, signed, and retried with back-off until the receiver takes them. Only
//! the oldest undelivered delivery of a change set is sent to a receiver, so order is kept.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::PgPool;

use crate::{
    backend::catalog::queries::utc,
    domain::{
        desired::ChangeItem,
        webhook::{actions, body_for, event_of, retry_after, ReceiverKind},
    },
};

mod receivers;
pub use receivers::*;

/// `v1=` and the hex HMAC-SHA256 of `timestamp.body` under `secret`: what a receiver checks.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn change_set_of(subject: Option<&str>) -> Option<i64> {
    subject?.strip_prefix("change_set:")?.parse().ok()
}

/// A change set's title and the APIs it grants routes of.
async fn title_and_apis(
    db: &mut sqlx::PgConnection,
    id: i64,
) -> sqlx::Result<(String, Vec<String>)> {
    let row: Option<(String, sqlx::types::Json<Vec<ChangeItem>>)> =
        sqlx::query_as("SELECT title, items FROM change_sets WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    let Some((title, items)) = row else {
        return Ok((String::new(), Vec::new()));
    };
    let apis = items
        .0
        .iter()
        .filter_map(|i| match i {
            ChangeItem::AddGrant(g) | ChangeItem::RemoveGrant(g) => {
                Some(g.api.api_id.as_str().to_string())
            }
            _ => None,
        })
        .collect();
    Ok((title, apis))
}

type EventRow = (
    i64,
    String,
    String,
    Option<String>,
    Value,
    time::OffsetDateTime,
);
type SubscriptionRow = (i64, Vec<String>, Vec<String>);

/// Turns the audit events after the cursor into deliveries; answers how many were made.
pub async fn enqueue(pool: &PgPool, base_url: &str) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let cursor: i64 = sqlx::query_scalar("SELECT last_seq FROM webhook_cursor FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    // Events take their seq in commit order (the chain's lock), so none can still appear at
    // or below the newest seq seen now: the cursor may move up to it.
    let upto: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM audit_events")
        .fetch_one(&mut *tx)
        .await?;
    if upto <= cursor {
        return Ok(0);
    }
    let subscriptions: Vec<SubscriptionRow> = sqlx::query_as(
        "SELECT id, events, api_ids FROM webhook_subscriptions WHERE disabled_at IS NULL",
    )
    .fetch_all(&mut *tx)
    .await?;
    // Nobody to notify: the events are passed over at once (a million audit events, say after
    // an import, must not be read through one batch at a time with nothing to make).
    if subscriptions.is_empty() {
        sqlx::query("UPDATE webhook_cursor SET last_seq = $1")
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(0);
    }
    const BATCH: usize = 500;
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT seq, action, actor_name, subject, details, occurred_at FROM audit_events
         WHERE seq > $1 AND seq <= $2 AND action = ANY($3) ORDER BY seq LIMIT $4",
    )
    .bind(cursor)
    .bind(upto)
    .bind(actions())
    .bind(BATCH as i64)
    .fetch_all(&mut *tx)
    .await?;
    // A full batch may have more after it: the cursor moves to its end, else to `upto`.
    let last = match events.last() {
        Some(e) if events.len() == BATCH => e.0,
        _ => upto,
    };
    // A batch names few change sets, each many times: each is read once.
    let mut change_sets: std::collections::HashMap<i64, (String, Vec<String>)> =
        std::collections::HashMap::new();
    let mut made = 0;
    for (seq, action, actor, subject, details, at) in events {
        let Some(event) = event_of(&action) else {
            continue;
        };
        let change_set = change_set_of(subject.as_deref());
        let (title, apis) = match change_set {
            Some(id) => match change_sets.get(&id) {
                Some(known) => known.clone(),
                None => {
                    let read = title_and_apis(&mut tx, id).await?;
                    change_sets.insert(id, read.clone());
                    read
                }
            },
            None => (String::new(), Vec::new()),
        };
        let (summary, url) = sentence(event, change_set, &title, &actor, &details, base_url);
        let payload = json!({
            "event": event,
            "occurred_at": utc(at),
            "actor": actor,
            "change_set": change_set.map(|id| json!({"id": id, "title": title})),
            "summary": summary,
            "url": url,
            "details": details,
        });
        for (sub, wanted, api_ids) in &subscriptions {
            if !wanted.iter().any(|w| w == event) {
                continue;
            }
            if change_set.is_some()
                && !api_ids.is_empty()
                && !apis.iter().any(|a| api_ids.contains(a))
            {
                continue;
            }
            made += sqlx::query(
                "INSERT INTO webhook_deliveries (subscription_id, event_seq, event, change_set_id, payload)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(sub)
            .bind(seq)
            .bind(event)
            .bind(change_set)
            .bind(&payload)
            .execute(&mut *tx)
            .await?
            .rows_affected() as usize;
        }
    }
    sqlx::query("UPDATE webhook_cursor SET last_seq = $1")
        .bind(last)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(made)
}

/// The event in a sentence, and the page it is about.
fn sentence(
    event: &str,
    change_set: Option<i64>,
    title: &str,
    actor: &str,
    details: &Value,
    base_url: &str,
) -> (String, String) {
    let base = base_url.trim_end_matches('/');
    let cs = change_set
        .map(|id| format!("Change set {id} “{title}”"))
        .unwrap_or_default();
    let cs_url = change_set
        .map(|id| format!("{base}/change-sets/{id}"))
        .unwrap_or_default();
    match event {
        "submitted" => (
            format!("{cs} waits for review (submitted by {actor})."),
            cs_url,
        ),
        "approved" => (format!("{cs} was approved by {actor}."), cs_url),
        "rejected" => (format!("{cs} was rejected by {actor}."), cs_url),
        "pushed" => (format!("{cs} was pushed to AWS."), cs_url),
        "push_failed" => (format!("The push of {cs} failed."), cs_url),
        "drift_found" => (
            format!(
                "Drift: {} differences between AWS and the approved mappings.",
                details["items"].as_array().map_or(0, Vec::len)
            ),
            format!("{base}/drift"),
        ),
        "export_ready" => (
            format!("History export {} is ready.", details["export"]),
            format!("{base}/history"),
        ),
        "access_ending" => (
            format!(
                "The access {cs} gave ends at {} UTC.",
                details["access_ends_at"].as_str().unwrap_or("?")
            ),
            cs_url,
        ),
        "access_expired" => (
            format!(
                "The access {cs} gave ended at {} UTC and is being revoked (change set {}).",
                details["access_ends_at"].as_str().unwrap_or("?"),
                details["revocation"]
            ),
            cs_url,
        ),
        "campaign_reminder" => (
            format!(
                "Review campaign “{}” is due at {} UTC: {} lines are undecided.",
                details["name"].as_str().unwrap_or("?"),
                details["due_at"].as_str().unwrap_or("?"),
                details["undecided"]
            ),
            format!("{base}/campaigns/{}", details["campaign"]),
        ),
        "campaign_closed" => (
            format!(
                "Review campaign “{}” closed: {} kept, {} to revoke{}.",
                details["name"].as_str().unwrap_or("?"),
                details["tally"]["keep"],
                details["tally"]["revoke"],
                match details["revocation"].as_i64() {
                    Some(cs) => format!(" (change set {cs} waits for review)"),
                    None => String::new(),
                }
            ),
            format!("{base}/campaigns/{}", details["campaign"]),
        ),
        other => (other.to_string(), String::new()),
    }
}

type DueRow = (
    i64,
    String,
    Value,
    i32,
    String,
    String,
    String,
    Option<String>,
);

/// How long one send may take: the receiver's whole answer, connecting included.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends the deliveries that are due (at most `batch`); answers how many were taken.
///
/// The due deliveries are taken in a short transaction that moves their next attempt past the
/// time the whole batch may take to send: other replicas skip them meanwhile, no connection is
/// held while receivers answer, and a sender that dies leaves them due again after that time
/// (a receiver may then hear one twice; `X-Gatehouse-Delivery` tells it so).
/// The deliveries this process has claimed and not sent yet. A claim keeps other replicas off a
/// delivery for minutes; on shutdown the unsent ones are handed back, due at once, so another
/// replica sends them now. The one being sent is left to finish (or its claim to lapse).
#[derive(Default)]
pub struct Claims {
    unsent: std::sync::Mutex<Vec<i64>>,
    stopping: std::sync::atomic::AtomicBool,
}

impl Claims {
    fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn hold(&self, ids: Vec<i64>) {
        *self.unsent.lock().expect("claims lock") = ids;
    }

    /// Takes `id` to send it now: false when it was handed back meanwhile.
    fn take(&self, id: i64) -> bool {
        let mut unsent = self.unsent.lock().expect("claims lock");
        match unsent.iter().position(|&u| u == id) {
            Some(i) => {
                unsent.remove(i);
                true
            }
            None => false,
        }
    }

    /// Stops claiming and makes the claimed, unsent deliveries due again. Answers how many.
    pub async fn hand_back(&self, pool: &PgPool) -> sqlx::Result<u64> {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let ids = std::mem::take(&mut *self.unsent.lock().expect("claims lock"));
        if ids.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = now()
             WHERE id = ANY($1) AND delivered_at IS NULL",
        )
        .bind(&ids)
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    }
}

/// Claims up to `batch` due deliveries and sends them, oldest first. Answers how many were
/// taken by their receivers.
pub async fn deliver_due(
    pool: &PgPool,
    client: &reqwest::Client,
    retry_base: Duration,
    batch: i64,
    claims: &Claims,
) -> sqlx::Result<usize> {
    if claims.stopping() {
        return Ok(0);
    }
    let taken_for = SEND_TIMEOUT.as_secs_f64() * batch as f64 + 30.0;
    let mut due: Vec<DueRow> = sqlx::query_as(
        "WITH due AS (
             SELECT d.id FROM webhook_deliveries d
             JOIN webhook_subscriptions s ON s.id = d.subscription_id
             WHERE d.delivered_at IS NULL AND d.next_attempt_at <= now() AND s.disabled_at IS NULL
               AND NOT EXISTS (
                   SELECT 1 FROM webhook_deliveries e
                   WHERE e.subscription_id = d.subscription_id AND e.change_set_id = d.change_set_id
                     AND e.id < d.id AND e.delivered_at IS NULL)
             ORDER BY d.id LIMIT $1
             FOR UPDATE OF d SKIP LOCKED)
         UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $2)
         FROM due, webhook_subscriptions s
         WHERE d.id = due.id AND s.id = d.subscription_id
         RETURNING d.id, d.event, d.payload, d.attempts, s.kind, s.url, s.secret,
                   CASE WHEN s.previous_secret_until > now() THEN s.previous_secret END",
    )
    .bind(batch)
    .bind(taken_for)
    .fetch_all(pool)
    .await?;
    // Oldest first, as they were made (RETURNING keeps no order).
    due.sort_by_key(|row| row.0);
    claims.hold(due.iter().map(|row| row.0).collect());
    if claims.stopping() {
        // Shutdown began while these were being claimed: they go back too.
        claims.hand_back(pool).await?;
        return Ok(0);
    }
    let mut taken = 0;
    for (id, event, payload, attempts, kind, url, secret, previous) in due {
        if !claims.take(id) {
            // Handed back (shutting down): another replica sends the rest.
            break;
        }
        let kind = ReceiverKind::parse(&kind).unwrap_or(ReceiverKind::Generic);
        let mut payload = payload;
        payload["delivery"] = json!(id);
        let body = serde_json::to_vec(&body_for(kind, &payload)).unwrap_or_default();
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-gatehouse-event", &event)
            .header("x-gatehouse-delivery", id.to_string())
            .timeout(SEND_TIMEOUT);
        if kind == ReceiverKind::Generic {
            request = request
                .header("x-gatehouse-timestamp", timestamp.to_string())
                .header(
                    "x-gatehouse-signature",
                    signatures(&secret, previous.as_deref(), timestamp, &body),
                );
        }
        let outcome = match request.body(body).send().await {
            Ok(r) if r.status().is_success() => Ok(r.status().as_u16()),
            Ok(r) => Err((
                Some(r.status().as_u16()),
                format!("the receiver answered {}", r.status()),
            )),
            Err(e) => Err((None, format!("could not reach the receiver: {e}"))),
        };
        let attempts = attempts + 1;
        match outcome {
            Ok(status) => {
                sqlx::query(
                    "UPDATE webhook_deliveries SET delivered_at = now(), attempts = $2,
                            last_status = $3, last_error = NULL WHERE id = $1",
                )
                .bind(id)
                .bind(attempts)
                .bind(status as i16)
                .execute(pool)
                .await?;
                taken += 1;
                metrics::counter!("gatehouse_webhook_deliveries_total", "kind" => kind.as_str(), "outcome" => "delivered").increment(1);
            }
            Err((status, error)) => {
                let wait = retry_after(retry_base, attempts as u32);
                sqlx::query(
                    "UPDATE webhook_deliveries SET attempts = $2, last_status = $3, last_error = $4,
                            next_attempt_at = now() + $5 * interval '1 millisecond' WHERE id = $1",
                )
                .bind(id)
                .bind(attempts)
                .bind(status.map(|s| s as i16))
                .bind(&error)
                .bind(wait.as_millis() as f64)
                .execute(pool)
                .await?;
                tracing::warn!(delivery = id, %error, "a notification was not delivered; it will be sent again");
                metrics::counter!("gatehouse_webhook_deliveries_total", "kind" => kind.as_str(), "outcome" => "failed").increment(1);
            }
        }
    }
    Ok(taken)
}

/// The signature header: `v1=` under the secret, then (while a replaced secret still counts)
/// `, v1=` under the previous one. A receiver accepts the body if any `v1=` matches.
pub fn signatures(secret: &str, previous: Option<&str>, timestamp: i64, body: &[u8]) -> String {
    let mut header = signature(secret, timestamp, body);
    if let Some(previous) = previous {
        header.push_str(", ");
        header.push_str(&signature(previous, timestamp, body));
    }
    header
}

/// Makes deliveries and sends them every `poll`, for as long as the process runs. The claims
/// it answers are handed back on shutdown ([`Claims::hand_back`]).
pub fn spawn(
    pool: PgPool,
    base_url: String,
    poll: Duration,
    retry_base: Duration,
) -> std::sync::Arc<Claims> {
    let claims = std::sync::Arc::new(Claims::default());
    let held = std::sync::Arc::clone(&claims);
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        loop {
            if let Err(e) = enqueue(&pool, &base_url).await {
                tracing::error!(error = %e, "could not turn events into notifications");
            }
            match deliver_due(&pool, &client, retry_base, 20, &held).await {
                // More may be waiting behind what was just delivered: go on at once.
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "could not send notifications"),
            }
            tokio::time::sleep(poll).await;
        }
    });
    claims
}
