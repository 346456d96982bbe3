//! API owners: who they are (readers), and setting or clearing them (admins). A change set that
//! changes who may call an owned API is approved only once one of its owners has approved it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, form::FormOutcome};

#[cfg(feature = "ssr")]
use crate::{
    backend::{access_limits, owners, state::actor, state::app_state},
    form::ssr::answer_typed,
    me::ssr::require_role,
    roles::{Role, READERS},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOwnerView {
    /// `None`: named for this API; else the tag (`team=logistics`) it is named for.
    pub tag: Option<String>,
    pub group_name: String,
    pub group_source: String,
    pub group_id: String,
    pub set_by: String,
    pub set_at: String,
}

#[cfg(feature = "ssr")]
fn view_of(o: owners::Owner) -> ApiOwnerView {
    ApiOwnerView {
        tag: o.tag,
        group_name: o.group_name,
        group_source: o.group_source,
        group_id: o.group_id,
        set_by: o.set_by,
        set_at: crate::backend::catalog::queries::utc(o.set_at),
    }
}

/// What the owners section of an API's page shows: its owners, and the tags it carries (an
/// owner may be named for every API carrying one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOwners {
    pub owners: Vec<ApiOwnerView>,
    pub tags: Vec<String>,
    /// The longest access the API allows (none: any, even without an end).
    #[serde(default)]
    pub longest: Option<AccessLimitView>,
}

/// An API's longest access, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLimitView {
    pub hours: u32,
    /// "8 hours", "7 days".
    pub label: String,
    pub set_by: String,
    pub set_at: String,
}

/// Readers: the owners of an API (named for it, or for a tag it carries) and its tags.
#[server(endpoint = "api-owners/get", output = crate::codec::StrJson)]
pub async fn get_api_owners(api_id: String) -> Result<ApiOwners, AppError> {
    require_role(READERS)?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    let tags: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT tags FROM rest_apis WHERE api_id = $1 ORDER BY last_synced_at DESC LIMIT 1",
    )
    .bind(&api_id)
    .fetch_optional(&mut *conn)
    .await?;
    let tags = tags
        .and_then(|t| t.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    let longest = access_limits::of_api(&mut conn, &api_id)
        .await?
        .map(|l| AccessLimitView {
            hours: l.max_hours.unsigned_abs(),
            label: crate::domain::access_limit::describe(l.max_hours.unsigned_abs()),
            set_by: l.set_by,
            set_at: crate::backend::catalog::queries::utc(l.set_at),
        });
    Ok(ApiOwners {
        owners: owners::of_apis(&mut conn, &[api_id])
            .await?
            .into_iter()
            .map(view_of)
            .collect(),
        tags,
        longest,
    })
}

/// Admins: the longest any access added to an API may last (`amount` `unit`: hours or days,
/// 1 hour to 366 days); an empty amount lets access be permanent again.
#[server(endpoint = "api-owners/longest", output = crate::codec::StrJson)]
pub async fn set_api_access_limit(
    api_id: String,
    amount: String,
    unit: String,
) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let state = app_state()?;
    let result = match access_limits::set(&state.pool, &actor(), &api_id, &amount, &unit).await {
        Ok(Some(hours)) => Ok(FormOutcome::message(format!(
            "Access added to this API now lasts {} at most; access given before is not shortened.",
            crate::domain::access_limit::describe(hours)
        ))),
        Ok(None) => Ok(FormOutcome::message(
            "This API has no longest access now: access to it may be permanent.",
        )),
        Err(access_limits::SetError::Field(field, why)) => {
            Ok(FormOutcome::invalid(vec![(field.into(), why)]))
        }
        Err(access_limits::SetError::Db(e)) => Err(AppError::from(e)),
    };
    answer_typed(result, &[("amount", &amount), ("unit", &unit)])
}

/// Admins: make the members of a directory group (its exact name or object id) the owners of
/// an API (`scope` `api`) or of every API carrying one of its tags (`tag:KEY=VALUE`); an empty
/// group clears them.
#[server(endpoint = "api-owners/set", output = crate::codec::StrJson)]
pub async fn set_api_owner(
    api_id: String,
    scope: String,
    group: String,
) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let state = app_state()?;
    let what = match scope.strip_prefix("tag:") {
        Some(tag) => format!("every API tagged {tag}"),
        None => "this API".to_string(),
    };
    let result = match owners::set(&state.pool, &actor(), &api_id, &scope, &group).await {
        Ok(_) if group.trim().is_empty() => {
            Ok(FormOutcome::message(format!("{what}: no owners named now.")))
        }
        Ok(_) => Ok(FormOutcome::message(format!(
            "Members of {} now own {what}: change sets that change who may call it need one of them to approve.",
            group.trim()
        ))),
        Err(owners::SetError::Field(field, why)) => {
            Ok(FormOutcome::invalid(vec![(field.into(), why)]))
        }
        Err(owners::SetError::Db(e)) => Err(AppError::from(e)),
    };
    answer_typed(result, &[("group", &group), ("scope", &scope)])
}
