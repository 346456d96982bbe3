//! Push runs and their steps in Postgres. Every write about a run's progress checks the lease,
//! so a process that lost its lease (it stalled, another took over) cannot record anything more.

use crate::{
    domain::plan::Step,
    push::{RunState, StepState},
};
use sqlx::{PgConnection, PgPool};

#[derive(Clone, Debug)]
pub struct StepRow {
    pub seq: i32,
    pub target: String,
    pub operation: String,
    pub summary: String,
    pub call: serde_json::Value,
    pub state: StepState,
    pub attempts: i32,
    pub aws_request_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug)]
pub struct RunRow {
    pub id: i64,
    pub change_set_id: i64,
    pub state: RunState,
    pub started_by: String,
    pub started_at: time::OffsetDateTime,
    pub finished_at: Option<time::OffsetDateTime>,
    pub error: Option<String>,
    /// Set when a process that took the run over planned it again.
    pub replan_note: Option<String>,
}

/// A step could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    #[error("push {0}: this process no longer holds the push (another took it over)")]
    LeaseLost(i64),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

pub async fn insert_run(
    db: &mut PgConnection,
    change_set_id: i64,
    started_by: &str,
    owner: &str,
    lease_secs: f64,
    steps: &[Step],
) -> sqlx::Result<i64> {
    let id = sqlx::query_scalar!(
        "INSERT INTO push_runs (change_set_id, started_by, lease_owner, lease_until)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id",
        change_set_id,
        started_by,
        owner,
        lease_secs,
    )
    .fetch_one(&mut *db)
    .await?;
    for (seq, step) in steps.iter().enumerate() {
        sqlx::query!(
            "INSERT INTO push_steps (run_id, seq, target, operation, summary, call)
             VALUES ($1, $2, $3, $4, $5, $6)",
            id,
            seq as i32,
            &step.target,
            step.call.operation(),
            step.call.summary(),
            serde_json::to_value(&step.call).expect("a call serialises"),
        )
        .execute(&mut *db)
        .await?;
    }
    Ok(id)
}

/// Takes or renews the lease of a running push; false when another process holds it.
pub async fn claim(pool: &PgPool, run_id: i64, owner: &str, lease_secs: f64) -> sqlx::Result<bool> {
    let got = sqlx::query!(
        "UPDATE push_runs SET lease_owner = $2, lease_until = now() + make_interval(secs => $3)
         WHERE id = $1 AND state = 'running'
           AND (lease_owner = $2 OR lease_until IS NULL OR lease_until < now())",
        run_id,
        owner,
        lease_secs,
    )
    .execute(pool)
    .await?;
    Ok(got.rows_affected() == 1)
}

/// Who holds (or last held) run `run_id`'s lease.
pub async fn lease_owner(pool: &PgPool, run_id: i64) -> sqlx::Result<Option<String>> {
    Ok(
        sqlx::query_scalar!("SELECT lease_owner FROM push_runs WHERE id = $1", run_id)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}

/// Replaces a taken-over run's unfinished steps with `steps` (numbered after the done ones) and
/// records why; fails when the lease is no longer `owner`'s.
pub async fn replan(
    pool: &PgPool,
    run_id: i64,
    owner: &str,
    steps: &[Step],
    note: &str,
) -> Result<(), MarkError> {
    let mut tx = pool.begin().await?;
    let held = sqlx::query_scalar!(
        "SELECT max(s.seq) FROM push_runs r LEFT JOIN push_steps s ON s.run_id = r.id
         WHERE r.id = $1 AND r.lease_owner = $2 AND r.state = 'running' GROUP BY r.id",
        run_id,
        owner,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(last) = held else {
        return Err(MarkError::LeaseLost(run_id));
    };
    sqlx::query!(
        "DELETE FROM push_steps WHERE run_id = $1 AND state <> 'done'",
        run_id
    )
    .execute(&mut *tx)
    .await?;
    let first = last.map_or(0, |l| l + 1);
    for (i, step) in steps.iter().enumerate() {
        sqlx::query!(
            "INSERT INTO push_steps (run_id, seq, target, operation, summary, call)
             VALUES ($1, $2, $3, $4, $5, $6)",
            run_id,
            first + i as i32,
            &step.target,
            step.call.operation(),
            step.call.summary(),
            serde_json::to_value(&step.call).expect("a call serialises"),
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "UPDATE push_runs SET replanned_at = now(), replan_note = $2 WHERE id = $1",
        run_id,
        note,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The change sets being pushed now (their runs unfinished), with their items: one push at a
/// time may touch a role or an API.
pub async fn pushing(
    db: &mut PgConnection,
) -> sqlx::Result<Vec<(i64, i64, String, serde_json::Value)>> {
    // Whoever begins a push waits here for whoever is beginning one, so two overlapping
    // pushes cannot both see the other as not started.
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('gatehouse:push-begin'))")
        .execute(&mut *db)
        .await?;
    let rows = sqlx::query!(
        r#"SELECT r.id, r.change_set_id, c.title, c.items FROM push_runs r
           JOIN change_sets c ON c.id = r.change_set_id WHERE r.state = 'running'"#
    )
    .fetch_all(&mut *db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.change_set_id, r.title, r.items))
        .collect())
}

/// Running pushes whose holder's lease has lapsed (its process died).
pub async fn orphans(pool: &PgPool) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "SELECT id FROM push_runs WHERE state = 'running' AND (lease_until IS NULL OR lease_until < now()) ORDER BY id",
    )
    .fetch_all(pool)
    .await
}

pub async fn steps(pool: &PgPool, run_id: i64) -> sqlx::Result<Vec<StepRow>> {
    sqlx::query_as!(
        StepRow,
        r#"SELECT seq, target, operation, summary, call, state AS "state: StepState", attempts,
           aws_request_id, error
           FROM push_steps WHERE run_id = $1 ORDER BY seq"#,
        run_id,
    )
    .fetch_all(pool)
    .await
}

/// `SELECT` of push runs followed by `$tail` (a string literal), compile-checked.
macro_rules! select_runs {
    ($tail:literal, $arg:expr) => {
        sqlx::query_as!(
            RunRow,
            r#"SELECT id, change_set_id, state AS "state: RunState", started_by, started_at,
               finished_at, error, replan_note FROM push_runs "#
                + $tail,
            $arg
        )
    };
}

pub async fn run(pool: &PgPool, run_id: i64) -> sqlx::Result<Option<RunRow>> {
    select_runs!("WHERE id = $1", run_id)
        .fetch_optional(pool)
        .await
}

pub async fn latest_run(pool: &PgPool, change_set_id: i64) -> sqlx::Result<Option<RunRow>> {
    select_runs!(
        "WHERE change_set_id = $1 ORDER BY id DESC LIMIT 1",
        change_set_id
    )
    .fetch_optional(pool)
    .await
}

/// Records a step's state; fails when the lease is no longer `owner`'s.
pub async fn mark_step<'e>(
    db: impl sqlx::PgExecutor<'e>,
    run_id: i64,
    owner: &str,
    seq: i32,
    state: StepState,
    request_id: Option<&str>,
    error: Option<&str>,
) -> Result<(), MarkError> {
    let done = sqlx::query!(
        "UPDATE push_steps SET state = $4,
             attempts = attempts + (CASE WHEN $4 = 'running' THEN 1 ELSE 0 END),
             aws_request_id = COALESCE($5, aws_request_id), error = $6,
             started_at = CASE WHEN $4 = 'running' THEN now() ELSE started_at END,
             finished_at = CASE WHEN $4 IN ('done', 'failed') THEN now() ELSE NULL END
         WHERE run_id = $1 AND seq = $3
           AND EXISTS (SELECT 1 FROM push_runs r WHERE r.id = $1 AND r.lease_owner = $2 AND r.state = 'running')",
        run_id,
        owner,
        seq,
        state as StepState,
        request_id,
        error,
    )
    .execute(db)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(MarkError::LeaseLost(run_id))
    }
}

/// When Gatehouse last started a call that changed API `api_id`'s resource policy, a method, a
/// route or an authorizer, in epoch seconds (floored, as API Gateway keeps deployment times).
pub async fn last_api_change(
    pool: &PgPool,
    target: &str,
    api_id: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "SELECT floor(extract(epoch FROM max(started_at)))::bigint FROM push_steps
         WHERE state = 'done'
           AND operation IN ('UpdateRestApi', 'UpdateMethod', 'UpdateRoute', 'CreateAuthorizer',
                             'UpdateAuthorizer')
           AND target = $1 AND call->>'api_id' = $2",
        target,
        api_id,
    )
    .fetch_one(pool)
    .await
}

/// Whether the catalog knows API `api_id` of `target` as a REST or an HTTP API (REST when it
/// does not know it: the push's read then says the API was not found).
pub async fn api_kind(
    pool: &PgPool,
    target: &str,
    api_id: &str,
) -> sqlx::Result<crate::domain::route_key::ApiKind> {
    let kind: Option<String> =
        sqlx::query_scalar("SELECT kind FROM rest_apis WHERE target = $1 AND api_id = $2")
            .bind(target)
            .bind(api_id)
            .fetch_optional(pool)
            .await?;
    Ok(crate::domain::route_key::ApiKind::parse(
        kind.as_deref().unwrap_or("REST"),
    ))
}
