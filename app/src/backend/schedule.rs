//! Scheduled jobs run once per period across replicas: before each run, a replica claims the
//! period in `schedule_claims` with one conditional write; only the one whose write lands runs
//! the job. A replica that stopped simply stops claiming; the others go on.

use std::time::Duration;

use sqlx::PgPool;

/// Whether this process (`owner`) may run `job` now: no replica ran it in the last `every`
/// (less a tenth, so two replicas whose timers drift apart still run it once per period).
pub async fn claim(pool: &PgPool, job: &str, owner: &str, every: Duration) -> sqlx::Result<bool> {
    let min_gap = every.mul_f64(0.9).as_secs_f64();
    let claimed = sqlx::query(
        "INSERT INTO schedule_claims (job, claimed_at, claimed_by) VALUES ($1, now(), $2)
         ON CONFLICT (job) DO UPDATE SET claimed_at = now(), claimed_by = $2
         WHERE schedule_claims.claimed_at <= now() - make_interval(secs => $3)",
    )
    .bind(job)
    .bind(owner)
    .bind(min_gap)
    .execute(pool)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// This process, as the schedules name it.
pub fn this_process() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| format!("{}-{}", std::process::id(), uuid::Uuid::new_v4()))
}

/// [`claim`] for a schedule's loop: whether to run `job` now; a database error is logged and
/// the period skipped.
pub async fn ours(pool: &PgPool, job: &str, every: Duration) -> bool {
    match claim(pool, job, this_process(), every).await {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::warn!(job, error = %e, "cannot claim the scheduled job; this period is skipped");
            false
        }
    }
}
