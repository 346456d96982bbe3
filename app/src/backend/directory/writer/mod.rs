//! Writes a directory listing into Postgres a page at a time, in batches (one statement per
//! page and kind, never a row-at-a-time loop), inside one transaction: a failed or refused
//! sync changes nothing. Edges are staged in a temporary table and resolved to people and
//! nested groups when the listing ends, since a `member` list may name entries listed later.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use sqlx::{PgPool, Postgres, Transaction};

use super::{
    guard, last_per_id, DirectoryError, DirectoryPage, DirectorySink, Edge, GroupRecord,
    ListingEnd, PersonRecord,
};
use crate::backend::catalog::store::SyncCounts;
use crate::backend::directory::store::SyncOptions;
use crate::catalog::types::SyncDetails;

mod sql;
use sql::{INSERT_EDGES, RESOLVE_DELTA, RESOLVE_FULL, UPSERT_GROUPS, UPSERT_PEOPLE};

/// How often a running sync writes its progress for the Sync page.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

pub struct DirectoryWriter {
    tx: Transaction<'static, Postgres>,
    source: &'static str,
    options: SyncOptions,
    /// Group ids a full listing named; the rest are gone when it ends.
    seen_groups: HashSet<String>,
    /// Ids a delta round removed: their edges go too.
    removed_ids: Vec<String>,
    pub counts: SyncCounts,
    pub report: SyncDetails,
    read: (usize, usize, usize),
    progress: Option<(PgPool, i64)>,
    last_progress: Instant,
}

impl DirectoryWriter {
    pub async fn begin(
        pool: &PgPool,
        source: &'static str,
        options: SyncOptions,
        run_id: Option<i64>,
    ) -> sqlx::Result<DirectoryWriter> {
        let mut tx = pool.begin().await?;
        // Staging lives and dies with the transaction.
        for ddl in [
            "CREATE TEMP TABLE sync_seen_people (object_id text PRIMARY KEY) ON COMMIT DROP",
            "CREATE TEMP TABLE sync_edges (seq bigint GENERATED ALWAYS AS IDENTITY, group_id text NOT NULL,
                 member_ref text NOT NULL, removed bool NOT NULL, primary_group bool NOT NULL) ON COMMIT DROP",
        ] {
            sqlx::query(ddl).execute(&mut *tx).await?;
        }
        Ok(DirectoryWriter {
            tx,
            source,
            options,
            seen_groups: HashSet::new(),
            removed_ids: Vec::new(),
            counts: SyncCounts::default(),
            report: SyncDetails::default(),
            read: (0, 0, 0),
            progress: run_id.map(|id| (pool.clone(), id)),
            last_progress: Instant::now(),
        })
    }

    async fn upsert_groups(&mut self, records: Vec<GroupRecord>) -> sqlx::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let n = records.len();
        let (mut ids, mut names) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut has_desc, mut descs) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut has_mail, mut mails) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut security, mut refs, mut rids) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for r in records {
            ids.push(r.id);
            names.push(r.display_name);
            has_desc.push(r.description.is_some());
            descs.push(r.description.flatten());
            has_mail.push(r.mail.is_some());
            mails.push(r.mail.flatten());
            security.push(r.security_enabled);
            refs.push(r.directory_ref);
            rids.push(r.relative_id);
        }
        let (added, changed): (i32, i32) = sqlx::query_as(UPSERT_GROUPS)
            .bind(self.source)
            .bind(&ids)
            .bind(&names)
            .bind(&has_desc)
            .bind(&descs)
            .bind(&has_mail)
            .bind(&mails)
            .bind(&security)
            .bind(&refs)
            .bind(&rids)
            .fetch_one(&mut *self.tx)
            .await?;
        self.counts.added += added;
        self.counts.changed += changed;
        Ok(())
    }

    async fn upsert_people(&mut self, records: Vec<PersonRecord>) -> sqlx::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let n = records.len();
        let (mut ids, mut refs, mut names) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut has_upn, mut upns) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for r in records {
            ids.push(r.id);
            refs.push(r.directory_ref);
            names.push(r.display_name);
            has_upn.push(r.user_principal_name.is_some());
            upns.push(r.user_principal_name.flatten());
        }
        let (added, changed): (i64, i64) = sqlx::query_as(UPSERT_PEOPLE)
            .bind(self.source)
            .bind(&ids)
            .bind(&refs)
            .bind(&names)
            .bind(&has_upn)
            .bind(&upns)
            .fetch_one(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO sync_seen_people SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
        )
        .bind(&ids)
        .execute(&mut *self.tx)
        .await?;
        self.report.people_added += added;
        self.report.people_changed += changed;
        Ok(())
    }

    async fn mark_deleted(&mut self, table: &str, ids: Vec<String>) -> sqlx::Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        // `table` is one of two constants of this file.
        let removed = sqlx::query(&format!(
            "UPDATE {table} SET deleted_at = now()
             WHERE source = $1 AND object_id = ANY($2) AND deleted_at IS NULL"
        ))
        .bind(self.source)
        .bind(&ids)
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        self.removed_ids.extend(ids);
        Ok(removed)
    }

    async fn stage_edges(&mut self, edges: Vec<Edge>) -> sqlx::Result<()> {
        if edges.is_empty() {
            return Ok(());
        }
        let n = edges.len();
        let (mut groups, mut refs) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut removed, mut primary) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for e in edges {
            groups.push(e.group_id);
            refs.push(e.member_ref);
            removed.push(e.removed);
            primary.push(e.primary_group);
        }
        sqlx::query(
            "INSERT INTO sync_edges (group_id, member_ref, removed, primary_group)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bool[], $4::bool[])",
        )
        .bind(&groups)
        .bind(&refs)
        .bind(&removed)
        .bind(&primary)
        .execute(&mut *self.tx)
        .await?;
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
        let (groups, people, edges) = self.read;
        let text = format!("{groups} groups, {people} people, {edges} memberships read");
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

    /// (not-deleted rows a full listing did not name, not-deleted rows, rows it named).
    async fn unlisted_groups(&mut self) -> sqlx::Result<(i64, i64, i64)> {
        let seen: Vec<&String> = self.seen_groups.iter().collect();
        let (unlisted, known): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE NOT (object_id = ANY($2))), count(*)
             FROM directory_groups WHERE source = $1 AND deleted_at IS NULL",
        )
        .bind(self.source)
        .bind(&seen)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok((unlisted, known, seen.len() as i64))
    }

    async fn unlisted_people(&mut self) -> sqlx::Result<(i64, i64, i64)> {
        sqlx::query_as(
            "SELECT count(*) FILTER (WHERE NOT EXISTS (
                        SELECT 1 FROM sync_seen_people s WHERE s.object_id = p.object_id)),
                    count(*), (SELECT count(*) FROM sync_seen_people)
             FROM directory_people p WHERE source = $1 AND deleted_at IS NULL",
        )
        .bind(self.source)
        .fetch_one(&mut *self.tx)
        .await
    }

    fn guard(
        &self,
        what: &'static str,
        unlisted: i64,
        known_now: i64,
        added: i64,
        listed: i64,
        causes: &str,
    ) -> Result<(), DirectoryError> {
        // Known before this sync: the ones it added were not.
        let known = known_now - added;
        let max = self.options.max_removal_percent;
        if self.options.allow_removals || !guard::holds(known, listed, unlisted, max) {
            return Ok(());
        }
        Err(DirectoryError::RemovalsHeld(guard::RemovalsHeld {
            what,
            would_remove: unlisted,
            known,
            listed,
            max_percent: max,
            causes: causes.to_string(),
        }))
    }

    /// Ends the listing: after a full one, what it did not name is marked deleted (unless the
    /// guard holds it back); edges are resolved and applied; the delta links are kept for next
    /// time; then everything commits at once.
    pub async fn finish(
        mut self,
        end: &ListingEnd,
        causes: &str,
    ) -> Result<(SyncCounts, SyncDetails), DirectoryError> {
        let source = self.source;
        if end.full {
            let (unlisted, known, listed) = self.unlisted_groups().await?;
            let added = i64::from(self.counts.added);
            self.guard("groups", unlisted, known, added, listed, causes)?;
            let removed = sqlx::query(
                "UPDATE directory_groups SET deleted_at = now()
                 WHERE source = $1 AND deleted_at IS NULL AND NOT (object_id = ANY($2))",
            )
            .bind(source)
            .bind(self.seen_groups.drain().collect::<Vec<_>>())
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
            self.counts.removed += removed as i32;
        }
        if end.people_full {
            let (unlisted, known, listed) = self.unlisted_people().await?;
            let added = self.report.people_added;
            self.guard("people", unlisted, known, added, listed, causes)?;
            let removed = sqlx::query(
                "UPDATE directory_people p SET deleted_at = now()
                 WHERE source = $1 AND deleted_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM sync_seen_people s WHERE s.object_id = p.object_id)",
            )
            .bind(source)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
            self.report.people_removed += removed as i64;
        }
        self.apply_edges(end.full).await?;
        sqlx::query(
            "INSERT INTO directory_sync_state (source, delta_link, people_delta_link, last_full_sync_at,
                                               memberships_synced_at, full_resyncs)
             VALUES ($1, $2, $3, CASE WHEN $4 THEN now() END, now(), CASE WHEN $5 THEN 1 ELSE 0 END)
             ON CONFLICT (source) DO UPDATE SET delta_link = EXCLUDED.delta_link,
                 people_delta_link = EXCLUDED.people_delta_link, updated_at = now(),
                 memberships_synced_at = now(),
                 full_resyncs = directory_sync_state.full_resyncs + EXCLUDED.full_resyncs,
                 last_full_sync_at = COALESCE(EXCLUDED.last_full_sync_at, directory_sync_state.last_full_sync_at)",
        )
        .bind(source)
        .bind(&end.delta_link)
        .bind(&end.people_delta_link)
        .bind(end.full)
        .bind(end.resynced.is_some())
        .execute(&mut *self.tx)
        .await?;
        self.report.memberships =
            sqlx::query_scalar("SELECT count(*) FROM directory_memberships WHERE source = $1")
                .bind(source)
                .fetch_one(&mut *self.tx)
                .await?;
        self.report.full = end.full;
        self.report.resynced = end.resynced.clone();
        self.report.removals_allowed = self.options.allow_removals;
        self.report_progress(true).await;
        self.tx.commit().await?;
        Ok((self.counts, self.report))
    }

    async fn apply_edges(&mut self, full: bool) -> sqlx::Result<()> {
        let source = self.source;
        sqlx::query(if full { RESOLVE_FULL } else { RESOLVE_DELTA })
            .bind(source)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("ANALYZE sync_resolved")
            .execute(&mut *self.tx)
            .await?;
        let removed = if full {
            sqlx::query(
                "DELETE FROM directory_memberships m WHERE m.source = $1 AND NOT EXISTS (
                     SELECT 1 FROM sync_resolved r
                     WHERE r.group_id = m.group_id AND r.member_id = m.member_id)",
            )
            .bind(source)
            .execute(&mut *self.tx)
            .await?
            .rows_affected()
        } else {
            // A delta's removed edges, and every edge of a group or person it removed.
            let gone = sqlx::query(
                "DELETE FROM directory_memberships m USING sync_resolved r
                 WHERE m.source = $1 AND r.removed AND r.group_id = m.group_id AND r.member_id = m.member_id",
            )
            .bind(source)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
            let orphaned = sqlx::query(
                "DELETE FROM directory_memberships
                 WHERE source = $1 AND (group_id = ANY($2) OR member_id = ANY($2))",
            )
            .bind(source)
            .bind(&self.removed_ids)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
            gone + orphaned
        };
        let added: i64 = sqlx::query_scalar(INSERT_EDGES)
            .bind(source)
            .fetch_one(&mut *self.tx)
            .await?;
        self.report.memberships_removed += removed as i64;
        self.report.memberships_added += added;
        Ok(())
    }
}

impl DirectorySink for DirectoryWriter {
    async fn page(&mut self, page: DirectoryPage) -> Result<(), DirectoryError> {
        self.read.0 += page.groups.len();
        self.read.1 += page.people.len();
        self.read.2 += page.edges.len();
        let (upserts, removals) = last_per_id(page.groups);
        self.seen_groups
            .extend(upserts.iter().map(|g| g.id.clone()));
        for id in &removals {
            self.seen_groups.remove(id);
        }
        self.upsert_groups(upserts).await?;
        let removed = self.mark_deleted("directory_groups", removals).await?;
        self.counts.removed += removed as i32;

        let (upserts, removals) = last_per_id(page.people);
        self.upsert_people(upserts).await?;
        let removed = self.mark_deleted("directory_people", removals).await?;
        self.report.people_removed += removed as i64;

        self.stage_edges(page.edges).await?;
        self.report_progress(false).await;
        Ok(())
    }
}
