//! Export downloads: the file (streamed from the database as it is read) and its manifest.
//! Auditors, reviewers and admins only, checked here.

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Extension, Json, Router,
};
use futures_util::StreamExt;

use super::backend::{export_record, file_stream, manifest};
use crate::{session::SessionUser, state::AppState};
use app::roles::Role;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/audit/exports/{id}/file", get(file))
        .route("/api/audit/exports/{id}/manifest", get(manifest_json))
}

/// Why the caller may not download exports, if they may not.
fn refused(user: &Option<Extension<SessionUser>>) -> Option<Response> {
    let reader = |u: &SessionUser| {
        u.roles
            .iter()
            .any(|r| matches!(r, Role::Admin | Role::Reviewer | Role::Auditor))
    };
    match user {
        None => Some((StatusCode::UNAUTHORIZED, "sign in first").into_response()),
        Some(Extension(u)) if reader(u) => None,
        Some(_) => Some(
            (
                StatusCode::FORBIDDEN,
                "exports are for auditors, reviewers and admins",
            )
                .into_response(),
        ),
    }
}

async fn file(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Response {
    if let Some(r) = refused(&user) {
        return r;
    }
    let record = match export_record(&state.pool, id).await {
        Ok(Some(r)) => r,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such export").into_response(),
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::mappings::backend::internal(e),
            )
                .into_response()
        }
    };
    let body = file_stream(state.pool.clone(), &record).map(|chunk| {
        chunk.map(bytes::Bytes::from).map_err(|e| {
            tracing::error!(error = %e, "export stopped");
            std::io::Error::other("the export stopped")
        })
    });
    (
        [
            (
                header::CONTENT_TYPE,
                record.format().content_type().to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", record.file_name()),
            ),
            (
                header::HeaderName::from_static("x-gatehouse-rows"),
                record.rows.to_string(),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

async fn manifest_json(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Response {
    if let Some(r) = refused(&user) {
        return r;
    }
    let record = match export_record(&state.pool, id).await {
        Ok(Some(r)) => r,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such export").into_response(),
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::mappings::backend::internal(e),
            )
                .into_response()
        }
    };
    match manifest(&state.pool, &record).await {
        Ok(m) => (
            [(
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}.manifest.json\"",
                    record.file_name()
                ),
            )],
            Json(m),
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::mappings::backend::internal(e),
        )
            .into_response(),
    }
}
