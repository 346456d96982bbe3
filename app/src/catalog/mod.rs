//! The catalog pages' server functions. Each checks the caller's roles, then calls
//! `crate::backend::catalog::service`, which reads Postgres and starts syncs.

pub mod types;

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use types::Cursor;
use types::{
    ApiDetail, ApiSummary, GroupDetail, GroupSummary, Page, RoleDetail, RoleSummary, SyncRun,
};

#[cfg(feature = "ssr")]
use crate::roles::{Role, READERS};
#[cfg(feature = "ssr")]
use crate::{backend::catalog::service, backend::state::app_state, me::ssr::require_role};

/// One page of the APIs matching `search`, in `sort` order, after or before an API's key.
#[server(endpoint = "catalog/apis", output = crate::codec::StrJson)]
pub async fn list_apis(
    search: String,
    sort: String,
    #[server(default)] after: String,
    #[server(default)] before: String,
    #[server(default)] size: String,
) -> Result<Page<ApiSummary>, AppError> {
    require_role(READERS)?;
    check_search(&search)?;
    let cursor = Cursor::from_query(&after, &before);
    let size = crate::domain::paging::size_of(&size);
    let sort = types::ApiSort::parse(&sort);
    service::list_apis(&app_state()?, search.trim(), sort, &cursor, size).await
}

#[server(endpoint = "catalog/api", output = crate::codec::StrJson)]
pub async fn get_api(api_id: String) -> Result<ApiDetail, AppError> {
    require_role(READERS)?;
    service::api_detail(&app_state()?, &api_id).await
}

#[server(endpoint = "catalog/sync-runs", output = crate::codec::StrJson)]
pub async fn list_sync_runs() -> Result<Vec<SyncRun>, AppError> {
    require_role(&[Role::Admin])?;
    service::sync_runs(&app_state()?).await
}

/// Admins only. Where the directory's stored copy stands (None: no directory configured).
#[server(endpoint = "catalog/directory-status", output = crate::codec::StrJson)]
pub async fn directory_status() -> Result<Option<types::DirectoryStatus>, AppError> {
    require_role(&[Role::Admin])?;
    service::directory_status(&app_state()?).await
}

/// Admins only. Starts a catalog's sync (`apis`, `roles` or `groups`) in the background and
/// answers with the running run; the Sync page follows it. `mode` (groups only): empty, `full`
/// (ignore the delta links) or `allow-removals` (apply what the mass-removal guard held back;
/// audited with the run).
#[server(endpoint = "catalog/sync", output = crate::codec::StrJson)]
pub async fn start_sync(
    catalog: String,
    #[server(default)] mode: String,
) -> Result<types::SyncStart, AppError> {
    require_role(&[Role::Admin])?;
    let kind = types::CatalogKind::parse(&catalog).ok_or_else(|| {
        AppError::invalid(
            "catalog",
            format!("There is no catalog called `{catalog}`."),
        )
    })?;
    let mode = types::SyncMode::parse(&mode).ok_or_else(|| {
        AppError::invalid(
            "mode",
            format!("`{mode}` is not a way to sync (full or allow-removals)."),
        )
    })?;
    service::start_sync(&app_state()?, kind, mode).await
}

/// Admins only. The Sync page's forms: [`start_sync`], answered as a form outcome ("Run 12 of
/// the directory groups started…") that the form's redirect carries back to the page, the
/// catalog kept with it so the page says it beside the right button.
#[server(endpoint = "catalog/sync-form", output = crate::codec::StrJson)]
pub async fn start_sync_form(
    catalog: String,
    #[server(default)] mode: String,
) -> Result<crate::form::FormOutcome, AppError> {
    use crate::form::{ssr::answer_typed, FormOutcome};
    let started = start_sync(catalog.clone(), mode).await;
    let outcome = started.map(|start| {
        let what = types::CatalogKind::parse(&catalog)
            .map(|k| k.title())
            .unwrap_or("catalog");
        FormOutcome::message(if start.already_running {
            format!(
                "A sync of the {what} was already running (run {}); follow it below.",
                start.run.id
            )
        } else {
            format!(
                "Run {} of the {what} started; follow it below.",
                start.run.id
            )
        })
    });
    // The catalog goes back with every outcome, not only a refused one: it says which card.
    let answered = answer_typed(outcome, &[("catalog", &catalog)]);
    let with_catalog = |mut o: FormOutcome| {
        o.typed = vec![("catalog".into(), catalog.clone())];
        o
    };
    match answered {
        Ok(o) => Ok(with_catalog(o)),
        Err(AppError::Form(o)) => Err(AppError::form(with_catalog(*o))),
        Err(e) => Err(e),
    }
}

#[cfg(feature = "ssr")]
fn check_search(search: &str) -> Result<(), AppError> {
    if search.len() > 200 {
        return Err(AppError::invalid(
            "search",
            "The search is too long (200 characters at most).",
        ));
    }
    Ok(())
}

/// A page of groups matching `search` (name, mail or id), after or before a group id.
#[server(endpoint = "catalog/groups", output = crate::codec::StrJson)]
pub async fn list_groups(
    search: String,
    after: String,
    before: String,
) -> Result<Page<GroupSummary>, AppError> {
    require_role(READERS)?;
    check_search(&search)?;
    service::list_groups(
        &app_state()?,
        search.trim(),
        Cursor::from_query(&after, &before),
    )
    .await
}

#[server(endpoint = "catalog/group", output = crate::codec::StrJson)]
pub async fn get_group(
    source: String,
    id: String,
    after: String,
    before: String,
) -> Result<GroupDetail, AppError> {
    require_role(READERS)?;
    service::group_detail(
        &app_state()?,
        &source,
        &id,
        Cursor::from_query(&after, &before),
    )
    .await
}

#[server(endpoint = "catalog/roles", output = crate::codec::StrJson)]
pub async fn list_roles(
    search: String,
    #[server(default)] after: String,
    #[server(default)] before: String,
    #[server(default)] size: String,
) -> Result<Page<RoleSummary>, AppError> {
    require_role(READERS)?;
    check_search(&search)?;
    let cursor = Cursor::from_query(&after, &before);
    let size = crate::domain::paging::size_of(&size);
    service::list_roles(&app_state()?, search.trim(), &cursor, size).await
}

#[server(endpoint = "catalog/role", output = crate::codec::StrJson)]
pub async fn get_role(target: String, name: String) -> Result<RoleDetail, AppError> {
    require_role(READERS)?;
    service::role_detail(&app_state()?, &target, &name).await
}
