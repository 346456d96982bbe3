//! Pushing a change set to AWS: its plan, the push itself (admins), its progress, and rolling a
//! pushed change set back (a reverse change set, reviewed like any other).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, mappings::types::FormOutcome};

/// Where a push run stands (stored as text; an unknown value is an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "text"))]
#[cfg_attr(feature = "ssr", sqlx(rename_all = "snake_case"))]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
}

impl RunState {
    /// As stored and as the REST API says it.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
        }
    }
}

/// Where one AWS call of a push stands; `Planned` only in a plan shown before pushing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "text"))]
#[cfg_attr(feature = "ssr", sqlx(rename_all = "snake_case"))]
pub enum StepState {
    Planned,
    Pending,
    Running,
    Done,
    Failed,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Planned => "planned",
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Done => "done",
            StepState::Failed => "failed",
        }
    }
}

/// One planned or made AWS call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    pub seq: i32,
    pub target: String,
    pub operation: String,
    pub summary: String,
    pub state: StepState,
    pub attempts: i32,
    pub aws_request_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    pub state: RunState,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    /// Why the run's steps were planned again (it was taken over after an interruption).
    pub replan_note: Option<String>,
    pub steps: Vec<StepView>,
}

impl RunView {
    pub fn running(&self) -> bool {
        self.state == RunState::Running
    }

    pub fn done(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.state == StepState::Done)
            .count()
    }
}

/// What the change set page shows about pushing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushView {
    /// The calls a push would make (as last read from AWS), when the change set may be pushed.
    pub plan: Option<Vec<StepView>>,
    /// Why there is no plan (AWS unreachable, a role Gatehouse does not manage, …).
    pub plan_error: Option<String>,
    /// When AWS was read for `plan` or `plan_error` (the page shows the last plan read at
    /// once, with its age, rather than wait on AWS).
    pub plan_read_at: Option<String>,
    /// AWS is being read again for the plan now: the page reloads it shortly.
    pub plan_reading: bool,
    /// The latest push run.
    pub run: Option<RunView>,
    pub may_push: bool,
    pub may_roll_back: bool,
}

#[cfg(feature = "ssr")]
use crate::{
    backend::{push::service, state::app_state},
    form::ssr::answer_result,
    me::ssr::require_role,
    roles::{Role, READERS},
};

/// Readers: the change set's plan (admins only: reading it makes AWS calls) and latest push.
#[server(endpoint = "push/view", output = crate::codec::StrJson)]
pub async fn get_push_view(id: i64) -> Result<PushView, AppError> {
    let user = require_role(READERS)?;
    service::view(&app_state()?, id, user.has(Role::Admin)).await
}

/// Admins: push an approved change set (or retry a failed push).
#[server(endpoint = "push/start", output = crate::codec::StrJson)]
pub async fn push_change_set(id: i64) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    answer_result(service::push(&app_state()?, id).await)
}

/// Admins: read AWS again for the change set's plan, in the background (the page shows it when
/// read).
#[server(endpoint = "push/read-plan", output = crate::codec::StrJson)]
pub async fn read_plan_again(id: i64) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    answer_result(service::read_plan_again(&app_state()?, id).await)
}

/// Admins: put the reverse of a pushed change set into their draft.
#[server(endpoint = "push/roll-back", output = crate::codec::StrJson)]
pub async fn roll_back_change_set(id: i64) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    answer_result(service::roll_back(&app_state()?, id).await)
}

/// One difference between AWS and the desired state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftItemView {
    pub index: usize,
    pub subject: String,
    pub kind: String,
    pub desired: String,
    pub actual: String,
    pub fix: String,
    /// Whether AWS's side can be made the desired state.
    pub adoptable: bool,
    /// Whether a push can mend it (else `fix` says what to do).
    pub revertable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReportView {
    pub id: i64,
    pub checked_at: String,
    pub checked_by: String,
    pub error: Option<String>,
    pub items: Vec<DriftItemView>,
    /// Approved but not yet pushed at the check: not drift.
    pub pending: Option<PendingPushView>,
}

/// Change sets approved and waiting for their push, and the calls it will make.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPushView {
    /// (id, title, state).
    pub change_sets: Vec<(i64, String, String)>,
    pub calls: Vec<String>,
}

impl DriftReportView {
    pub fn items_len(&self) -> usize {
        self.items.len()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftView {
    pub report: Option<DriftReportView>,
    pub may_act: bool,
}

/// Readers: the latest drift report.
#[server(endpoint = "drift/latest", output = crate::codec::StrJson)]
pub async fn get_drift() -> Result<DriftView, AppError> {
    let user = require_role(READERS)?;
    service::latest_drift(&app_state()?, user.has(Role::Admin)).await
}

/// Admins: compare AWS with the desired state now.
#[server(endpoint = "drift/check", output = crate::codec::StrJson)]
pub async fn check_drift() -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    answer_result(service::check_drift(&app_state()?).await)
}

/// Admins: revert (`action=revert`) or adopt (`action=adopt`) one item of a report, in a
/// change set of their own that is reviewed like any other.
#[server(endpoint = "drift/resolve", output = crate::codec::StrJson)]
pub async fn resolve_drift(
    report: i64,
    index: usize,
    action: String,
) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let adopt = match action.as_str() {
        "adopt" => true,
        "revert" => false,
        other => {
            return Err(AppError::invalid(
                "action",
                format!("`{other}` is neither revert nor adopt"),
            ))
        }
    };
    answer_result(service::resolve_drift(&app_state()?, report, index, adopt).await)
}
