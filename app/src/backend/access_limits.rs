//! An API's longest access (see [`crate::domain::access_limit`]): reading and setting it
//! (admins, audited), and checking a change set's end against the limits of every API it
//! opens a path to — at submission, at the approval that applies it, and when a request is made.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::backend::audit::{self, Actor};
use crate::domain::{
    access_limit::{self, Limit},
    desired::{ChangeItem, DesiredState},
};

pub const LIMIT_SET: &str = "api.max_access_set";
pub const LIMIT_CLEARED: &str = "api.max_access_cleared";

/// One API's limit as its page shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Set {
    pub max_hours: i32,
    pub set_by: String,
    pub set_at: OffsetDateTime,
}

/// Every API's limit, by API id, with the API's name (for the refusals).
pub async fn all(db: &mut PgConnection) -> sqlx::Result<BTreeMap<String, Limit>> {
    read(db, None).await
}

/// The limits of these APIs only (those a change set reaches), as [`all`] gives them.
pub async fn of_apis(
    db: &mut PgConnection,
    apis: &BTreeSet<String>,
) -> sqlx::Result<BTreeMap<String, Limit>> {
    if apis.is_empty() {
        return Ok(BTreeMap::new());
    }
    read(db, Some(apis.iter().cloned().collect())).await
}

async fn read(
    db: &mut PgConnection,
    apis: Option<Vec<String>>,
) -> sqlx::Result<BTreeMap<String, Limit>> {
    let rows: Vec<(String, Option<String>, i32)> = sqlx::query_as(
        "SELECT l.api_id,
                (SELECT name FROM rest_apis a WHERE a.api_id = l.api_id
                 ORDER BY last_synced_at DESC LIMIT 1),
                l.max_hours
         FROM api_access_limits l
         WHERE $1::text[] IS NULL OR l.api_id = ANY($1)",
    )
    .bind(apis)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, hours)| {
            let limit = Limit {
                api_name: name.unwrap_or_else(|| id.clone()),
                hours: hours.unsigned_abs(),
            };
            (id, limit)
        })
        .collect())
}

/// The limits of the APIs a change set opens a path to (see [`access_limit::apis_reached`]).
pub async fn reached(
    db: &mut PgConnection,
    items: &[ChangeItem],
    after: &DesiredState,
) -> sqlx::Result<BTreeMap<String, Limit>> {
    of_apis(db, &access_limit::apis_reached(items, after)).await
}

pub async fn of_api(db: &mut PgConnection, api_id: &str) -> sqlx::Result<Option<Set>> {
    sqlx::query_as("SELECT max_hours, set_by, set_at FROM api_access_limits WHERE api_id = $1")
        .bind(api_id)
        .fetch_optional(db)
        .await
}

/// Why the end does not fit, one sentence per API (empty: it fits); `now` is the earliest the
/// access could start.
pub async fn refusals(
    db: &mut PgConnection,
    items: &[ChangeItem],
    after: &DesiredState,
    ends_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> sqlx::Result<Vec<String>> {
    if !items.iter().any(ChangeItem::is_addition) {
        return Ok(Vec::new());
    }
    let limits = reached(db, items, after).await?;
    Ok(access_limit::refusals(items, after, ends_at, now, &limits))
}

/// Why a limit cannot be set (said next to its field), as for an owner.
pub use crate::backend::owners::SetError;

/// Sets an API's limit to `amount` `unit` (hours or days), or clears it when `amount` is
/// empty. Answers the limit in hours now in force.
pub async fn set(
    pool: &PgPool,
    actor: &Actor,
    api_id: &str,
    amount: &str,
    unit: &str,
) -> Result<Option<u32>, SetError> {
    let hours = if amount.trim().is_empty() {
        None
    } else {
        Some(access_limit::parse(amount, unit).map_err(|e| SetError::Field("amount", e))?)
    };
    let mut tx = pool.begin().await?;
    let api: Option<String> = sqlx::query_scalar(
        "SELECT name FROM rest_apis WHERE api_id = $1 ORDER BY last_synced_at DESC LIMIT 1",
    )
    .bind(api_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(api_name) = api else {
        return Err(SetError::Field(
            "amount",
            format!("There is no API {api_id} in the catalog."),
        ));
    };
    let before = of_api(&mut tx, api_id).await?.map(|s| s.max_hours);
    let subject = format!("api:{api_id}");
    match hours {
        None => {
            sqlx::query("DELETE FROM api_access_limits WHERE api_id = $1")
                .bind(api_id)
                .execute(&mut *tx)
                .await?;
            if let Some(before) = before {
                audit::record(
                    &mut *tx,
                    actor,
                    LIMIT_CLEARED,
                    Some(&subject),
                    serde_json::json!({ "api": api_name, "before": { "max_hours": before } }),
                )
                .await?;
            }
        }
        Some(h) => {
            sqlx::query(
                "INSERT INTO api_access_limits (api_id, max_hours, set_by) VALUES ($1, $2, $3)
                 ON CONFLICT (api_id) DO UPDATE SET max_hours = $2, set_by = $3, set_at = now()",
            )
            .bind(api_id)
            .bind(h as i32)
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
            audit::record(
                &mut *tx,
                actor,
                LIMIT_SET,
                Some(&subject),
                serde_json::json!({
                    "api": api_name,
                    "before": before.map(|b| serde_json::json!({ "max_hours": b })),
                    "after": { "max_hours": h },
                }),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(hours)
}
