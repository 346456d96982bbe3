//! What the catalog pages' server functions call: reads from Postgres, starts syncs.

use crate::{catalog::types::*, error::AppError};

use super::{group_queries, queries, role_queries, Catalog, SyncError, SyncRequest};
use crate::backend::state::{actor, AppState};

pub async fn list_apis(
    state: &AppState,
    search: &str,
    sort: ApiSort,
    cursor: &Cursor,
    size: usize,
) -> Result<Page<ApiSummary>, AppError> {
    Ok(queries::list_apis_page(&state.pool, search, sort, cursor, size).await?)
}

pub async fn api_detail(state: &AppState, api_id: &str) -> Result<ApiDetail, AppError> {
    // One connection for the page's reads (each acquisition costs sqlx's ping on release).
    let mut conn = state.pool.acquire().await?;
    let mut detail = queries::api_detail_on(&mut conn, api_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No API with the id `{api_id}` was synced.")))?;
    crate::backend::mappings::queries::fill_callers(state, &mut conn, &mut detail).await?;
    drop(conn);
    let function = &state.settings.push.authorizer_function;
    for method in detail
        .resources
        .iter_mut()
        .flat_map(|r| r.methods.iter_mut())
    {
        method.decided_by = crate::domain::method_access::decided_by(
            &method.authorization_type,
            method.authorizer.as_ref(),
            function,
        );
    }
    Ok(detail)
}

pub async fn sync_runs(state: &AppState) -> Result<Vec<SyncRun>, AppError> {
    Ok(queries::sync_runs(&state.pool, 20).await?)
}

/// The configured directory's stored copy; `None` when no directory is configured.
pub async fn directory_status(state: &AppState) -> Result<Option<DirectoryStatus>, AppError> {
    let Some(directory) = state.syncer.directory.as_deref() else {
        return Ok(None);
    };
    Ok(Some(
        crate::backend::directory::membership::status(&state.pool, directory.source()).await?,
    ))
}

/// Starts a sync in the background; answers its (running) run.
pub async fn start_sync(
    state: &AppState,
    kind: CatalogKind,
    mode: SyncMode,
) -> Result<SyncStart, AppError> {
    let catalog = match kind {
        CatalogKind::Apis => Catalog::Apis,
        CatalogKind::Roles => Catalog::Roles,
        CatalogKind::Groups => Catalog::Groups,
    };
    if mode != SyncMode::Normal && catalog != Catalog::Groups {
        return Err(AppError::invalid(
            "mode",
            "A full resync and applying held removals are for directory groups only.",
        ));
    }
    let request = SyncRequest {
        full: mode == SyncMode::Full,
        allow_removals: mode == SyncMode::AllowRemovals,
    };
    let syncer = &state.syncer;
    // A run that finishes between our try and our look is gone from both: try again.
    let mut attempt = 0;
    let (run_id, already_running) = loop {
        match syncer.start(actor(), catalog, request).await {
            Ok(run_id) => break (run_id, false),
            Err(SyncError::AlreadyRunning) => match queries::running_sync(&syncer.pool, catalog.name()).await? {
                Some(id) => break (id, true),
                None if attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                None => {
                    return Err(AppError::Conflict(
                        "A sync of this catalog is already running; wait for it to finish.".into(),
                    ))
                }
            },
            Err(SyncError::NoDirectory) => {
                return Err(AppError::Refused("No directory is configured, so there are no groups to sync. Set GATEHOUSE_DIRECTORY (file, graph or ldap) and restart Gatehouse.".into()))
            }
            Err(SyncError::Failed { run_id, .. }) => break (run_id, false),
            Err(SyncError::Database(e)) => return Err(e.into()),
        }
    };
    let run = queries::sync_run(&syncer.pool, run_id).await?;
    Ok(SyncStart {
        run,
        already_running,
    })
}

pub async fn list_groups(
    state: &AppState,
    search: &str,
    cursor: Cursor,
) -> Result<Page<GroupSummary>, AppError> {
    Ok(group_queries::list_groups(&state.pool, &state.directory_cache, search, &cursor).await?)
}

pub async fn group_detail(
    state: &AppState,
    source: &str,
    id: &str,
    members: Cursor,
) -> Result<GroupDetail, AppError> {
    group_queries::group_detail(&state.pool, source, id, &members)
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!("No {source} group with the id `{id}` was synced."))
        })
}

/// One page of the roles matching `search`: managed first, gone last, then by name.
pub async fn list_roles(
    state: &AppState,
    search: &str,
    cursor: &crate::catalog::types::Cursor,
    size: usize,
) -> Result<crate::catalog::types::Page<RoleSummary>, AppError> {
    Ok(role_queries::roles_page(&state.pool, search, cursor, size).await?)
}

pub async fn role_detail(
    state: &AppState,
    target: &str,
    name: &str,
) -> Result<RoleDetail, AppError> {
    let mut detail = role_queries::role_detail(&state.pool, target, name)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No role named `{name}` was synced.")))?;
    detail.gatehouse = crate::backend::mappings::queries::role_mappings(
        &state.pool,
        &state.desired,
        &state.settings.aws,
        &detail.summary.arn,
    )
    .await?;
    Ok(detail)
}
