//! Runs a push's recorded steps under a lease, then reads AWS back.

use crate::domain::{
    change_set::{Action, State},
    plan::Call,
};
use crate::push::{RunState, StepState};
use serde_json::json;

use super::{
    call_details, calls, store, PushError, Pusher, RunOutcome, Scope, VERIFY_ATTEMPTS, VERIFY_PAUSE,
};
use crate::backend::{
    audit::{self, Actor},
    mappings::store as cs_store,
};

/// Why a push ended failed; its text is stored with the run and shown on the change set.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PushFailure {
    #[error("step {step} ({operation}) failed: {error}")]
    Step {
        step: i32,
        operation: String,
        error: String,
    },
    #[error("planning again after taking the push over: {0}")]
    Replan(String),
    #[error("reading back: {0}")]
    ReadBack(String),
    #[error("read back, AWS still differs: {0}")]
    StillDiffers(String),
    /// Gatehouse's own failure: logged with the reference, which the run shows.
    #[error("{0}")]
    Gatehouse(String),
}

impl PushFailure {
    fn gatehouse(e: impl std::fmt::Display) -> Self {
        PushFailure::Gatehouse(crate::error::AppError::internal(e).to_string())
    }
}

/// Renews the lease while a run works; stops when dropped.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Pusher {
    fn heartbeat(&self, run_id: i64) -> Heartbeat {
        let (pool, owner, lease) = (self.pool.clone(), self.owner.clone(), self.settings.lease);
        let stopping = self.stopping.clone();
        Heartbeat(tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                // Handed back: another process takes the run over.
                if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                match store::claim(&pool, run_id, &owner, lease.as_secs_f64()).await {
                    Ok(true) => {}
                    // Finished, or lost: the next step's record says which.
                    Ok(false) => return,
                    Err(e) => tracing::warn!(run_id, error = %e, "cannot renew the push lease"),
                }
            }
        }))
    }

    /// Runs (or takes over and finishes) push `run_id`: the steps not done yet, in order, then
    /// the read-back. Refused when another process holds the run.
    #[tracing::instrument(name = "push", skip(self), fields(run = run_id))]
    pub async fn execute(&self, run_id: i64) -> Result<RunOutcome, PushError> {
        if self.is_stopping() {
            return Err(PushError::Refused(format!(
                "push {run_id} is left to another process: this one is stopping"
            )));
        }
        let previous_owner = store::lease_owner(&self.pool, run_id).await?;
        if !store::claim(
            &self.pool,
            run_id,
            &self.owner,
            self.settings.lease.as_secs_f64(),
        )
        .await?
        {
            return Err(PushError::Refused(format!(
                "push {run_id} is finished or another process is running it"
            )));
        }
        let _beat = self.heartbeat(run_id);
        let run = store::run(&self.pool, run_id)
            .await?
            .ok_or_else(|| PushError::Refused(format!("push {run_id} does not exist")))?;
        let actor = Actor::system(&format!("push {run_id}"));
        // Taken over from a process that died: its recorded steps may be old (a newer push may
        // have written since), so plan again from what AWS and the desired state hold now.
        if previous_owner.is_some_and(|p| p != self.owner) {
            if let Err(failure) = self.replan(&actor, &run).await {
                let message = failure.to_string();
                self.finish(run_id, run.change_set_id, Err(failure)).await?;
                return Ok(RunOutcome {
                    run_id,
                    succeeded: false,
                    calls_made: 0,
                    error: Some(message),
                });
            }
        }
        let mut calls_made = 0;
        let mut methods_changed = false;
        let mut found_authorizers = calls::FoundAuthorizers::default();
        for step in store::steps(&self.pool, run_id).await? {
            if step.state == StepState::Done {
                continue;
            }
            let call: Call = serde_json::from_value(step.call.clone()).map_err(|e| {
                PushError::Refused(format!("step {} cannot be read: {e}", step.seq))
            })?;
            let target = if call.is_identity_center() || call.is_entra() || call.is_access_bundle()
            {
                None
            } else {
                Some(self.target(&step.target)?)
            };
            store::mark_step(
                &self.pool,
                run_id,
                &self.owner,
                step.seq,
                StepState::Running,
                None,
                None,
            )
            .await?;
            let outcome = match target {
                Some(target) => calls::make(target, &call, &mut found_authorizers).await,
                None if call.is_entra() => self.make_entra(&call).await,
                None if call.is_access_bundle() => self.publish_bundle(run_id, &call).await,
                None => match self.identity_center().await {
                    Ok(center) => center.make(&call).await,
                    Err(e) => Err(calls::CallError {
                        message: e.to_string(),
                        request_id: None,
                    }),
                },
            };
            calls_made += 1;
            methods_changed |= outcome.is_ok() && call.changes_methods();
            let (state, request_id, error) = match &outcome {
                Ok(id) => (StepState::Done, id.clone(), None),
                Err(e) => (
                    StepState::Failed,
                    e.request_id.clone(),
                    Some(e.message.clone()),
                ),
            };
            crate::backend::signals::push_step(call.operation(), state == StepState::Done);
            // The step's outcome and its audit event commit together: a crash between them
            // cannot leave an AWS change the log does not show.
            let mut tx = self.pool.begin().await?;
            store::mark_step(
                &mut *tx,
                run_id,
                &self.owner,
                step.seq,
                state,
                request_id.as_deref(),
                error.as_deref(),
            )
            .await?;
            let mut details = call_details(step.seq, &call);
            details["run"] = json!(run_id);
            details["outcome"] = json!(state);
            details["aws_request_id"] = json!(request_id);
            details["error"] = json!(error);
            audit::record(
                &mut *tx,
                &actor,
                audit::action::PUSH_CALL,
                Some(&format!("change_set:{}", run.change_set_id)),
                details,
            )
            .await?;
            tx.commit().await?;
            if let Some(error) = error {
                let failure = PushFailure::Step {
                    step: step.seq + 1,
                    operation: call.operation().to_string(),
                    error,
                };
                let message = failure.to_string();
                self.finish(run_id, run.change_set_id, Err(failure)).await?;
                if methods_changed {
                    self.refresh_catalog(run_id);
                }
                return Ok(RunOutcome {
                    run_id,
                    succeeded: false,
                    calls_made,
                    error: Some(message),
                });
            }
        }
        if methods_changed {
            self.refresh_catalog(run_id);
        }
        let verified = self.verify(run.change_set_id).await;
        let ended = self
            .finish(run_id, run.change_set_id, verified.clone())
            .await;
        ended?;
        Ok(RunOutcome {
            run_id,
            succeeded: verified.is_ok(),
            calls_made,
            error: verified.err().map(|e| e.to_string()),
        })
    }

    /// Replaces a taken-over run's unfinished steps with a fresh plan and says so.
    async fn replan(&self, actor: &Actor, run: &store::RunRow) -> Result<(), PushFailure> {
        let unfinished: Vec<store::StepRow> = store::steps(&self.pool, run.id)
            .await
            .map_err(PushFailure::gatehouse)?
            .into_iter()
            .filter(|s| s.state != StepState::Done)
            .collect();
        let left = unfinished.len();
        let planned = async {
            let cs = self.change_set(run.change_set_id).await?;
            let desired = self.desired().await?;
            self.plan_scope(&desired, &Scope::of(&cs.items)).await
        };
        let mut steps = planned
            .await
            .map_err(|e| PushFailure::Replan(e.to_string()))?;
        // A deployment the old plan still owed is kept: a fresh read cannot always tell it is
        // needed (API Gateway keeps deployment times in whole seconds), and deploying the
        // API's current state again is harmless.
        for old in unfinished {
            let Ok(call) = serde_json::from_value::<Call>(old.call) else {
                continue;
            };
            let step = crate::domain::plan::Step {
                target: old.target,
                call,
            };
            if matches!(step.call, Call::CreateDeployment { .. }) && !steps.contains(&step) {
                steps.push(step);
            }
        }
        let note = format!(
            "Taken over after the process running it stopped: planned again from what AWS holds now and the current approved mappings before writing anything more ({left} recorded steps not done were replaced by {} calls).",
            steps.len()
        );
        store::replan(&self.pool, run.id, &self.owner, &steps, &note)
            .await
            .map_err(PushFailure::gatehouse)?;
        audit::record(
            &self.pool,
            actor,
            audit::action::PUSH_REPLANNED,
            Some(&format!("change_set:{}", run.change_set_id)),
            json!({
                "run": run.id,
                "replaced": left,
                "plan": steps.iter().map(|s| json!({"target": s.target, "call": s.call.summary()})).collect::<Vec<_>>(),
            }),
        )
        .await
        .map_err(PushFailure::gatehouse)?;
        Ok(())
    }

    /// Publishes the access bundle the step names, made again from the desired state (which
    /// must still hash as planned), and records it; answers the ETag S3 gave it.
    async fn publish_bundle(
        &self,
        run_id: i64,
        call: &Call,
    ) -> Result<Option<String>, calls::CallError> {
        use super::bundle;
        let failed = |message: String| calls::CallError {
            message,
            request_id: None,
        };
        let Call::PublishAccessBundle {
            version,
            content_sha256,
            ..
        } = call
        else {
            return Err(failed(format!(
                "{} is not a bundle write",
                call.operation()
            )));
        };
        let publisher = self
            .bundle
            .as_ref()
            .ok_or_else(|| failed("GATEHOUSE_ACCESS_BUNDLE is not set in this process".into()))?;
        let desired = self.desired().await.map_err(|e| failed(e.to_string()))?;
        let nesting = bundle::nesting(&self.pool)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let (made, sha) = bundle::desired_bundle(&desired, &nesting);
        if &sha != content_sha256 {
            return Err(failed(format!(
                "the approved state changed since the plan (its bundle hashes {}…, the plan's {}…): push again",
                &sha[..12],
                &content_sha256[..content_sha256.len().min(12)]
            )));
        }
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let stamped = crate::domain::access_bundle::stamped(made, *version, now);
        let body = authorizer::source::encode(&stamped);
        let etag = publisher
            .put(body.clone(), &sha, *version)
            .await
            .map_err(failed)?;
        bundle::record(
            &self.pool,
            *version,
            &sha,
            publisher,
            etag.as_deref(),
            &body,
            run_id,
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
        Ok(etag)
    }

    /// Makes one directory write in Entra ID (SAML mode); each is safe to make again.
    async fn make_entra(&self, call: &Call) -> Result<Option<String>, calls::CallError> {
        let failed = |message: String| calls::CallError {
            message,
            request_id: None,
        };
        let (graph, sp) = self.entra().map_err(|e| failed(e.to_string()))?;
        let graph_failed =
            |op: &str, e: crate::backend::directory::DirectoryError| failed(format!("{op}: {e}"));
        match call {
            Call::CreateAppRole {
                value,
                display_name,
            } => graph
                .add_app_role(sp, value, display_name)
                .await
                .map(Some)
                .map_err(|e| graph_failed("UpdateServicePrincipal", e)),
            Call::AssignAppRole {
                value, group_id, ..
            } => graph
                .assign_app_role(sp, value, group_id)
                .await
                .map_err(|e| graph_failed("CreateAppRoleAssignment", e)),
            Call::RemoveAppRoleAssignment { assignment_id, .. } => graph
                .remove_app_role_assignment(sp, assignment_id)
                .await
                .map(|()| None)
                .map_err(|e| graph_failed("DeleteAppRoleAssignment", e)),
            other => Err(failed(format!(
                "{} is not a directory write",
                other.operation()
            ))),
        }
    }

    /// Reads AWS back until it matches (IAM is eventually consistent) or the attempts run out.
    async fn verify(&self, change_set_id: i64) -> Result<(), PushFailure> {
        let cs = self
            .change_set(change_set_id)
            .await
            .map_err(PushFailure::gatehouse)?;
        let scope = Scope::of(&cs.items);
        let mut left = Vec::new();
        for attempt in 0..VERIFY_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(VERIFY_PAUSE).await;
            }
            let desired = self.desired().await.map_err(PushFailure::gatehouse)?;
            left = self
                .plan_scope(&desired, &scope)
                .await
                .map_err(|e| match e {
                    PushError::Database(e) => PushFailure::gatehouse(e),
                    e => PushFailure::ReadBack(e.to_string()),
                })?;
            if left.is_empty() {
                return Ok(());
            }
        }
        Err(PushFailure::StillDiffers(
            left.iter()
                .map(|s| s.call.summary())
                .collect::<Vec<_>>()
                .join("; "),
        ))
    }

    async fn finish(
        &self,
        run_id: i64,
        change_set_id: i64,
        outcome: Result<(), PushFailure>,
    ) -> Result<(), PushError> {
        let error = outcome.as_ref().err().map(|e| e.to_string());
        crate::backend::signals::push_run(outcome.is_ok());
        let mut tx = self.pool.begin().await?;
        let cs = cs_store::change_set(&mut tx, change_set_id, true)
            .await?
            .ok_or(PushError::NotFound(change_set_id))?;
        let (run_state, action, audit_action) = match &outcome {
            Ok(()) => (
                RunState::Succeeded,
                Action::PushSucceeded,
                audit::action::PUSH_SUCCEEDED,
            ),
            Err(_) => (
                RunState::Failed,
                Action::PushFailed,
                audit::action::PUSH_FAILED,
            ),
        };
        let updated = sqlx::query!(
            "UPDATE push_runs SET state = $2, error = $3, finished_at = now(), lease_until = NULL
             WHERE id = $1 AND state = 'running' AND lease_owner = $4",
            run_id,
            run_state as RunState,
            error,
            &self.owner,
        )
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(PushError::Refused(format!(
                "push {run_id}: this process no longer holds the push"
            )));
        }
        let next = cs.state.next(action).unwrap_or(if outcome.is_ok() {
            State::Pushed
        } else {
            State::PushFailed
        });
        cs_store::set_state(&mut tx, change_set_id, next).await?;
        audit::record(
            &mut *tx,
            &Actor::system(&format!("push {run_id}")),
            audit_action,
            Some(&format!("change_set:{change_set_id}")),
            json!({
                "run": run_id,
                "before": {"state": cs.state.as_str()},
                "after": {"state": next.as_str()},
                "error": error,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
