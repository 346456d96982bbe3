use super::*;
use crate::bundle::{tests::sample, BundleApi, BundleGrant, BundleRole};

fn principals(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn ask<'a>(method: &'a str, path: RequestPath<'a>) -> RouteRequest<'a> {
    RouteRequest {
        api_id: "a1b2c3d4e5",
        stage: "prod",
        method,
        path,
    }
}

#[test]
fn a_member_is_allowed_the_granted_route_and_told_why() {
    let bundle = sample().compile().unwrap();
    let who = principals(&["g-orders"]);
    let m = Membership::of(&bundle, &who);
    let d = decide(
        &bundle,
        &m,
        who.len(),
        &ask("GET", RequestPath::Template("/orders/{id}")),
    );
    let Decision::Allow(g) = d else {
        panic!("{d:?}")
    };
    assert_eq!(g.group, "g-orders");
    assert_eq!(g.through, None);
    assert!(g.role.ends_with("role/orders-readers"));
    assert_eq!(g.grant, "GET /orders/{id} on stage prod");
    // A concrete path resolves to the catalogued template.
    assert!(decide(
        &bundle,
        &m,
        1,
        &ask("GET", RequestPath::Concrete("/orders/42"))
    )
    .is_allowed());
}

#[test]
fn a_nested_group_reaches_its_parents_grants() {
    let bundle = sample().compile().unwrap();
    let m = Membership::of(&bundle, &principals(&["g-sub"]));
    let d = decide(
        &bundle,
        &m,
        1,
        &ask("GET", RequestPath::Template("/orders/{id}")),
    );
    let Decision::Allow(g) = d else {
        panic!("{d:?}")
    };
    assert_eq!(
        (g.group.as_str(), g.through.as_deref()),
        ("g-orders", Some("g-sub"))
    );
}

#[test]
fn everything_else_is_refused_with_its_reason() {
    let bundle = sample().compile().unwrap();
    let orders = Membership::of(&bundle, &principals(&["g-orders"]));
    let finance = Membership::of(&bundle, &principals(&["g-finance"]));
    let nobody = Membership::of(&bundle, &principals(&["unknown-group"]));
    let t = RequestPath::Template("/orders/{id}");
    let cases = [
        (
            decide(&bundle, &orders, 1, &ask("DELETE", t)),
            "no grant of the caller's groups covers DELETE /orders/{id} on stage prod",
        ),
        (decide(&bundle, &finance, 1, &ask("GET", t)), "no grant"),
        (
            decide(&bundle, &nobody, 1, &ask("GET", t)),
            "none of the caller's groups (1)",
        ),
        (
            decide(
                &bundle,
                &orders,
                1,
                &RouteRequest {
                    stage: "dev",
                    ..ask("GET", t)
                },
            ),
            "stage dev",
        ),
        (
            decide(
                &bundle,
                &orders,
                1,
                &RouteRequest {
                    api_id: "zzzzzzzzzz",
                    ..ask("GET", t)
                },
            ),
            "API zzzzzzzzzz is not in the access bundle",
        ),
        (
            decide(
                &bundle,
                &orders,
                1,
                &ask("GET", RequestPath::Concrete("/orders/42/items")),
            ),
            "is no route of API",
        ),
    ];
    for (d, reason) in cases {
        let Decision::Deny(r) = &d else {
            panic!("{d:?} should be refused")
        };
        assert!(r.to_string().contains(reason), "{r} lacks {reason}");
    }
}

#[test]
fn wildcards_cover_what_they_say_and_no_more() {
    let mut b = sample();
    b.roles.push(BundleRole {
        arn: "arn:aws:iam::123456789012:role/fin".into(),
        groups: vec![1],
    });
    b.apis[0].routes = vec![
        ("GET".into(), "/orders/{id}".into()),
        ("GET".into(), "/orders/export".into()),
        ("POST".into(), "/orders/{id}/items".into()),
        ("GET".into(), "/reports".into()),
        ("GET".into(), "/orders/{id}/items".into()),
    ];
    b.apis[0].grants.push(BundleGrant {
        role: 1,
        stage: "*".into(),
        method: "*".into(),
        path: "/orders/*".into(),
    });
    let bundle = b.compile().unwrap();
    let orders = Membership::of(&bundle, &principals(&["g-orders"]));
    let finance = Membership::of(&bundle, &principals(&["g-finance"]));
    let c = RequestPath::Concrete;
    // A grant's parameter covers any one segment, the resource `/orders/export` too (as the
    // catalogue's views say); one more segment is another resource.
    assert!(decide(&bundle, &orders, 1, &ask("GET", c("/orders/export"))).is_allowed());
    assert!(decide(&bundle, &orders, 1, &ask("GET", c("/orders/7"))).is_allowed());
    assert!(!decide(&bundle, &orders, 1, &ask("GET", c("/orders/7/items"))).is_allowed());
    // `/orders/*` with method `*` on every stage: everything below /orders, nothing else.
    let dev_post = RouteRequest {
        stage: "dev",
        ..ask("POST", c("/orders/7/items"))
    };
    assert!(decide(&bundle, &finance, 1, &dev_post).is_allowed());
    assert!(!decide(&bundle, &finance, 1, &ask("GET", c("/reports"))).is_allowed());
    let api = bundle.apis.get("a1b2c3d4e5").unwrap();
    assert_eq!(held_grants(&bundle, &finance, api).len(), 1);
}

#[test]
fn without_a_catalogue_grants_match_the_concrete_path() {
    let mut b = sample();
    b.apis = vec![BundleApi {
        api_id: "a1b2c3d4e5".into(),
        grants: vec![BundleGrant {
            role: 0,
            stage: "prod".into(),
            method: "GET".into(),
            path: "/orders/{id}".into(),
        }],
        ..Default::default()
    }];
    let bundle = b.compile().unwrap();
    let m = Membership::of(&bundle, &principals(&["g-orders"]));
    assert!(decide(
        &bundle,
        &m,
        1,
        &ask("GET", RequestPath::Concrete("orders/42"))
    )
    .is_allowed());
    assert!(!decide(
        &bundle,
        &m,
        1,
        &ask("GET", RequestPath::Concrete("orders/42/x"))
    )
    .is_allowed());
}

#[test]
fn the_default_route_is_allowed_by_a_grant_on_it_and_by_no_path_grant() {
    let mut b = sample();
    b.apis[0].kind = "http".into();
    b.roles.push(BundleRole {
        arn: "arn:aws:iam::123456789012:role/fin".into(),
        groups: vec![1],
    });
    b.apis[0].routes = vec![
        ("ANY".into(), "$default".into()),
        ("GET".into(), "/orders/{id}".into()),
    ];
    b.apis[0].grants.push(BundleGrant {
        role: 1,
        stage: "prod".into(),
        method: "*".into(),
        path: "$default".into(),
    });
    b.apis[0].grants.push(BundleGrant {
        role: 0,
        stage: "*".into(),
        method: "*".into(),
        path: "/*".into(),
    });
    let bundle = b.compile().unwrap();
    let default = RequestPath::Template("$default");
    let finance = Membership::of(&bundle, &principals(&["g-finance"]));
    let orders = Membership::of(&bundle, &principals(&["g-orders"]));
    assert!(decide(&bundle, &finance, 1, &ask("PATCH", default)).is_allowed());
    // `/*` reaches every path route, never `$default`.
    assert!(!decide(&bundle, &orders, 1, &ask("GET", default)).is_allowed());
    assert!(decide(
        &bundle,
        &orders,
        1,
        &ask("GET", RequestPath::Template("/orders/{id}"))
    )
    .is_allowed());
}
