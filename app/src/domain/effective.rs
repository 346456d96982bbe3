//! One person's access from the approved state: the groups they are in (directly, or through
//! nested groups, with the path), the roles those groups are bound to, and every catalogued
//! method those roles' grants cover, each with the chain of links that allows it. No IO.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::{
    desired::DesiredState,
    grant::{ApiRef, Grant, GroupRef},
    names::RoleArn,
};

/// What a person's access asks of the approved state: the roles bound to a group and the
/// grants of a role. The state itself answers by scanning it; the server's snapshot of it
/// (`backend::mappings::cache::Snapshot`) from its indexes, so a person's page costs what
/// their groups and roles hold, not the 10,000 bindings and grants of the whole state.
pub trait Approved {
    fn roles_of_group(&self, group: &GroupRef) -> Vec<&RoleArn>;
    fn grants_of_role(&self, role: &RoleArn) -> Vec<&Grant>;
}

impl Approved for DesiredState {
    fn roles_of_group(&self, group: &GroupRef) -> Vec<&RoleArn> {
        self.bindings
            .iter()
            .filter(|b| &b.group == group)
            .map(|b| &b.role)
            .collect()
    }

    fn grants_of_role(&self, role: &RoleArn) -> Vec<&Grant> {
        self.grants_of(role)
    }
}

/// How a person reaches a group: the groups from one they are directly in up to it.
pub type GroupPath = Vec<GroupRef>;

/// Every group `direct` reaches through `parents` (a group → the groups it is a member of),
/// each with its shortest path (starting at a direct group). Cycles are walked once.
pub fn reachable_groups(
    direct: &[GroupRef],
    parents: &BTreeMap<GroupRef, Vec<GroupRef>>,
) -> BTreeMap<GroupRef, GroupPath> {
    let mut paths: BTreeMap<GroupRef, GroupPath> = BTreeMap::new();
    let mut queue: VecDeque<GroupRef> = VecDeque::new();
    for g in direct {
        if !paths.contains_key(g) {
            paths.insert(g.clone(), vec![g.clone()]);
            queue.push_back(g.clone());
        }
    }
    while let Some(g) = queue.pop_front() {
        let path = paths[&g].clone();
        for p in parents.get(&g).into_iter().flatten() {
            if !paths.contains_key(p) {
                let mut longer = path.clone();
                longer.push(p.clone());
                paths.insert(p.clone(), longer);
                queue.push_back(p.clone());
            }
        }
    }
    paths
}

/// `reached` with the person themselves added (a path of one): an access request binds the
/// person directly, and their own bindings then count like their groups'.
pub fn with_self(
    mut reached: BTreeMap<GroupRef, GroupPath>,
    source: &str,
    oid: &str,
) -> BTreeMap<GroupRef, GroupPath> {
    let me = GroupRef::person(source, oid);
    reached.insert(me.clone(), vec![me]);
    reached
}

/// The first link of a chain: how the person reaches the binding.
pub fn through(path: &[GroupRef], name: &dyn Fn(&GroupRef) -> String) -> String {
    match path {
        [only] if only.is_person() => "bound to them directly (an access request)".to_string(),
        _ => format!(
            "member of {}",
            path.iter().map(name).collect::<Vec<_>>().join(" ⊂ ")
        ),
    }
}

/// A catalogued method and what decides it in API Gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogMethod {
    pub api: ApiRef,
    pub path: String,
    pub http_method: String,
    /// `AWS_IAM`, `NONE`, `CUSTOM`, … as synced.
    pub authorization_type: String,
}

/// A method the person may call on a stage, and the links that allow it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRoute {
    pub api: ApiRef,
    /// A stage name or `*` (every stage), as granted.
    pub stage: String,
    pub http_method: String,
    pub path: String,
    pub authorization_type: String,
    pub groups: GroupPath,
    pub role: RoleArn,
    /// The grant, as people read it (`GET /orders/{id} on prod`).
    pub grant: String,
}

/// Every catalogued method (of `methods`) the approved grants of the roles bound to `groups`
/// cover, one row per (method, stage, role, group) that allows it, sorted for reading.
pub fn person_routes(
    groups: &BTreeMap<GroupRef, GroupPath>,
    approved: &impl Approved,
    methods: &[CatalogMethod],
) -> Vec<PersonRoute> {
    let mut out = BTreeSet::new();
    for (group, path) in groups {
        for role in approved.roles_of_group(group) {
            for g in approved.grants_of_role(role) {
                for m in methods.iter().filter(|m| {
                    m.api == g.api && g.path.covers(&m.path) && g.method.covers(&m.http_method)
                }) {
                    out.insert(Row(PersonRoute {
                        api: m.api.clone(),
                        stage: g.stage.as_str().to_string(),
                        http_method: m.http_method.clone(),
                        path: m.path.clone(),
                        authorization_type: m.authorization_type.clone(),
                        groups: path.clone(),
                        role: role.clone(),
                        grant: format!(
                            "{} {} on {}",
                            g.method.as_str(),
                            g.path.as_str(),
                            g.stage.as_str()
                        ),
                    }));
                }
            }
        }
    }
    out.into_iter().map(|r| r.0).collect()
}

/// Orders rows by API, path, method, stage, then role and group.
#[derive(PartialEq, Eq)]
struct Row(PersonRoute);

impl Row {
    fn key(&self) -> impl Ord + '_ {
        let r = &self.0;
        (
            &r.api,
            &r.path,
            &r.http_method,
            &r.stage,
            &r.role,
            &r.groups,
            &r.grant,
        )
    }
}

impl PartialOrd for Row {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Row {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// The roles `groups` are bound to, each with the group that brings it (the nearest).
pub fn person_roles(
    groups: &BTreeMap<GroupRef, GroupPath>,
    approved: &impl Approved,
) -> Vec<(RoleArn, GroupPath)> {
    let mut roles: BTreeMap<RoleArn, GroupPath> = BTreeMap::new();
    // Groups in order, so a role reached by two paths of one length keeps the first group's.
    for (group, path) in groups {
        for role in approved.roles_of_group(group) {
            let keep = roles.get(role).is_none_or(|p| p.len() > path.len());
            if keep {
                roles.insert(role.clone(), path.clone());
            }
        }
    }
    roles.into_iter().collect()
}

#[cfg(test)]
#[path = "effective_tests.rs"]
mod tests;
