//! The audit log read back: filtered keyset pages, a streamed walk in sequence order (for
//! exports and the chain check), each event in the chain's text form.

use app::history::{CheckedFilter, EventView};
use futures_util::{Stream, StreamExt};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::chain::{Broken, ChainCheck, ChainedEvent};

const COLUMNS: &str = "SELECT seq,
    to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS occurred_at,
    coalesce(actor_tid::text, '') AS actor_tid, coalesce(actor_oid::text, '') AS actor_oid,
    actor_name, action, coalesce(subject, '') AS subject, details::text AS details, prev_hash, hash
    FROM audit_events WHERE true";

#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    occurred_at: String,
    actor_tid: String,
    actor_oid: String,
    actor_name: String,
    action: String,
    subject: String,
    details: String,
    prev_hash: String,
    hash: String,
}

impl From<Row> for ChainedEvent {
    fn from(r: Row) -> Self {
        ChainedEvent {
            seq: r.seq,
            occurred_at: r.occurred_at,
            actor_tid: r.actor_tid,
            actor_oid: r.actor_oid,
            actor_name: r.actor_name,
            action: r.action,
            subject: r.subject,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// A checked time as SQL (`…Z+1d` is the next day's start).
fn push_time(q: &mut QueryBuilder<'_, Postgres>, t: &str) {
    let (base, plus) = match t.strip_suffix("+1d") {
        Some(b) => (b, "1 day"),
        None => match t.strip_suffix("+1s") {
            Some(b) => (b, "1 second"),
            None => (t, "0 seconds"),
        },
    };
    q.push("(")
        .push_bind(base.to_string())
        .push("::timestamptz + interval '")
        .push(plus)
        .push("')");
}

fn like(text: &str) -> String {
    format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

fn push_filter(q: &mut QueryBuilder<'_, Postgres>, f: &CheckedFilter) {
    if let Some(t) = &f.from {
        q.push(" AND occurred_at >= ");
        push_time(q, t);
    }
    if let Some(t) = &f.to_before {
        q.push(" AND occurred_at < ");
        push_time(q, t);
    }
    if let Some(a) = &f.actor {
        q.push(" AND actor_name ILIKE ").push_bind(like(a));
    }
    if let Some(a) = &f.action {
        // `push` matches `push.started`, `push.call`, …; a full name matches itself.
        q.push(" AND (action = ")
            .push_bind(a.clone())
            .push(" OR action LIKE ")
            .push_bind(format!("{}.%", a.replace('%', "\\%").replace('_', "\\_")))
            .push(")");
    }
    if let Some(id) = f.change_set {
        q.push(" AND subject = ")
            .push_bind(format!("change_set:{id}"));
    }
    if let Some(m) = &f.mentions {
        q.push(" AND (coalesce(subject, '') || ' ' || details::text) ILIKE ")
            .push_bind(like(m));
    }
}

fn pretty(details: &str) -> String {
    serde_json::from_str::<serde_json::Value>(details)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| details.to_string())
}

pub const PAGE: i64 = 50;

/// Newest first: the events before sequence `before` (or the newest), one page.
pub async fn page(
    pool: &PgPool,
    f: &CheckedFilter,
    before: Option<i64>,
) -> sqlx::Result<(Vec<EventView>, bool, Option<i64>)> {
    let mut q = QueryBuilder::new(COLUMNS);
    push_filter(&mut q, f);
    if let Some(b) = before {
        q.push(" AND seq < ").push_bind(b);
    }
    q.push(" ORDER BY seq DESC LIMIT ").push_bind(PAGE + 1);
    let mut rows: Vec<Row> = q.build_query_as().fetch_all(pool).await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    // The newer page: the PAGE events after this page's first, if any.
    let newer = match (before, rows.first()) {
        (Some(_), Some(first)) => {
            let mut q = QueryBuilder::new("SELECT seq FROM audit_events WHERE true");
            push_filter(&mut q, f);
            q.push(" AND seq > ")
                .push_bind(first.seq)
                .push(" ORDER BY seq ASC LIMIT ")
                .push_bind(PAGE + 1);
            let newer: Vec<i64> = q.build_query_scalar().fetch_all(pool).await?;
            match newer.len() as i64 {
                0 => None,
                n if n <= PAGE => Some(0),
                _ => newer.get(PAGE as usize).copied(),
            }
        }
        _ => None,
    };
    let events = rows
        .into_iter()
        .map(|r| EventView {
            seq: r.seq,
            occurred_at: r.occurred_at.clone(),
            actor: r.actor_name.clone(),
            action: r.action.clone(),
            subject: Some(r.subject.clone()).filter(|s| !s.is_empty()),
            details: pretty(&r.details),
            hash: r.hash,
        })
        .collect();
    Ok((events, more, newer))
}

/// Every matching event in sequence order, streamed from the database: a task reads the rows
/// and hands them over through a small channel, so memory stays flat at any size.
pub fn stream(
    pool: PgPool,
    f: CheckedFilter,
    upto: Option<i64>,
) -> impl Stream<Item = sqlx::Result<ChainedEvent>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<sqlx::Result<ChainedEvent>>(256);
    tokio::spawn(async move {
        let mut q = QueryBuilder::new(COLUMNS);
        push_filter(&mut q, &f);
        if let Some(u) = upto {
            q.push(" AND seq <= ").push_bind(u);
        }
        q.push(" ORDER BY seq");
        let mut rows = q.build_query_as::<Row>().fetch(&pool);
        while let Some(row) = rows.next().await {
            let failed = row.is_err();
            // The reader went away (a download cancelled): stop reading.
            if tx.send(row.map(Into::into)).await.is_err() || failed {
                return;
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// How many events match, up to `upto`.
pub async fn count(db: &mut sqlx::PgConnection, f: &CheckedFilter, upto: i64) -> sqlx::Result<i64> {
    let mut q = QueryBuilder::new("SELECT count(*) FROM audit_events WHERE true");
    push_filter(&mut q, f);
    q.push(" AND seq <= ").push_bind(upto);
    q.build_query_scalar().fetch_one(db).await
}

/// Checks the whole chain in the database, streaming; the first broken link, named.
pub async fn verify(pool: &PgPool) -> anyhow::Result<Result<u64, Broken>> {
    let mut check = ChainCheck::default();
    let sql = format!("{COLUMNS} ORDER BY seq");
    let mut rows = sqlx::query_as::<_, Row>(&sql).fetch(pool);
    while let Some(row) = rows.next().await {
        if let Err(b) = check.push(&row?.into()) {
            return Ok(Err(b));
        }
    }
    Ok(Ok(check.checked))
}
