//! `/api/v1/change-sets/{id}/push` and `/api/v1/drift`: start a push and follow it to the end;
//! read the latest drift report, check again.

use app::{
    backend::{push::service, tokens::TokenCaller},
    error::AppError,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    Extension, Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    etag::{etagged, IfNoneMatch},
    problem::{ApiResult, Problem},
};
use crate::state::AppState;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PushStarted {
    /// The push run, or none when AWS already matched (nothing to push).
    pub run: Option<i64>,
    pub message: String,
    /// Where to follow it.
    pub status_url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct StepOut {
    pub seq: i32,
    pub target: String,
    pub operation: String,
    pub summary: String,
    /// `pending`, `running`, `done`, `failed`.
    pub state: String,
    pub attempts: i32,
    pub aws_request_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RunOut {
    pub id: i64,
    /// `running`, `succeeded`, `failed`.
    pub state: String,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    pub steps: Vec<StepOut>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PushStatus {
    pub change_set: i64,
    /// The change set's state: `approved`, `pushing`, `pushed`, `push_failed`, …
    pub state: String,
    /// The latest push run, if any.
    pub run: Option<RunOut>,
}

#[utoipa::path(post, path = "/api/v1/change-sets/{id}/push", tag = "pushes", params(("id" = i64, Path)),
    responses((status = 202, body = PushStarted, description = "started: follow `status_url`"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json", description = "not approved, or pushed already"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["push"])))]
pub async fn start(
    State(state): State<AppState>,
    Extension(caller): Extension<TokenCaller>,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<PushStarted>)> {
    let run = state
        .pusher
        .start(caller.actor.clone(), id)
        .await
        .map_err(AppError::from)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PushStarted {
            run,
            message: match run {
                Some(r) => format!("push {r} started"),
                None => "AWS already matches this change set: nothing to push".into(),
            },
            status_url: format!("/api/v1/change-sets/{id}/push"),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/change-sets/{id}/push", tag = "pushes",
    params(("id" = i64, Path), ("If-None-Match" = Option<String>, Header)),
    responses((status = 200, body = PushStatus, headers(("ETag" = String))), (status = 304, description = "unchanged"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["read"])))]
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    if_none_match: IfNoneMatch,
) -> ApiResult<Response> {
    let cs_state = app::backend::mappings::service::change_set_state(&state, id).await?;
    let (run, _) = service::run_view(&state.pool, id).await?;
    let status = PushStatus {
        change_set: id,
        state: cs_state,
        run: run.map(|r| RunOut {
            id: r.id,
            state: r.state.as_str().to_string(),
            started_by: r.started_by,
            started_at: r.started_at,
            finished_at: r.finished_at,
            error: r.error,
            steps: r
                .steps
                .into_iter()
                .map(|s| StepOut {
                    seq: s.seq,
                    target: s.target,
                    operation: s.operation,
                    summary: s.summary,
                    state: s.state.as_str().to_string(),
                    attempts: s.attempts,
                    aws_request_id: s.aws_request_id,
                    error: s.error,
                })
                .collect(),
        }),
    };
    Ok(etagged(&if_none_match, &status))
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DriftItemOut {
    pub subject: String,
    pub kind: String,
    pub desired: String,
    pub actual: String,
    pub fix: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DriftOut {
    /// The report's id; absent when no check has run yet.
    pub id: Option<i64>,
    pub checked_at: Option<String>,
    pub checked_by: Option<String>,
    /// Why the check failed, if it did.
    pub error: Option<String>,
    pub items: Vec<DriftItemOut>,
    /// Change sets approved and not yet pushed at the check (pending, not drift).
    pub pending_change_sets: Vec<i64>,
}

#[utoipa::path(get, path = "/api/v1/drift", tag = "drift", params(("If-None-Match" = Option<String>, Header)),
    responses((status = 200, body = DriftOut, headers(("ETag" = String))), (status = 304, description = "unchanged"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["read"])))]
pub async fn drift(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
) -> ApiResult<Response> {
    let view = service::latest_drift(&state, false).await?;
    let out = match view.report {
        None => DriftOut {
            id: None,
            checked_at: None,
            checked_by: None,
            error: None,
            items: Vec::new(),
            pending_change_sets: Vec::new(),
        },
        Some(r) => DriftOut {
            id: Some(r.id),
            checked_at: Some(r.checked_at),
            checked_by: Some(r.checked_by),
            error: r.error,
            items: r
                .items
                .into_iter()
                .map(|i| DriftItemOut {
                    subject: i.subject,
                    kind: i.kind,
                    desired: i.desired,
                    actual: i.actual,
                    fix: i.fix,
                })
                .collect(),
            pending_change_sets: r
                .pending
                .map(|p| p.change_sets.into_iter().map(|c| c.0).collect())
                .unwrap_or_default(),
        },
    };
    Ok(etagged(&if_none_match, &out))
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DriftChecked {
    pub report: i64,
    pub differences: usize,
}

#[utoipa::path(post, path = "/api/v1/drift/checks", tag = "drift",
    responses((status = 201, body = DriftChecked), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json", description = "AWS could not be read")),
    security(("token" = ["push"])))]
pub async fn check(
    State(state): State<AppState>,
    Extension(caller): Extension<TokenCaller>,
) -> ApiResult<(StatusCode, Json<DriftChecked>)> {
    match state.pusher.check_drift(&caller.actor).await {
        Ok((report, items)) => Ok((
            StatusCode::CREATED,
            Json(DriftChecked {
                report,
                differences: items.len(),
            }),
        )),
        Err(app::backend::push::PushError::Database(e)) => Err(Problem::from(e)),
        Err(e) => Err(Problem::new(
            "upstream",
            format!("the drift check failed: {e}"),
        )),
    }
}
