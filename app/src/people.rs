//! People who have signed in to Gatehouse, and ending a person's sessions (admins only): the
//! person is signed out everywhere at their next request and must sign in again.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    backend::{state::actor, state::app_state, users},
    me::ssr::require_role,
    roles::Role,
};
use crate::{error::AppError, form::FormOutcome};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub tid: String,
    pub oid: String,
    pub display_name: String,
    pub username: String,
    pub roles: Vec<String>,
    /// UTC, minutes.
    pub last_sign_in_at: String,
    pub sessions_ended_at: Option<String>,
}

#[server(endpoint = "people/list", output = crate::codec::StrJson)]
pub async fn list_people() -> Result<Vec<PersonRow>, AppError> {
    require_role(&[Role::Admin])?;
    Ok(users::list(&app_state()?.pool).await?)
}

#[server(endpoint = "people/end-sessions", output = crate::codec::StrJson)]
pub async fn end_sessions(tid: String, oid: String) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let (Ok(tid), Ok(oid)) = (uuid::Uuid::parse_str(&tid), uuid::Uuid::parse_str(&oid)) else {
        return Err(AppError::invalid(
            "oid",
            "not a person's tenant and object id",
        ));
    };
    let state = app_state()?;
    let ended = users::end_sessions(&state.pool, &actor(), tid, oid).await?;
    // This process at once; the others when the notification reaches them.
    state.session_memory.ends.forget_all();
    match ended {
        Some(name) => Ok(FormOutcome::message(format!(
            "Every session of {name} has ended; they must sign in again."
        ))),
        None => Err(AppError::not_found(
            "No such person has signed in to Gatehouse.",
        )),
    }
}
