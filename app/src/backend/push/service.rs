//! What the change set page's push and the Drift page's server functions call.

use sqlx::PgPool;

use crate::{
    domain::{change_set::State, desired::ChangeItem},
    error::AppError,
    mappings::types::FormOutcome,
    push::{
        DriftItemView, DriftReportView, DriftView, PendingPushView, PushView, RunView, StepView,
    },
};

use super::{drift, store, PushError};
use crate::backend::{
    catalog::queries::utc,
    mappings::{store as cs_store, workflow},
    state::{actor, AppState},
};

impl From<PushError> for AppError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::Database(e) => AppError::internal(e),
            e => AppError::Refused(e.to_string()),
        }
    }
}

/// The change set's latest push run, and when it ended (if it has).
pub async fn run_view(
    pool: &PgPool,
    change_set: i64,
) -> Result<(Option<RunView>, Option<time::OffsetDateTime>), AppError> {
    let Some(run) = store::latest_run(pool, change_set).await? else {
        return Ok((None, None));
    };
    let steps = store::steps(pool, run.id).await?;
    let ended = run.finished_at;
    let view = RunView {
        id: run.id,
        state: run.state,
        started_by: run.started_by,
        started_at: utc(run.started_at),
        finished_at: run.finished_at.map(utc),
        error: run.error,
        replan_note: run.replan_note,
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
    };
    Ok((Some(view), ended))
}

/// The change set's plan (for admins: it reads AWS) and its latest push.
pub async fn view(app: &AppState, id: i64, admin: bool) -> Result<PushView, AppError> {
    let (state, ended) = {
        let mut conn = app.pool.acquire().await?;
        match cs_store::change_set(&mut conn, id, false).await? {
            // Time-bound access that ended is revoked by Gatehouse: nothing is left to roll back.
            Some(cs) => (
                cs.state,
                cs.access_ends_at
                    .is_some_and(|t| t <= crate::backend::clock::now()),
            ),
            None => return Err(AppError::not_found(format!("There is no change set {id}."))),
        }
    };
    let pushable = matches!(state, State::Approved | State::PushFailed);
    let (run, push_ended) = run_view(&app.pool, id).await?;
    let mut view = PushView {
        run,
        may_push: admin && pushable,
        may_roll_back: admin && state == State::Pushed && !ended,
        ..Default::default()
    };
    // The plan is for the people who push: the last one read is shown at once, and AWS is read
    // again in the background when it is old (the page must not wait on AWS).
    if admin && pushable {
        let (stored, reading) = app.pusher.plan_to_show(id, push_ended).await?;
        view.plan_reading = reading;
        if let Some(plan) = stored {
            view.plan_read_at = Some(utc(plan.computed_at));
            view.plan = plan.steps;
            view.plan_error = plan.error;
        }
    }
    Ok(view)
}

/// Reads AWS again for the plan of a change set waiting for its push, in the background.
pub async fn read_plan_again(app: &AppState, id: i64) -> Result<FormOutcome, AppError> {
    let state = {
        let mut conn = app.pool.acquire().await?;
        match cs_store::change_set(&mut conn, id, false).await? {
            Some(cs) => cs.state,
            None => return Err(AppError::not_found(format!("There is no change set {id}."))),
        }
    };
    if !matches!(state, State::Approved | State::PushFailed) {
        return Err(AppError::Refused(format!(
            "change set {id} is {}: only an approved change set, or one whose push failed, has a plan to read",
            state.label()
        )));
    }
    app.pusher.refresh_plan_in_background(id);
    Ok(FormOutcome::message(
        "Reading AWS again for the plan: it shows here in a moment.",
    ))
}

pub async fn push(app: &AppState, id: i64) -> Result<FormOutcome, AppError> {
    Ok(match app.pusher.start(actor(), id).await? {
        Some(run) => FormOutcome::message(format!("Push {run} started.")),
        None => FormOutcome::message("AWS already matches this change set: nothing to push."),
    })
}

/// Puts the reverse of a pushed change set into the caller's draft.
pub async fn roll_back(app: &AppState, id: i64) -> Result<FormOutcome, AppError> {
    let who = actor();
    let pool = &app.pool;
    let cs = {
        let mut conn = pool.acquire().await?;
        cs_store::change_set(&mut conn, id, false).await?
    };
    let Some(cs) = cs else {
        return Err(AppError::not_found(format!(
            "change set {id} does not exist"
        )));
    };
    if cs.state != State::Pushed {
        return Err(AppError::Refused(format!(
            "only a pushed change set can be rolled back; change set {id} is {}",
            cs.state.label()
        )));
    }
    let reverse: Vec<ChangeItem> = cs.items.iter().rev().map(|i| i.opposite()).collect();
    let purpose = workflow::Purpose {
        key: format!("rollback:{id}"),
        title: format!("Roll back change set {id}: {}", cs.title),
    };
    let draft = workflow::edit_for(pool, &who, &purpose, reverse)
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Internal { reference } => AppError::Internal { reference },
            e => AppError::Refused(format!(
                "the reverse of change set {id} does not fit the current mappings: {e}"
            )),
        })?;
    Ok(FormOutcome {
        change_set: Some(draft),
        ..FormOutcome::message(format!(
            "The reverse of change set {id} is in a change set of its own ({draft}): add a justification, then submit it for review."
        ))
    })
}

/// A role's or API's name without its ARN's prefix, for a title.
fn short_subject(subject: &str) -> &str {
    subject.rsplit(['/', ':']).next().unwrap_or(subject)
}

/// The latest drift report.
pub async fn latest_drift(app: &AppState, admin: bool) -> Result<DriftView, AppError> {
    let latest = drift::latest(&app.pool).await?;
    Ok(DriftView {
        may_act: admin,
        report: latest.map(|r| DriftReportView {
            id: r.id,
            checked_at: utc(r.checked_at),
            checked_by: r.checked_by,
            error: r.error,
            pending: r.pending.map(|p| PendingPushView {
                change_sets: p
                    .0
                    .change_sets
                    .into_iter()
                    .map(|c| (c.id, c.title, c.state))
                    .collect(),
                calls: p.0.calls,
            }),
            items: r
                .items
                .map(|j| j.0)
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(index, i)| DriftItemView {
                    index,
                    subject: i.subject,
                    kind: i.kind,
                    desired: i.desired,
                    actual: i.actual,
                    fix: i.fix,
                    adoptable: !i.adopt.is_empty(),
                    revertable: i.revert.is_some(),
                })
                .collect(),
        }),
    })
}

/// Compares AWS with the desired state now.
pub async fn check_drift(app: &AppState) -> Result<FormOutcome, AppError> {
    match app.pusher.check_drift(&actor()).await {
        Ok((id, items)) => Ok(FormOutcome::message(if items.is_empty() {
            format!("Drift report {id}: AWS matches the desired state.")
        } else {
            format!("Drift report {id}: {} differences.", items.len())
        })),
        Err(PushError::Database(e)) => Err(AppError::internal(e)),
        Err(e) => Err(AppError::Upstream(format!("The drift check failed: {e}"))),
    }
}

/// `adopt`: make AWS's side desired; else push the desired state again. Either lands in the
/// caller's draft change set.
pub async fn resolve_drift(
    app: &AppState,
    report: i64,
    index: usize,
    adopt: bool,
) -> Result<FormOutcome, AppError> {
    let who = actor();
    let pool = &app.pool;
    let latest = drift::latest(pool).await?;
    let item = match latest {
        Some(drift::Report {
            id,
            items: Some(items),
            ..
        }) if id == report => items.0.get(index).cloned(),
        Some(_) => {
            return Err(AppError::Conflict(format!(
            "drift report {report} is no longer the latest: check again and act on the new report"
        )))
        }
        None => None,
    };
    let Some(item) = item else {
        return Err(AppError::not_found(format!(
            "drift report {report} has no item {}",
            index + 1
        )));
    };
    let items = if adopt {
        item.adopt.clone()
    } else {
        item.revert.clone().into_iter().collect()
    };
    if items.is_empty() {
        return Err(AppError::Refused(if adopt {
            format!(
                "AWS's side of “{}” cannot be expressed as mappings; revert it instead",
                item.kind
            )
        } else {
            format!("“{}” cannot be mended by a push: {}", item.kind, item.fix)
        }));
    }
    // Reverting and adopting one drift are opposite intentions: each gets a change set of its
    // own, so they can never sit in one change set (and the second approved is stale).
    let (verb, key) = if adopt {
        ("Adopt", "adopt")
    } else {
        ("Revert", "revert")
    };
    let purpose = workflow::Purpose {
        key: format!("drift-{key}:{}:{}", item.subject, item.kind),
        title: format!(
            "{verb} drift on {}: {}",
            short_subject(&item.subject),
            item.kind
        ),
    };
    let draft = workflow::edit_for(pool, &who, &purpose, items).await?;
    Ok(FormOutcome {
        change_set: Some(draft),
        message: Some(format!(
            "“{}” is change set {draft}, on its own: add a justification and submit it for review.",
            purpose.title
        )),
        ..Default::default()
    })
}
