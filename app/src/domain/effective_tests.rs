use proptest::prelude::*;

use super::*;
use crate::domain::{
    desired::ChangeItem,
    fixtures::{grant, group, role},
    grant::Binding,
};

fn method(path: &str, verb: &str, auth: &str) -> CatalogMethod {
    CatalogMethod {
        api: grant("x", "GET", "/", "prod").api,
        path: path.into(),
        http_method: verb.into(),
        authorization_type: auth.into(),
    }
}

fn parents(edges: &[(&str, &str)]) -> BTreeMap<GroupRef, Vec<GroupRef>> {
    let mut map: BTreeMap<GroupRef, Vec<GroupRef>> = BTreeMap::new();
    for (child, parent) in edges {
        map.entry(group(child)).or_default().push(group(parent));
    }
    map
}

#[test]
fn nested_groups_are_reached_with_their_shortest_path_and_cycles_end() {
    let edges = parents(&[
        ("oncall", "payments-writers"),
        ("payments-writers", "payments-readers"),
        ("payments-readers", "oncall"), // a cycle
    ]);
    let reached = reachable_groups(&[group("oncall")], &edges);
    assert_eq!(reached.len(), 3);
    assert_eq!(
        reached[&group("payments-readers")],
        vec![
            group("oncall"),
            group("payments-writers"),
            group("payments-readers")
        ]
    );
    // A direct membership is its own path, even when a nested one also leads there.
    let reached = reachable_groups(&[group("oncall"), group("payments-readers")], &edges);
    assert_eq!(
        reached[&group("payments-readers")],
        vec![group("payments-readers")]
    );
}

#[test]
fn a_person_may_call_what_the_roles_of_their_groups_are_granted_and_nothing_else() {
    let desired = DesiredState::default()
        .apply(&[
            ChangeItem::AddBinding(Binding {
                group: group("payments-readers"),
                role: role("payments-reader"),
            }),
            ChangeItem::AddGrant(grant("payments-reader", "GET", "/payments/{id}", "prod")),
            ChangeItem::AddGrant(grant("payments-reader", "*", "/health", "*")),
            ChangeItem::AddBinding(Binding {
                group: group("admins"),
                role: role("admin"),
            }),
            ChangeItem::AddGrant(grant("admin", "DELETE", "/payments/{id}", "prod")),
        ])
        .unwrap();
    let methods = [
        method("/payments/{paymentId}", "GET", "AWS_IAM"),
        method("/payments/{paymentId}", "DELETE", "AWS_IAM"),
        method("/health", "GET", "NONE"),
    ];
    let groups = reachable_groups(
        &[group("oncall")],
        &parents(&[("oncall", "payments-readers")]),
    );
    let routes = person_routes(&groups, &desired, &methods);
    let seen: Vec<(&str, &str, &str, &str)> = routes
        .iter()
        .map(|r| {
            (
                r.http_method.as_str(),
                r.path.as_str(),
                r.stage.as_str(),
                r.authorization_type.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("GET", "/health", "*", "NONE"),
            ("GET", "/payments/{paymentId}", "prod", "AWS_IAM")
        ]
    );
    assert_eq!(
        routes[1].groups,
        vec![group("oncall"), group("payments-readers")]
    );
    assert_eq!(routes[1].grant, "GET /payments/{id} on prod");
    assert_eq!(
        person_roles(&groups, &desired),
        vec![(
            role("payments-reader"),
            vec![group("oncall"), group("payments-readers")]
        )]
    );
}

proptest! {
    /// Every route shown is covered by a grant of a role bound to a group the person reaches:
    /// the page never shows access no approved link gives.
    #[test]
    fn every_route_has_its_chain(
        bound in prop::collection::vec((0usize..4, 0usize..3), 0..6),
        granted in prop::collection::vec((0usize..3, 0usize..4, 0usize..3), 0..8),
        direct in prop::collection::vec(0usize..4, 0..3),
        nested in prop::collection::vec((0usize..4, 0usize..4), 0..4),
    ) {
        let groups = ["a", "b", "c", "d"];
        let roles = ["r0", "r1", "r2"];
        let verbs = ["GET", "POST", "*"];
        let paths = ["/x", "/x/{id}", "/*", "/y"];
        let mut items = Vec::new();
        for (g, r) in &bound {
            let item = ChangeItem::AddBinding(Binding { group: group(groups[*g]), role: role(roles[*r]) });
            if !items.contains(&item) { items.push(item); }
        }
        for (r, p, v) in &granted {
            let item = ChangeItem::AddGrant(grant(roles[*r], verbs[*v], paths[*p], "prod"));
            if !items.contains(&item) { items.push(item); }
        }
        let desired = DesiredState::default().apply(&items).unwrap();
        let edges: Vec<(&str, &str)> = nested.iter().map(|(c, p)| (groups[*c], groups[*p])).collect();
        let direct: Vec<GroupRef> = direct.iter().map(|g| group(groups[*g])).collect();
        let reached = reachable_groups(&direct, &parents(&edges));
        let methods: Vec<CatalogMethod> = ["/x", "/x/{id}", "/y", "/z"]
            .iter()
            .flat_map(|p| ["GET", "POST"].map(|v| method(p, v, "AWS_IAM")))
            .collect();
        for r in person_routes(&reached, &desired, &methods) {
            let via = r.groups.last().unwrap();
            prop_assert!(reached.contains_key(via));
            prop_assert!(desired.bindings.iter().any(|b| &b.group == via && b.role == r.role));
            prop_assert!(desired.grants_of(&r.role).iter().any(|g| g.path.covers(&r.path) && g.method.covers(&r.http_method)));
        }
    }
}
