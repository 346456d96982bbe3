//! The catalog pages' server functions. They check the caller's roles, then ask the server's
//! [`CatalogBackend`] (provided through context), which owns the database and AWS.

pub mod types;

use leptos::prelude::*;

use types::{ApiDetail, ApiSummary, SyncRun};

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
        fn sync<'a>(&'a self, by: &'a CurrentUser, catalog: CatalogKind) -> BoxFuture<'a, SyncRun>;
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
    if search.len() > 200 {
        return Err(ServerFnError::new(
            "The search is too long (200 characters at most).",
        ));
    }
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

/// Admins only. Runs the API catalog sync now and answers with its result.
#[server(endpoint = "catalog/sync-apis")]
pub async fn sync_apis() -> Result<SyncRun, ServerFnError> {
    ssr_sync(types::CatalogKind::Apis).await
}

/// Admins only. Runs the IAM role catalog sync now and answers with its result.
#[server(endpoint = "catalog/sync-roles")]
pub async fn sync_roles() -> Result<SyncRun, ServerFnError> {
    ssr_sync(types::CatalogKind::Roles).await
}

#[cfg(feature = "ssr")]
async fn ssr_sync(kind: types::CatalogKind) -> Result<SyncRun, ServerFnError> {
    let user = crate::me::ssr::require_role(&[Role::Admin])?;
    backend::backend()?
        .sync(&user, kind)
        .await
        .map_err(ServerFnError::new)
}
