//! IAM roles for the pages.

use crate::catalog::types::{Cursor, Page, RoleDetail, RoleSummary};
use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    queries::{like_pattern, utc},
    trust::trusted_principals,
};

#[derive(sqlx::FromRow)]
struct RoleRow {
    target: String,
    role_name: String,
    role_id: String,
    arn: String,
    path: String,
    description: Option<String>,
    trust_policy: Option<Value>,
    tags: Value,
    managed: bool,
    first_seen_at: OffsetDateTime,
    last_synced_at: OffsetDateTime,
    gone_at: Option<OffsetDateTime>,
}

impl RoleRow {
    fn summary(&self) -> RoleSummary {
        RoleSummary {
            target: self.target.clone(),
            role_name: self.role_name.clone(),
            arn: self.arn.clone(),
            path: self.path.clone(),
            description: self.description.clone(),
            managed: self.managed,
            trusted: self
                .trust_policy
                .as_ref()
                .map(trusted_principals)
                .unwrap_or_default(),
            gone: self.gone_at.is_some(),
            last_synced_at: utc(self.last_synced_at),
        }
    }
}

const ROLE_SELECT: &str = "SELECT target, role_name, role_id, arn, path, description, trust_policy,
     tags, managed, first_seen_at, last_synced_at, gone_at, list_key FROM iam_roles";

/// Roles matching `search` (name, ARN or description; `$2` its pattern). Without a search the
/// statement is another text that does not name it (`$1`, `$2` bound and unused), whose plan
/// (walk the list's index) the database keeps.
fn role_match(search: &str) -> &'static str {
    if search.is_empty() {
        "true"
    } else {
        "(role_name ILIKE $2 OR arn ILIKE $2 OR coalesce(description, '') ILIKE $2)"
    }
}

/// One page of the roles matching `search`, in the list's order (gone last, managed first, name,
/// target): keyset over `list_key`, which the database keeps and indexes, so a page reads only
/// its rows (the cursor is that key).
pub async fn roles_page(
    pool: &PgPool,
    search: &str,
    cursor: &Cursor,
    size: usize,
) -> sqlx::Result<Page<RoleSummary>> {
    // The comparison and order come from this match, never from the request.
    let (key, compare, order) = match cursor {
        Cursor::First => ("", ">=", "ASC"),
        Cursor::After(k) => (k.as_str(), ">", "ASC"),
        Cursor::Before(k) => (k.as_str(), "<", "DESC"),
    };
    let rows: Vec<(String, RoleRow)> = sqlx::query_as::<_, KeyedRoleRow>(&format!(
        "{ROLE_SELECT} WHERE {} AND list_key {compare} $3
         ORDER BY list_key {order} LIMIT {}",
        role_match(search),
        size + 1
    ))
    .bind(search)
    .bind(like_pattern(search))
    .bind(key)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.list_key, r.row))
    .collect();
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM iam_roles WHERE {}",
        role_match(search)
    ))
    .bind(search)
    .bind(like_pattern(search))
    .fetch_one(pool)
    .await?;
    let page = super::group_queries::keyset_page_of(rows, cursor, total, |(k, _)| k.clone(), size);
    Ok(Page {
        items: page.items.iter().map(|(_, r)| r.summary()).collect(),
        total: page.total,
        next: page.next,
        prev: page.prev,
    })
}

#[derive(sqlx::FromRow)]
struct KeyedRoleRow {
    list_key: String,
    #[sqlx(flatten)]
    row: RoleRow,
}

/// Every role matching `search`, in the list's order (the REST API pages them by ARN).
pub async fn list_roles(pool: &PgPool, search: &str) -> sqlx::Result<Vec<RoleSummary>> {
    let rows: Vec<RoleRow> = sqlx::query_as(&format!(
        "{ROLE_SELECT}
         WHERE {} ORDER BY list_key",
        role_match(search)
    ))
    .bind(search)
    .bind(like_pattern(search))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(RoleRow::summary).collect())
}

/// A role by name; `target` picks one when several accounts have a role of that name.
pub async fn role_detail(
    pool: &PgPool,
    target: &str,
    name: &str,
) -> sqlx::Result<Option<RoleDetail>> {
    let row: Option<RoleRow> = sqlx::query_as(&format!(
        // A target is `account/region`; IAM roles are global, so an account alone names them too
        // (the mappings list links a role by its ARN's account).
        "{ROLE_SELECT} WHERE role_name = $1 AND ($2 = '' OR target = $2 OR split_part(target, '/', 1) = $2)
         ORDER BY gone_at NULLS FIRST, target LIMIT 1"
    ))
    .bind(name)
    .bind(target)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| {
        let tags = match &r.tags {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
            _ => Vec::new(),
        };
        RoleDetail {
            summary: r.summary(),
            role_id: r.role_id.clone(),
            // serde_json keeps keys sorted, so the same policy always prints the same way.
            trust_policy: r
                .trust_policy
                .as_ref()
                .map(|p| serde_json::to_string_pretty(p).unwrap_or_default()),
            tags,
            first_seen_at: utc(r.first_seen_at),
            gatehouse: Default::default(),
        }
    }))
}
