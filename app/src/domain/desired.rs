//! The desired state (all bindings and grants of applied change sets), the items a change set
//! holds, and what applying them means: the new state, the roles whose policies change, and who
//! gains or loses which routes.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{
    exact::RouteCatalog,
    grant::{ApiRef, Binding, Grant, GroupRef},
    names::{HttpMethod, ResourcePath, RoleArn, StageName},
};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredState {
    pub bindings: BTreeSet<Binding>,
    pub grants: BTreeSet<Grant>,
    /// The catalogued routes of the APIs grants name: policies are made exact over them.
    #[serde(skip)]
    pub catalog: RouteCatalog,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ChangeItem {
    AddBinding(Binding),
    RemoveBinding(Binding),
    AddGrant(Grant),
    RemoveGrant(Grant),
    /// Changes nothing in the desired state: pushes it again to a role or an API that drifted
    /// (the reviewed way to revert drift).
    Repush(RepushTarget),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RepushTarget {
    Role(RoleArn),
    Api(ApiRef),
}

impl ChangeItem {
    pub fn opposite(&self) -> ChangeItem {
        match self.clone() {
            ChangeItem::AddBinding(b) => ChangeItem::RemoveBinding(b),
            ChangeItem::RemoveBinding(b) => ChangeItem::AddBinding(b),
            ChangeItem::AddGrant(g) => ChangeItem::RemoveGrant(g),
            ChangeItem::RemoveGrant(g) => ChangeItem::AddGrant(g),
            same @ ChangeItem::Repush(_) => same,
        }
    }

    pub fn is_addition(&self) -> bool {
        matches!(
            self,
            ChangeItem::AddBinding(_) | ChangeItem::AddGrant(_) | ChangeItem::Repush(_)
        )
    }

    /// The role whose policy or trust this item touches (none for an API's re-push).
    pub fn role(&self) -> Option<&RoleArn> {
        match self {
            ChangeItem::AddBinding(b) | ChangeItem::RemoveBinding(b) => Some(&b.role),
            ChangeItem::AddGrant(g) | ChangeItem::RemoveGrant(g) => Some(&g.role),
            ChangeItem::Repush(RepushTarget::Role(r)) => Some(r),
            ChangeItem::Repush(RepushTarget::Api(_)) => None,
        }
    }
}

/// Adds an edit to a draft's items; an edit that undoes an earlier one removes both, and a
/// repeated edit is not added twice.
/// The most items one change set holds: a reviewer reads each, and each edit's audit event
/// carries the whole list. Larger changes are split into several change sets.
pub const MAX_ITEMS: usize = 500;

pub fn add_item(items: &mut Vec<ChangeItem>, item: ChangeItem) {
    let opposite = item.opposite();
    let undone = (opposite != item)
        .then(|| items.iter().position(|x| *x == opposite))
        .flatten();
    if let Some(i) = undone {
        items.remove(i);
    } else if !items.contains(&item) {
        items.push(item);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ItemConflict {
    #[error("the group is already bound to role {0}")]
    BindingExists(String),
    #[error("the group is not bound to role {0}")]
    NoSuchBinding(String),
    #[error("role {role} may already call {route}")]
    GrantExists { role: String, route: String },
    #[error("role {role} has no grant for {route}")]
    NoSuchGrant { role: String, route: String },
}

/// A route: what a grant names besides its role.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Route {
    pub api: ApiRef,
    pub stage: StageName,
    pub method: HttpMethod,
    pub path: ResourcePath,
}

impl Route {
    pub fn of(g: &Grant) -> Route {
        Route {
            api: g.api.clone(),
            stage: g.stage.clone(),
            method: g.method,
            path: g.path.clone(),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{} {} on {} stage {}",
            self.method,
            self.path.as_str(),
            self.api.api_id.as_str(),
            self.stage.as_str()
        )
    }
}

impl DesiredState {
    /// The state after `items`, or the first item that does not fit (adding what exists,
    /// removing what does not).
    pub fn apply(&self, items: &[ChangeItem]) -> Result<DesiredState, ItemConflict> {
        let mut next = self.clone();
        for item in items {
            match item {
                ChangeItem::AddBinding(b) => {
                    if !next.bindings.insert(b.clone()) {
                        return Err(ItemConflict::BindingExists(b.role.to_string()));
                    }
                }
                ChangeItem::RemoveBinding(b) => {
                    if !next.bindings.remove(b) {
                        return Err(ItemConflict::NoSuchBinding(b.role.to_string()));
                    }
                }
                ChangeItem::AddGrant(g) => {
                    if !next.grants.insert(g.clone()) {
                        return Err(ItemConflict::GrantExists {
                            role: g.role.to_string(),
                            route: Route::of(g).describe(),
                        });
                    }
                }
                ChangeItem::RemoveGrant(g) => {
                    if !next.grants.remove(g) {
                        return Err(ItemConflict::NoSuchGrant {
                            role: g.role.to_string(),
                            route: Route::of(g).describe(),
                        });
                    }
                }
                ChangeItem::Repush(_) => {}
            }
        }
        Ok(next)
    }

    pub fn grants_of(&self, role: &RoleArn) -> Vec<&Grant> {
        self.grants.iter().filter(|g| &g.role == role).collect()
    }

    /// Every route each group reaches through its roles.
    pub fn access(&self) -> BTreeMap<GroupRef, BTreeSet<Route>> {
        let mut by_role: BTreeMap<&RoleArn, Vec<Route>> = BTreeMap::new();
        for g in &self.grants {
            by_role.entry(&g.role).or_default().push(Route::of(g));
        }
        let mut access: BTreeMap<GroupRef, BTreeSet<Route>> = BTreeMap::new();
        for b in &self.bindings {
            let routes = by_role.get(&b.role).cloned().unwrap_or_default();
            access.entry(b.group.clone()).or_default().extend(routes);
        }
        access
    }
}

/// What one group gains and loses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessChange {
    pub group: GroupRef,
    pub gained: Vec<Route>,
    pub lost: Vec<Route>,
}

pub fn effective_access(before: &DesiredState, after: &DesiredState) -> Vec<AccessChange> {
    let (old, new) = (before.access(), after.access());
    let groups: BTreeSet<&GroupRef> = old.keys().chain(new.keys()).collect();
    let empty = BTreeSet::new();
    groups
        .into_iter()
        .filter_map(|group| {
            let (o, n) = (
                old.get(group).unwrap_or(&empty),
                new.get(group).unwrap_or(&empty),
            );
            let gained: Vec<Route> = n.difference(o).cloned().collect();
            let lost: Vec<Route> = o.difference(n).cloned().collect();
            (!gained.is_empty() || !lost.is_empty()).then(|| AccessChange {
                group: group.clone(),
                gained,
                lost,
            })
        })
        .collect()
}

/// The roles whose Gatehouse policy the items change.
pub fn affected_roles(items: &[ChangeItem]) -> BTreeSet<RoleArn> {
    items
        .iter()
        .filter(|i| matches!(i, ChangeItem::AddGrant(_) | ChangeItem::RemoveGrant(_)))
        .filter_map(|i| i.role().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grant::GrantInput;

    fn grant(role: &str, path: &str) -> Grant {
        Grant::parse(&GrantInput {
            role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: "GET".into(),
            path: path.into(),
        })
        .unwrap()
    }

    fn binding(group: &str, role: &str) -> Binding {
        Binding {
            group: GroupRef::group("file", group),
            role: RoleArn::parse(&format!("arn:aws:iam::123456789012:role/{role}")).unwrap(),
        }
    }

    #[test]
    fn applying_items_changes_access_and_conflicts_are_named() {
        let before = DesiredState::default()
            .apply(&[
                ChangeItem::AddBinding(binding("orders", "readers")),
                ChangeItem::AddGrant(grant("readers", "/orders")),
            ])
            .unwrap();
        let items = [
            ChangeItem::AddGrant(grant("readers", "/health")),
            ChangeItem::RemoveGrant(grant("readers", "/orders")),
            ChangeItem::AddBinding(binding("finance", "readers")),
        ];
        let after = before.apply(&items).unwrap();
        let changes = effective_access(&before, &after);
        assert_eq!(changes.len(), 2);
        let finance = changes
            .iter()
            .find(|c| c.group.object_id == "finance")
            .unwrap();
        assert_eq!(finance.gained.len(), 1);
        let orders = changes
            .iter()
            .find(|c| c.group.object_id == "orders")
            .unwrap();
        assert_eq!((orders.gained.len(), orders.lost.len()), (1, 1));
        assert_eq!(affected_roles(&items).len(), 1);

        let again = before.apply(&[ChangeItem::AddGrant(grant("readers", "/orders"))]);
        assert!(matches!(again, Err(ItemConflict::GrantExists { .. })));
        let missing = before.apply(&[ChangeItem::RemoveBinding(binding("finance", "readers"))]);
        assert!(missing.unwrap_err().to_string().contains("not bound"));
    }

    #[test]
    fn an_edit_that_undoes_another_leaves_nothing() {
        let mut items = Vec::new();
        add_item(
            &mut items,
            ChangeItem::AddGrant(grant("readers", "/orders")),
        );
        add_item(
            &mut items,
            ChangeItem::AddGrant(grant("readers", "/orders")),
        );
        assert_eq!(items.len(), 1);
        add_item(
            &mut items,
            ChangeItem::RemoveGrant(grant("readers", "/orders")),
        );
        assert!(items.is_empty());
    }
}
