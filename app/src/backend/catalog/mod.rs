//! Catalog syncs: read what exists in AWS (every target) and in the directory into Postgres.
//! Each run is a `sync_runs` row and an audit event; one run per catalog at a time, across
//! processes (a Postgres advisory lock held for the whole run).

pub mod apigateway;
pub mod apigatewayv2;
pub mod group_queries;
pub mod iam;
pub mod queries;
pub mod rate_limit;
pub mod role_queries;
pub mod schedule;
pub mod service;
pub mod store;
pub mod trust;

use std::sync::Arc;

use serde_json::json;
use sqlx::{pool::PoolConnection, PgPool, Postgres};

use crate::backend::{
    audit::{self, Actor},
    aws::{self, AwsClients},
    config::AwsSettings,
    directory::{self, store::SyncOptions, Directory, DirectoryError},
};
use crate::catalog::types::SyncDetails;
use rate_limit::ApiGatewayLimits;
use store::SyncCounts;

/// The catalogs Gatehouse syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Catalog {
    Apis,
    Roles,
    Groups,
}

impl Catalog {
    pub const ALL: [Catalog; 3] = [Catalog::Apis, Catalog::Roles, Catalog::Groups];

    pub fn name(self) -> &'static str {
        match self {
            Catalog::Apis => "apis",
            Catalog::Roles => "roles",
            Catalog::Groups => "groups",
        }
    }

    /// Advisory-lock key of the catalog's sync (constants unique to Gatehouse).
    pub fn lock_key(self) -> i64 {
        APIS_LOCK
            + match self {
                Catalog::Apis => 0,
                Catalog::Roles => 1,
                Catalog::Groups => 2,
            }
    }
}

pub const APIS_LOCK: i64 = 0x6761_7465_0001;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("a sync of this catalog is already running")]
    AlreadyRunning,
    #[error("no directory is configured: set GATEHOUSE_DIRECTORY to file, graph or ldap")]
    NoDirectory,
    #[error("the sync failed: {message}")]
    Failed { run_id: i64, message: String },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Why a sync ended failed; its text is stored with the run.
#[derive(Debug, thiserror::Error)]
pub enum SyncFailure {
    #[error("no directory is configured")]
    NoDirectory,
    #[error("{0}")]
    Directory(String),
    #[error("{}{error}", target.as_ref().map(|t| format!("{t}: ")).unwrap_or_default())]
    Aws {
        target: Option<String>,
        error: String,
    },
    #[error("saving the catalog: {0}")]
    Saving(String),
    #[error("{0}")]
    RemovalsHeld(directory::guard::RemovalsHeld),
}

#[derive(Debug)]
pub struct SyncOutcome {
    pub run_id: i64,
    pub counts: SyncCounts,
    /// People and memberships, for a directory sync.
    pub directory: Option<SyncDetails>,
}

/// How a run goes beyond the default (directory syncs only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncRequest {
    /// List everything, ignoring stored delta links.
    pub full: bool,
    /// Apply removals the mass-removal guard would hold back.
    pub allow_removals: bool,
}

/// One AWS account and region with its clients and its own API Gateway quotas.
pub struct Target {
    pub name: String,
    pub clients: AwsClients,
    pub limits: ApiGatewayLimits,
}

/// Everything a sync reads from and writes to.
pub struct Syncer {
    pub pool: PgPool,
    pub targets: Vec<Target>,
    pub directory: Option<Arc<Directory>>,
    /// The mass-removal guard's threshold for directory syncs.
    pub max_removal_percent: u32,
}

/// A started run: the connection holding its lock, and its row.
struct Started {
    lock: HeldLock,
    run_id: i64,
    request: SyncRequest,
}

/// A pooled connection holding a session-level advisory lock. Released, the lock is given up and
/// the connection goes back to the pool; dropped otherwise (an error, a panic, a cancelled
/// task), the connection is taken out of the pool and closed, which ends its session and so its
/// lock: a pooled connection never keeps a lock nobody will release.
struct HeldLock {
    conn: Option<PoolConnection<Postgres>>,
    key: i64,
}

impl HeldLock {
    fn conn(&mut self) -> &mut sqlx::PgConnection {
        self.conn.as_mut().expect("held until released")
    }

    async fn release(mut self) -> sqlx::Result<()> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        let unlocked = sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .fetch_one(&mut *conn)
            .await;
        if unlocked.is_err() {
            drop(conn.detach());
        }
        unlocked.map(|_| ())
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

impl Syncer {
    pub async fn new(
        pool: PgPool,
        aws_settings: &AwsSettings,
        directory: Option<Arc<Directory>>,
    ) -> Syncer {
        let mut targets = Vec::new();
        for target in &aws_settings.targets {
            targets.push(Target {
                name: target.name(),
                clients: aws::target_clients(aws_settings, target).await,
                limits: ApiGatewayLimits::for_endpoint(aws_settings),
            });
        }
        Syncer {
            pool,
            targets,
            directory,
            max_removal_percent: directory::guard::DEFAULT_MAX_REMOVAL_PERCENT,
        }
    }

    /// Runs a catalog's sync now and waits for it.
    pub async fn sync(&self, actor: &Actor, catalog: Catalog) -> Result<SyncOutcome, SyncError> {
        self.sync_with(actor, catalog, SyncRequest::default()).await
    }

    pub async fn sync_with(
        &self,
        actor: &Actor,
        catalog: Catalog,
        request: SyncRequest,
    ) -> Result<SyncOutcome, SyncError> {
        let started = self.begin(actor, catalog, request).await?;
        self.complete(started, actor, catalog).await
    }

    /// Starts a catalog's sync in the background and answers its run id at once; the run
    /// goes on if the person leaves the page.
    pub async fn start(
        self: &Arc<Self>,
        actor: Actor,
        catalog: Catalog,
        request: SyncRequest,
    ) -> Result<i64, SyncError> {
        let started = self.begin(&actor, catalog, request).await?;
        let run_id = started.run_id;
        let syncer = Arc::clone(self);
        tokio::spawn(async move {
            // The outcome is in the run's row and the audit log.
            let _ = syncer.complete(started, &actor, catalog).await;
        });
        Ok(run_id)
    }

    /// Every catalog in turn (the directory's only when one is configured).
    pub async fn sync_all(&self, actor: &Actor) -> Vec<(Catalog, Result<SyncOutcome, SyncError>)> {
        let mut outcomes = Vec::new();
        for catalog in Catalog::ALL {
            if catalog == Catalog::Groups && self.directory.is_none() {
                continue;
            }
            outcomes.push((catalog, self.sync(actor, catalog).await));
        }
        outcomes
    }

    async fn begin(
        &self,
        actor: &Actor,
        catalog: Catalog,
        request: SyncRequest,
    ) -> Result<Started, SyncError> {
        if catalog == Catalog::Groups && self.directory.is_none() {
            return Err(SyncError::NoDirectory);
        }
        // The lock lives as long as this connection holds it; another process gets `false`.
        let mut conn = self.pool.acquire().await?;
        let acquired = sqlx::query_scalar!(
            r#"SELECT pg_try_advisory_lock($1) AS "acquired!""#,
            catalog.lock_key()
        )
        .fetch_one(&mut *conn)
        .await?;
        if !acquired {
            return Err(SyncError::AlreadyRunning);
        }
        let mut lock = HeldLock {
            conn: Some(conn),
            key: catalog.lock_key(),
        };
        // Holding the lock, no run of this catalog can be going on: an unfinished row is one a
        // stopped server left behind.
        sqlx::query!(
            "UPDATE sync_runs SET finished_at = now(), progress = NULL,
                 error = 'interrupted: the server stopped during this run'
             WHERE catalog = $1 AND finished_at IS NULL",
            catalog.name(),
        )
        .execute(lock.conn())
        .await?;
        let run_id = sqlx::query_scalar!(
            "INSERT INTO sync_runs (catalog, started_by) VALUES ($1, $2) RETURNING id",
            catalog.name(),
            &actor.name,
        )
        .fetch_one(lock.conn())
        .await?;
        Ok(Started {
            lock,
            run_id,
            request,
        })
    }

    #[tracing::instrument(name = "sync", skip_all, fields(run = started.run_id, catalog = catalog.name()))]
    async fn complete(
        &self,
        started: Started,
        actor: &Actor,
        catalog: Catalog,
    ) -> Result<SyncOutcome, SyncError> {
        let run_id = started.run_id;
        let began = std::time::Instant::now();
        let outcome = self.fetch_and_store(run_id, catalog, started.request).await;
        crate::backend::signals::sync(catalog.name(), began.elapsed(), outcome.is_ok());
        let result = self.record(run_id, actor, catalog, outcome).await;
        started.lock.release().await?;
        result
    }

    async fn progress(&self, run_id: i64, text: String) {
        let _ = sqlx::query!(
            "UPDATE sync_runs SET progress = $2 WHERE id = $1",
            run_id,
            text
        )
        .execute(&self.pool)
        .await;
    }

    async fn sync_directory(
        &self,
        run_id: i64,
        request: SyncRequest,
    ) -> Result<(SyncCounts, SyncDetails), SyncFailure> {
        let directory = self.directory.as_ref().ok_or(SyncFailure::NoDirectory)?;
        let options = SyncOptions {
            full: request.full,
            allow_removals: request.allow_removals,
            max_removal_percent: self.max_removal_percent,
        };
        directory::store::sync_directory(&self.pool, directory, options, Some(run_id))
            .await
            .map_err(|e| match e {
                DirectoryError::RemovalsHeld(held) => SyncFailure::RemovalsHeld(held),
                e => SyncFailure::Directory(directory::one_line(&e.to_string())),
            })
    }

    async fn fetch_and_store(
        &self,
        run_id: i64,
        catalog: Catalog,
        request: SyncRequest,
    ) -> Result<(SyncCounts, Option<SyncDetails>), SyncFailure> {
        let saving = |e: sqlx::Error| SyncFailure::Saving(e.to_string());
        let mut total = SyncCounts::default();
        if catalog == Catalog::Groups {
            let (counts, details) = self.sync_directory(run_id, request).await?;
            return Ok((counts, Some(details)));
        }
        let many = self.targets.len() > 1;
        for (i, target) in self.targets.iter().enumerate() {
            let place = |e: String| SyncFailure::Aws {
                target: many.then(|| target.name.clone()),
                error: e,
            };
            self.progress(
                run_id,
                format!(
                    "reading {} ({} of {})",
                    target.name,
                    i + 1,
                    self.targets.len()
                ),
            )
            .await;
            let counts = match catalog {
                Catalog::Apis => {
                    let mut apis =
                        apigateway::fetch_all(&target.clients.apigateway, &target.limits)
                            .await
                            .map_err(|e| place(format!("{e:#}")))?;
                    apis.extend(
                        apigatewayv2::fetch_all(&target.clients.apigatewayv2, &target.limits)
                            .await
                            .map_err(|e| place(format!("{e:#}")))?,
                    );
                    store::store_apis(&self.pool, &target.name, &apis)
                        .await
                        .map_err(saving)?
                }
                _ => {
                    let roles = iam::fetch_all(&target.clients.iam)
                        .await
                        .map_err(|e| place(format!("{e:#}")))?;
                    store::store_roles(&self.pool, &target.name, &roles)
                        .await
                        .map_err(saving)?
                }
            };
            total.added += counts.added;
            total.changed += counts.changed;
            total.removed += counts.removed;
        }
        Ok((total, None))
    }

    async fn record(
        &self,
        run_id: i64,
        actor: &Actor,
        catalog: Catalog,
        outcome: Result<(SyncCounts, Option<SyncDetails>), SyncFailure>,
    ) -> Result<SyncOutcome, SyncError> {
        // What the Sync page shows beyond the counts: the directory's report, or the removals
        // the guard held back (so the page can offer to apply them).
        let details = match &outcome {
            Ok((_, report)) => report.as_ref().map(|r| json!(r)),
            Err(SyncFailure::RemovalsHeld(held)) => Some(json!({
                "removals_held": held.would_remove, "what": held.what, "known": held.known,
            })),
            Err(_) => None,
        };
        let outcome = outcome.map_err(|e| e.to_string());
        if let Err(message) = &outcome {
            tracing::error!(run_id, catalog = catalog.name(), error = %message, "catalog sync failed");
        }
        let counts = outcome.as_ref().ok().map(|(c, _)| c);
        sqlx::query!(
            "UPDATE sync_runs SET finished_at = now(), added = $2, changed = $3, removed = $4,
                 error = $5, progress = NULL, details = $6
             WHERE id = $1",
            run_id,
            counts.map(|c| c.added),
            counts.map(|c| c.changed),
            counts.map(|c| c.removed),
            outcome.as_ref().err(),
            details.clone(),
        )
        .execute(&self.pool)
        .await?;
        let source = match catalog {
            Catalog::Groups => json!(self.directory.as_ref().map(|d| d.source())),
            _ => json!(self.targets.iter().map(|t| &t.name).collect::<Vec<_>>()),
        };
        let (action, details) = match &outcome {
            Ok((counts, _)) => (
                audit::action::SYNC_FINISHED,
                json!({ "run": run_id, "from": source, "counts": counts, "directory": details }),
            ),
            Err(message) => (
                audit::action::SYNC_FAILED,
                json!({ "run": run_id, "from": source, "error": message, "directory": details }),
            ),
        };
        let subject = format!("catalog:{}", catalog.name());
        audit::record(&self.pool, actor, action, Some(&subject), details).await?;
        match outcome {
            Ok((counts, directory)) => Ok(SyncOutcome {
                run_id,
                counts,
                directory,
            }),
            Err(message) => Err(SyncError::Failed { run_id, message }),
        }
    }
}
