//! The [`PushBackend`] the change set page's server functions call.

use std::sync::Arc;

use crate::{
    domain::change_set::State,
    mappings::types::FormOutcome,
    push::{PushBackend, PushView, RunView, StepView},
};

use super::{store, PushError, Pusher};
use crate::backend::{
    catalog::queries::utc,
    mappings::{
        backend::{actor, internal},
        store as cs_store,
        workflow::{self, WorkflowError},
    },
};

type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + Send + 'a>>;

pub struct ServerPush {
    pub pusher: Arc<Pusher>,
}

fn refused(why: String) -> FormOutcome {
    FormOutcome {
        refused: Some(why),
        ..Default::default()
    }
}

impl ServerPush {
    async fn run_view(&self, change_set: i64) -> Result<Option<RunView>, String> {
        let pool = &self.pusher.pool;
        let Some(run) = store::latest_run(pool, change_set)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let steps = store::steps(pool, run.id).await.map_err(internal)?;
        Ok(Some(RunView {
            id: run.id,
            state: run.state,
            started_by: run.started_by,
            started_at: utc(run.started_at),
            finished_at: run.finished_at.map(utc),
            error: run.error,
            steps: steps
                .into_iter()
                .map(|s| StepView {
                    seq: s.seq,
                    target: s.target,
                    operation: s.operation,
                    summary: s.summary,
                    state: s.state,
                    attempts: s.attempts,
                    aws_request_id: s.aws_request_id,
                    error: s.error,
                })
                .collect(),
        }))
    }
}

impl PushBackend for ServerPush {
    fn view(&self, id: i64, admin: bool) -> BoxFuture<'_, PushView> {
        Box::pin(async move {
            let state = {
                let mut conn = self.pusher.pool.acquire().await.map_err(internal)?;
                match cs_store::change_set(&mut conn, id, false)
                    .await
                    .map_err(internal)?
                {
                    Some(cs) => cs.state,
                    None => return Ok(PushView::default()),
                }
            };
            let pushable = matches!(state, State::Approved | State::PushFailed);
            let mut view = PushView {
                run: self.run_view(id).await?,
                may_push: admin && pushable,
                may_roll_back: admin && state == State::Pushed,
                ..Default::default()
            };
            // Reading AWS for the plan is for the people who push.
            if admin && pushable {
                match self.pusher.plan(id).await {
                    Ok(steps) => {
                        view.plan = Some(
                            steps
                                .into_iter()
                                .enumerate()
                                .map(|(i, s)| StepView {
                                    seq: i as i32,
                                    operation: s.call.operation().into(),
                                    summary: s.call.summary(),
                                    target: s.target,
                                    state: "planned".into(),
                                    attempts: 0,
                                    aws_request_id: None,
                                    error: None,
                                })
                                .collect(),
                        )
                    }
                    Err(PushError::Database(e)) => return Err(internal(e)),
                    Err(e) => view.plan_error = Some(e.to_string()),
                }
            }
            Ok(view)
        })
    }

    fn push(&self, id: i64) -> BoxFuture<'_, FormOutcome> {
        let who = actor();
        Box::pin(async move {
            match self.pusher.start(who, id).await {
                Ok(Some(run)) => Ok(FormOutcome {
                    message: Some(format!("Push {run} started.")),
                    ..Default::default()
                }),
                Ok(None) => Ok(FormOutcome {
                    message: Some("AWS already matches this change set: nothing to push.".into()),
                    ..Default::default()
                }),
                Err(PushError::Database(e)) => Err(internal(e)),
                Err(e) => Ok(refused(e.to_string())),
            }
        })
    }

    fn roll_back(&self, id: i64) -> BoxFuture<'_, FormOutcome> {
        let who = actor();
        Box::pin(async move {
            let pool = &self.pusher.pool;
            let cs = {
                let mut conn = pool.acquire().await.map_err(internal)?;
                cs_store::change_set(&mut conn, id, false)
                    .await
                    .map_err(internal)?
            };
            let Some(cs) = cs else {
                return Ok(refused(format!("change set {id} does not exist")));
            };
            if cs.state != State::Pushed {
                return Ok(refused(format!(
                    "only a pushed change set can be rolled back; change set {id} is {}",
                    cs.state.label()
                )));
            }
            let mut draft = None;
            for item in cs.items.iter().rev() {
                match workflow::edit(pool, &who, item.opposite()).await {
                    Ok(d) => draft = Some(d),
                    Err(WorkflowError::Database(e)) => return Err(internal(e)),
                    Err(e) => {
                        return Ok(refused(format!(
                            "the reverse of change set {id} does not fit the current mappings: {e}"
                        )))
                    }
                }
            }
            Ok(FormOutcome {
                change_set: draft,
                message: Some(format!(
                    "The reverse of change set {id} is in your draft: give it a title and a justification, then submit it for review."
                )),
                ..Default::default()
            })
        })
    }
}

impl crate::push::DriftBackend for ServerPush {
    fn drift(&self, admin: bool) -> BoxFuture<'_, crate::push::DriftView> {
        Box::pin(async move {
            let latest = super::drift::latest(&self.pusher.pool)
                .await
                .map_err(internal)?;
            Ok(crate::push::DriftView {
                may_act: admin,
                report: latest.map(|r| crate::push::DriftReportView {
                    id: r.id,
                    checked_at: utc(r.checked_at),
                    checked_by: r.checked_by,
                    error: r.error,
                    items: r
                        .items
                        .map(|j| j.0)
                        .unwrap_or_default()
                        .into_iter()
                        .enumerate()
                        .map(|(index, i)| crate::push::DriftItemView {
                            index,
                            subject: i.subject,
                            kind: i.kind,
                            desired: i.desired,
                            actual: i.actual,
                            fix: i.fix,
                            adoptable: !i.adopt.is_empty(),
                        })
                        .collect(),
                }),
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, FormOutcome> {
        let who = actor();
        Box::pin(async move {
            match self.pusher.check_drift(&who).await {
                Ok((id, items)) => Ok(FormOutcome {
                    message: Some(if items.is_empty() {
                        format!("Drift report {id}: AWS matches the desired state.")
                    } else {
                        format!("Drift report {id}: {} differences.", items.len())
                    }),
                    ..Default::default()
                }),
                Err(PushError::Database(e)) => Err(internal(e)),
                Err(e) => Ok(refused(format!("The drift check failed: {e}"))),
            }
        })
    }

    fn resolve(&self, report: i64, index: usize, adopt: bool) -> BoxFuture<'_, FormOutcome> {
        let who = actor();
        Box::pin(async move {
            let pool = &self.pusher.pool;
            let latest = super::drift::latest(pool).await.map_err(internal)?;
            let item = match latest {
                Some(super::drift::Report {
                    id,
                    items: Some(items),
                    ..
                }) if id == report => items.0.get(index).cloned(),
                Some(_) => {
                    return Ok(refused(format!(
                        "drift report {report} is no longer the latest: check again and act on the new report"
                    )))
                }
                None => None,
            };
            let Some(item) = item else {
                return Ok(refused(format!(
                    "drift report {report} has no item {}",
                    index + 1
                )));
            };
            let items = if adopt {
                item.adopt.clone()
            } else {
                vec![item.revert.clone()]
            };
            if items.is_empty() {
                return Ok(refused(format!(
                    "AWS's side of “{}” cannot be expressed as mappings; revert it instead",
                    item.kind
                )));
            }
            let mut draft = None;
            for change in items {
                match workflow::edit(pool, &who, change).await {
                    Ok(d) => draft = Some(d),
                    Err(WorkflowError::Database(e)) => return Err(internal(e)),
                    Err(e) => return Ok(refused(e.to_string())),
                }
            }
            Ok(FormOutcome {
                change_set: draft,
                message: Some(format!(
                    "{} of {} is in your draft: describe it and submit it for review.",
                    if adopt {
                        "Adopting the drift"
                    } else {
                        "Reverting the drift"
                    },
                    item.subject
                )),
                ..Default::default()
            })
        })
    }
}
