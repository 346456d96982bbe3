//! Writes directory listings into Postgres: a page at a time, in batches (one statement per
//! page, never a row-at-a-time loop), inside the sync's transaction so a failed sync changes
//! nothing. Groups that vanished are marked deleted with the time they went.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use sqlx::{PgPool, Postgres, Transaction};

use super::{Directory, DirectoryError, GroupChange, GroupRecord, GroupSink, ListingEnd, Member};
use crate::backend::catalog::store::SyncCounts;

/// How often a running sync writes its progress for the Sync page.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

pub struct GroupWriter {
    tx: Transaction<'static, Postgres>,
    source: &'static str,
    /// Ids a full listing named; the rest are gone when it ends.
    seen: HashSet<String>,
    pub counts: SyncCounts,
    read: usize,
    progress: Option<(PgPool, i64)>,
    last_progress: Instant,
}

const UPSERT: &str = "
WITH input AS (
    SELECT * FROM UNNEST($2::text[], $3::text[], $4::bool[], $5::text[], $6::bool[], $7::text[], $8::bool[])
        AS t(object_id, display_name, has_description, description, has_mail, mail, security_enabled)
),
merged AS (
    SELECT i.object_id,
           COALESCE(i.display_name, o.display_name, i.object_id) AS display_name,
           CASE WHEN i.has_description THEN i.description ELSE o.description END AS description,
           CASE WHEN i.has_mail THEN i.mail ELSE o.mail END AS mail,
           COALESCE(i.security_enabled, o.security_enabled) AS security_enabled,
           o.object_id IS NULL OR o.deleted_at IS NOT NULL AS is_new,
           o.display_name AS old_name, o.description AS old_description, o.mail AS old_mail,
           o.security_enabled AS old_security
    FROM input i
    LEFT JOIN directory_groups o ON o.source = $1 AND o.object_id = i.object_id
),
classified AS (
    SELECT *, NOT is_new AND (display_name, description, mail, security_enabled)
              IS DISTINCT FROM (old_name, old_description, old_mail, old_security) AS is_changed
    FROM merged
),
written AS (
    INSERT INTO directory_groups AS g (source, object_id, display_name, description, mail, security_enabled)
    SELECT $1, object_id, display_name, description, mail, security_enabled
    FROM classified WHERE is_new OR is_changed
    ON CONFLICT (source, object_id) DO UPDATE
    SET display_name = EXCLUDED.display_name, description = EXCLUDED.description,
        mail = EXCLUDED.mail, security_enabled = EXCLUDED.security_enabled,
        deleted_at = NULL, last_synced_at = now(),
        first_seen_at = CASE WHEN g.deleted_at IS NULL THEN g.first_seen_at ELSE now() END
    RETURNING 1
)
SELECT count(*) FILTER (WHERE is_new)::int, count(*) FILTER (WHERE is_changed)::int FROM classified";

impl GroupWriter {
    pub async fn begin(
        pool: &PgPool,
        source: &'static str,
        run_id: Option<i64>,
    ) -> sqlx::Result<GroupWriter> {
        Ok(GroupWriter {
            tx: pool.begin().await?,
            source,
            seen: HashSet::new(),
            counts: SyncCounts::default(),
            read: 0,
            progress: run_id.map(|id| (pool.clone(), id)),
            last_progress: Instant::now(),
        })
    }

    async fn upsert(&mut self, records: Vec<GroupRecord>) -> sqlx::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let n = records.len();
        let (mut ids, mut names) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut has_desc, mut descs) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut has_mail, mut mails) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut security = Vec::with_capacity(n);
        for r in records {
            ids.push(r.id);
            names.push(r.display_name);
            has_desc.push(r.description.is_some());
            descs.push(r.description.flatten());
            has_mail.push(r.mail.is_some());
            mails.push(r.mail.flatten());
            security.push(r.security_enabled);
        }
        let (added, changed): (i32, i32) = sqlx::query_as(UPSERT)
            .bind(self.source)
            .bind(&ids)
            .bind(&names)
            .bind(&has_desc)
            .bind(&descs)
            .bind(&has_mail)
            .bind(&mails)
            .bind(&security)
            .fetch_one(&mut *self.tx)
            .await?;
        self.counts.added += added;
        self.counts.changed += changed;
        Ok(())
    }

    async fn remove(&mut self, ids: Vec<String>) -> sqlx::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let removed = sqlx::query(
            "UPDATE directory_groups SET deleted_at = now()
             WHERE source = $1 AND object_id = ANY($2) AND deleted_at IS NULL",
        )
        .bind(self.source)
        .bind(&ids)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        self.counts.removed += removed as i32;
        Ok(())
    }

    async fn report_progress(&mut self, force: bool) {
        let Some((pool, run_id)) = &self.progress else {
            return;
        };
        if !force && self.last_progress.elapsed() < PROGRESS_EVERY {
            return;
        }
        self.last_progress = Instant::now();
        let text = format!("{} groups read", self.read);
        // Progress is a courtesy: a failure to write it must not fail the sync.
        if let Err(e) = sqlx::query("UPDATE sync_runs SET progress = $2 WHERE id = $1")
            .bind(run_id)
            .bind(text)
            .execute(pool)
            .await
        {
            tracing::warn!(error = %e, "could not record sync progress");
        }
    }

    /// Ends the listing: after a full one, groups it did not name are marked deleted; the delta
    /// link is kept for next time; then everything commits at once.
    pub async fn finish(mut self, end: &ListingEnd) -> sqlx::Result<SyncCounts> {
        if end.full {
            let seen: Vec<String> = self.seen.drain().collect();
            let removed = sqlx::query(
                "UPDATE directory_groups SET deleted_at = now()
                 WHERE source = $1 AND deleted_at IS NULL AND NOT (object_id = ANY($2))",
            )
            .bind(self.source)
            .bind(&seen)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
            self.counts.removed += removed as i32;
        }
        sqlx::query(
            "INSERT INTO directory_sync_state (source, delta_link, last_full_sync_at)
             VALUES ($1, $2, CASE WHEN $3 THEN now() END)
             ON CONFLICT (source) DO UPDATE SET delta_link = EXCLUDED.delta_link, updated_at = now(),
                 last_full_sync_at = COALESCE(EXCLUDED.last_full_sync_at, directory_sync_state.last_full_sync_at)",
        )
        .bind(self.source)
        .bind(&end.delta_link)
        .bind(end.full)
        .execute(&mut *self.tx)
        .await?;
        self.report_progress(true).await;
        self.tx.commit().await?;
        Ok(self.counts)
    }
}

impl GroupSink for GroupWriter {
    async fn page(&mut self, changes: Vec<GroupChange>) -> Result<(), DirectoryError> {
        self.read += changes.len();
        // One change per id, the last one winning, so a batch never touches a row twice.
        let mut last: HashMap<String, GroupChange> = HashMap::with_capacity(changes.len());
        for change in changes {
            let id = match &change {
                GroupChange::Upsert(r) => r.id.clone(),
                GroupChange::Removed(id) => id.clone(),
            };
            last.insert(id, change);
        }
        let (mut upserts, mut removals) = (Vec::new(), Vec::new());
        for (id, change) in last {
            match change {
                GroupChange::Upsert(r) => {
                    self.seen.insert(id);
                    upserts.push(r);
                }
                GroupChange::Removed(_) => {
                    self.seen.remove(&id);
                    removals.push(id);
                }
            }
        }
        self.upsert(upserts).await?;
        self.remove(removals).await?;
        self.report_progress(false).await;
        Ok(())
    }
}

/// Where the last listing of `source` left off.
pub async fn delta_link(pool: &PgPool, source: &str) -> sqlx::Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT delta_link FROM directory_sync_state WHERE source = $1")
            .bind(source)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}

/// Lists the directory's groups into the database; answers what changed.
pub async fn sync_groups(
    pool: &PgPool,
    directory: &Directory,
    run_id: Option<i64>,
) -> Result<SyncCounts, DirectoryError> {
    let source = directory.source();
    let link = delta_link(pool, source).await?;
    let mut writer = GroupWriter::begin(pool, source, run_id).await?;
    let end = directory.list_groups(link.as_deref(), &mut writer).await?;
    Ok(writer.finish(&end).await?)
}

/// How long a group's members, once read from the directory, are served from the database.
pub const MEMBERS_FRESH_FOR: Duration = Duration::from_secs(10 * 60);

/// Reads a group's transitive members from the directory into the database, unless a read
/// younger than [`MEMBERS_FRESH_FOR`] is there. Answers how many members the group has.
pub async fn refresh_members(
    pool: &PgPool,
    directory: &Directory,
    group_id: &str,
) -> Result<i32, DirectoryError> {
    let source = directory.source();
    let fresh: Option<i32> = sqlx::query_scalar(
        "SELECT member_count FROM directory_member_reads
         WHERE source = $1 AND group_id = $2 AND read_at > now() - make_interval(secs => $3)",
    )
    .bind(source)
    .bind(group_id)
    .bind(MEMBERS_FRESH_FOR.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    if let Some(count) = fresh {
        return Ok(count);
    }
    let members = directory.transitive_members(group_id).await?;
    store_members(pool, source, group_id, &members).await?;
    Ok(members.len() as i32)
}

async fn store_members(
    pool: &PgPool,
    source: &str,
    group_id: &str,
    members: &[Member],
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM directory_members WHERE source = $1 AND group_id = $2")
        .bind(source)
        .bind(group_id)
        .execute(&mut *tx)
        .await?;
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let names: Vec<&str> = members.iter().map(|m| m.display_name.as_str()).collect();
    let upns: Vec<Option<&str>> = members
        .iter()
        .map(|m| m.user_principal_name.as_deref())
        .collect();
    sqlx::query(
        "INSERT INTO directory_members (source, group_id, member_id, display_name, user_principal_name)
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[], $5::text[])",
    )
    .bind(source)
    .bind(group_id)
    .bind(&ids)
    .bind(&names)
    .bind(&upns)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO directory_member_reads (source, group_id, member_count) VALUES ($1, $2, $3)
         ON CONFLICT (source, group_id) DO UPDATE SET read_at = now(), member_count = EXCLUDED.member_count",
    )
    .bind(source)
    .bind(group_id)
    .bind(members.len() as i32)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
