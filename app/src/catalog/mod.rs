//! The catalog pages' server functions. They check the caller's roles, then ask the server's
//! [`CatalogBackend`] (provided through context), which owns the database and AWS.

pub mod types;

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use types::Cursor;
use types::{
    ApiDetail, ApiSummary, GroupDetail, GroupSummary, Page, RoleDetail, RoleSummary, SyncRun,
};

#[cfg(feature = "ssr")]
pub use backend::CatalogBackend;

#[cfg(feature = "ssr")]
mod backend {
    use super::types::*;
    use crate::roles::CurrentUser;
    use std::{future::Future, pin::Pin};

    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

    /// Implemented by the server; errors are already worded for people.
    pub trait CatalogBackend: Send + Sync {
        fn list_apis<'a>(
            &'a self,
            search: &'a str,
            sort: ApiSort,
        ) -> BoxFuture<'a, Vec<ApiSummary>>;
        fn api_detail<'a>(&'a self, api_id: &'a str) -> BoxFuture<'a, Option<ApiDetail>>;
        fn sync_runs(&self) -> BoxFuture<'_, Vec<SyncRun>>;
        /// Starts a sync in the background; answers its (running) run.
        fn start_sync<'a>(
            &'a self,
            by: &'a CurrentUser,
            catalog: CatalogKind,
        ) -> BoxFuture<'a, SyncStart>;
        fn list_groups<'a>(
            &'a self,
            search: &'a str,
            cursor: Cursor,
        ) -> BoxFuture<'a, Page<GroupSummary>>;
        fn group_detail<'a>(
            &'a self,
            source: &'a str,
            id: &'a str,
            members: Cursor,
        ) -> BoxFuture<'a, Option<GroupDetail>>;
        fn list_roles<'a>(&'a self, search: &'a str) -> BoxFuture<'a, Vec<RoleSummary>>;
        fn role_detail<'a>(
            &'a self,
            target: &'a str,
            name: &'a str,
        ) -> BoxFuture<'a, Option<RoleDetail>>;
    }

    pub fn backend() -> Result<std::sync::Arc<dyn CatalogBackend>, leptos::prelude::ServerFnError> {
        leptos::prelude::use_context::<std::sync::Arc<dyn CatalogBackend>>()
            .ok_or_else(|| leptos::prelude::ServerFnError::new("the catalog is not available"))
    }
}

#[cfg(feature = "ssr")]
use crate::roles::Role;
#[cfg(feature = "ssr")]
const READERS: &[Role] = &[Role::Admin, Role::Reviewer, Role::Auditor];

#[server(endpoint = "catalog/apis")]
pub async fn list_apis(search: String, sort: String) -> Result<Vec<ApiSummary>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    check_search(&search)?;
    let sort = types::ApiSort::parse(&sort);
    backend::backend()?
        .list_apis(search.trim(), sort)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "catalog/api")]
pub async fn get_api(api_id: String) -> Result<Option<ApiDetail>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    backend::backend()?
        .api_detail(&api_id)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "catalog/sync-runs")]
pub async fn list_sync_runs() -> Result<Vec<SyncRun>, ServerFnError> {
    crate::me::ssr::require_role(&[Role::Admin])?;
    backend::backend()?
        .sync_runs()
        .await
        .map_err(ServerFnError::new)
}

/// Admins only. Starts a catalog's sync (`apis`, `roles` or `groups`) in the background and
/// answers with the running run; the Sync page follows it.
#[server(endpoint = "catalog/sync")]
pub async fn start_sync(catalog: String) -> Result<types::SyncStart, ServerFnError> {
    let user = crate::me::ssr::require_role(&[Role::Admin])?;
    let kind = types::CatalogKind::parse(&catalog)
        .ok_or_else(|| ServerFnError::new(format!("There is no catalog called `{catalog}`.")))?;
    backend::backend()?
        .start_sync(&user, kind)
        .await
        .map_err(ServerFnError::new)
}

#[cfg(feature = "ssr")]
fn check_search(search: &str) -> Result<(), ServerFnError> {
    if search.len() > 200 {
        return Err(ServerFnError::new(
            "The search is too long (200 characters at most).",
        ));
    }
    Ok(())
}

/// A page of groups matching `search` (name, mail or id), after or before a group id.
#[server(endpoint = "catalog/groups")]
pub async fn list_groups(
    search: String,
    after: String,
    before: String,
) -> Result<Page<GroupSummary>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    check_search(&search)?;
    backend::backend()?
        .list_groups(search.trim(), Cursor::from_query(&after, &before))
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "catalog/group")]
pub async fn get_group(
    source: String,
    id: String,
    after: String,
    before: String,
) -> Result<Option<GroupDetail>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    backend::backend()?
        .group_detail(&source, &id, Cursor::from_query(&after, &before))
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "catalog/roles")]
pub async fn list_roles(search: String) -> Result<Vec<RoleSummary>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    check_search(&search)?;
    backend::backend()?
        .list_roles(search.trim())
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "catalog/role")]
pub async fn get_role(target: String, name: String) -> Result<Option<RoleDetail>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    backend::backend()?
        .role_detail(&target, &name)
        .await
        .map_err(ServerFnError::new)
}
