//! "Who can call this route?": the approved grants that cover a method, the groups bound to
//! their roles, and for a person (given the groups they are directly in) every link that lets
//! them call it, each through the shortest nesting path. No IO.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    desired::DesiredState,
    effective::{reachable_groups, GroupPath},
    grant::GroupRef,
    names::RoleArn,
};

/// A group bound to a role whose grant covers the method: members of `group` (directly or
/// through nested groups) may call it on `stage` through `role`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    pub group: GroupRef,
    pub role: RoleArn,
    pub stage: String,
    /// The grant as people read it: `GET /orders/* on prod`.
    pub grant: String,
}

/// The entries that let someone call `http_method` on `path` of API `api_id`, sorted.
pub fn entries(desired: &DesiredState, api_id: &str, path: &str, http_method: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = desired
        .grants
        .iter()
        .filter(|g| {
            g.api.api_id.as_str() == api_id && g.path.covers(path) && g.method.covers(http_method)
        })
        .flat_map(|g| {
            desired
                .bindings
                .iter()
                .filter(move |b| b.role == g.role)
                .map(move |b| Entry {
                    group: b.group.clone(),
                    role: g.role.clone(),
                    stage: g.stage.as_str().to_string(),
                    grant: format!(
                        "{} {} on {}",
                        g.method.as_str(),
                        g.path.as_str(),
                        g.stage.as_str()
                    ),
                })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// For each bound group, every group inside it (itself, and nested groups at any depth) with
/// the path from the bound group down to it. `children`: a group → its member groups.
pub fn below(
    bound: &[GroupRef],
    children: &BTreeMap<GroupRef, Vec<GroupRef>>,
) -> BTreeMap<GroupRef, BTreeMap<GroupRef, GroupPath>> {
    bound
        .iter()
        .map(|b| {
            (
                b.clone(),
                reachable_groups(std::slice::from_ref(b), children),
            )
        })
        .collect()
}

/// One way a person may call the method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// From a group the person is directly in up to the bound group.
    pub path: GroupPath,
    pub role: RoleArn,
    pub stage: String,
    pub grant: String,
}

/// Every entry a person directly in `direct` reaches, each through its shortest path (ties:
/// the first direct group by key), in entry order. Empty: they cannot call it.
pub fn links(
    direct: &[GroupRef],
    below: &BTreeMap<GroupRef, BTreeMap<GroupRef, GroupPath>>,
    entries: &[Entry],
) -> Vec<Link> {
    entries
        .iter()
        .filter_map(|e| {
            let inside = below.get(&e.group)?;
            let path = direct
                .iter()
                .filter_map(|d| inside.get(d))
                .min_by_key(|p| p.len())?;
            Some(Link {
                // `below` walks down from the bound group; people read up from their own.
                path: path.iter().rev().cloned().collect(),
                role: e.role.clone(),
                stage: e.stage.clone(),
                grant: e.grant.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        desired::ChangeItem,
        fixtures::{grant, group as g, role},
        grant::Binding,
    };

    fn payments() -> DesiredState {
        let bind = |group: &str, r: &str| {
            ChangeItem::AddBinding(Binding {
                group: g(group),
                role: role(r),
            })
        };
        DesiredState::default()
            .apply(&[
                bind("readers", "payments-reader"),
                bind("admins", "payments-admin"),
                ChangeItem::AddGrant(grant("payments-reader", "GET", "/payments/*", "prod")),
                ChangeItem::AddGrant(grant("payments-admin", "*", "/payments/{id}", "*")),
            ])
            .unwrap()
    }

    #[test]
    fn entries_are_the_groups_of_every_covering_grant() {
        let s = payments();
        let get = entries(&s, "a1b2c3d4e5", "/payments/{id}", "GET");
        let groups: Vec<&str> = get.iter().map(|e| e.group.object_id.as_str()).collect();
        assert_eq!(groups, ["admins", "readers"]);
        assert_eq!(get[1].grant, "GET /payments/* on prod");
        let delete = entries(&s, "a1b2c3d4e5", "/payments/{id}", "DELETE");
        assert_eq!(delete.len(), 1);
        assert_eq!(delete[0].role, role("payments-admin"));
        assert!(entries(&s, "a1b2c3d4e5", "/refunds", "GET").is_empty());
        assert!(entries(&s, "zzzzzzzzzz", "/payments/{id}", "GET").is_empty());
    }

    #[test]
    fn a_person_reaches_a_bound_group_through_the_shortest_nesting() {
        let s = payments();
        let e = entries(&s, "a1b2c3d4e5", "/payments/{id}", "GET");
        // readers ⊃ writers ⊃ oncall, and readers ⊃ oncall directly as well.
        let children = BTreeMap::from([
            (g("readers"), vec![g("writers"), g("oncall")]),
            (g("writers"), vec![g("oncall")]),
            (g("oncall"), vec![g("readers")]), // a cycle is walked once
        ]);
        let b = below(&[g("admins"), g("readers")], &children);
        let links = links(&[g("oncall"), g("writers")], &b, &e);
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].path, vec![g("oncall"), g("readers")]);
        assert_eq!(links[0].role, role("payments-reader"));
        // Someone in neither tree reaches nothing.
        assert!(super::links(&[g("sales")], &b, &e).is_empty());
        // An admin reaches both entries.
        let both = super::links(&[g("admins"), g("writers")], &b, &e);
        assert_eq!(both.len(), 2);
        assert_eq!(both[0].path, vec![g("admins")]);
        assert_eq!(both[1].path, vec![g("writers"), g("readers")]);
    }
}
