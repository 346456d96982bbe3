//! Exports as records: made, hashed in the background (their manifest), streamed.

use crate::{
    error::AppError,
    form::FormOutcome,
    history::{CheckedFilter, ExportStatus, HistoryFilter},
};
use futures_util::{Stream, StreamExt};
use serde_json::json;
use sqlx::{types::Json, PgPool};

use std::sync::Arc;

use super::{
    anchor::Anchoring,
    chain::ChainedEvent,
    export::{Exporter, Format, Manifest},
    store,
};
use crate::backend::audit::{self, Actor};

/// A recorded export: its filters and the last event it covers.
#[derive(Clone, Debug)]
pub struct ExportRecord {
    pub id: i64,
    pub created_at: time::OffsetDateTime,
    pub format: Format,
    pub filters: sqlx::types::Json<HistoryFilter>,
    pub upto_seq: i64,
    pub rows: i64,
    pub hashed_rows: i64,
    /// The file's exact length, once hashed.
    pub bytes: Option<i64>,
    pub manifest: Option<sqlx::types::Json<Manifest>>,
    pub error: Option<String>,
}

/// `$head` (a string literal), the export columns, then `$tail`, compile-checked.
macro_rules! exports_query {
    ($head:literal, $tail:literal $(, $arg:expr)*) => {
        sqlx::query_as!(
            ExportRecord,
            $head + r#" id, created_at, format AS "format: Format", filters AS "filters: Json<HistoryFilter>", upto_seq,
               rows, hashed_rows, bytes, manifest AS "manifest: Json<Manifest>", error "# + $tail
            $(, $arg)*
        )
    };
}

impl ExportRecord {
    pub fn format(&self) -> Format {
        self.format
    }

    pub fn checked(&self) -> CheckedFilter {
        self.filters.0.check().unwrap_or_default()
    }

    /// Ends an export's [`Exporter`] into its manifest.
    pub fn manifest(&self, exporter: Exporter) -> Manifest {
        exporter.finish(
            json!({"export": self.id, "filters": self.filters.0, "upto_seq": self.upto_seq}),
            self.checked().narrows(),
            crate::backend::catalog::queries::utc(self.created_at),
        )
    }

    /// How far its preparation has come.
    pub fn status(&self) -> ExportStatus {
        ExportStatus {
            id: self.id,
            format: self.format.extension().to_string(),
            rows: self.rows,
            hashed_rows: self.hashed_rows,
            bytes: self.bytes,
            ready: self.manifest.is_some(),
            error: self.error.clone(),
        }
    }

    pub fn file_name(&self) -> String {
        format!("gatehouse-audit-{}.{}", self.id, self.format().extension())
    }
}

/// Records an export of `filter` up to the newest event now (an audit event itself).
pub async fn create_export(
    pool: &PgPool,
    actor: &Actor,
    filter: &HistoryFilter,
    format: Format,
) -> Result<ExportRecord, AppError> {
    let checked = filter.check().map_err(|errors| {
        AppError::form(FormOutcome::invalid(
            errors
                .into_iter()
                .map(|(f, e)| (f.to_string(), e))
                .collect(),
        ))
    })?;
    let inner = async {
        let mut tx = pool.begin().await?;
        let upto = sqlx::query_scalar!(
            r#"SELECT coalesce(max(seq), 0)::bigint AS "upto!" FROM audit_events"#
        )
        .fetch_one(&mut *tx)
        .await?;
        let rows = store::count(&mut tx, &checked, upto).await?;
        let record = exports_query!(
            "INSERT INTO audit_exports (created_by, format, filters, upto_seq, rows)
             VALUES ($1, $2, $3, $4, $5) RETURNING",
            "",
            &actor.name,
            format.extension(),
            Json(filter) as _,
            upto,
            rows
        )
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            audit::action::AUDIT_EXPORTED,
            Some(&format!("audit_export:{}", record.id)),
            json!({"export": record.id, "format": format.extension(), "filters": filter, "upto_seq": upto, "rows": rows}),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(record)
    };
    Ok(inner.await?)
}

pub async fn export_record(pool: &PgPool, id: i64) -> sqlx::Result<Option<ExportRecord>> {
    exports_query!("SELECT", "FROM audit_exports WHERE id = $1", id)
        .fetch_optional(pool)
        .await
}

/// The export's rows, as the bytes of its file, streamed.
pub fn file_stream(
    pool: PgPool,
    record: &ExportRecord,
) -> impl Stream<Item = Result<String, sqlx::Error>> + Send + 'static {
    let mut exporter = Exporter::new(record.format());
    let head = exporter.start();
    let rows = store::stream(pool, record.checked(), Some(record.upto_seq))
        .map(move |r| r.map(|e: ChainedEvent| exporter.row(&e)));
    futures_util::stream::once(async move { Ok(head) }).chain(rows)
}

/// How long an export's lease lasts without renewal; renewed with each progress report.
const EXPORT_LEASE: std::time::Duration = std::time::Duration::from_secs(30);

/// Prepares, in the background, the exports whose process stopped before hashing them all
/// (their lease lapsed): now, then every half lease, so a replica that dies mid-export is taken
/// over by a live one, once.
pub fn spawn_resumer(pool: PgPool, anchoring: Option<Arc<Anchoring>>) {
    tokio::spawn(async move {
        loop {
            match resume_unfinished(&pool, anchoring.clone()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(exports = n, "preparing exports a stopped process left"),
                Err(e) => tracing::warn!(error = %e, "could not look for unfinished exports"),
            }
            tokio::time::sleep(EXPORT_LEASE / 2).await;
        }
    });
}

/// Starts preparing every unfinished export no live process holds; answers how many.
pub async fn resume_unfinished(
    pool: &PgPool,
    anchoring: Option<Arc<Anchoring>>,
) -> sqlx::Result<usize> {
    let records = exports_query!(
        "SELECT",
        "FROM audit_exports WHERE manifest IS NULL AND error IS NULL
           AND (lease_until IS NULL OR lease_until < now())"
    )
    .fetch_all(pool)
    .await?;
    let mut started = 0;
    for record in records {
        // Taken here, not in the task: the count says what this process took. Only a lapsed
        // lease is taken: an export this very process is hashing is not started twice.
        if claim(pool, record.id, false).await? {
            started += 1;
            spawn_prepare(pool.clone(), anchoring.clone(), record);
        }
    }
    Ok(started)
}

/// Hands back the exports this process is hashing (the server is stopping): their leases end
/// now, so another replica, or this one restarted, takes them over at once instead of after the
/// lease. This process's own hashing then stops at its next progress report, which renews only a
/// lease it still holds. Answers how many.
pub async fn hand_back(pool: &PgPool) -> sqlx::Result<u64> {
    let released = sqlx::query(
        "UPDATE audit_exports SET lease_owner = NULL, lease_until = NULL
         WHERE lease_owner = $1 AND manifest IS NULL AND error IS NULL",
    )
    .bind(crate::backend::schedule::this_process())
    .execute(pool)
    .await?;
    Ok(released.rows_affected())
}

/// Takes the lease of unfinished export `id` for this process (`renew`: or renews it, when this
/// process holds it already): false when another live holder has it or the export is finished.
async fn claim(pool: &PgPool, id: i64, renew: bool) -> sqlx::Result<bool> {
    let claimed = sqlx::query!(
        "UPDATE audit_exports SET lease_owner = $2, lease_until = now() + make_interval(secs => $3)
         WHERE id = $1 AND manifest IS NULL AND error IS NULL
           AND (lease_until IS NULL OR lease_until < now() OR ($4 AND lease_owner = $2))",
        id,
        crate::backend::schedule::this_process(),
        EXPORT_LEASE.as_secs_f64(),
        renew,
    )
    .execute(pool)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// [`prepare`] in the background (its failure is recorded with the export).
pub fn spawn_prepare(pool: PgPool, anchoring: Option<Arc<Anchoring>>, record: ExportRecord) {
    tokio::spawn(async move {
        let _ = prepare(&pool, anchoring.as_deref(), &record).await;
    });
}

/// Ends an export: its manifest (signed, with a checkpoint of the chain beside it, when an
/// audit key is configured) and the file's length are stored with the record.
pub async fn finish(
    pool: &PgPool,
    anchoring: Option<&Anchoring>,
    record: &ExportRecord,
    exporter: Exporter,
) -> sqlx::Result<Manifest> {
    let (rows, bytes) = (exporter.rows as i64, exporter.bytes as i64);
    let mut manifest = record.manifest(exporter);
    if let Some(anchoring) = anchoring {
        manifest.sign(&anchoring.key);
        if let Err(e) = anchoring.checkpoint(pool).await {
            tracing::error!(error = %e, export = record.id, "could not write the export's audit checkpoint");
        }
    }
    sqlx::query!(
        "UPDATE audit_exports SET hashed_rows = $2, bytes = $3, manifest = $4, finished_at = now()
         WHERE id = $1",
        record.id,
        rows,
        bytes,
        Json(&manifest) as _,
    )
    .execute(pool)
    .await?;
    Ok(manifest)
}

/// Hashes an export's rows exactly as its file streams them and stores the manifest and the
/// file's length, recording the progress as it goes (or the error that stopped it). `None`:
/// another live process holds the export (it finishes it), or it is finished.
#[tracing::instrument(name = "export", skip_all, fields(export = record.id))]
pub async fn prepare(
    pool: &PgPool,
    anchoring: Option<&Anchoring>,
    record: &ExportRecord,
) -> sqlx::Result<Option<Manifest>> {
    let outcome = async {
        if !claim(pool, record.id, true).await? {
            return Ok(None);
        }
        let mut exporter = Exporter::new(record.format());
        exporter.start();
        let mut rows = std::pin::pin!(store::stream(
            pool.clone(),
            record.checked(),
            Some(record.upto_seq),
        ));
        let mut reported = std::time::Instant::now();
        while let Some(e) = rows.next().await {
            exporter.row(&e?);
            if reported.elapsed() >= std::time::Duration::from_millis(250) {
                // The progress report renews the lease; lost (this process stalled past it,
                // and another took over): stop, the other finishes.
                let renewed = sqlx::query!(
                    "UPDATE audit_exports SET hashed_rows = $2,
                       lease_until = now() + make_interval(secs => $4)
                     WHERE id = $1 AND lease_owner = $3 AND manifest IS NULL",
                    record.id,
                    exporter.rows as i64,
                    crate::backend::schedule::this_process(),
                    EXPORT_LEASE.as_secs_f64(),
                )
                .execute(pool)
                .await?;
                if renewed.rows_affected() == 0 {
                    return Ok(None);
                }
                reported = std::time::Instant::now();
            }
        }
        finish(pool, anchoring, record, exporter).await.map(Some)
    };
    let result: sqlx::Result<Option<Manifest>> = outcome.await;
    if let Err(e) = &result {
        tracing::error!(export = record.id, error = %e, "export stopped");
        let _ = sqlx::query!(
            "UPDATE audit_exports SET error = $2, finished_at = now() WHERE id = $1",
            record.id,
            "the database stopped answering while the rows were read; export again",
        )
        .execute(pool)
        .await;
    }
    result
}
