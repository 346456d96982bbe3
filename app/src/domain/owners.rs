//! Which APIs a change set changes the callers of: the APIs its grants name, and, for a binding
//! (a group given or denied a role), every API that role may call before or after it. An owned
//! API among them needs its owners' approval.

use std::collections::BTreeSet;

use super::desired::{ChangeItem, DesiredState};

pub fn apis_touched(
    items: &[ChangeItem],
    before: &DesiredState,
    after: Option<&DesiredState>,
) -> BTreeSet<String> {
    let mut apis = BTreeSet::new();
    for item in items {
        match item {
            ChangeItem::AddGrant(g) | ChangeItem::RemoveGrant(g) => {
                apis.insert(g.api.api_id.as_str().to_string());
            }
            ChangeItem::AddBinding(b) | ChangeItem::RemoveBinding(b) => {
                for state in std::iter::once(before).chain(after) {
                    apis.extend(
                        state
                            .grants
                            .iter()
                            .filter(|g| g.role == b.role)
                            .map(|g| g.api.api_id.as_str().to_string()),
                    );
                }
            }
            ChangeItem::Repush(_) => {}
        }
    }
    apis
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        fixtures,
        grant::{Binding, Grant},
    };

    fn on(api: &str, role: &str) -> Grant {
        let mut g = fixtures::grant(role, "GET", "/orders", "prod");
        g.api.api_id = crate::domain::names::ApiId::parse(api).unwrap();
        g
    }

    fn bind(role: &str) -> ChangeItem {
        ChangeItem::AddBinding(Binding {
            group: fixtures::group("team"),
            role: fixtures::role(role),
        })
    }

    #[test]
    fn grants_name_their_api_and_bindings_every_api_of_their_role() {
        let (orders, payments) = (on("orders1234", "reader"), on("payments12", "payer"));
        let before = DesiredState {
            grants: [orders.clone()].into(),
            ..Default::default()
        };
        let after = DesiredState {
            grants: [orders.clone(), payments.clone()].into(),
            ..Default::default()
        };
        let touched = |items: &[ChangeItem], after: Option<&DesiredState>| {
            apis_touched(items, &before, after)
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            touched(&[ChangeItem::AddGrant(payments.clone())], Some(&after)),
            ["payments12"]
        );
        // Giving a group the reader role changes who may call what that role may call.
        assert_eq!(touched(&[bind("reader")], Some(&before)), ["orders1234"]);
        // The role's grants after the change count too (granted in the same change set).
        assert_eq!(
            touched(
                &[bind("payer"), ChangeItem::AddGrant(payments)],
                Some(&after)
            ),
            ["payments12"]
        );
        // A role with no grants touches no API.
        assert!(touched(&[bind("nobody")], None).is_empty());
    }
}
