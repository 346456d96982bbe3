//! A person's access: found by name or email among the directory's people, then their groups
//! (with the nesting that brings them in), the roles those groups use and every route the
//! approved mappings let them call, each with the chain of links that allows it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{backend::state::app_state, me::ssr::require_role, roles::READERS};

/// A person found by a search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonHit {
    pub source: String,
    pub oid: String,
    pub name: String,
    pub username: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonGroup {
    pub name: String,
    pub href: String,
    /// Names from a group the person is directly in up to this one; one name: direct.
    pub path: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRole {
    pub arn: String,
    pub name: String,
    /// "member of A ⊂ B".
    pub through: String,
    /// How members come to use it ("IAM Identity Center").
    pub broker: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRouteView {
    pub api_id: String,
    pub api_name: String,
    pub stage: String,
    pub method: String,
    pub path: String,
    pub authorization: String,
    /// `NONE`: anyone who can reach it may call it; the grant changes nothing.
    pub open: bool,
    /// The links that allow it, first to last.
    pub chain: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub source: String,
    pub oid: String,
    pub name: String,
    pub username: Option<String>,
    pub groups: Vec<PersonGroup>,
    pub roles: Vec<PersonRole>,
    pub routes: Vec<PersonRouteView>,
    /// Routes AWS lets their roles call that no approved mapping explains (other inline or
    /// attached managed policies), from the latest drift check: "role: route: allowed by …".
    pub outside: Vec<String>,
    /// The moment this view is for (exclusive, RFC 3339); None: now.
    #[serde(default)]
    pub at: Option<String>,
    /// Why the typed date is not one: then only the person is answered, not their access.
    #[serde(default)]
    pub at_error: Option<String>,
}

/// Readers: people whose name or user principal name contains `q` (at most 50).
#[server(endpoint = "people/search", output = crate::codec::StrJson)]
pub async fn search_people(q: String) -> Result<Vec<PersonHit>, AppError> {
    require_role(READERS)?;
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    if q.chars().count() > 200 {
        return Err(AppError::invalid("q", "at most 200 characters"));
    }
    Ok(crate::backend::person_access::search(&app_state()?.pool, q).await?)
}

/// Readers: one person's groups, roles and routes from the approved mappings, now or as of the
/// end of `at` (a date, or a date and time, UTC).
#[server(endpoint = "people/access", output = crate::codec::StrJson)]
pub async fn get_person_access(
    source: String,
    oid: String,
    at: String,
) -> Result<PersonView, AppError> {
    require_role(READERS)?;
    // A date that is not one is said next to its field, with the person still shown.
    let (at, at_error) = match crate::history::as_of(&at) {
        Ok(at) => (at, None),
        Err(e) => (None, Some(e)),
    };
    let state = app_state()?;
    let person = crate::backend::person_access::person(&state, &source, &oid, at.as_deref())
        .await?
        .ok_or_else(|| {
            AppError::not_found(format!(
                "There is no person {oid} in the {source} directory (or not since its last sync)."
            ))
        })?;
    Ok(match at_error {
        None => person,
        Some(e) => PersonView {
            groups: Vec::new(),
            roles: Vec::new(),
            routes: Vec::new(),
            outside: Vec::new(),
            at_error: Some(e),
            ..person
        },
    })
}

/// Whether a person may call a route, and the link that decides it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainView {
    pub allowed: bool,
    pub decided_by: String,
    pub chain: Vec<String>,
}

/// Readers: "can this person call this route, and why?", from the approved mappings, the
/// directory's nesting and what the catalog says decides the method.
#[server(endpoint = "people/explain", output = crate::codec::StrJson)]
pub async fn explain_access(
    source: String,
    oid: String,
    route: crate::tryit::TryRoute,
) -> Result<ExplainView, AppError> {
    require_role(READERS)?;
    let route = crate::backend::tryit::check(&route)?;
    let state = app_state()?;
    let snapshot = state.desired.current(&state.pool).await?;
    let e =
        crate::backend::person_access::explain(&state.pool, &*snapshot, (&source, &oid), &route)
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "There is no person {oid} in the {source} directory."
                ))
            })?;
    Ok(ExplainView {
        allowed: e.allowed,
        decided_by: e.decided_by,
        chain: e.chain,
    })
}
