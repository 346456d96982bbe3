//! "Who can call this route?": the people the approved mappings let call one method of an API
//! (a count, then a page of them by name, each with the chain that allows it), now or as of a
//! date, beside what API Gateway says decides the method.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::method_access::DecidedBy;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{backend::state::app_state, me::ssr::require_role, roles::READERS};

/// One person who may call the method.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerView {
    pub href: String,
    pub name: String,
    pub username: Option<String>,
    /// "member of A ⊂ B → role R → grant GET /x on prod", one per way they may call it.
    pub chains: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallersView {
    pub api_id: String,
    pub api_name: String,
    pub http_method: String,
    pub path: String,
    /// The method's authorization type as last synced (`AWS_IAM`, `NONE`, …).
    pub authorization_type: String,
    pub decided_by: DecidedBy,
    /// The moment the answer is for (exclusive, RFC 3339); None: now.
    pub at: Option<String>,
    /// The groups bound to a role whose grant covers the method.
    pub groups: Vec<String>,
    /// People in all, over every page.
    pub total: usize,
    /// From 0.
    pub page: usize,
    pub page_size: usize,
    pub people: Vec<CallerView>,
    /// Why the typed date is not one (nothing else is answered then).
    pub at_error: Option<String>,
}

impl CallersView {
    pub fn pages(&self) -> usize {
        self.total.div_ceil(self.page_size.max(1)).max(1)
    }
}

/// Readers: who may call `route` (`METHOD /path`, a catalogued method) of API `api_id`, now or
/// as of the end of `at` (a date, or a date and time, UTC); page `page` (from 1).
#[server(endpoint = "apis/callers", output = crate::codec::StrJson)]
pub async fn get_callers(
    api_id: String,
    route: String,
    at: String,
    page: String,
) -> Result<CallersView, AppError> {
    require_role(READERS)?;
    let state = app_state()?;
    crate::backend::callers::get(&state, &api_id, &route, &at, &page).await
}
