//! IAM roles for the pages.

use crate::catalog::types::{RoleDetail, RoleSummary};
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
     tags, managed, first_seen_at, last_synced_at, gone_at FROM iam_roles";

/// A role's place in the list's order (gone last, managed first, name, target), as a cursor.
pub fn role_key(r: &RoleSummary) -> String {
    format!(
        "{}{}\u{1f}{}\u{1f}{}",
        u8::from(r.gone),
        u8::from(!r.managed),
        r.role_name.to_lowercase(),
        r.target
    )
}

pub async fn list_roles(pool: &PgPool, search: &str) -> sqlx::Result<Vec<RoleSummary>> {
    let rows: Vec<RoleRow> = sqlx::query_as(&format!(
        "{ROLE_SELECT}
         WHERE ($1 = '' OR role_name ILIKE $2 OR arn ILIKE $2 OR coalesce(description, '') ILIKE $2)
         ORDER BY (gone_at IS NOT NULL), NOT managed, lower(role_name), target"
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
        "{ROLE_SELECT} WHERE role_name = $1 AND ($2 = '' OR target = $2)
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
