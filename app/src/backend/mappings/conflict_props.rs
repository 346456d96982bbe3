//! Property: two change sets written against one desired state and approved in either order
//! end in access exactly as the later one's reviewed diff showed, or the later one is refused
//! as stale (their conflict keys meet).

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::store::touches;
use crate::domain::{
    desired::{effective_access, ChangeItem, DesiredState},
    grant::{Binding, Grant, GrantInput, GroupRef},
    names::RoleArn,
};

fn role(n: usize) -> String {
    format!("arn:aws:iam::123456789012:role/r{n}")
}

fn binding(group: usize, r: usize) -> Binding {
    Binding {
        group: GroupRef::group("file", &format!("g{group}")),
        role: RoleArn::parse(&role(r)).unwrap(),
    }
}

fn grant(r: usize, path: usize) -> Grant {
    Grant::parse(&GrantInput {
        role_arn: role(r),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: "prod".into(),
        method: "GET".into(),
        path: format!("/p{path}"),
    })
    .unwrap()
}

/// A fact of the small universe: a binding (group, role) or a grant (role, path).
#[derive(Clone, Copy, Debug)]
enum Fact {
    Binding(usize, usize),
    Grant(usize, usize),
}

fn fact() -> impl Strategy<Value = Fact> {
    prop_oneof![
        (0..3usize, 0..3usize).prop_map(|(g, r)| Fact::Binding(g, r)),
        (0..3usize, 0..3usize).prop_map(|(r, p)| Fact::Grant(r, p)),
    ]
}

fn state(facts: &[Fact]) -> DesiredState {
    let mut s = DesiredState::default();
    for f in facts {
        match *f {
            Fact::Binding(g, r) => {
                s.bindings.insert(binding(g, r));
            }
            Fact::Grant(r, p) => {
                s.grants.insert(grant(r, p));
            }
        }
    }
    s
}

/// Toggles each fact against `base`: removes what it holds, adds what it does not.
fn items(base: &DesiredState, facts: &[Fact]) -> Vec<ChangeItem> {
    let mut seen = BTreeSet::new();
    facts
        .iter()
        .filter_map(|f| {
            let item = match *f {
                Fact::Binding(g, r) => {
                    let b = binding(g, r);
                    if base.bindings.contains(&b) {
                        ChangeItem::RemoveBinding(b)
                    } else {
                        ChangeItem::AddBinding(b)
                    }
                }
                Fact::Grant(r, p) => {
                    let g = grant(r, p);
                    if base.grants.contains(&g) {
                        ChangeItem::RemoveGrant(g)
                    } else {
                        ChangeItem::AddGrant(g)
                    }
                }
            };
            seen.insert(format!("{item:?}")).then_some(item)
        })
        .collect()
}

proptest! {
    #[test]
    fn change_sets_approved_apart_never_combine_into_unreviewed_access(
        base in prop::collection::vec(fact(), 0..8),
        a in prop::collection::vec(fact(), 1..4),
        b in prop::collection::vec(fact(), 1..4),
    ) {
        let base = state(&base);
        let (a, b) = (items(&base, &a), items(&base, &b));
        // Both orders: `first` is applied, then `later` is approved against its old base,
        // both judged against the state of that moment (as `store::conflicting` does).
        for (first, later) in [(&a, &b), (&b, &a)] {
            let now = base.apply(first).unwrap();
            let keys_first: BTreeSet<String> = touches(first, &now).into_iter().collect();
            let keys_later: BTreeSet<String> = touches(later, &now).into_iter().collect();
            if !keys_first.is_disjoint(&keys_later) {
                // The later one is refused as stale until rebased: nothing to check.
                continue;
            }
            let reviewed = effective_access(&base, &base.apply(later).unwrap());
            let after_first = base.apply(first).unwrap();
            let after_both = after_first.apply(later).expect("disjoint change sets both apply");
            prop_assert_eq!(
                effective_access(&after_first, &after_both),
                reviewed,
                "the later change set's effect differs from the diff its reviewer saw"
            );
        }
    }
}
