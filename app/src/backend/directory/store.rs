//! A directory sync: where the last one left off, the listing, and what it did.

use sqlx::PgPool;

use super::{guard, writer::DirectoryWriter, Directory, DirectoryError, ListingStart};
use crate::backend::catalog::store::SyncCounts;
use crate::catalog::types::SyncDetails;

/// How a directory sync runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncOptions {
    /// List everything, ignoring the stored delta links.
    pub full: bool,
    /// Apply removals the guard would hold back.
    pub allow_removals: bool,
    /// The share of known groups (or people) a full listing may remove without being held.
    pub max_removal_percent: u32,
}

impl Default for SyncOptions {
    fn default() -> SyncOptions {
        SyncOptions {
            full: false,
            allow_removals: false,
            max_removal_percent: guard::DEFAULT_MAX_REMOVAL_PERCENT,
        }
    }
}

/// Where the last listings of `source` left off.
pub async fn listing_start(pool: &PgPool, source: &str) -> sqlx::Result<ListingStart> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT delta_link, people_delta_link FROM directory_sync_state WHERE source = $1",
    )
    .bind(source)
    .fetch_optional(pool)
    .await?;
    let (delta_link, people_delta_link) = row.unwrap_or_default();
    Ok(ListingStart {
        delta_link,
        people_delta_link,
    })
}

/// Lists the directory's groups, people and memberships into the database; answers what
/// changed: the group counts every catalog has, and the rest (stored with the run). A refused
/// or failed sync changes nothing.
pub async fn sync_directory(
    pool: &PgPool,
    directory: &Directory,
    options: SyncOptions,
    run_id: Option<i64>,
) -> Result<(SyncCounts, SyncDetails), DirectoryError> {
    let source = directory.source();
    let start = if options.full {
        ListingStart::default()
    } else {
        listing_start(pool, source).await?
    };
    let mut writer = DirectoryWriter::begin(pool, source, options, run_id).await?;
    let end = directory.list(&start, &mut writer).await?;
    if let Some(reason) = &end.resynced {
        tracing::warn!(
            source,
            reason,
            "the directory asked for a full resync; listed everything"
        );
    }
    writer.finish(&end, &directory.empty_listing_causes()).await
}
