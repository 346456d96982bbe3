//! The REST API's one error shape (RFC 9457 problem details): a stable `type`, a `title` per
//! type, the `status`, a `detail` for this occurrence, and `errors` per field for bad input.

use app::error::AppError;
use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What went wrong. `type` is one of the kinds the reference lists (`/api/v1/docs#problems`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// `/api/v1/docs#problem-<kind>`: stable, one per kind of failure.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One entry per field that is wrong (bad input only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every kind: (slug, title, status). The reference page lists them from here.
pub const KINDS: &[(&str, &str, u16)] = &[
    ("unauthorized", "A valid token is needed", 401),
    ("forbidden", "Not allowed", 403),
    ("not-found", "Not found", 404),
    ("invalid", "Some input is wrong", 422),
    ("conflict", "Changed by someone else first", 409),
    ("precondition-failed", "Changed since you read it", 412),
    ("upstream", "AWS or the directory failed", 502),
    ("busy", "Try again in a moment", 503),
    ("internal", "Gatehouse failed", 500),
];

impl Problem {
    pub fn new(slug: &str, detail: impl Into<String>) -> Problem {
        let (slug, title, status) = KINDS
            .iter()
            .find(|(s, _, _)| *s == slug)
            .copied()
            .unwrap_or(("internal", "Gatehouse failed", 500));
        Problem {
            kind: format!("/api/v1/docs#problem-{slug}"),
            title: title.to_string(),
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid(errors: Vec<(String, String)>) -> Problem {
        let detail = errors
            .iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            errors: errors
                .into_iter()
                .map(|(field, message)| FieldError { field, message })
                .collect(),
            ..Problem::new("invalid", detail)
        }
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Problem {
        match e {
            AppError::SignIn => {
                Problem::new("unauthorized", "send a token: Authorization: Bearer gth_…")
            }
            AppError::Forbidden => Problem::new("forbidden", e.to_string()),
            AppError::NotFound(why) => Problem::new("not-found", why),
            AppError::Refused(why) => Problem::new("forbidden", why),
            AppError::Invalid { field, message } => Problem::invalid(vec![(field, message)]),
            AppError::Form(outcome) => match (outcome.errors.is_empty(), outcome.refused) {
                (false, _) => Problem::invalid(outcome.errors),
                (true, Some(why)) => Problem::new("forbidden", why),
                (true, None) => Problem::new("invalid", "the request was not accepted"),
            },
            AppError::Conflict(why) => Problem::new("conflict", why),
            AppError::Upstream(why) => Problem::new("upstream", why),
            e @ AppError::Internal { .. } => Problem::new("internal", e.to_string()),
            AppError::Request(why) => Problem::new("invalid", why),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

/// A REST handler's result.
pub type ApiResult<T> = Result<T, Problem>;

impl From<sqlx::Error> for Problem {
    fn from(e: sqlx::Error) -> Problem {
        AppError::from(e).into()
    }
}

impl From<app::backend::mappings::workflow::WorkflowError> for Problem {
    fn from(e: app::backend::mappings::workflow::WorkflowError) -> Problem {
        AppError::from(e).into()
    }
}
