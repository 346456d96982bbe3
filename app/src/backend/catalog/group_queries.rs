//! Directory groups for the pages: keyset pages over (name, id, source), so the thousandth
//! page costs what the first does, and a group's transitive members, read from the directory.

use crate::catalog::types::{Cursor, GroupDetail, GroupSummary, MemberRow, Page};
use sqlx::PgPool;
use time::OffsetDateTime;

use super::queries::{like_pattern, utc};
use crate::backend::directory::{store::refresh_members, Directory};
use crate::error::AppError;

pub const PAGE_SIZE: i64 = 50;

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
fn keyset_page<T>(
    mut rows: Vec<T>,
    cursor: &Cursor,
    total: i64,
    key: impl Fn(&T) -> String,
) -> Page<T> {
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
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
    let sql = if search.is_empty() {
        format!(
            "SELECT {GROUP_COLUMNS} FROM directory_groups WHERE true {after}
             ORDER BY lower(display_name) {order}, object_id {order}, source {order} LIMIT $5"
        )
    } else {
        format!(
            "WITH matches AS MATERIALIZED (
                 SELECT {GROUP_COLUMNS} FROM directory_groups WHERE {GROUP_MATCH})
             SELECT {GROUP_COLUMNS} FROM matches WHERE true {after}
             ORDER BY lower(display_name) {order}, object_id {order}, source {order} LIMIT $5"
        )
    };
    let (source, id) = split_key(key);
    let rows: Vec<GroupRow> = sqlx::query_as(&sql)
        .bind(search)
        .bind(&pattern)
        .bind(source)
        .bind(id)
        .bind(PAGE_SIZE + 1)
        .fetch_all(pool)
        .await?;
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM directory_groups WHERE {GROUP_MATCH}"
    ))
    .bind(search)
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    let items = rows.into_iter().map(GroupSummary::from).collect();
    Ok(keyset_page(items, cursor, total, group_key))
}

async fn members_page(
    pool: &PgPool,
    source: &str,
    group_id: &str,
    cursor: &Cursor,
    total: i64,
) -> sqlx::Result<Page<MemberRow>> {
    let (member, order, after) = keyset(
        cursor,
        "lower(display_name), member_id",
        "directory_members WHERE source = $1 AND group_id = $2 AND member_id = $3",
    );
    let sql = format!(
        "SELECT member_id, display_name, user_principal_name FROM directory_members
         WHERE source = $1 AND group_id = $2 {after}
         ORDER BY lower(display_name) {order}, member_id {order} LIMIT $4"
    );
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(&sql)
        .bind(source)
        .bind(group_id)
        .bind(member)
        .bind(PAGE_SIZE + 1)
        .fetch_all(pool)
        .await?;
    let items = rows
        .into_iter()
        .map(|(id, display_name, user_principal_name)| MemberRow {
            id,
            display_name,
            user_principal_name,
        })
        .collect();
    Ok(keyset_page(items, cursor, total, |m: &MemberRow| {
        m.id.clone()
    }))
}

pub async fn group_detail(
    pool: &PgPool,
    directory: Option<&Directory>,
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
    let members = match directory {
        _ if summary.deleted_at.is_some() => {
            Err(AppError::not_found(
                "The group was deleted from the directory; it has no members now.",
            ))
        }
        Some(d) if d.source() == source => match refresh_members(pool, d, id).await {
            Ok(total) => Ok(members_page(pool, source, id, members, total as i64).await?),
            Err(e) => {
                tracing::warn!(error = %e, group = id, "could not read group members");
                Err(AppError::Upstream(format!(
                    "The members could not be read from the directory: {e}"
                )))
            }
        },
        _ => Err(AppError::Refused(format!(
            "Members are read from the directory this group came from ({source}), which is not the one configured now."
        ))),
    };
    Ok(Some(GroupDetail { summary, members }))
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
