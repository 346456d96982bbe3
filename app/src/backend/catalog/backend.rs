//! The [`CatalogBackend`] the pages' server functions call: reads from Postgres, starts syncs.

use std::sync::Arc;

use crate::{
    catalog::{types::*, CatalogBackend},
    roles::CurrentUser,
};

use super::{group_queries, queries, role_queries, Catalog, SyncError, Syncer};
use crate::backend::{audit::Actor, session::SessionUser};

type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + Send + 'a>>;

pub struct ServerCatalog {
    pub syncer: Arc<Syncer>,
}

fn internal(e: sqlx::Error) -> String {
    tracing::error!(error = %e, "catalog query failed");
    "Gatehouse could not read the catalog; try again.".to_string()
}

/// The person calling a server function, for the audit log.
fn caller(user: &CurrentUser) -> Actor {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<SessionUser>()
                .map(SessionUser::actor)
        })
        .unwrap_or_else(|| Actor {
            tid: None,
            oid: None,
            name: format!("{} <{}>", user.display_name, user.username),
        })
}

impl CatalogBackend for ServerCatalog {
    fn list_apis<'a>(&'a self, search: &'a str, sort: ApiSort) -> BoxFuture<'a, Vec<ApiSummary>> {
        let pool = &self.syncer.pool;
        Box::pin(async move {
            queries::list_apis(pool, search, sort)
                .await
                .map_err(internal)
        })
    }

    fn api_detail<'a>(&'a self, api_id: &'a str) -> BoxFuture<'a, Option<ApiDetail>> {
        let pool = &self.syncer.pool;
        Box::pin(async move {
            let mut detail = queries::api_detail(pool, api_id).await.map_err(internal)?;
            if let Some(d) = detail.as_mut() {
                crate::backend::mappings::queries::fill_callers(pool, d)
                    .await
                    .map_err(internal)?;
            }
            Ok(detail)
        })
    }

    fn sync_runs(&self) -> BoxFuture<'_, Vec<SyncRun>> {
        let pool = &self.syncer.pool;
        Box::pin(async move { queries::sync_runs(pool, 20).await.map_err(internal) })
    }

    fn start_sync<'a>(
        &'a self,
        by: &'a CurrentUser,
        kind: CatalogKind,
    ) -> BoxFuture<'a, SyncStart> {
        let catalog = match kind {
            CatalogKind::Apis => Catalog::Apis,
            CatalogKind::Roles => Catalog::Roles,
            CatalogKind::Groups => Catalog::Groups,
        };
        let actor = caller(by);
        Box::pin(async move {
            // A run that finishes between our try and our look is gone from both: try again.
            let mut attempt = 0;
            let (run_id, already_running) = loop {
                match self.syncer.start(actor.clone(), catalog).await {
                    Ok(run_id) => break (run_id, false),
                    Err(SyncError::AlreadyRunning) => {
                        let running: Option<i64> = sqlx::query_scalar(
                            "SELECT max(id) FROM sync_runs WHERE catalog = $1 AND finished_at IS NULL",
                        )
                        .bind(catalog.name())
                        .fetch_one(&self.syncer.pool)
                        .await
                        .map_err(internal)?;
                        match running {
                            Some(id) => break (id, true),
                            None if attempt < 5 => {
                                attempt += 1;
                                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            }
                            None => {
                                return Err("A sync of this catalog is already running; wait for it to finish.".into())
                            }
                        }
                    }
                    Err(SyncError::NoDirectory) => {
                        return Err("No directory is configured, so there are no groups to sync. Set GATEHOUSE_DIRECTORY (file, graph or ldap) and restart Gatehouse.".into())
                    }
                    Err(SyncError::Failed { run_id, .. }) => break (run_id, false),
                    Err(SyncError::Database(e)) => return Err(internal(e)),
                }
            };
            let run = queries::sync_run(&self.syncer.pool, run_id)
                .await
                .map_err(internal)?;
            Ok(SyncStart {
                run,
                already_running,
            })
        })
    }

    fn list_groups<'a>(
        &'a self,
        search: &'a str,
        cursor: Cursor,
    ) -> BoxFuture<'a, Page<GroupSummary>> {
        let pool = &self.syncer.pool;
        Box::pin(async move {
            group_queries::list_groups(pool, search, &cursor)
                .await
                .map_err(internal)
        })
    }

    fn group_detail<'a>(
        &'a self,
        source: &'a str,
        id: &'a str,
        members: Cursor,
    ) -> BoxFuture<'a, Option<GroupDetail>> {
        let directory = self.syncer.directory.as_deref();
        Box::pin(async move {
            group_queries::group_detail(&self.syncer.pool, directory, source, id, &members)
                .await
                .map_err(internal)
        })
    }

    fn list_roles<'a>(&'a self, search: &'a str) -> BoxFuture<'a, Vec<RoleSummary>> {
        let pool = &self.syncer.pool;
        Box::pin(async move {
            role_queries::list_roles(pool, search)
                .await
                .map_err(internal)
        })
    }

    fn role_detail<'a>(
        &'a self,
        target: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Option<RoleDetail>> {
        let pool = &self.syncer.pool;
        Box::pin(async move {
            let Some(mut detail) = role_queries::role_detail(pool, target, name)
                .await
                .map_err(internal)?
            else {
                return Ok(None);
            };
            detail.gatehouse =
                crate::backend::mappings::queries::role_mappings(pool, &detail.summary.arn)
                    .await
                    .map_err(internal)?;
            Ok(Some(detail))
        })
    }
}
