//! Closing a campaign — at its due date by the schedule, or earlier by an auditor or admin:
//! undecided lines take the default, the revoked lines still approved become one change set
//! waiting for review, and the results go into the audit chain. One transaction holding the
//! campaign's row, so a restart or a second replica closes it once. Reminders go out once,
//! [`campaign::REMIND_BEFORE`] the due date.

use std::time::Duration;

use serde_json::json;
use sqlx::{types::Json, PgPool};
use time::OffsetDateTime;

use super::{subject, CLOSED, REMINDED};
use crate::{
    backend::{
        audit::{self, action, Actor},
        mappings::{store, views::Names, workflow::WorkflowError},
    },
    domain::{
        campaign::{self, Decision, Tally},
        desired::ChangeItem,
        expiry::show,
    },
};

/// Who writes a campaign's revocation: no person (as for access expiry).
pub const AUTHOR_NAME: &str = "Gatehouse (review campaign)";

/// What a close did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub campaign: i64,
    pub tally: Tally,
    pub defaulted: u32,
    /// The change set revoking what the campaign decided to revoke (none: nothing to revoke).
    pub revocation: Option<i64>,
}

impl Closed {
    pub fn sentence(&self) -> String {
        let revoked = match self.revocation {
            Some(cs) => format!(
                "{} revoked: change set {cs} waits for review",
                self.tally.revoke
            ),
            None => "nothing to revoke".into(),
        };
        format!(
            "Campaign {} closed: {} kept, {revoked}; {} undecided took the default.",
            self.campaign, self.tally.keep, self.defaulted
        )
    }
}

type LineRow = (
    i32,
    Json<ChangeItem>,
    Option<String>,
    String,
    Option<String>,
);

/// Closes campaign `id` at `now`; `None` when it was closed already (or does not exist).
pub async fn close(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    now: OffsetDateTime,
) -> Result<Option<Closed>, WorkflowError> {
    let mut tx = pool.begin().await?;
    let row: Option<(String, String, Option<OffsetDateTime>, OffsetDateTime)> = sqlx::query_as(
        "SELECT name, default_decision, closed_at, due_at FROM review_campaigns
         WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((name, default, None, due_at)) = row else {
        return Ok(None);
    };
    let default = Decision::parse(&default).unwrap_or(Decision::Keep);
    let lines: Vec<LineRow> = sqlx::query_as(
        "SELECT line, item, decision, comment, decided_by FROM review_campaign_lines
         WHERE campaign_id = $1 ORDER BY line",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let decided: Vec<Option<Decision>> = lines
        .iter()
        .map(|l| l.2.as_deref().and_then(Decision::parse))
        .collect();
    let finals = campaign::finals(&decided, default);
    let defaulted = finals.iter().filter(|f| f.1).count() as u32;
    sqlx::query(
        "UPDATE review_campaign_lines SET decision = $2, defaulted = true
         WHERE campaign_id = $1 AND decision IS NULL",
    )
    .bind(id)
    .bind(default.as_str())
    .execute(&mut *tx)
    .await?;
    let certified: Vec<(ChangeItem, Decision)> = lines
        .iter()
        .zip(&finals)
        .map(|(l, f)| (l.1 .0.clone(), f.0))
        .collect();
    let desired = store::desired_state(&mut tx).await?;
    let items = campaign::revocation(&certified, &desired);
    let names = Names::load(
        pool,
        certified
            .iter()
            .flat_map(|(item, _)| super::item_groups(item)),
    )
    .await?;
    let results: Vec<serde_json::Value> = lines
        .iter()
        .zip(&finals)
        .map(|(l, (d, by_default))| {
            json!({
                "line": l.0, "item": l.1 .0, "described": names.item(&l.1 .0),
                "decision": d.as_str(), "defaulted": by_default,
                "decided_by": l.4, "comment": l.3,
            })
        })
        .collect();
    let revocation = if items.is_empty() {
        None
    } else {
        let reasons: Vec<String> = lines
            .iter()
            .zip(&finals)
            .filter(|(_, f)| f.0 == Decision::Revoke)
            .map(|(l, (_, by_default))| {
                let what = names.item(&l.1 .0);
                if *by_default {
                    format!("- {what}: nobody decided by the due date; the campaign's default is revoke")
                } else {
                    format!(
                        "- {what}: {} — “{}”",
                        l.4.as_deref().unwrap_or("a reviewer"),
                        l.3
                    )
                }
            })
            .collect();
        let title = format!("Review campaign {id}: revoke {} items", items.len());
        let justification = format!(
            "Review campaign {id} (“{name}”) closed on {} UTC. Its reviewers decided to revoke:\n{}",
            show(now),
            reasons.join("\n")
        );
        let version = store::version(&mut tx, false).await?;
        let cs = store::insert_system_change_set(
            &mut tx,
            store::SystemChangeSet {
                title: &title,
                justification: &justification,
                state: crate::domain::change_set::State::Submitted,
                author_name: AUTHOR_NAME,
                base_version: version,
                items: &items,
                against: &desired,
                revokes: None,
                campaign: Some(id),
            },
        )
        .await?;
        audit::record(
            &mut *tx,
            actor,
            action::CHANGE_SET_SUBMITTED,
            Some(&format!("change_set:{cs}")),
            json!({
                "campaign": id,
                "items": items,
                "after": { "state": "submitted", "title": title, "justification": justification },
            }),
        )
        .await?;
        Some(cs)
    };
    sqlx::query(
        "UPDATE review_campaigns SET closed_at = $2, closed_by = $3, revocation_change_set_id = $4
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(&actor.name)
    .bind(revocation)
    .execute(&mut *tx)
    .await?;
    let tally = Tally::of(finals.iter().map(|f| Some(f.0)));
    audit::record(
        &mut *tx,
        actor,
        CLOSED,
        Some(&subject(id)),
        json!({
            "campaign": id,
            "name": name,
            "due_at": show(due_at),
            "closed_at": show(now),
            "early": now < due_at,
            "default_decision": default.as_str(),
            "tally": { "keep": tally.keep, "revoke": tally.revoke, "defaulted": defaulted },
            "revocation": revocation,
            "results": results,
        }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(campaign = id, ?revocation, "review campaign closed");
    Ok(Some(Closed {
        campaign: id,
        tally,
        defaulted,
        revocation,
    }))
}

/// What one period did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Period {
    pub reminded: Vec<i64>,
    pub closed: Vec<Closed>,
}

/// One period at `now` (Gatehouse's clock): remind once before the due date, close what is due.
pub async fn run_once(pool: &PgPool, now: OffsetDateTime) -> Result<Period, WorkflowError> {
    let actor = Actor::system("review campaigns");
    let mut tx = pool.begin().await?;
    // Each campaign once, whichever replica: the UPDATE marks it.
    let due_soon: Vec<(i64, String, OffsetDateTime, i64)> = sqlx::query_as(
        "UPDATE review_campaigns c SET reminded_at = $1
         WHERE closed_at IS NULL AND reminded_at IS NULL AND due_at > $1 AND due_at <= $2
           AND EXISTS (SELECT 1 FROM review_campaign_lines l
                       WHERE l.campaign_id = c.id AND l.decision IS NULL)
         RETURNING id, name, due_at,
             (SELECT count(*) FROM review_campaign_lines l
              WHERE l.campaign_id = c.id AND l.decision IS NULL)",
    )
    .bind(now)
    .bind(now + campaign::REMIND_BEFORE)
    .fetch_all(&mut *tx)
    .await?;
    for (id, name, due_at, undecided) in &due_soon {
        audit::record(
            &mut *tx,
            &actor,
            REMINDED,
            Some(&subject(*id)),
            json!({ "campaign": id, "name": name, "due_at": show(*due_at), "undecided": undecided }),
        )
        .await?;
    }
    tx.commit().await?;
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM review_campaigns WHERE closed_at IS NULL AND due_at <= $1 ORDER BY id",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    let mut closed = Vec::new();
    for id in due {
        if let Some(c) = close(pool, &actor, id, now).await? {
            closed.push(c);
        }
    }
    Ok(Period {
        reminded: due_soon.into_iter().map(|r| r.0).collect(),
        closed,
    })
}

/// Runs [`run_once`] now and every `every`, on one replica per period.
pub fn spawn(pool: PgPool, every: Duration) {
    tokio::spawn(async move {
        loop {
            if crate::backend::schedule::ours(&pool, "review-campaigns", every).await {
                if let Err(e) = run_once(&pool, crate::backend::clock::now()).await {
                    tracing::warn!(error = %e, "review campaign check failed");
                }
            }
            tokio::time::sleep(every).await;
        }
    });
}
