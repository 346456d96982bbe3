//! Reading and writing the desired state and change sets. The workflow (`super::workflow`)
//! decides; this file only moves rows.

use crate::domain::{
    change_set::State,
    desired::{ChangeItem, DesiredState},
    grant::{Binding, Grant},
};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct ChangeSetRow {
    pub id: i64,
    pub title: String,
    pub justification: String,
    pub ticket: Option<String>,
    pub state: State,
    pub author_oid: Uuid,
    pub author_name: String,
    pub base_version: i64,
    pub applied_version: Option<i64>,
    pub items: Vec<ChangeItem>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

type RawRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    Uuid,
    String,
    i64,
    Option<i64>,
    serde_json::Value,
    OffsetDateTime,
    OffsetDateTime,
);

const SELECT: &str = "SELECT id, title, justification, ticket, state, author_oid, author_name,
     base_version, applied_version, items, created_at, updated_at FROM change_sets";

fn row(r: RawRow) -> ChangeSetRow {
    ChangeSetRow {
        id: r.0,
        title: r.1,
        justification: r.2,
        ticket: r.3,
        state: State::parse(&r.4).unwrap_or(State::Draft),
        author_oid: r.5,
        author_name: r.6,
        base_version: r.7,
        applied_version: r.8,
        // Items are written only by this module, from the domain type.
        items: serde_json::from_value(r.9).unwrap_or_default(),
        created_at: r.10,
        updated_at: r.11,
    }
}

pub async fn change_set(
    db: &mut PgConnection,
    id: i64,
    lock: bool,
) -> sqlx::Result<Option<ChangeSetRow>> {
    let sql = format!(
        "{SELECT} WHERE id = $1 {}",
        if lock { "FOR UPDATE" } else { "" }
    );
    let r: Option<RawRow> = sqlx::query_as(&sql).bind(id).fetch_optional(db).await?;
    Ok(r.map(row))
}

pub async fn draft_of(db: &mut PgConnection, author: Uuid) -> sqlx::Result<Option<ChangeSetRow>> {
    let sql = format!("{SELECT} WHERE author_oid = $1 AND state = 'draft' FOR UPDATE");
    let r: Option<RawRow> = sqlx::query_as(&sql).bind(author).fetch_optional(db).await?;
    Ok(r.map(row))
}

pub async fn list(pool: &PgPool, states: &[State], limit: i64) -> sqlx::Result<Vec<ChangeSetRow>> {
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    let sql = format!(
        "{SELECT} WHERE cardinality($1::text[]) = 0 OR state = ANY($1) ORDER BY id DESC LIMIT $2"
    );
    let rows: Vec<RawRow> = sqlx::query_as(&sql)
        .bind(&names)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(row).collect())
}

/// What a change set's items touch: a binding, or a role's policy.
pub fn touches(items: &[ChangeItem]) -> Vec<String> {
    let mut keys: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            ChangeItem::AddBinding(b) | ChangeItem::RemoveBinding(b) => Some(binding_key(b)),
            ChangeItem::AddGrant(g) | ChangeItem::RemoveGrant(g) => {
                Some(format!("role:{}", g.role))
            }
            // A re-push changes nothing another change set could conflict with.
            ChangeItem::Repush(_) => None,
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn binding_key(b: &Binding) -> String {
    format!(
        "binding:{}/{}|{}",
        b.group.source, b.group.object_id, b.role
    )
}

fn grant_key(g: &Grant) -> String {
    format!("{}|{}", g.role, g.invoke_arn())
}

pub async fn save_items(db: &mut PgConnection, id: i64, items: &[ChangeItem]) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE change_sets SET items = $2, touches = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(serde_json::to_value(items).expect("items serialise"))
    .bind(touches(items))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_state(db: &mut PgConnection, id: i64, state: State) -> sqlx::Result<()> {
    sqlx::query("UPDATE change_sets SET state = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(state.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// The current version; `lock` holds it until the transaction ends (one application at a time).
pub async fn version(db: &mut PgConnection, lock: bool) -> sqlx::Result<i64> {
    let sql = format!(
        "SELECT version FROM desired_state {}",
        if lock { "FOR UPDATE" } else { "" }
    );
    sqlx::query_scalar(&sql).fetch_one(db).await
}

pub async fn desired_state(db: &mut PgConnection) -> sqlx::Result<DesiredState> {
    let bindings: Vec<serde_json::Value> = sqlx::query_scalar("SELECT binding FROM bindings")
        .fetch_all(&mut *db)
        .await?;
    let grants: Vec<serde_json::Value> = sqlx::query_scalar("SELECT grant_json FROM grants")
        .fetch_all(&mut *db)
        .await?;
    Ok(DesiredState {
        bindings: bindings
            .into_iter()
            .filter_map(|b| serde_json::from_value(b).ok())
            .collect(),
        grants: grants
            .into_iter()
            .filter_map(|g| serde_json::from_value(g).ok())
            .collect(),
    })
}

/// Writes the items into the desired state (already checked to apply) and moves the version.
pub async fn apply(
    db: &mut PgConnection,
    change_set: i64,
    items: &[ChangeItem],
) -> sqlx::Result<i64> {
    for item in items {
        match item {
            ChangeItem::AddBinding(b) => {
                sqlx::query(
                    "INSERT INTO bindings (group_source, group_id, role_arn, binding, applied_by)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&b.group.source)
                .bind(&b.group.object_id)
                .bind(b.role.to_string())
                .bind(serde_json::to_value(b).expect("binding serialises"))
                .bind(change_set)
                .execute(&mut *db)
                .await?;
            }
            ChangeItem::RemoveBinding(b) => {
                sqlx::query("DELETE FROM bindings WHERE group_source = $1 AND group_id = $2 AND role_arn = $3")
                    .bind(&b.group.source)
                    .bind(&b.group.object_id)
                    .bind(b.role.to_string())
                    .execute(&mut *db)
                    .await?;
            }
            ChangeItem::AddGrant(g) => {
                sqlx::query(
                    "INSERT INTO grants (grant_key, role_arn, api_id, grant_json, applied_by)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(grant_key(g))
                .bind(g.role.to_string())
                .bind(g.api.api_id.as_str())
                .bind(serde_json::to_value(g).expect("grant serialises"))
                .bind(change_set)
                .execute(&mut *db)
                .await?;
            }
            ChangeItem::RemoveGrant(g) => {
                sqlx::query("DELETE FROM grants WHERE grant_key = $1")
                    .bind(grant_key(g))
                    .execute(&mut *db)
                    .await?;
            }
            // Only the push acts on it.
            ChangeItem::Repush(_) => {}
        }
    }
    let version: i64 =
        sqlx::query_scalar("UPDATE desired_state SET version = version + 1 RETURNING version")
            .fetch_one(&mut *db)
            .await?;
    sqlx::query("UPDATE change_sets SET applied_version = $2 WHERE id = $1")
        .bind(change_set)
        .bind(version)
        .execute(&mut *db)
        .await?;
    Ok(version)
}

/// Change sets applied after `base` that touch any of `keys`.
pub async fn conflicting(
    db: &mut PgConnection,
    base: i64,
    keys: &[String],
) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT id, title FROM change_sets
         WHERE applied_version > $1 AND touches && $2 ORDER BY applied_version",
    )
    .bind(base)
    .bind(keys)
    .fetch_all(db)
    .await
}

pub struct ReviewRow {
    pub reviewer_oid: Uuid,
    pub reviewer_name: String,
    pub decision: String,
    pub comment: String,
    pub at: OffsetDateTime,
}

pub async fn reviews(db: &mut PgConnection, id: i64) -> sqlx::Result<Vec<ReviewRow>> {
    let rows: Vec<(Uuid, String, String, String, OffsetDateTime)> = sqlx::query_as(
        "SELECT reviewer_oid, reviewer_name, decision, comment, at FROM reviews
         WHERE change_set_id = $1 ORDER BY at",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(reviewer_oid, reviewer_name, decision, comment, at)| ReviewRow {
                reviewer_oid,
                reviewer_name,
                decision,
                comment,
                at,
            },
        )
        .collect())
}
