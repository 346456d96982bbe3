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

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Owner {
    pub api_id: String,
    pub api_name: String,
    pub group_source: String,
    pub group_id: String,
    pub group_name: String,
    pub set_by: String,
    pub set_at: OffsetDateTime,
}

impl Owner {
    pub fn group(&self) -> GroupRef {
        GroupRef {
            source: self.group_source.clone(),
            object_id: self.group_id.clone(),
        }
    }
}

const OWNERS: &str = "SELECT o.api_id,
        coalesce((SELECT name FROM rest_apis a WHERE a.api_id = o.api_id LIMIT 1), o.api_id) AS api_name,
        o.group_source, o.group_id,
        coalesce((SELECT display_name FROM directory_groups g
                  WHERE g.source = o.group_source AND g.object_id = o.group_id), o.group_id) AS group_name,
        o.set_by, o.set_at
    FROM api_owners o";

/// The owners of these APIs (those that have one), by API id.
pub async fn of_apis(db: &mut PgConnection, apis: &[String]) -> sqlx::Result<Vec<Owner>> {
    sqlx::query_as(&format!(
        "{OWNERS} WHERE o.api_id = ANY($1) ORDER BY o.api_id"
    ))
    .bind(apis)
    .fetch_all(db)
    .await
}

/// Why an owner cannot be set, said next to the field.
#[derive(Debug)]
pub enum SetError {
    Field(String),
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SetError {
    fn from(e: sqlx::Error) -> Self {
        SetError::Db(e)
    }
}

/// Sets the owners of `api_id` to the directory group named by `group` (its exact name, or its
/// object id), or clears them when `group` is empty. Answers the owner now.
pub async fn set(
    pool: &PgPool,
    actor: &Actor,
    api_id: &str,
    group: &str,
) -> Result<Option<Owner>, SetError> {
    let group = group.trim();
    let mut tx = pool.begin().await?;
    let api: Option<String> =
        sqlx::query_scalar("SELECT name FROM rest_apis WHERE api_id = $1 LIMIT 1")
            .bind(api_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(api_name) = api else {
        return Err(SetError::Field(format!(
            "There is no API {api_id} in the catalog."
        )));
    };
    let subject = format!("api:{api_id}");
    if group.is_empty() {
        let cleared: Option<(String, String)> = sqlx::query_as(
            "DELETE FROM api_owners WHERE api_id = $1 RETURNING group_source, group_id",
        )
        .bind(api_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((source, id)) = cleared {
            audit::record(
                &mut *tx,
                actor,
                OWNER_CLEARED,
                Some(&subject),
                serde_json::json!({ "api": api_name, "group": { "source": source, "object_id": id } }),
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(None);
    }
    let found: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT source, object_id, display_name FROM directory_groups
         WHERE deleted_at IS NULL AND (object_id = $1 OR lower(display_name) = lower($1))
         ORDER BY source, object_id LIMIT 3",
    )
    .bind(group)
    .fetch_all(&mut *tx)
    .await?;
    let (source, object_id, name) = match found.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(SetError::Field(format!(
                "No directory group is named “{group}” or has that object id: type a group's exact name or its object id (see Groups)."
            )))
        }
        _ => {
            return Err(SetError::Field(format!(
                "Several directory groups are named “{group}”: type the object id of the one you mean."
            )))
        }
    };
    sqlx::query(
        "INSERT INTO api_owners (api_id, group_source, group_id, set_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (api_id) DO UPDATE
         SET group_source = $2, group_id = $3, set_by = $4, set_at = now()",
    )
    .bind(api_id)
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
        serde_json::json!({ "api": api_name, "group": { "source": source, "object_id": object_id, "name": name } }),
    )
    .await?;
    let owner = of_apis(&mut tx, &[api_id.to_string()]).await?.pop();
    tx.commit().await?;
    Ok(owner)
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

/// An owned API a change set touches, and which of its approvers (if any) owns it.
#[derive(Clone, Debug)]
pub struct OwnerCheck {
    pub owner: Owner,
    pub approved_by: Option<String>,
}

/// For each owned API among `apis`, the first of `approvers` (oid, name) who owns it.
pub async fn checks(
    db: &mut PgConnection,
    apis: &[String],
    approvers: &[(Uuid, String)],
) -> sqlx::Result<Vec<OwnerCheck>> {
    let mut out = Vec::new();
    for owner in of_apis(db, apis).await? {
        let mut approved_by = None;
        for (oid, name) in approvers {
            if is_member(db, &owner.group(), *oid).await? {
                approved_by = Some(name.clone());
                break;
            }
        }
        out.push(OwnerCheck { owner, approved_by });
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
        .map(|c| format!("{} ({})", c.owner.api_name, c.owner.group_name))
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}
