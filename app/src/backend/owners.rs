//! API owners: a directory group per API whose members (directly or through nesting) must
//! approve every change set that changes who may call the API, on top of the approvals every
//! change set needs. Setting or clearing an owner is an audited admin decision.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::audit::{self, Actor};
use crate::domain::grant::GroupRef;

pub const OWNER_SET: &str = "api.owner_set";
pub const OWNER_CLEARED: &str = "api.owner_cleared";

/// An owner of one API: named for it, or for a tag it carries (`tag`: `team=logistics`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Owner {
    pub api_id: String,
    pub api_name: String,
    pub tag: Option<String>,
    pub group_source: String,
    pub group_id: String,
    pub group_name: String,
    pub set_by: String,
    pub set_at: OffsetDateTime,
}

impl Owner {
    pub fn group(&self) -> GroupRef {
        GroupRef::group(&self.group_source, &self.group_id)
    }
}

/// The owners of these APIs (those that have any), named for the API itself first, then
/// through its tags.
pub async fn of_apis(db: &mut PgConnection, apis: &[String]) -> sqlx::Result<Vec<Owner>> {
    sqlx::query_as(
        "SELECT a.api_id, a.name AS api_name,
                CASE WHEN o.api_id IS NULL THEN o.tag_key || '=' || o.tag_value END AS tag,
                o.group_source, o.group_id,
                coalesce((SELECT display_name FROM directory_groups g
                          WHERE g.source = o.group_source AND g.object_id = o.group_id),
                         o.group_id) AS group_name,
                o.set_by, o.set_at
         FROM (SELECT DISTINCT ON (api_id) api_id, name, tags FROM rest_apis
               WHERE api_id = ANY($1) ORDER BY api_id, last_synced_at DESC) a
         JOIN api_owners o
           ON o.api_id = a.api_id OR (o.tag_key IS NOT NULL AND a.tags ->> o.tag_key = o.tag_value)
         ORDER BY a.api_id, o.api_id NULLS LAST, o.tag_key, o.tag_value",
    )
    .bind(apis)
    .fetch_all(db)
    .await
}

/// Why an owner cannot be set, said next to the field.
#[derive(Debug)]
pub enum SetError {
    Field(&'static str, String),
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SetError {
    fn from(e: sqlx::Error) -> Self {
        SetError::Db(e)
    }
}

/// What an owner is named for: `api` (the API itself) or `tag:KEY=VALUE`, one of its tags.
fn scope(scope: &str, tags: &serde_json::Value) -> Result<Option<(String, String)>, SetError> {
    let scope = scope.trim();
    if scope.is_empty() || scope == "api" {
        return Ok(None);
    }
    let Some((key, value)) = scope.strip_prefix("tag:").and_then(|t| t.split_once('=')) else {
        return Err(SetError::Field(
            "scope",
            format!("“{scope}” is neither this API nor one of its tags."),
        ));
    };
    if tags.get(key).and_then(|v| v.as_str()) != Some(value) {
        return Err(SetError::Field(
            "scope",
            format!(
                "This API does not carry the tag {key}={value}: pick this API or one of its tags."
            ),
        ));
    }
    Ok(Some((key.to_string(), value.to_string())))
}

/// Sets the owners named for `api_id` (`scope` `api`) or for one of its tags
/// (`tag:KEY=VALUE`) to the directory group named by `group` (its exact name, or its object id),
/// or clears them when `group` is empty. Answers the owners the API has now.
pub async fn set(
    pool: &PgPool,
    actor: &Actor,
    api_id: &str,
    scope_text: &str,
    group: &str,
) -> Result<Vec<Owner>, SetError> {
    let group = group.trim();
    let mut tx = pool.begin().await?;
    let api: Option<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT name, tags FROM rest_apis WHERE api_id = $1 ORDER BY last_synced_at DESC LIMIT 1",
    )
    .bind(api_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((api_name, tags)) = api else {
        return Err(SetError::Field(
            "group",
            format!("There is no API {api_id} in the catalog."),
        ));
    };
    let tag = scope(scope_text, &tags)?;
    let (subject, named_for) = match &tag {
        None => (
            format!("api:{api_id}"),
            serde_json::json!({ "api": api_name }),
        ),
        Some((k, v)) => (
            format!("api-tag:{k}={v}"),
            serde_json::json!({ "tag": format!("{k}={v}") }),
        ),
    };
    let (tag_key, tag_value) = tag.clone().unzip();
    let api_key = tag.is_none().then_some(api_id);
    if group.is_empty() {
        let cleared: Option<(String, String)> = sqlx::query_as(
            "DELETE FROM api_owners
             WHERE api_id IS NOT DISTINCT FROM $1 AND tag_key IS NOT DISTINCT FROM $2
               AND tag_value IS NOT DISTINCT FROM $3
             RETURNING group_source, group_id",
        )
        .bind(api_key)
        .bind(&tag_key)
        .bind(&tag_value)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((source, id)) = cleared {
            audit::record(
                &mut *tx,
                actor,
                OWNER_CLEARED,
                Some(&subject),
                serde_json::json!({ "for": named_for, "group": { "source": source, "object_id": id } }),
            )
            .await?;
        }
    } else {
        let (source, object_id, name) = find_group(&mut tx, group).await?;
        let conflict = if tag.is_none() {
            "(api_id) WHERE api_id IS NOT NULL"
        } else {
            "(tag_key, tag_value) WHERE tag_key IS NOT NULL"
        };
        sqlx::query(&format!(
            "INSERT INTO api_owners (api_id, tag_key, tag_value, group_source, group_id, set_by)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT {conflict} DO UPDATE
             SET group_source = $4, group_id = $5, set_by = $6, set_at = now()"
        ))
        .bind(api_key)
        .bind(&tag_key)
        .bind(&tag_value)
        .bind(&source)
        .bind(&object_id)
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            OWNER_SET,
            Some(&subject),
            serde_json::json!({ "for": named_for, "group": { "source": source, "object_id": object_id, "name": name } }),
        )
        .await?;
    }
    let owners = of_apis(&mut tx, &[api_id.to_string()]).await?;
    tx.commit().await?;
    Ok(owners)
}

/// The one live directory group with this exact name (any case) or object id.
pub async fn find_group(
    db: &mut PgConnection,
    group: &str,
) -> Result<(String, String, String), SetError> {
    let found: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT source, object_id, display_name FROM directory_groups
         WHERE deleted_at IS NULL AND (object_id = $1 OR lower(display_name) = lower($1))
         ORDER BY source, object_id LIMIT 3",
    )
    .bind(group)
    .fetch_all(db)
    .await?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(SetError::Field("group", format!(
            "No directory group is named “{group}” or has that object id: type a group's exact name or its object id (see Groups)."
        ))),
        _ => Err(SetError::Field("group", format!(
            "Several directory groups are named “{group}”: type the object id of the one you mean."
        ))),
    }
}

/// Whether the directory person `oid` is in `group`, directly or through nesting.
pub async fn is_member(db: &mut PgConnection, group: &GroupRef, oid: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "WITH RECURSIVE up(group_id) AS (
             SELECT group_id FROM directory_memberships
             WHERE source = $1 AND member_id = $2 AND member_kind = 'person'
             UNION
             SELECT m.group_id FROM directory_memberships m JOIN up ON m.member_id = up.group_id
             WHERE m.source = $1 AND m.member_kind = 'group')
         SELECT EXISTS (SELECT 1 FROM up WHERE group_id = $3)",
    )
    .bind(&group.source)
    .bind(oid.to_string())
    .bind(&group.object_id)
    .fetch_one(db)
    .await
}

/// An owned API a change set touches: its owners (named for it or through its tags; any one
/// of them may approve), and which of its approvers owns it, if one has approved yet.
#[derive(Clone, Debug)]
pub struct OwnerCheck {
    pub api_id: String,
    pub api_name: String,
    pub owners: Vec<Owner>,
    pub approved_by: Option<String>,
}

impl OwnerCheck {
    /// "Gatehouse admins or Logistics leads".
    pub fn groups(&self) -> String {
        let mut names: Vec<&str> = self.owners.iter().map(|o| o.group_name.as_str()).collect();
        names.dedup();
        names.join(" or ")
    }
}

/// For each owned API among `apis`, the first of `approvers` (oid, name) who owns it.
pub async fn checks(
    db: &mut PgConnection,
    apis: &[String],
    approvers: &[(Uuid, String)],
) -> sqlx::Result<Vec<OwnerCheck>> {
    let mut out: Vec<OwnerCheck> = Vec::new();
    for owner in of_apis(db, apis).await? {
        match out.last_mut() {
            Some(last) if last.api_id == owner.api_id => last.owners.push(owner),
            _ => out.push(OwnerCheck {
                api_id: owner.api_id.clone(),
                api_name: owner.api_name.clone(),
                owners: vec![owner],
                approved_by: None,
            }),
        }
    }
    for check in &mut out {
        'approvers: for (oid, name) in approvers {
            for owner in &check.owners {
                if is_member(db, &owner.group(), *oid).await? {
                    check.approved_by = Some(name.clone());
                    break 'approvers;
                }
            }
        }
    }
    Ok(out)
}

/// The owned APIs change set `id` (holding `items`) touches, each with the approver who owns
/// it, if one has approved yet.
pub async fn for_change_set(
    db: &mut PgConnection,
    id: i64,
    items: &[crate::domain::desired::ChangeItem],
) -> sqlx::Result<Vec<OwnerCheck>> {
    use crate::backend::mappings::store;
    // Cheap first: most APIs have no owner, and then the desired state need not be read.
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM api_owners)")
        .fetch_one(&mut *db)
        .await?;
    if !any {
        return Ok(Vec::new());
    }
    let before = store::approved_rows(&mut *db).await?;
    let after = before.apply(items).ok();
    let apis: Vec<String> = crate::domain::owners::apis_touched(items, &before, after.as_ref())
        .into_iter()
        .collect();
    let approvers: Vec<(Uuid, String)> = store::reviews(&mut *db, id)
        .await?
        .into_iter()
        .filter(|r| r.decision == "approve")
        .map(|r| (r.reviewer_oid, r.reviewer_name))
        .collect();
    checks(db, &apis, &approvers).await
}

/// "orders (Orders team), payments (Payments engineers)": the owners still to approve.
pub fn missing(checks: &[OwnerCheck]) -> Option<String> {
    let names: Vec<String> = checks
        .iter()
        .filter(|c| c.approved_by.is_none())
        .map(|c| format!("{} ({})", c.api_name, c.groups()))
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}
