//! "Try a call": would the authorizer let this person (or this token) call this route, and why?
//! The same decision function as the Lambda, on the bundle last published (or, before the first
//! publication, on the approved state's bundle, and the page says so).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{backend::state::app_state, me::ssr::require_role, roles::READERS};

/// The route asked about, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TryRoute {
    pub api_id: String,
    pub stage: String,
    pub method: String,
    /// A request path (`/orders/42`) or a resource (`/orders/{id}`).
    pub path: String,
}

/// The answer, with the chain of links that decides it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TryOutcome {
    pub allowed: bool,
    /// Who asked: "Ada Admin (ada.admin@contoso.test)".
    pub who: String,
    /// One sentence: why.
    pub reason: String,
    /// The links from the person to the grant, in order (allowed), or what was looked at.
    pub chain: Vec<String>,
    /// Which bundle decided: "published version 3, 2026-12-03T00:10:00Z".
    pub bundle: String,
    /// The bundle is the approved state's, not yet published (the authorizer does not have it).
    pub unpublished: bool,
    /// When API Gateway does not ask Gatehouse's authorizer for this method (its authorization
    /// is `NONE`, `AWS_IAM` or another authorizer), what decides instead.
    #[serde(default)]
    pub not_asked: Option<String>,
}

/// What the form offers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TryChoices {
    /// (`source:object id`, "Name (sign-in name)").
    pub people: Vec<(String, String)>,
    /// (API id, "name (id)").
    pub apis: Vec<(String, String)>,
    /// Pasted tokens can be checked (GATEHOUSE_API_AUDIENCES is set).
    pub tokens: bool,
}

/// Readers: the people and APIs the form offers.
#[server(endpoint = "try/choices", output = crate::codec::StrJson)]
pub async fn get_try_choices() -> Result<TryChoices, AppError> {
    require_role(READERS)?;
    crate::backend::tryit::choices(&app_state()?).await
}

/// Readers: may `person` (`source:object id`) call the route? `None` until a person is chosen.
#[server(endpoint = "try/person", output = crate::codec::StrJson)]
pub async fn try_person(person: String, route: TryRoute) -> Result<Option<TryOutcome>, AppError> {
    require_role(READERS)?;
    if person.trim().is_empty() {
        return Ok(None);
    }
    crate::backend::tryit::as_person(&app_state()?, &person, &route)
        .await
        .map(Some)
}

/// Readers: may the bearer of `token` (an API access token) call the route? The token is
/// checked as the authorizer checks it; it is neither stored nor logged.
#[server(endpoint = "try/token", output = crate::codec::StrJson)]
pub async fn try_token(token: String, route: TryRoute) -> Result<TryOutcome, AppError> {
    require_role(READERS)?;
    crate::backend::tryit::as_token(&app_state()?, &token, &route).await
}
