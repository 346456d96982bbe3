//! What the History and access-review pages' server functions call.

use crate::{
    error::AppError,
    history::{AccessRow, CheckedFilter, ExportStatus, HistoryFilter, HistoryPage},
};

use super::{
    export::Format,
    exports::{self, export_record, spawn_prepare},
    reports, store,
};
use crate::backend::state::{actor, AppState};

/// Who could call what at `at` (a checked time).
pub async fn access_as_of(state: &AppState, at: &str) -> Result<Vec<AccessRow>, AppError> {
    let desired = reports::desired_as_of(&state.pool, at).await?;
    Ok(reports::access_rows(&state.pool, &desired).await?)
}

/// The same rows, each role with open drift (in the latest drift report) marked.
pub async fn access_as_of_marked(state: &AppState, at: &str) -> Result<Vec<AccessRow>, AppError> {
    let mut rows = access_as_of(state, at).await?;
    let Some(report) = crate::backend::push::drift::latest(&state.pool).await? else {
        return Ok(rows);
    };
    let items = report.items.map(|j| j.0).unwrap_or_default();
    for row in &mut rows {
        row.drift = items
            .iter()
            .find(|i| i.subject == row.role)
            .map(|i| format!("open drift now: {} (drift report {})", i.kind, report.id));
    }
    Ok(rows)
}

/// Records an export (an audit event), starts hashing its rows, and answers its id and row
/// count.
pub async fn create_export(
    state: &AppState,
    filter: &HistoryFilter,
    format: &str,
) -> Result<(i64, i64), AppError> {
    let format = Format::parse(format).ok_or_else(|| {
        AppError::invalid("format", format!("`{format}` is neither csv nor jsonl"))
    })?;
    let record = exports::create_export(&state.pool, &actor(), filter, format).await?;
    let (id, rows) = (record.id, record.rows);
    // Hashing a large export takes a while: the page follows it.
    spawn_prepare(state.pool.clone(), state.settings.anchoring.clone(), record);
    Ok((id, rows))
}

/// How far an export's preparation has come.
pub async fn export_status(state: &AppState, id: i64) -> Result<ExportStatus, AppError> {
    export_record(&state.pool, id)
        .await?
        .map(|r| r.status())
        .ok_or_else(|| AppError::not_found(format!("There is no export {id}.")))
}

/// One page of events, newest first, `before` a sequence number (keyset).
pub async fn page(
    state: &AppState,
    filter: CheckedFilter,
    before: Option<i64>,
) -> Result<HistoryPage, AppError> {
    let (events, more, newer) = store::page(&state.pool, &filter, before).await?;
    Ok(HistoryPage {
        older: more.then(|| events.last().map(|e| e.seq)).flatten(),
        newer,
        events,
        errors: Vec::new(),
    })
}
