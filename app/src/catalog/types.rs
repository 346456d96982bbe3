//! What the catalog pages show. Plain data, shared by server and browser.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSummary {
    pub target: String,
    pub api_id: String,
    pub name: String,
    pub description: Option<String>,
    pub stages: i64,
    pub methods: i64,
    pub non_iam_methods: i64,
    pub gone: bool,
    pub last_synced_at: String,
    pub kind: crate::domain::route_key::ApiKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDetail {
    pub summary: ApiSummary,
    pub endpoint_types: Vec<String>,
    pub stages: Vec<StageRow>,
    pub resources: Vec<ResourceRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageRow {
    pub name: String,
    pub deployment_id: Option<String>,
    pub last_updated_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub path: String,
    pub methods: Vec<MethodRow>,
}

impl ResourceRow {
    /// How deep the resource sits in the tree (`/` is 0, `/orders/{id}` is 2).
    pub fn depth(&self) -> usize {
        self.path.split('/').filter(|s| !s.is_empty()).count()
    }

    /// The last segment, as the tree shows it.
    pub fn segment(&self) -> &str {
        self.path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("/")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodRow {
    pub http_method: String,
    pub authorization_type: String,
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
    /// Who may call it under the approved mappings: "group via role (stage)".
    #[serde(default)]
    pub callers: Vec<String>,
    /// Callers beyond those named (the API's matrix lists them all).
    #[serde(default)]
    pub callers_more: usize,
    /// The method's authorizer, when the catalog knows it.
    #[serde(default)]
    pub authorizer: Option<crate::domain::method_access::AuthorizerInfo>,
    /// What decides who may call it.
    #[serde(default)]
    pub decided_by: crate::domain::method_access::DecidedBy,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRun {
    pub id: i64,
    pub catalog: String,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub added: Option<i32>,
    pub changed: Option<i32>,
    pub removed: Option<i32>,
    pub error: Option<String>,
    /// How far a running sync got.
    pub progress: Option<String>,
    /// A directory sync's people and memberships, or the removals its guard held back.
    pub details: Option<SyncDetails>,
}

impl SyncRun {
    pub fn running(&self) -> bool {
        self.finished_at.is_none()
    }

    /// Removals the guard held back in this run, which an admin may apply.
    pub fn removals_held(&self) -> Option<i64> {
        self.details.as_ref().and_then(|d| d.removals_held)
    }
}

/// Where the directory's stored copy stands, for the Sync page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryStatus {
    pub source: String,
    pub groups: i64,
    pub people: i64,
    pub memberships: i64,
    pub memberships_synced_at: Option<String>,
    pub last_full_sync_at: Option<String>,
    /// Full listings the directory asked for (expired delta links).
    pub full_resyncs: i32,
}

/// What a directory sync stored with its run (the JSON of `sync_runs.details`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncDetails {
    pub people_added: i64,
    pub people_changed: i64,
    pub people_removed: i64,
    pub memberships_added: i64,
    pub memberships_removed: i64,
    pub memberships: i64,
    pub full: bool,
    pub resynced: Option<String>,
    pub removals_allowed: bool,
    pub removals_held: Option<i64>,
}

impl SyncDetails {
    /// One line for the Sync page and the command line: what moved (zeros left out), how many
    /// memberships are stored, and how the directory was read.
    pub fn summary(&self) -> String {
        if let Some(n) = self.removals_held {
            return format!("{n} {} held back", plural(n, "removal", "removals"));
        }
        let counts = |what: &str, parts: &[(i64, &str)]| {
            let moved: Vec<String> = parts
                .iter()
                .filter(|(n, _)| *n != 0)
                .map(|(n, verb)| format!("{n} {verb}"))
                .collect();
            (!moved.is_empty()).then(|| format!("{what}: {}", moved.join(", ")))
        };
        let mut parts: Vec<String> = [
            counts(
                "people",
                &[
                    (self.people_added, "added"),
                    (self.people_changed, "changed"),
                    (self.people_removed, "removed"),
                ],
            ),
            counts(
                "memberships",
                &[
                    (self.memberships_added, "added"),
                    (self.memberships_removed, "removed"),
                ],
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        parts.push(format!(
            "{} {} stored",
            self.memberships,
            plural(self.memberships, "membership", "memberships")
        ));
        parts.push(match &self.resynced {
            Some(reason) => format!("full resync: {reason}"),
            None if self.full => "full listing".into(),
            None => "delta round".into(),
        });
        if self.removals_allowed {
            parts.push("removals allowed by an admin".into());
        }
        parts.join("; ")
    }
}

pub fn plural<'a>(n: i64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod sync_details_tests {
    use super::*;

    #[test]
    fn summaries_leave_out_what_did_not_move() {
        let quiet = SyncDetails {
            memberships: 52,
            ..Default::default()
        };
        assert_eq!(quiet.summary(), "52 memberships stored; delta round");
        let first = SyncDetails {
            people_added: 26,
            memberships_added: 52,
            memberships: 52,
            full: true,
            ..Default::default()
        };
        assert_eq!(
            first.summary(),
            "people: 26 added; memberships: 52 added; 52 memberships stored; full listing"
        );
        let resync = SyncDetails {
            memberships_removed: 1,
            memberships: 1,
            full: true,
            resynced: Some("Graph answered 400 syncStateNotFound: expired".into()),
            removals_allowed: true,
            ..Default::default()
        };
        assert_eq!(
            resync.summary(),
            "memberships: 1 removed; 1 membership stored; full resync: Graph answered 400 syncStateNotFound: expired; removals allowed by an admin"
        );
        let held = SyncDetails {
            removals_held: Some(1),
            ..Default::default()
        };
        assert_eq!(held.summary(), "1 removal held back");
    }
}

/// What starting a sync did: started `run`, or found `run` already going.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStart {
    pub run: SyncRun,
    pub already_running: bool,
}

/// How a sync runs: as usual, listing everything again, or applying held removals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncMode {
    Normal,
    Full,
    AllowRemovals,
}

impl SyncMode {
    pub fn parse(value: &str) -> Option<SyncMode> {
        match value {
            "" | "normal" => Some(SyncMode::Normal),
            "full" => Some(SyncMode::Full),
            "allow-removals" => Some(SyncMode::AllowRemovals),
            _ => None,
        }
    }
}

/// The catalogs an admin can sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogKind {
    Apis,
    Roles,
    Groups,
}

impl CatalogKind {
    pub fn parse(value: &str) -> Option<CatalogKind> {
        match value {
            "apis" => Some(CatalogKind::Apis),
            "roles" => Some(CatalogKind::Roles),
            "groups" => Some(CatalogKind::Groups),
            _ => None,
        }
    }

    /// What people call it in a sentence ("a sync of the IAM roles").
    pub fn title(self) -> &'static str {
        match self {
            CatalogKind::Apis => "API Gateway APIs",
            CatalogKind::Roles => "IAM roles",
            CatalogKind::Groups => "directory groups",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub source: String,
    pub object_id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub mail: Option<String>,
    pub security_enabled: Option<bool>,
    /// When the group vanished from the directory.
    pub deleted_at: Option<String>,
    pub last_synced_at: String,
}

/// One keyset page of a list: `next`/`prev` are the ids to continue after/before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub next: Option<String>,
    pub prev: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: Option<String>,
    /// The nested groups that bring this person in, outermost first; empty for a direct member.
    pub via: Vec<String>,
    /// A member only through AD's primaryGroupID (listed nowhere in `member`).
    pub primary_group: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub summary: GroupSummary,
    /// People, direct and nested, as of the last sync; or why there are none to show.
    pub members: Result<Page<MemberRow>, crate::error::AppError>,
    /// When the memberships were last synced (None: never).
    pub members_as_of: Option<String>,
    /// How many groups are nested in this one, at any depth.
    pub nested_groups: i64,
}

/// Which way a keyset page goes from its cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cursor {
    #[default]
    First,
    After(String),
    Before(String),
}

impl Cursor {
    pub fn from_query(after: &str, before: &str) -> Cursor {
        match (after.trim(), before.trim()) {
            ("", "") => Cursor::First,
            (a, _) if !a.is_empty() => Cursor::After(a.to_string()),
            (_, b) => Cursor::Before(b.to_string()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSummary {
    pub target: String,
    pub role_name: String,
    pub arn: String,
    pub path: String,
    pub description: Option<String>,
    pub managed: bool,
    /// Who may assume the role, from its trust policy.
    pub trusted: Vec<String>,
    pub gone: bool,
    pub last_synced_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDetail {
    pub summary: RoleSummary,
    pub role_id: String,
    /// Pretty-printed with stable key order.
    pub trust_policy: Option<String>,
    pub tags: Vec<(String, String)>,
    pub first_seen_at: String,
    /// What the approved mappings make of this role.
    pub gatehouse: RoleMappings,
}

/// A role under the approved mappings: who uses it, what it may call, the policy Gatehouse
/// generates for it, and what the newest drift check found on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMappings {
    /// Group names with the link to each group's page.
    pub groups: Vec<(String, String)>,
    pub routes: Vec<String>,
    /// Pretty-printed policy documents (empty: no Gatehouse policy).
    pub policy: String,
    pub policy_summary: String,
    /// Why no policy can be generated (too large), if so.
    pub policy_error: Option<String>,
    /// The newest drift check's findings on this role, as "kind: actual (approved: desired)".
    pub drift: Vec<RoleDrift>,
    /// When that check ran; `None` when none has.
    pub drift_checked_at: Option<String>,
    /// How members of the groups get to use the role ("IAM Identity Center", …).
    #[serde(default)]
    pub broker: String,
    /// People in each group of `groups` (same order; `None`: memberships not synced).
    #[serde(default)]
    pub group_people: Vec<Option<i64>>,
    /// Set when the role's bindings are recorded only (enforcement `none`).
    #[serde(default)]
    pub enforcement_notice: Option<String>,
    /// Where a push puts the policy ("the role's inline policy", "the inline policy of
    /// permission set …").
    #[serde(default)]
    pub pushed_as: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDrift {
    pub kind: String,
    pub desired: String,
    pub actual: String,
}

/// The columns the APIs table sorts by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApiSort {
    #[default]
    Name,
    Methods,
    NonIam,
}

impl ApiSort {
    pub fn parse(value: &str) -> ApiSort {
        match value {
            "methods" => ApiSort::Methods,
            "non-iam" => ApiSort::NonIam,
            _ => ApiSort::Name,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            ApiSort::Name => "name",
            ApiSort::Methods => "methods",
            ApiSort::NonIam => "non-iam",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_know_their_place_in_the_tree() {
        let r = ResourceRow {
            path: "/orders/{orderId}/items".into(),
            methods: vec![],
        };
        assert_eq!((r.depth(), r.segment()), (3, "items"));
        let root = ResourceRow {
            path: "/".into(),
            methods: vec![],
        };
        assert_eq!((root.depth(), root.segment()), (0, "/"));
    }

    #[test]
    fn cursors_read_from_the_query_string() {
        assert_eq!(Cursor::from_query("", ""), Cursor::First);
        assert_eq!(Cursor::from_query("g1", ""), Cursor::After("g1".into()));
        assert_eq!(Cursor::from_query("", "g1"), Cursor::Before("g1".into()));
        assert_eq!(CatalogKind::parse("groups"), Some(CatalogKind::Groups));
        assert_eq!(CatalogKind::parse("everything"), None);
    }

    #[test]
    fn unknown_sort_keys_fall_back_to_name() {
        assert_eq!(ApiSort::parse("non-iam"), ApiSort::NonIam);
        assert_eq!(ApiSort::parse("'; DROP TABLE"), ApiSort::Name);
        assert_eq!(ApiSort::parse(ApiSort::Methods.key()), ApiSort::Methods);
    }
}

/// A role's page: by name, in `target` (`account/region`, or an account alone: IAM roles are
/// global; empty for the first target that has it).
pub fn role_page_href(name: &str, target: &str) -> String {
    use crate::components::search::urlencode;
    format!("/roles/{}?target={}", urlencode(name), urlencode(target))
}
