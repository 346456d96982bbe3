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
    /// In the review queue: what it waits on, when an API owner's approval is missing ("you:
    /// you own orders" for an owner).
    #[serde(default)]
    pub waits_on: Option<String>,
    /// The person looking at the queue is an owner whose approval it waits on.
    #[serde(default)]
    pub waits_on_viewer: bool,
    /// An access request: the author asks for access for themselves.
    #[serde(default)]
    pub request: bool,
}

/// An owned API a change set touches, and the owner's approval it has (or still needs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerApproval {
    pub api_id: String,
    pub api_name: String,
    pub group_name: String,
    pub approved_by: Option<String>,
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
    /// The owned APIs it touches: each needs an approval from one of its owners.
    #[serde(default)]
    pub owner_approvals: Vec<OwnerApproval>,
    /// Why approving would be refused now (a stale base), if it would.
    pub stale: Option<String>,
    pub viewer_is_author: bool,
    pub viewer_may_review: bool,
    /// What each binding will make true ("Members of G (N people) will be able to use R …").
    #[serde(default)]
    pub bindings: Vec<String>,
    /// Set when some of its bindings are recorded only (enforcement `none`).
    #[serde(default)]
    pub enforcement_notice: Option<String>,
    /// The hash of what the page shows; the review form sends it back, and an approval of
    /// content that changed since is refused.
    #[serde(default)]
    pub content_hash: String,
    /// When the access it adds ends, if it is time-bound.
    #[serde(default)]
    pub access_end: Option<AccessEnd>,
    /// "payments-api allows access for 8 hours at most", for each API it reaches that limits it.
    #[serde(default)]
    pub longest: Vec<String>,
    /// The time-bound change set whose ended access this one revokes.
    #[serde(default)]
    pub revokes: Option<i64>,
}

/// The end of a change set's time-bound access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEnd {
    /// `2026-12-24 17:00` (UTC).
    pub at: String,
    /// The same as a `datetime-local` form value.
    pub field: String,
    /// Whether the end has come (by Gatehouse's clock).
    pub ended: bool,
    /// The change set that revoked it, once written.
    pub revoked_by: Option<i64>,
}

pub use crate::form::FormOutcome;

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
}

/// A group's roles now and in the viewer's draft, with what can be bound or granted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMappings {
    pub bound: Vec<BoundRole>,
    pub pending: Vec<String>,
    pub draft: Option<i64>,
    /// The managed roles the bind form offers: the first few matching `role_search`.
    pub roles: Vec<RoleOption>,
    /// How many managed roles match `role_search`.
    pub roles_total: i64,
    pub role_search: String,
    /// The roles a route may be granted to from this page: those bound to the group, approved
    /// or in the viewer's draft.
    pub grant_roles: Vec<RoleOption>,
    pub apis: Vec<ApiOption>,
    /// The first API's resource paths: the grant form's hints until another API is chosen.
    pub first_api_paths: Vec<String>,
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
    /// The role's page, which lists every route it may call.
    pub role_href: String,
    /// The role's first routes (at most `ROUTES_SHOWN`, in the approved state's order).
    pub routes: Vec<String>,
    /// How many more routes the role has than `routes` names.
    pub more_routes: usize,
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
    /// Set when some AWS target records bindings only (enforcement `none`).
    #[serde(default)]
    pub enforcement_notice: Option<String>,
    /// Time-bound access ending within a week: (change set, title, end in UTC).
    #[serde(default)]
    pub ending: Vec<(i64, String, String)>,
    /// Open review campaigns with lines the viewer certifies: (id, name, due, how many).
    #[serde(default)]
    pub campaigns: Vec<(i64, String, String, u32)>,
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
    /// One page of the groups that may call the API, now or in the viewer's draft.
    pub rows: Vec<MatrixRow>,
    pub draft: Option<i64>,
    /// Groups in every page (as filtered).
    pub groups_total: i64,
    /// `after` of the next page of groups, `before` of the previous one.
    pub next: Option<String>,
    pub prev: Option<String>,
    /// Routes as filtered, and the first one of the slice shown (`routes` holds the slice).
    pub routes_total: usize,
    pub routes_from: usize,
}

/// Routes (columns) per slice of an API's matrix.
pub const MATRIX_ROUTES_SHOWN: usize = 12;

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

/// The change set table's columns: URL key, heading, and whether it starts ascending.
pub const CHANGE_SET_SORTS: [(&str, &str, bool); 6] = [
    ("id", "#", false),
    ("title", "Title", true),
    ("state", "State", true),
    ("author", "Author", true),
    ("changes", "Changes", false),
    ("updated", "Updated", false),
];

/// The order of the change sets list, as its URL gives it (`sort`, `dir`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSetOrder {
    /// A key of `CHANGE_SET_SORTS`.
    pub sort: &'static str,
    pub ascending: bool,
}

impl ChangeSetOrder {
    /// An unknown column is the newest first; a missing direction is the column's own.
    pub fn of(sort: &str, dir: &str) -> ChangeSetOrder {
        let (key, _, starts_ascending) = CHANGE_SET_SORTS
            .iter()
            .find(|(k, ..)| *k == sort)
            .copied()
            .unwrap_or(CHANGE_SET_SORTS[0]);
        let ascending = match dir {
            "asc" => true,
            "desc" => false,
            _ => starts_ascending,
        };
        ChangeSetOrder {
            sort: key,
            ascending,
        }
    }
}

#[cfg(test)]
mod order_tests {
    use super::ChangeSetOrder;

    #[test]
    fn an_order_comes_from_the_url_with_each_column_s_own_direction() {
        assert_eq!(
            ChangeSetOrder::of("", ""),
            ChangeSetOrder {
                sort: "id",
                ascending: false
            }
        );
        assert_eq!(
            ChangeSetOrder::of("title", ""),
            ChangeSetOrder {
                sort: "title",
                ascending: true
            }
        );
        assert_eq!(
            ChangeSetOrder::of("title", "desc"),
            ChangeSetOrder {
                sort: "title",
                ascending: false
            }
        );
        assert_eq!(
            ChangeSetOrder::of("; DROP TABLE", "asc"),
            ChangeSetOrder {
                sort: "id",
                ascending: true
            },
            "only known columns"
        );
    }
}

/// A role a person may ask for, with the routes it gives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestableRole {
    pub arn: String,
    pub name: String,
    pub routes: Vec<String>,
    /// The person holds it already (an earlier request, still running).
    pub held: bool,
    /// "8 hours": the longest the APIs it reaches allow (none: the form's choices).
    #[serde(default)]
    pub longest: Option<String>,
}

/// A route some role may call, as the routes form offers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestableRoute {
    /// What the form sends for it (`API-ID STAGE METHOD PATH`).
    pub key: String,
    pub api: String,
    pub stage: String,
    pub method: String,
    pub path: String,
    /// The roles that give it.
    pub via: Vec<String>,
    /// The person may call it already through a role they hold.
    pub held: bool,
}

/// One of the person's own access requests, as their page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRequest {
    pub id: i64,
    pub title: String,
    pub state: String,
    /// Where it stands, in a sentence.
    pub outcome: String,
    pub ends_at: String,
    pub asked_at: String,
    /// "Bo Reviewer rejected: “…”", in the order given.
    pub reviews: Vec<String>,
    /// The change set that revoked it at its end.
    pub revoked_by: Option<i64>,
    /// Waiting, but the role changed since it was asked: the requester confirms it again.
    #[serde(default)]
    pub stale: bool,
}

/// The request page: what may be asked for, and what was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestOptions {
    /// The person is in the directory Gatehouse reads (else nothing can name them).
    pub in_directory: bool,
    pub roles: Vec<RequestableRole>,
    /// Every route some role may call, by API, stage, path and method.
    #[serde(default)]
    pub routes: Vec<RequestableRoute>,
    /// Hours and their label, as the form offers them.
    pub durations: Vec<(u32, String)>,
    pub mine: Vec<MyRequest>,
}
