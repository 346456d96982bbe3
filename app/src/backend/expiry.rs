//! Time-bound access ends by itself. Each period one replica (a schedule claim) tells people
//! about access ending within a day, writes the revoking change set of each time-bound change set
//! whose end has come — approved under the original's approval, so nobody reviews it again — and
//! pushes it. Each step is one transaction that marks its own progress, so a restart or a second
//! replica never revokes twice: the unique index on `revokes_change_set_id` decides.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use serde_json::json;
use sqlx::{types::Json, PgPool};
use time::OffsetDateTime;

use crate::backend::{
    audit::{self, action, Actor},
    mappings::store,
    push::Pusher,
};
use crate::domain::{
    change_set::State,
    desired::ChangeItem,
    expiry::{self, show},
    grant::{Binding, Grant},
};

/// How long before its end people are told that access ends.
pub const WARN_BEFORE: time::Duration = time::Duration::days(1);
/// Who writes revocations: no person (an all-zero object id no directory hands out).
pub const AUTHOR_NAME: &str = "Gatehouse (access expiry)";
/// A revocation whose push failed is tried again after this long (not every period: a
/// lasting AWS refusal would fill the history).
const RETRY_FAILED_AFTER_SECS: f64 = 900.0;

fn actor() -> Actor {
    Actor::system("access expiry")
}

/// What one period did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Period {
    /// Change sets whose coming end people were told of.
    pub warned: Vec<i64>,
    /// (time-bound change set, its revocation) written now.
    pub revoked: Vec<(i64, i64)>,
    /// Revocations whose push ran (succeeded or not).
    pub pushed: Vec<i64>,
}

/// One period at `now` (Gatehouse's clock): warn, revoke, push.
pub async fn run_once(pusher: &Pusher, now: OffsetDateTime) -> sqlx::Result<Period> {
    let pool = &pusher.pool;
    let warned = warn_ending(pool, now).await?;
    let mut revoked = Vec::new();
    // Whose end has come: ending before now.
    for (id, ..) in ending_before(pool, now, 200).await? {
        if let Some(revocation) = revoke(pool, id, now).await? {
            revoked.push((id, revocation));
        }
    }
    let mut pushed = Vec::new();
    for id in to_push(pool).await? {
        match pusher.begin(&actor(), id).await {
            Ok(Some(run)) => {
                if let Err(e) = pusher.execute(run).await {
                    tracing::warn!(change_set = id, run, error = %e, "revocation push stopped");
                }
                pushed.push(id);
            }
            Ok(None) => pushed.push(id),
            Err(e) => tracing::warn!(change_set = id, error = %e, "revocation not pushed yet"),
        }
    }
    Ok(Period {
        warned,
        revoked,
        pushed,
    })
}

/// Runs [`run_once`] now and every `every`, on one replica per period.
pub fn spawn(pusher: Arc<Pusher>, every: Duration) {
    tokio::spawn(async move {
        loop {
            if crate::backend::schedule::ours(&pusher.pool, "access-expiry", every).await {
                if let Err(e) = run_once(&pusher, crate::backend::clock::now()).await {
                    tracing::warn!(error = %e, "access expiry check failed");
                }
            }
            tokio::time::sleep(every).await;
        }
    });
}

/// Marks time-bound change sets ending within [`WARN_BEFORE`] as announced (one UPDATE: each
/// once, whichever replica) and records an event for each, which notifications send on.
async fn warn_ending(pool: &PgPool, now: OffsetDateTime) -> sqlx::Result<Vec<i64>> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query!(
        r#"UPDATE change_sets SET access_warned_at = now()
           WHERE access_ends_at > $1 AND access_ends_at <= $2 AND access_warned_at IS NULL
             AND applied_version IS NOT NULL
           RETURNING id, access_ends_at AS "ends!""#,
        now,
        now + WARN_BEFORE,
    )
    .fetch_all(&mut *tx)
    .await?;
    for r in &rows {
        audit::record(
            &mut *tx,
            &actor(),
            action::ACCESS_ENDING,
            Some(&format!("change_set:{}", r.id)),
            json!({ "access_ends_at": show(r.ends) }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Writes the revocation of change set `id`, applies it to the desired state and records both
/// in the audit chain; answers its id, or `None` when another replica wrote it first.
async fn revoke(pool: &PgPool, id: i64, now: OffsetDateTime) -> sqlx::Result<Option<i64>> {
    let mut tx = pool.begin().await?;
    // The original's row is held: a replica doing the same waits here, then finds it done.
    let Some(cs) = store::change_set(&mut tx, id, true).await? else {
        return Ok(None);
    };
    let done = revocation_of(&mut tx, id).await?;
    let Some(ends) = cs.access_ends_at.filter(|_| done.is_none()) else {
        return Ok(None);
    };
    let version = store::version(&mut tx, true).await?;
    let held = held_from(&mut tx, id).await?;
    let items = expiry::revocation(&cs.items, |i| held.contains(i));
    let approvers: Vec<String> = store::reviews(&mut tx, id)
        .await?
        .into_iter()
        .filter(|r| r.decision == "approve")
        .map(|r| r.reviewer_name)
        .collect();
    let approved_by = if approvers.is_empty() {
        "its reviewers".to_string()
    } else {
        approvers.join(", ")
    };
    let title = format!("Access of change set {id} ended");
    let justification = format!(
        "Change set {id} (“{}”) was approved by {approved_by} until {} UTC. Its end has come: \
         this revokes what it added, under that same approval.",
        cs.title,
        show(ends)
    );
    // Nothing left to revoke (removed since, or extended by a later change set): recorded as
    // done, with no push.
    let state = if items.is_empty() {
        State::Pushed
    } else {
        State::Approved
    };
    let revocation = store::insert_system_change_set(
        &mut tx,
        store::SystemChangeSet {
            title: &title,
            justification: &justification,
            state,
            author_name: AUTHOR_NAME,
            base_version: version,
            items: &items,
            against: &Default::default(),
            revokes: Some(id),
            campaign: None,
        },
    )
    .await?;
    audit::record(
        &mut *tx,
        &actor(),
        action::ACCESS_EXPIRED,
        Some(&format!("change_set:{id}")),
        json!({
            "access_ends_at": show(ends),
            "checked_at": show(now),
            "revocation": revocation,
            "approved_by": approvers,
            "items": items,
        }),
    )
    .await?;
    if !items.is_empty() {
        let after = store::apply(&mut tx, revocation, &items).await?;
        audit::record(
            &mut *tx,
            &actor(),
            action::CHANGE_SET_APPLIED,
            Some(&format!("change_set:{revocation}")),
            json!({
                "items": items,
                "version": { "before": after - 1, "after": after },
                "revokes": id,
                "approved_under": format!("change_set:{id}"),
            }),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(change_set = id, revocation, "time-bound access ended");
    Ok(Some(revocation))
}

/// The bindings and grants the desired state holds because change set `id` added them.
async fn held_from(db: &mut sqlx::PgConnection, id: i64) -> sqlx::Result<BTreeSet<ChangeItem>> {
    let bindings = sqlx::query_scalar!(
        r#"SELECT binding AS "binding: Json<Binding>" FROM bindings WHERE applied_by = $1"#,
        id
    )
    .fetch_all(&mut *db)
    .await?;
    let grants = sqlx::query_scalar!(
        r#"SELECT grant_json AS "grant: Json<Grant>" FROM grants WHERE applied_by = $1"#,
        id
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(bindings
        .into_iter()
        .map(|b| ChangeItem::AddBinding(b.0))
        .chain(grants.into_iter().map(|g| ChangeItem::AddGrant(g.0)))
        .collect())
}

/// Revocations waiting for their push: never pushed, or failed a while ago.
async fn to_push(pool: &PgPool) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "SELECT c.id FROM change_sets c
         WHERE c.revokes_change_set_id IS NOT NULL AND c.state IN ('approved', 'push_failed')
           AND NOT EXISTS (SELECT 1 FROM push_runs p WHERE p.change_set_id = c.id
                AND (p.finished_at IS NULL
                     OR p.finished_at > now() - make_interval(secs => $1)))
         ORDER BY c.id",
        RETRY_FAILED_AFTER_SECS
    )
    .fetch_all(pool)
    .await
}

/// Time-bound access in force (applied, no revocation yet) that ends before `until`, soonest
/// first, at most `limit`: (change set, title, end). Home's list and the revocations' queue.
pub async fn ending_before(
    db: impl sqlx::PgExecutor<'_>,
    until: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<Vec<(i64, String, OffsetDateTime)>> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.title, c.access_ends_at AS "ends!" FROM change_sets c
           WHERE c.access_ends_at <= $1 AND c.applied_version IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM change_sets r WHERE r.revokes_change_set_id = c.id)
           ORDER BY c.access_ends_at, c.id LIMIT $2"#,
        until,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.title, r.ends)).collect())
}

/// The change set that revoked change set `id`'s ended access, once written.
pub async fn revocation_of(db: &mut sqlx::PgConnection, id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "SELECT id FROM change_sets WHERE revokes_change_set_id = $1",
        id
    )
    .fetch_optional(db)
    .await
}
