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
}

impl FormOutcome {
    pub fn error_for(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, e)| e.clone())
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
