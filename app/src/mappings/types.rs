//! What the mapping pages show. Plain data, shared by server and browser.

use serde::{Deserialize, Serialize};

use crate::domain::diff::DiffLine;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSetSummary {
    pub id: i64,
    pub title: String,
    /// `draft`, `submitted`, … (see `domain::change_set::State`).
    pub state: String,
    pub author_name: String,
    pub items: usize,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub index: usize,
    pub added: bool,
    pub text: String,
    /// Set when the item names something the catalog does not know.
    pub warning: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDiff {
    pub role: String,
    pub lines: Vec<DiffLine>,
    /// Sizes as IAM counts them, and where the policy goes (inline / managed).
    pub summary: String,
    /// The policy does not fit IAM's limits.
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessView {
    pub group: String,
    pub people: Option<i64>,
    pub gained: Vec<String>,
    pub lost: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: String,
    pub who: String,
    pub what: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSetDetail {
    pub summary: ChangeSetSummary,
    pub justification: String,
    pub ticket: Option<String>,
    pub items: Vec<ItemView>,
    pub policies: Vec<PolicyDiff>,
    pub access: Vec<AccessView>,
    pub timeline: Vec<TimelineEntry>,
    pub approvals: usize,
    pub approvals_required: usize,
    /// Why approving would be refused now (a stale base), if it would.
    pub stale: Option<String>,
    pub viewer_is_author: bool,
    pub viewer_may_review: bool,
}

/// What a form sends back: the fields that are wrong, or a general refusal, or success.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormOutcome {
    pub errors: Vec<(String, String)>,
    pub refused: Option<String>,
    pub warning: Option<String>,
    pub change_set: Option<i64>,
    pub message: Option<String>,
    /// What the person typed, sent back with a refused or invalid form so a page reloaded
    /// without JavaScript can show it again.
    #[serde(default)]
    pub typed: Vec<(String, String)>,
}

/// Marks a server-function error that carries a [`FormOutcome`].
pub const FORM_OUTCOME: &str = "form-outcome:";

impl FormOutcome {
    pub fn error_for(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, e)| e.clone())
    }

    pub fn typed(&self, field: &str) -> Option<String> {
        self.typed
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.clone())
    }

    /// Keeps the typed `fields` when the form did not go through.
    pub fn keep_typed(mut self, fields: &[(&str, &str)]) -> FormOutcome {
        if !self.errors.is_empty() || self.refused.is_some() {
            self.typed = fields
                .iter()
                .map(|(f, v)| (f.to_string(), v.to_string()))
                .collect();
        }
        self
    }

    /// A refused or invalid form as an error: without JavaScript the form posts, and only errors
    /// come back with the redirect, so the fields can still say what is wrong.
    pub fn into_result(self) -> Result<FormOutcome, String> {
        if self.errors.is_empty() && self.refused.is_none() {
            Ok(self)
        } else {
            Err(format!(
                "{FORM_OUTCOME}{}",
                serde_json::to_string(&self).unwrap_or_default()
            ))
        }
    }

    /// The outcome of a form's server function, whether it came back as a value or an error.
    pub fn of(result: &Result<FormOutcome, leptos::prelude::ServerFnError>) -> FormOutcome {
        match result {
            Ok(o) => o.clone(),
            Err(e) => {
                let text = e.to_string();
                match text.find(FORM_OUTCOME) {
                    Some(i) => {
                        serde_json::from_str(&text[i + FORM_OUTCOME.len()..]).unwrap_or_default()
                    }
                    None => FormOutcome {
                        refused: Some(text),
                        ..Default::default()
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_form_survives_the_trip_as_an_error() {
        let outcome = FormOutcome {
            errors: vec![("path".into(), "a resource path starts with /".into())],
            ..Default::default()
        };
        let err = outcome.clone().into_result().unwrap_err();
        let back = FormOutcome::of(&Err(leptos::prelude::ServerFnError::new(err)));
        assert_eq!(back, outcome);
        let kept = outcome.clone().keep_typed(&[("path", "orders")]);
        assert_eq!(kept.typed("path").as_deref(), Some("orders"));
        let back = FormOutcome::of(&Err(leptos::prelude::ServerFnError::new(
            kept.into_result().unwrap_err(),
        )));
        assert_eq!(back.typed("path").as_deref(), Some("orders"));
        // A form that went through keeps nothing: the fields start afresh.
        assert!(FormOutcome::default()
            .keep_typed(&[("path", "x")])
            .typed
            .is_empty());
        let fine = FormOutcome::default();
        assert_eq!(fine.clone().into_result(), Ok(fine));
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleOption {
    pub arn: String,
    pub name: String,
    pub target: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOption {
    pub target: String,
    pub api_id: String,
    pub name: String,
    pub stages: Vec<String>,
    pub paths: Vec<String>,
}

/// A group's roles now and in the viewer's draft, with what can be bound or granted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMappings {
    pub bound: Vec<BoundRole>,
    pub pending: Vec<String>,
    pub draft: Option<i64>,
    pub roles: Vec<RoleOption>,
    pub apis: Vec<ApiOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundRole {
    pub arn: String,
    pub routes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRow {
    pub group: String,
    pub group_href: String,
    pub role: String,
    pub routes: Vec<String>,
}

/// Home: what needs the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeSummary {
    /// Who is asking (filled by the server function): the page then reads one resource only.
    #[serde(default)]
    pub viewer: Option<crate::roles::CurrentUser>,
    /// Their drafts and change sets in review.
    pub mine: Vec<ChangeSetSummary>,
    /// Others' submitted change sets, for reviewers.
    pub to_review: Vec<ChangeSetSummary>,
    /// The newest run of each catalog.
    pub last_syncs: Vec<crate::catalog::types::SyncRun>,
    /// Change sets approved and not yet pushed, being pushed, or whose push failed.
    pub pushes: Vec<ChangeSetSummary>,
    /// The newest drift check, if any ran.
    pub drift: Option<DriftGlance>,
}

/// The newest drift check in one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftGlance {
    pub checked_at: String,
    /// `None` when the check itself failed.
    pub differences: Option<usize>,
    pub error: Option<String>,
}

/// Who can call what on one API: groups × routes under the approved mappings, and what the
/// viewer's draft would change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiMatrix {
    pub api_id: String,
    pub api_name: String,
    /// `ACCOUNT/REGION`
    pub target: String,
    pub stages: Vec<String>,
    pub routes: Vec<MatrixRoute>,
    /// Every group bound to a role, now or in the viewer's draft.
    pub rows: Vec<MatrixRow>,
    pub draft: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRoute {
    pub method: String,
    pub path: String,
}

impl MatrixRoute {
    /// "GET /orders": also the `r` parameter that selects a column.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub group: String,
    /// `source/object-id`: the `g` parameter that selects a row.
    pub key: String,
    pub group_href: String,
    /// The group's roles, in the viewer's draft if they have one.
    pub roles: Vec<RoleOption>,
    pub cells: Vec<MatrixCell>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatrixCell {
    /// Approved: the stages and roles through which the group may call the route ("prod via X").
    pub now: Vec<String>,
    /// The same with the viewer's draft applied.
    pub draft: Vec<String>,
    /// The grants (draft applied) that let the group call the route: what revoking would remove.
    pub grants: Vec<CellGrant>,
}

impl MatrixCell {
    pub fn pending(&self) -> bool {
        self.now != self.draft
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellGrant {
    pub role_arn: String,
    pub role_name: String,
    pub stage: String,
    pub method: String,
    pub path: String,
}
