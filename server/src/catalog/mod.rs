//! Catalog syncs: read what exists in AWS (and, later, the directory) into Postgres. Each run is
//! a `sync_runs` row and an audit event; one run per catalog at a time, across processes.

pub mod apigateway;
pub mod iam;
pub mod queries;
pub mod rate_limit;
pub mod store;

use serde_json::json;
use sqlx::PgPool;

use crate::{
    audit::{self, Actor},
    aws::AwsClients,
};
use rate_limit::ApiGatewayLimits;
use store::SyncCounts;

/// The catalogs Gatehouse syncs from AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Catalog {
    Apis,
    Roles,
}

impl Catalog {
    pub fn name(self) -> &'static str {
        match self {
            Catalog::Apis => "apis",
            Catalog::Roles => "roles",
        }
    }

    /// Advisory-lock key of the catalog's sync (constants unique to Gatehouse).
    pub fn lock_key(self) -> i64 {
        match self {
            Catalog::Apis => APIS_LOCK,
            Catalog::Roles => APIS_LOCK + 1,
        }
    }
}

pub const APIS_LOCK: i64 = 0x6761_7465_0001;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("a sync of this catalog is already running")]
    AlreadyRunning,
    #[error("the sync failed: {message}")]
    Failed { run_id: i64, message: String },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug)]
pub struct SyncOutcome {
    pub run_id: i64,
    pub counts: SyncCounts,
}

/// Runs one catalog's sync now, unless another run of it holds the lock (in any process).
pub async fn sync(
    pool: &PgPool,
    aws: &AwsClients,
    target: &str,
    limits: &ApiGatewayLimits,
    actor: &Actor,
    catalog: Catalog,
) -> Result<SyncOutcome, SyncError> {
    // The lock lives as long as this connection holds it; another process gets `false`.
    let mut lock = pool.acquire().await?;
    let acquired: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(catalog.lock_key())
        .fetch_one(&mut *lock)
        .await?;
    if !acquired {
        return Err(SyncError::AlreadyRunning);
    }
    let result = run_sync(pool, aws, target, limits, actor, catalog).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(catalog.lock_key())
        .execute(&mut *lock)
        .await?;
    result
}

async fn fetch_and_store(
    pool: &PgPool,
    aws: &AwsClients,
    target: &str,
    limits: &ApiGatewayLimits,
    catalog: Catalog,
) -> Result<SyncCounts, String> {
    let saving = |e: sqlx::Error| format!("saving the catalog: {e}");
    match catalog {
        Catalog::Apis => {
            let apis = apigateway::fetch_all(&aws.apigateway, limits)
                .await
                .map_err(|e| format!("{e:#}"))?;
            store::store_apis(pool, target, &apis).await.map_err(saving)
        }
        Catalog::Roles => {
            let roles = iam::fetch_all(&aws.iam)
                .await
                .map_err(|e| format!("{e:#}"))?;
            store::store_roles(pool, target, &roles)
                .await
                .map_err(saving)
        }
    }
}

async fn run_sync(
    pool: &PgPool,
    aws: &AwsClients,
    target: &str,
    limits: &ApiGatewayLimits,
    actor: &Actor,
    catalog: Catalog,
) -> Result<SyncOutcome, SyncError> {
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO sync_runs (catalog, started_by) VALUES ($1, $2) RETURNING id",
    )
    .bind(catalog.name())
    .bind(&actor.name)
    .fetch_one(pool)
    .await?;
    let outcome = fetch_and_store(pool, aws, target, limits, catalog).await;
    if let Err(message) = &outcome {
        tracing::error!(run_id, catalog = catalog.name(), error = %message, "catalog sync failed");
    }
    let counts = outcome.as_ref().ok();
    sqlx::query(
        "UPDATE sync_runs SET finished_at = now(), added = $2, changed = $3, removed = $4, error = $5
         WHERE id = $1",
    )
    .bind(run_id)
    .bind(counts.map(|c| c.added))
    .bind(counts.map(|c| c.changed))
    .bind(counts.map(|c| c.removed))
    .bind(outcome.as_ref().err())
    .execute(pool)
    .await?;
    let (action, details) = match &outcome {
        Ok(counts) => (
            audit::action::SYNC_FINISHED,
            json!({ "run": run_id, "target": target, "counts": counts }),
        ),
        Err(message) => (
            audit::action::SYNC_FAILED,
            json!({ "run": run_id, "target": target, "error": message }),
        ),
    };
    let subject = format!("catalog:{}", catalog.name());
    audit::record(pool, actor, action, Some(&subject), details).await?;
    match outcome {
        Ok(counts) => Ok(SyncOutcome { run_id, counts }),
        Err(message) => Err(SyncError::Failed { run_id, message }),
    }
}
