//! The plan of a change set waiting for its push, without making the page wait on AWS: the last
//! plan read is stored with its time and shown at once; when it is old, or a push ended since,
//! AWS is read again in the background and the page picks the new plan up when it reloads.
//! Pushing always plans again from AWS, so a stale plan shown never decides a call.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use time::OffsetDateTime;

use super::{PushError, Pusher};
use crate::domain::plan::Step;
use crate::push::{StepState, StepView};

/// A plan older than this is read again when someone looks at it.
pub const FRESH_FOR: Duration = Duration::from_secs(60);

/// The change sets whose plan this process is reading from AWS now: one read at a time each.
#[derive(Default)]
pub struct PlanReads(Mutex<HashSet<i64>>);

impl PlanReads {
    fn begin(&self, id: i64) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id)
    }

    fn end(&self, id: i64) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }

    pub fn reading(&self, id: i64) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&id)
    }
}

/// The last plan read from AWS for a change set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPlan {
    pub computed_at: OffsetDateTime,
    /// The calls, as shown; `None` when there was no plan (then `error` says why).
    pub steps: Option<Vec<StepView>>,
    pub error: Option<String>,
}

impl StoredPlan {
    /// Whether the plan should be read again: it is older than [`FRESH_FOR`], or a push of the
    /// change set ended after it was read (the push changed AWS).
    pub fn stale(&self, now: OffsetDateTime, push_ended: Option<OffsetDateTime>) -> bool {
        now - self.computed_at > FRESH_FOR || push_ended.is_some_and(|t| t >= self.computed_at)
    }
}

/// The steps of a plan as the change set page lists them.
pub fn step_views(steps: &[Step]) -> Vec<StepView> {
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| StepView {
            seq: i as i32,
            operation: s.call.operation().into(),
            summary: s.call.summary(),
            target: s.target.clone(),
            state: StepState::Planned,
            attempts: 0,
            aws_request_id: None,
            error: None,
        })
        .collect()
}

/// Removes the change set from the reads in progress however the read ends (a panic included).
struct ReadGuard(Arc<Pusher>, i64);

impl Drop for ReadGuard {
    fn drop(&mut self) {
        self.0.plan_reads.end(self.1);
    }
}

impl Pusher {
    /// The last plan stored for change set `id`, if any was read.
    pub async fn stored_plan(&self, id: i64) -> sqlx::Result<Option<StoredPlan>> {
        let row = sqlx::query!(
            "SELECT computed_at, steps, error FROM push_plans WHERE change_set_id = $1",
            id
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| StoredPlan {
            computed_at: r.computed_at,
            // Written by this module from `StepView`s; a row that no longer reads is no plan.
            steps: r.steps.and_then(|s| serde_json::from_value(s).ok()),
            error: r.error,
        }))
    }

    /// Reads AWS for change set `id`'s plan now and stores it, or why there is none.
    pub async fn refresh_plan(&self, id: i64) -> Result<(), PushError> {
        let (steps, error) = match self.plan(id).await {
            Ok(steps) => (Some(serde_json::json!(step_views(&steps))), None),
            Err(PushError::Database(e)) => return Err(PushError::Database(e)),
            Err(e) => (None, Some(e.to_string())),
        };
        sqlx::query!(
            "INSERT INTO push_plans (change_set_id, computed_at, steps, error)
             VALUES ($1, now(), $2, $3)
             ON CONFLICT (change_set_id)
             DO UPDATE SET computed_at = now(), steps = $2, error = $3",
            id,
            steps,
            error
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Starts reading change set `id`'s plan in the background, unless this process is reading
    /// it already.
    pub fn refresh_plan_in_background(self: &Arc<Self>, id: i64) {
        if let Some(guard) = self.claim_plan_read(id) {
            self.spawn_plan_read(guard);
        }
    }

    fn claim_plan_read(self: &Arc<Self>, id: i64) -> Option<ReadGuard> {
        self.plan_reads
            .begin(id)
            .then(|| ReadGuard(Arc::clone(self), id))
    }

    fn spawn_plan_read(&self, guard: ReadGuard) {
        tokio::spawn(async move {
            let id = guard.1;
            if let Err(e) = guard.0.refresh_plan(id).await {
                tracing::warn!(change_set = id, error = %e, "plan not read");
            }
            drop(guard);
        });
    }

    /// What the change set page shows of change set `id`'s plan, without waiting on AWS: the
    /// last plan read (if any), and whether AWS is being read again, which starts when the plan
    /// is missing or stale (`push_ended`: when the change set's latest push ended).
    pub async fn plan_to_show(
        self: &Arc<Self>,
        id: i64,
        push_ended: Option<OffsetDateTime>,
    ) -> sqlx::Result<(Option<StoredPlan>, bool)> {
        // The read is claimed before the stored plan is looked at: a read that ends in between
        // has stored its plan before giving up its claim, so a look never starts a second read of
        // what was just read.
        let claim = self.claim_plan_read(id);
        let stored = self.stored_plan(id).await?;
        if let Some(guard) = claim {
            let now = OffsetDateTime::now_utc();
            if stored.as_ref().is_none_or(|p| p.stale(now, push_ended)) {
                self.spawn_plan_read(guard);
            }
        }
        Ok((stored, self.reading_plan(id)))
    }

    /// Whether this process is reading change set `id`'s plan now.
    pub fn reading_plan(&self, id: i64) -> bool {
        self.plan_reads.reading(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn plan_at(at: OffsetDateTime) -> StoredPlan {
        StoredPlan {
            computed_at: at,
            steps: Some(vec![]),
            error: None,
        }
    }

    #[test]
    fn a_plan_is_stale_once_older_than_a_minute() {
        let plan = plan_at(datetime!(2026-12-03 10:00:00 UTC));
        assert!(!plan.stale(datetime!(2026-12-03 10:00:59 UTC), None));
        assert!(!plan.stale(datetime!(2026-12-03 10:01:00 UTC), None));
        assert!(plan.stale(datetime!(2026-12-03 10:01:01 UTC), None));
    }

    #[test]
    fn a_plan_read_before_a_push_ended_is_stale_at_once() {
        let plan = plan_at(datetime!(2026-12-03 10:00:00 UTC));
        let now = datetime!(2026-12-03 10:00:10 UTC);
        assert!(plan.stale(now, Some(datetime!(2026-12-03 10:00:05 UTC))));
        assert!(plan.stale(now, Some(datetime!(2026-12-03 10:00:00 UTC))));
        assert!(!plan.stale(now, Some(datetime!(2026-12-03 09:59:59 UTC))));
    }
}
