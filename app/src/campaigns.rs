//! Access review campaigns: an auditor or admin starts one over some APIs or roles (or all);
//! reviewers (the API owners, or a named group) certify each binding and grant "keep" or
//! "revoke"; at the due date the undecided lines take the campaign's default and the revokes
//! become one change set, reviewed and pushed as usual. Readers follow them; the results export
//! with the history's manifest.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, form::FormOutcome};

#[cfg(feature = "ssr")]
use crate::{
    backend::{campaigns, state::actor, state::app_state},
    form::ssr::answer_typed,
    me::ssr::require_role,
    roles::{Role, READERS},
};

/// Who may start and close campaigns.
pub const MANAGERS: &[crate::roles::Role] =
    &[crate::roles::Role::Admin, crate::roles::Role::Auditor];

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSummary {
    pub id: i64,
    pub name: String,
    /// "Everything", or the APIs and roles named.
    pub scope: String,
    /// "The API owners" or "Members of Payments leads".
    pub reviewers: String,
    pub due_at: String,
    pub started_by: String,
    pub started_at: String,
    pub closed_at: Option<String>,
    pub keep: u32,
    pub revoke: u32,
    pub undecided: u32,
    /// Undecided lines the viewer may certify.
    pub yours: u32,
    pub revocation: Option<i64>,
    pub default_decision: String,
}

impl CampaignSummary {
    pub fn total(&self) -> u32 {
        self.keep + self.revoke + self.undecided
    }
}

/// What the campaigns page shows: the campaigns, newest first, and what a new one may cover.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignsView {
    pub campaigns: Vec<CampaignSummary>,
    pub may_start: bool,
    /// (id, name) of the catalogued APIs.
    pub apis: Vec<(String, String)>,
    /// (ARN, name) of the roles the approved mappings use.
    pub roles: Vec<(String, String)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignLine {
    pub line: i32,
    /// "Binding" or "Grant".
    pub kind: String,
    /// The group (or person) a binding gives the role to; empty for a grant.
    pub principal: String,
    pub principal_href: String,
    pub role: String,
    /// The route a grant allows; empty for a binding.
    pub route: String,
    /// Who certifies it: "Payments owners", or "Gatehouse reviewers".
    pub reviewers: String,
    pub decision: Option<String>,
    pub comment: String,
    pub decided_by: String,
    pub decided_at: String,
    pub defaulted: bool,
    /// Empty when the viewer may decide it; else why not.
    pub not_yours: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignView {
    pub summary: CampaignSummary,
    pub lines: Vec<CampaignLine>,
    /// (day, lines decided by its end), from the start to today or the due date.
    pub by_day: Vec<(String, u32)>,
    pub may_close: bool,
    /// The revocation change set's state, once written.
    pub revocation_state: Option<String>,
}

/// Readers: every campaign, and (auditors, admins) what a new one may cover.
#[server(endpoint = "campaigns/list", output = crate::codec::StrJson)]
pub async fn list_campaigns() -> Result<CampaignsView, AppError> {
    let user = require_role(READERS)?;
    let state = app_state()?;
    campaigns::view::list(&state, &actor(), &user).await
}

/// Readers: one campaign, its lines (which the viewer may certify) and its progress.
#[server(endpoint = "campaigns/get", output = crate::codec::StrJson)]
pub async fn get_campaign(id: i64) -> Result<CampaignView, AppError> {
    let user = require_role(READERS)?;
    let state = app_state()?;
    campaigns::view::get(&state, &actor(), &user, id).await
}

/// Auditors and admins: start a campaign. `scope` holds the ticked `api:ID` / `role:ARN`
/// (none: everything).
#[server(endpoint = "campaigns/start", output = crate::codec::StrJson)]
pub async fn start_campaign(
    name: String,
    #[server(default)] scope: BTreeMap<String, String>,
    reviewers: String,
    group: String,
    due: String,
    default_decision: String,
) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin, Role::Auditor])?;
    let ticked: Vec<String> = scope.into_values().collect();
    let form = crate::domain::campaign::StartForm {
        name: name.clone(),
        scope: ticked.clone(),
        reviewers: reviewers.clone(),
        group: group.clone(),
        due: due.clone(),
        default_decision: default_decision.clone(),
    };
    let result = match campaigns::start(&app_state()?, &actor(), &form).await {
        Ok((id, lines)) => {
            leptos_axum::redirect(&format!("/campaigns/{id}"));
            Ok(FormOutcome::message(format!(
                "Campaign {id} started: {lines} lines to certify."
            )))
        }
        Err(e) => Err(AppError::from(e)),
    };
    answer_typed(
        result,
        &[
            ("name", &name),
            ("reviewers", &reviewers),
            ("group", &group),
            ("due", &due),
            ("default_decision", &default_decision),
            // A refused form keeps its boxes ticked.
            ("scope", &FormOutcome::ticked_field(&ticked)),
        ],
    )
}

/// Readers, checked per line on the server: certify line `line` of campaign `id` "keep" or
/// "revoke" (a revoke says why). Only the line's reviewers may; nobody certifies their own
/// access.
#[server(endpoint = "campaigns/decide", output = crate::codec::StrJson)]
pub async fn decide_line(
    id: i64,
    line: i32,
    decision: String,
    comment: String,
) -> Result<FormOutcome, AppError> {
    let user = require_role(READERS)?;
    let state = app_state()?;
    let result = campaigns::decide(&state, &actor(), &user, id, line, &decision, &comment)
        .await
        .map(|d| FormOutcome::message(format!("Line {line}: {d}.")))
        .map_err(AppError::from);
    answer_typed(
        result,
        &[("line", &line.to_string()), ("comment", &comment)],
    )
}

/// Auditors and admins: close a campaign before its due date (undecided lines take its
/// default; the revokes become one change set for review).
#[server(endpoint = "campaigns/close", output = crate::codec::StrJson)]
pub async fn close_campaign(id: i64) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin, Role::Auditor])?;
    let state = app_state()?;
    let now = crate::backend::clock::now();
    let result = match campaigns::close::close(&state.pool, &actor(), id, now).await {
        Ok(Some(closed)) => Ok(FormOutcome {
            change_set: closed.revocation,
            message: Some(closed.sentence()),
            ..Default::default()
        }),
        Ok(None) => Err(AppError::Refused(format!(
            "Campaign {id} is closed already, or there is no such campaign."
        ))),
        Err(e) => Err(AppError::from(e)),
    };
    answer_typed(result, &[])
}
