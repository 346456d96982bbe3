//! REST API tokens: everyone with a Gatehouse role makes, lists and revokes their own; admins
//! also make service tokens for pipelines. A new token's secret is shown once, on the next read
//! of the list (kept in the session until then, so it survives a page without JavaScript).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, form::FormOutcome};

#[cfg(feature = "ssr")]
use crate::{
    backend::{state::app_state, state::caller, tokens},
    domain::api_token::TokenRequest,
    form::ssr::{answer_result, answer_typed},
    me::ssr::require_role,
    roles::READERS,
};

/// One token as its list shows it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// `person` or `service`.
    pub kind: String,
    /// Who its requests act as.
    pub acts_as: String,
    pub scopes: Vec<String>,
    /// The secret's first characters.
    pub prefix: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_used_at: Option<String>,
    pub uses: i64,
    pub active: bool,
    /// `active`, `expired …` or `revoked … by …`.
    pub status: String,
}

/// A token just made: its secret, shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreshToken {
    pub id: i64,
    pub name: String,
    pub secret: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensView {
    pub tokens: Vec<TokenView>,
    pub fresh: Option<FreshToken>,
    pub may_make_service: bool,
    /// The scopes the viewer may give a personal token.
    pub person_scopes: Vec<String>,
}

#[cfg(feature = "ssr")]
const FRESH_KEY: &str = "fresh_api_token";

#[cfg(feature = "ssr")]
async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|e| AppError::internal(format!("no session: {e}")))
}

/// The viewer's tokens (admins: and every service token), and a secret made just before.
#[server(endpoint = "tokens/list", output = crate::codec::StrJson)]
pub async fn list_tokens() -> Result<TokensView, AppError> {
    let user = require_role(READERS)?;
    let me = caller().ok_or(AppError::SignIn)?;
    let state = app_state()?;
    let session = session().await?;
    let fresh: Option<FreshToken> = session
        .remove(FRESH_KEY)
        .await
        .map_err(|e| AppError::internal(format!("session: {e}")))?;
    let person_scopes = crate::domain::api_token::Scope::ALL
        .into_iter()
        .filter(|s| s.needs().iter().any(|r| user.has(*r)))
        .map(|s| s.as_str().to_string())
        .collect();
    Ok(TokensView {
        tokens: tokens::list(&state.pool, &me).await?,
        fresh,
        may_make_service: user.has(crate::roles::Role::Admin),
        person_scopes,
    })
}

/// Makes a token. Scopes come as one checkbox each (`scope_read=on` …).
#[server(endpoint = "tokens/create", output = crate::codec::StrJson)]
#[allow(clippy::too_many_arguments)]
pub async fn create_token(
    name: String,
    kind: String,
    #[server(default)] service: String,
    #[server(default)] scope_read: String,
    #[server(default)] scope_draft: String,
    #[server(default)] scope_push: String,
    days: String,
) -> Result<FormOutcome, AppError> {
    let user = require_role(READERS)?;
    let me = caller().ok_or(AppError::SignIn)?;
    let typed = [
        ("name", name.as_str()),
        ("kind", kind.as_str()),
        ("service", service.as_str()),
        ("days", days.as_str()),
    ];
    let scopes = [
        ("read", &scope_read),
        ("draft", &scope_draft),
        ("push", &scope_push),
    ]
    .into_iter()
    .filter(|(_, on)| !on.is_empty())
    .map(|(s, _)| s.to_string())
    .collect();
    let request = TokenRequest {
        name: name.clone(),
        kind: kind.clone(),
        service: service.clone(),
        scopes,
        days: days.clone(),
    };
    let checked = match request.check(&user.roles) {
        Ok(c) => c,
        Err(errors) => {
            return answer_typed(
                Err(AppError::form(FormOutcome::invalid(
                    errors
                        .into_iter()
                        .map(|(f, e)| (f.to_string(), e))
                        .collect(),
                ))),
                &typed,
            )
        }
    };
    let state = app_state()?;
    let (id, secret) = tokens::create(&state.pool, &me, &checked)
        .await
        .map_err(AppError::internal)?;
    session()
        .await?
        .insert(
            FRESH_KEY,
            FreshToken {
                id,
                name: checked.name.clone(),
                secret,
            },
        )
        .await
        .map_err(|e| AppError::internal(format!("session: {e}")))?;
    answer_result(Ok(FormOutcome::message(format!(
        "Token {id} made: copy its secret now, it is not shown again."
    ))))
}

/// Revokes a token: its next request is refused.
#[server(endpoint = "tokens/revoke", output = crate::codec::StrJson)]
pub async fn revoke_token(id: i64) -> Result<FormOutcome, AppError> {
    require_role(READERS)?;
    let me = caller().ok_or(AppError::SignIn)?;
    if tokens::revoke(&app_state()?.pool, &me, id).await? {
        answer_result(Ok(FormOutcome::message(format!(
            "Token {id} revoked: its next request is refused."
        ))))
    } else {
        Err(AppError::not_found(format!(
            "You have no active token {id} to revoke."
        )))
    }
}
