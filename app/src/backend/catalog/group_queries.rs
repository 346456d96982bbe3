//! Directory groups for the pages: keyset pages over (name, id, source), so the thousandth
//! page costs what the first does, and a group's people, direct and nested, from the stored
//! membership graph.

use crate::catalog::types::{Cursor, GroupDetail, GroupSummary, MemberRow, Page};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::queries::{like_pattern, utc};
use crate::backend::directory::membership::{self, Reach};
use crate::error::AppError;

/// The lists' one page size (`domain::paging`), as SQL binds it.
const PAGE_SIZE: i64 = crate::domain::paging::PAGE_SIZE as i64;

#[derive(sqlx::FromRow)]
struct GroupRow {
    source: String,
    object_id: String,
    display_name: String,
    description: Option<String>,
    mail: Option<String>,
    security_enabled: Option<bool>,
    deleted_at: Option<OffsetDateTime>,
    last_synced_at: OffsetDateTime,
}

impl From<GroupRow> for GroupSummary {
    fn from(r: GroupRow) -> GroupSummary {
        GroupSummary {
            source: r.source,
            object_id: r.object_id,
            display_name: r.display_name,
            description: r.description,
            mail: r.mail,
            security_enabled: r.security_enabled,
            deleted_at: r.deleted_at.map(utc),
            last_synced_at: utc(r.last_synced_at),
        }
    }
}

/// A group's place in the list, as cursors carry it: `source/object_id`.
pub fn group_key(g: &GroupSummary) -> String {
    format!("{}/{}", g.source, g.object_id)
}

fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// A keyset page's cursor key, sort direction and SQL condition: rows whose `columns` come
/// after (or before) those of the one row `from` names. Both strings are constants of this
/// file; only the key travels as a bound parameter.
fn keyset<'c>(cursor: &'c Cursor, columns: &str, from: &str) -> (&'c str, &'static str, String) {
    let (key, compare, order) = match cursor {
        Cursor::First => return ("", "ASC", String::new()),
        Cursor::After(k) => (k.as_str(), ">", "ASC"),
        Cursor::Before(k) => (k.as_str(), "<", "DESC"),
    };
    (
        key,
        order,
        format!("AND ({columns}) {compare} (SELECT {columns} FROM {from})"),
    )
}

/// Turns `limit + 1` rows fetched in the cursor's direction into a page with its links.
pub fn keyset_page<T>(
    rows: Vec<T>,
    cursor: &Cursor,
    total: i64,
    key: impl Fn(&T) -> String,
) -> Page<T> {
    keyset_page_of(rows, cursor, total, key, PAGE_SIZE as usize)
}

/// `keyset_page` for pages of `size` rows (`size + 1` fetched).
pub fn keyset_page_of<T>(
    mut rows: Vec<T>,
    cursor: &Cursor,
    total: i64,
    key: impl Fn(&T) -> String,
    size: usize,
) -> Page<T> {
    let more = rows.len() > size;
    rows.truncate(size);
    if matches!(cursor, Cursor::Before(_)) {
        rows.reverse();
    }
    let (has_next, has_prev) = match cursor {
        Cursor::First => (more, false),
        Cursor::After(_) => (more, true),
        Cursor::Before(_) => (true, more),
    };
    Page {
        next: rows.last().filter(|_| has_next).map(&key),
        prev: rows.first().filter(|_| has_prev).map(&key),
        items: rows,
        total,
    }
}

const GROUP_COLUMNS: &str = "source, object_id, display_name, description, mail, security_enabled,
     deleted_at, last_synced_at";
const GROUP_MATCH: &str = "($1 = '' OR display_name ILIKE $2 OR mail ILIKE $2 OR object_id = $1)";

pub async fn list_groups(
    pool: &PgPool,
    directory: &crate::backend::directory::cache::DirectoryCache,
    search: &str,
    cursor: &Cursor,
) -> sqlx::Result<Page<GroupSummary>> {
    let pattern = like_pattern(search);
    // The comparison and order come from a closed set, never from the request.
    let (key, order, after) = keyset(
        cursor,
        "lower(display_name), object_id, source",
        "directory_groups WHERE source = $3 AND object_id = $4",
    );
    // Without a search the page walks the name index. With one, the matches come first (through
    // the trigram index) and only they are sorted: walking the index past thousands of groups
    // that do not match would be slower.
    // The page's size is part of the text (not a parameter) so the database keeps one plan for
    // it instead of planning each request again.
    let limit = PAGE_SIZE + 1;
    let sql = if search.is_empty() {
        format!(
            "SELECT {GROUP_COLUMNS} FROM directory_groups WHERE true {after}
             ORDER BY lower(display_name) {order}, object_id {order}, source {order} LIMIT {limit}"
        )
    } else {
        format!(
            "WITH matches AS MATERIALIZED (
                 SELECT {GROUP_COLUMNS} FROM directory_groups WHERE {GROUP_MATCH})
             SELECT {GROUP_COLUMNS} FROM matches WHERE true {after}
             ORDER BY lower(display_name) {order}, object_id {order}, source {order} LIMIT {limit}"
        )
    };
    let (source, id) = split_key(key);
    let rows: Vec<GroupRow> = sqlx::query_as(&sql)
        .bind(search)
        .bind(&pattern)
        .bind(source)
        .bind(id)
        .fetch_all(pool)
        .await?;
    let count = async {
        sqlx::query_scalar(&format!(
            "SELECT count(*) FROM directory_groups WHERE {GROUP_MATCH}"
        ))
        .bind(search)
        .bind(&pattern)
        .fetch_one(pool)
        .await
    };
    // Without a search, every group: counted once per directory generation, not per page.
    let total: i64 = if search.is_empty() {
        directory.groups_total(pool, count).await?
    } else {
        count.await?
    };
    let items = rows.into_iter().map(GroupSummary::from).collect();
    Ok(keyset_page(items, cursor, total, group_key))
}

/// A page of the people reached from the root: each with the shallowest group that holds them
/// directly (the `reached` order is breadth-first, so the first one found is the nearest).
async fn members_page(
    pool: &PgPool,
    source: &str,
    reach: &Reach,
    cursor: &Cursor,
) -> sqlx::Result<Page<MemberRow>> {
    let (member, order, after) = keyset(
        cursor,
        "lower(p.display_name), p.object_id",
        "directory_people p WHERE p.source = $1 AND p.object_id = $3",
    );
    let sql = format!(
        "SELECT p.object_id, p.display_name, p.user_principal_name,
                (array_agg(m.group_id ORDER BY array_position($2::text[], m.group_id)))[1] AS via,
                bool_and(m.via_primary_group) AS primary_only
         FROM directory_memberships m
         JOIN directory_people p ON p.source = m.source AND p.object_id = m.member_id
         WHERE m.source = $1 AND m.group_id = ANY($2) AND m.member_kind = 'person'
           AND p.deleted_at IS NULL {after}
         GROUP BY p.object_id, p.display_name, p.user_principal_name
         ORDER BY lower(p.display_name) {order}, p.object_id {order} LIMIT {limit}",
        limit = PAGE_SIZE + 1
    );
    let rows: Vec<(String, String, Option<String>, String, bool)> = sqlx::query_as(&sql)
        .bind(source)
        .bind(&reach.groups)
        .bind(member)
        .fetch_all(pool)
        .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT m.member_id) FROM directory_memberships m
         JOIN directory_people p ON p.source = m.source AND p.object_id = m.member_id
         WHERE m.source = $1 AND m.group_id = ANY($2) AND m.member_kind = 'person'
           AND p.deleted_at IS NULL",
    )
    .bind(source)
    .bind(&reach.groups)
    .fetch_one(pool)
    .await?;
    // Names for the paths: only the groups the page's rows go through.
    let index: std::collections::HashMap<&str, usize> = reach
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.as_str(), i))
        .collect();
    let paths: Vec<Vec<usize>> = rows
        .iter()
        .map(|r| {
            index
                .get(r.3.as_str())
                .map(|i| reach.path(*i))
                .unwrap_or_default()
        })
        .collect();
    let on_paths: Vec<String> = paths
        .iter()
        .flatten()
        .map(|i| reach.groups[*i].clone())
        .collect();
    let names: std::collections::HashMap<String, String> = sqlx::query_as(
        "SELECT object_id, display_name FROM directory_groups WHERE source = $1 AND object_id = ANY($2)",
    )
    .bind(source)
    .bind(&on_paths)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let items = rows
        .into_iter()
        .zip(paths)
        .map(
            |((id, display_name, user_principal_name, _, primary_only), path)| MemberRow {
                id,
                display_name,
                user_principal_name,
                via: path
                    .iter()
                    .map(|i| {
                        let gid = &reach.groups[*i];
                        names.get(gid).cloned().unwrap_or_else(|| gid.clone())
                    })
                    .collect(),
                primary_group: primary_only,
            },
        )
        .collect();
    Ok(keyset_page(items, cursor, total, |m: &MemberRow| {
        m.id.clone()
    }))
}

pub async fn group_detail(
    pool: &PgPool,
    source: &str,
    id: &str,
    members: &Cursor,
) -> sqlx::Result<Option<GroupDetail>> {
    let row: Option<GroupRow> = sqlx::query_as(&format!(
        "SELECT {GROUP_COLUMNS} FROM directory_groups WHERE source = $1 AND object_id = $2"
    ))
    .bind(source)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let summary = GroupSummary::from(row);
    let as_of = membership::synced_at(pool, source).await?;
    let reach = membership::reach(pool, source, id).await?;
    let members = if summary.deleted_at.is_some() {
        Err(AppError::not_found(
            "The group was deleted from the directory; it has no members now.",
        ))
    } else if as_of.is_none() {
        Err(AppError::not_found(
            "Members have not been synced yet: run a directory sync (Sync page, or gatehouse sync groups).",
        ))
    } else {
        Ok(members_page(pool, source, &reach, members).await?)
    };
    Ok(Some(GroupDetail {
        summary,
        members,
        members_as_of: as_of.map(utc),
        nested_groups: reach.groups.len() as i64 - 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(cursor: Cursor, rows: usize) -> Page<String> {
        let rows = (0..rows).map(|i| format!("g{i:03}")).collect();
        keyset_page(rows, &cursor, 999, |s| s.clone())
    }

    #[test]
    fn keyset_links_point_where_there_is_more() {
        let n = PAGE_SIZE as usize;
        let first = page(Cursor::First, n + 1);
        assert_eq!((first.items.len(), first.prev.as_deref()), (n, None));
        assert_eq!(first.next.as_deref(), Some("g049"));
        let last = page(Cursor::After("x".into()), 3);
        assert_eq!((last.next, last.prev.as_deref()), (None, Some("g000")));
        // Rows fetched backwards come out in reading order.
        let back = page(Cursor::Before("x".into()), n + 1);
        assert_eq!(back.items.first().map(String::as_str), Some("g049"));
        assert!(back.prev.is_some() && back.next.is_some());
        let back_to_start = page(Cursor::Before("x".into()), 2);
        assert_eq!(back_to_start.prev, None);
    }
}
