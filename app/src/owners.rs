//! API owners: who they are (readers), and setting or clearing them (admins). A change set that
//! changes who may call an owned API is approved only once one of its owners has approved it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, form::FormOutcome};

#[cfg(feature = "ssr")]
use crate::{
    backend::{owners, state::actor, state::app_state},
    form::ssr::answer_typed,
    me::ssr::require_role,
    roles::{Role, READERS},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOwnerView {
    pub group_name: String,
    pub group_source: String,
    pub group_id: String,
    pub set_by: String,
    pub set_at: String,
}

#[cfg(feature = "ssr")]
fn view_of(o: owners::Owner) -> ApiOwnerView {
    ApiOwnerView {
        group_name: o.group_name,
        group_source: o.group_source,
        group_id: o.group_id,
        set_by: o.set_by,
        set_at: crate::backend::catalog::queries::utc(o.set_at),
    }
}

/// Readers: the owners of an API, if it has any.
#[server(endpoint = "api-owners/get")]
pub async fn get_api_owner(api_id: String) -> Result<Option<ApiOwnerView>, AppError> {
    require_role(READERS)?;
    let state = app_state()?;
    let mut conn = state.pool.acquire().await?;
    Ok(owners::of_apis(&mut conn, &[api_id])
        .await?
        .pop()
        .map(view_of))
}

/// Admins: make the members of a directory group (its exact name or object id) the owners of an
/// API; an empty group clears them.
#[server(endpoint = "api-owners/set")]
pub async fn set_api_owner(api_id: String, group: String) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let state = app_state()?;
    let result = match owners::set(&state.pool, &actor(), &api_id, &group).await {
        Ok(Some(o)) => Ok(FormOutcome::message(format!(
            "Members of {} now own this API: change sets that change who may call it need one of them to approve.",
            o.group_name
        ))),
        Ok(None) => Ok(FormOutcome::message("This API has no owners now.")),
        Err(owners::SetError::Field(why)) => Ok(FormOutcome::invalid(vec![("group".into(), why)])),
        Err(owners::SetError::Db(e)) => Err(AppError::from(e)),
    };
    answer_typed(result, &[("group", &group)])
}
