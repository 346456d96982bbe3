//! `/api/v1/history` and `/api/v1/exports`: the audit history a page at a time, and exports of
//! it (CSV or JSON Lines) with the manifest that proves nothing was altered, the same as the
//! History page's.

use app::{
    backend::{
        history::{
            export::Format,
            exports::{self, export_record, ExportRecord},
        },
        tokens::TokenCaller,
    },
    history::HistoryFilter,
};
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    idempotency,
    problem::{ApiResult, Problem},
};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

/// The History page's filters. Times are `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (UTC).
#[derive(Clone, Debug, Default, Serialize, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// From this time, inclusive.
    #[serde(default)]
    pub from: String,
    /// Up to this time; a bare date means the whole day.
    #[serde(default)]
    pub to: String,
    /// Part of the actor's name or e-mail.
    #[serde(default)]
    pub actor: String,
    /// An action (`change_set.approved`) or its area (`change_set`, `push`, `auth`).
    #[serde(default)]
    pub action: String,
    /// A change set's number.
    #[serde(default)]
    pub change_set: String,
    /// A group, role or API (name, id or ARN) the event mentions anywhere.
    #[serde(default)]
    pub mentions: String,
    /// A review campaign's number: its start, decisions, close and the change set it wrote.
    #[serde(default)]
    pub campaign: String,
}

impl From<Filter> for HistoryFilter {
    fn from(f: Filter) -> Self {
        HistoryFilter {
            from: f.from,
            to: f.to,
            actor: f.actor,
            action: f.action,
            change_set: f.change_set,
            mentions: f.mentions,
            campaign: f.campaign,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Before {
    /// The `older` of the previous page: events before this sequence number.
    #[serde(default)]
    pub before: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EventOut {
    /// Its place in the hash chain.
    pub seq: i64,
    pub occurred_at: String,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub hash: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryOut {
    /// Newest first.
    pub events: Vec<EventOut>,
    /// Pass as `before` for the next (older) page; absent on the last.
    pub older: Option<i64>,
}

fn checked(f: Filter) -> ApiResult<app::history::CheckedFilter> {
    HistoryFilter::from(f).check().map_err(|errors| {
        Problem::invalid(
            errors
                .into_iter()
                .map(|(f, e)| (f.to_string(), e))
                .collect(),
        )
    })
}

#[utoipa::path(get, path = "/api/v1/history", tag = "history", params(Filter, Before),
    responses((status = 200, body = HistoryOut), (status = 401, body = Problem, content_type = PROBLEM),
        (status = 403, body = Problem, content_type = PROBLEM), (status = 422, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn history(
    State(state): State<AppState>,
    Query(filter): Query<Filter>,
    Query(b): Query<Before>,
) -> ApiResult<Json<HistoryOut>> {
    let before = match b.before.trim() {
        "" => None,
        n => Some(n.parse::<i64>().map_err(|_| {
            Problem::invalid(vec![(
                "before".into(),
                format!("`{n}` is not a sequence number"),
            )])
        })?),
    };
    let page = app::backend::history::service::page(&state, checked(filter)?, before).await?;
    Ok(Json(HistoryOut {
        older: page.older,
        events: page
            .events
            .into_iter()
            .map(|e| EventOut {
                seq: e.seq,
                occurred_at: e.occurred_at,
                actor: e.actor,
                action: e.action,
                subject: e.subject,
                details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
                hash: e.hash,
            })
            .collect(),
    }))
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct NewExport {
    /// `csv` or `jsonl`.
    pub format: String,
    #[serde(default)]
    pub filter: Filter,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportOut {
    pub id: i64,
    pub format: String,
    /// Events in it (up to the newest when it was asked for).
    pub rows: i64,
    /// How many are hashed into the manifest so far.
    pub hashed_rows: i64,
    /// The file's length, once known.
    pub bytes: Option<i64>,
    /// The manifest is written: the file and manifest can be fetched.
    pub ready: bool,
    pub error: Option<String>,
    pub status_url: String,
    pub file_url: String,
    pub manifest_url: String,
}

fn export_out(r: &ExportRecord) -> ExportOut {
    let s = r.status();
    let url = format!("/api/v1/exports/{}", r.id);
    ExportOut {
        id: s.id,
        format: s.format,
        rows: s.rows,
        hashed_rows: s.hashed_rows,
        bytes: s.bytes,
        ready: s.ready,
        error: s.error,
        file_url: format!("{url}/file"),
        manifest_url: format!("{url}/manifest"),
        status_url: url,
    }
}

#[utoipa::path(post, path = "/api/v1/exports", tag = "history", request_body = NewExport,
    params(("Idempotency-Key" = Option<String>, Header, description = "the same key and body answer the first answer again")),
    responses((status = 202, body = ExportOut, description = "recorded; follow `status_url` until `ready`"),
        (status = 401, body = Problem, content_type = PROBLEM), (status = 403, body = Problem, content_type = PROBLEM),
        (status = 422, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn create_export(
    State(state): State<AppState>,
    Extension(caller): Extension<TokenCaller>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let answer = |r: ApiResult<(StatusCode, Json<ExportOut>)>| match r {
        Ok(ok) => ok.into_response(),
        Err(p) => p.into_response(),
    };
    match idempotency::key(&headers) {
        Err(p) => p.into_response(),
        Ok(None) => answer(export_now(&state, &caller, &body).await),
        Ok(Some(key)) => {
            idempotency::once(&state.pool, caller.id, &key, &body, || async {
                answer(export_now(&state, &caller, &body).await)
            })
            .await
        }
    }
}

async fn export_now(
    state: &AppState,
    caller: &TokenCaller,
    body: &[u8],
) -> ApiResult<(StatusCode, Json<ExportOut>)> {
    let new: NewExport = serde_json::from_slice(body)
        .map_err(|e| Problem::invalid(vec![("body".into(), e.to_string())]))?;
    let format = Format::parse(new.format.trim()).ok_or_else(|| {
        Problem::invalid(vec![(
            "format".into(),
            format!("`{}` is neither csv nor jsonl", new.format),
        )])
    })?;
    // The filter is checked by `create_export`, each wrong field named.
    let record =
        exports::create_export(&state.pool, &caller.actor, &new.filter.into(), format).await?;
    let out = export_out(&record);
    exports::spawn_prepare(state.pool.clone(), state.settings.anchoring.clone(), record);
    Ok((StatusCode::ACCEPTED, Json(out)))
}

async fn record(state: &AppState, id: i64) -> ApiResult<ExportRecord> {
    export_record(&state.pool, id)
        .await?
        .ok_or_else(|| Problem::new("not-found", format!("There is no export {id}.")))
}

#[utoipa::path(get, path = "/api/v1/exports/{id}", tag = "history", params(("id" = i64, Path)),
    responses((status = 200, body = ExportOut), (status = 401, body = Problem, content_type = PROBLEM),
        (status = 403, body = Problem, content_type = PROBLEM), (status = 404, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn export_status(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ExportOut>> {
    Ok(Json(export_out(&record(&state, id).await?)))
}

#[utoipa::path(get, path = "/api/v1/exports/{id}/file", tag = "history", params(("id" = i64, Path)),
    description = "The file, streamed: CSV or JSON Lines, one event per row. Each download is an audit event.",
    responses((status = 200, description = "the export's rows", content_type = "text/csv"),
        (status = 401, body = Problem, content_type = PROBLEM), (status = 403, body = Problem, content_type = PROBLEM), (status = 404, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn export_file(
    State(state): State<AppState>,
    Extension(caller): Extension<TokenCaller>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let record = record(&state, id).await?;
    Ok(app::backend::history::routes::download(&state, &record, &caller.actor).await)
}

#[utoipa::path(get, path = "/api/v1/exports/{id}/manifest", tag = "history", params(("id" = i64, Path)),
    description = "The manifest: row count, the chain's first and last hashes, the file's SHA-256 (and a signature, when configured). `gatehouse audit verify --export FILE --manifest MANIFEST` checks a file against it offline.",
    responses((status = 200, description = "the manifest", content_type = "application/json"),
        (status = 401, body = Problem, content_type = PROBLEM), (status = 403, body = Problem, content_type = PROBLEM),
        (status = 404, body = Problem, content_type = PROBLEM), (status = 409, body = Problem, content_type = PROBLEM, description = "not ready yet, or failed")),
    security(("token" = ["read"])))]
pub async fn export_manifest(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let record = record(&state, id).await?;
    match (&record.manifest, &record.error) {
        (Some(m), _) => Ok(Json(&m.0).into_response()),
        (None, Some(e)) => Err(Problem::new("conflict", format!("export {id} failed: {e}"))),
        (None, None) => Err(Problem::new(
            "conflict",
            format!(
                "export {id} is still being prepared ({} of {} events hashed); try again shortly",
                record.hashed_rows, record.rows
            ),
        )),
    }
}
