//! The database: two roles. Migrations run as the owner; the server runs as a role that holds
//! `gatehouse_runtime`, which may read and write the working tables but only `INSERT` and
//! `SELECT` the audit log: it cannot switch the append-only trigger off, edit rows or re-chain.

use std::time::Duration;

use sqlx::{postgres::PgPoolOptions, PgPool};

use crate::backend::config::{DatabaseSettings, Secret};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The role every runtime login role is granted (`GRANT gatehouse_runtime TO gatehouse_app`).
pub const RUNTIME_ROLE: &str = "gatehouse_runtime";

pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    connect_url(&settings.url, "DATABASE_URL").await
}

/// A pooled connection idle at least this long is pinged before it is handed out.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(10);

async fn connect_url(url: &Secret, name: &str) -> anyhow::Result<PgPool> {
    pool_options(PING_IF_IDLE_FOR)
        .connect(url.expose())
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database ({name}): {e}"))
}

/// The pool's settings: 16 connections, 10 s to wait for one, and a connection idle for
/// `ping_if_idle_for` pinged before it is handed out.
pub fn pool_options(ping_if_idle_for: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings every connection it hands out: a round trip before every query, a tenth
        // of a busy list page's CPU (bench/scale.sh). One in steady use is known to work; one
        // idle for a while may have been cut (a restart, a proxy's timeout): it is asked first,
        // and dropped for another if it does not answer.
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= ping_if_idle_for {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// The runtime pool, with the schema brought up to date first when the owner's URL is given,
/// else checked to be up to date (a server never runs against a schema it does not know).
pub async fn prepare(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    if let Some(owner) = &settings.owner_url {
        let owner = connect_url(owner, "GATEHOUSE_OWNER_DATABASE_URL").await?;
        migrate(&owner).await?;
        owner.close().await;
    }
    let pool = connect(settings).await?;
    check_current(&pool).await?;
    Ok(pool)
}

/// The pool for a command other than `serve` and `migrate`: the schema is checked, never
/// changed (an older binary must not half-run against a newer database, and reading commands
/// such as `audit verify` must not run DDL).
pub async fn open(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    let pool = connect(settings).await?;
    check_current(&pool).await?;
    Ok(pool)
}

/// Connects as the owner (or, without an owner URL, as DATABASE_URL) and migrates.
pub async fn migrate_as_owner(settings: &DatabaseSettings) -> anyhow::Result<()> {
    let (url, name) = match &settings.owner_url {
        Some(owner) => (owner, "GATEHOUSE_OWNER_DATABASE_URL"),
        None => (&settings.url, "DATABASE_URL"),
    };
    let pool = connect_url(url, name).await?;
    migrate(&pool).await?;
    pool.close().await;
    Ok(())
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("session table migration failed: {e}"))?;
    grant_runtime(pool).await
}

/// The schema is the one this binary knows: none of its migrations missing, and none applied
/// that it does not know (the database was migrated by a newer Gatehouse).
async fn check_current(pool: &PgPool) -> anyhow::Result<()> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    let newer: Vec<i64> = applied
        .iter()
        .copied()
        .filter(|v| !known.contains(v))
        .collect();
    if let Some(first) = newer.first() {
        anyhow::bail!(
            "the database schema is newer than this Gatehouse ({} migration(s) it does not know, \
             from {first}): run the Gatehouse version that migrated it, or a later one",
            newer.len()
        );
    }
    let missing: Vec<i64> = known.into_iter().filter(|v| !applied.contains(v)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "the database schema is not up to date ({} migration(s) not applied, from {}): run \
             `gatehouse migrate` as the database owner, or give the owner's URL in \
             GATEHOUSE_OWNER_DATABASE_URL",
            missing.len(),
            missing[0]
        )
    }
}

/// The runtime role's privileges, granted anew after every migration so new tables are
/// covered. Idempotent; the role is created when missing and the owner may create roles.
async fn grant_runtime(pool: &PgPool) -> anyhow::Result<()> {
    let statements = [
        // Two processes migrating one database at once would update the same ACLs.
        "SELECT pg_advisory_xact_lock(7450712506241336)",
        // Several databases on one server may migrate at once (the tests do): a lost race to
        // create the role is fine when the role exists afterwards.
        r#"DO $$ BEGIN
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatehouse_runtime') THEN
               BEGIN
                 CREATE ROLE gatehouse_runtime NOLOGIN;
               EXCEPTION WHEN OTHERS THEN
                 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatehouse_runtime') THEN
                   RAISE;
                 END IF;
               END;
             END IF;
           END $$"#,
        "GRANT USAGE ON SCHEMA public, tower_sessions TO gatehouse_runtime",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO gatehouse_runtime",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tower_sessions TO gatehouse_runtime",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO gatehouse_runtime",
        // The audit log: add and read, nothing else.
        "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events FROM gatehouse_runtime",
        // Its actors' names (kept by a trigger): read only.
        "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_actors FROM gatehouse_runtime",
        // The migrations' own record is the owner's.
        "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM gatehouse_runtime",
    ];
    let mut tx = pool.begin().await?;
    for statement in statements {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .map_err(|e| anyhow::anyhow!("granting the runtime role its privileges failed: {e}"))?;
    }
    tx.commit().await?;
    Ok(())
}
