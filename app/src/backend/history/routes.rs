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

use super::exports::{export_record, file_stream, ExportRecord};
use crate::backend::{session::SessionUser, state::AppState};
use crate::error::AppError;
use crate::roles::Role;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/audit/exports/{id}/file", get(file))
        .route("/api/audit/exports/{id}/manifest", get(manifest_json))
        .route("/api/reports/access.csv", get(access_csv))
}

#[derive(serde::Deserialize)]
struct AtQuery {
    #[serde(default)]
    at: String,
}

/// The access review as CSV: group, role, route (cells neutralised like every export).
async fn access_csv(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    axum::extract::Query(q): axum::extract::Query<AtQuery>,
) -> Response {
    if let Some(r) = refused(&user) {
        return r;
    }
    let filter = crate::history::HistoryFilter {
        to: q.at.clone(),
        ..Default::default()
    };
    let at = match filter.check() {
        Ok(c) if c.to_before.is_some() => c.to_before.unwrap_or_default(),
        Ok(_) => return (StatusCode::BAD_REQUEST, "give a date: ?at=2026-11-28").into_response(),
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                e.into_iter().map(|(_, m)| m).collect::<String>(),
            )
                .into_response()
        }
    };
    let rows = match super::service::access_as_of(&state, &at).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let mut body = String::from("group,role,route\r\n");
    for r in rows {
        for (i, c) in [&r.group, &r.role, &r.route].into_iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            super::export::csv_cell(&mut body, c);
        }
        body.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"gatehouse-access-{}.csv\"",
                    q.at.trim()
                ),
            ),
        ],
        body,
    )
        .into_response()
}

/// Why the caller may not download exports, if they may not.
pub(super) fn refused(user: &Option<Extension<SessionUser>>) -> Option<Response> {
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

/// Export `id` for a person who may read exports, or the response that says why not.
async fn readable_export(
    state: &AppState,
    user: &Option<Extension<SessionUser>>,
    id: i64,
) -> Result<ExportRecord, Response> {
    if let Some(r) = refused(user) {
        return Err(r);
    }
    match export_record(&state.pool, id).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(AppError::not_found("There is no such export.").into_response()),
        Err(e) => Err(AppError::internal(e).into_response()),
    }
}

async fn file(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Response {
    let record = match readable_export(&state, &user, id).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    match &user {
        Some(Extension(u)) => download(&state, &record, &u.actor()).await,
        None => (StatusCode::UNAUTHORIZED, "sign in first").into_response(),
    }
}

/// Export `record`'s file, streamed from the database as it is read; the download is an audit
/// event of `who`. The browser's route and the REST API's.
pub async fn download(
    state: &AppState,
    record: &ExportRecord,
    who: &crate::backend::audit::Actor,
) -> Response {
    let id = record.id;
    let details = serde_json::json!({ "export": id, "rows": record.rows, "format": record.format().extension() });
    if let Err(e) = crate::backend::audit::record(
        &state.pool,
        who,
        crate::backend::audit::action::EXPORT_DOWNLOADED,
        Some(&format!("export:{id}")),
        details,
    )
    .await
    {
        return AppError::internal(e).into_response();
    }
    let body = file_stream(state.pool.clone(), record).map(|chunk| {
        chunk.map(bytes::Bytes::from).map_err(|e| {
            tracing::error!(error = %e, "export stopped");
            std::io::Error::other("the export stopped")
        })
    });
    let mut response = (
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
        .into_response();
    // Once the export is hashed its length is known, and the browser can show the download's
    // progress.
    if let Some(bytes) = record.bytes {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, header::HeaderValue::from(bytes));
    }
    response
}

async fn manifest_json(
    State(state): State<AppState>,
    user: Option<Extension<SessionUser>>,
    Path(id): Path<i64>,
) -> Response {
    let record = match readable_export(&state, &user, id).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let Some(stored) = record.manifest.clone() else {
        let why = match &record.error {
            Some(e) => format!("export {id} failed: {e}"),
            None => format!(
                "export {id} is still being prepared ({} of {} events hashed); try again shortly",
                record.hashed_rows, record.rows
            ),
        };
        return (StatusCode::CONFLICT, why).into_response();
    };
    (
        [(
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}.manifest.json\"",
                record.file_name()
            ),
        )],
        Json(stored.0),
    )
        .into_response()
}
