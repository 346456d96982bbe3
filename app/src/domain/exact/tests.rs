use proptest::prelude::*;

use super::*;
use crate::domain::{
    grant::GrantInput,
    policy::{role_policy, RolePolicy},
};

fn api() -> ApiRef {
    ApiRef {
        account: crate::domain::names::AccountId::parse("123456789012").unwrap(),
        region: crate::domain::names::Region::parse("eu-west-1").unwrap(),
        api_id: crate::domain::names::ApiId::parse("a1b2c3d4e5").unwrap(),
    }
}

fn grant(stage: &str, method: &str, path: &str) -> Grant {
    Grant::parse(&GrantInput {
        role_arn: "arn:aws:iam::123456789012:role/orders".into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: stage.into(),
        method: method.into(),
        path: path.into(),
    })
    .unwrap()
}

fn catalog(stages: &[&str], methods: &[(&str, &str)]) -> RouteCatalog {
    RouteCatalog::from([(
        api(),
        ApiRoutes {
            stages: stages.iter().map(|s| s.to_string()).collect(),
            methods: methods
                .iter()
                .map(|(p, m)| (p.to_string(), m.to_string()))
                .collect(),
            kind: Default::default(),
        },
    )])
}

/// The statements of the generated policy, read back from its JSON as IAM would.
fn statements(policy: &RolePolicy) -> (Vec<String>, Vec<String>) {
    let (mut allow, mut deny) = (Vec::new(), Vec::new());
    for doc in policy.documents() {
        let v: serde_json::Value = serde_json::from_str(&doc.json).unwrap();
        for st in v["Statement"].as_array().unwrap() {
            assert_eq!(st["Action"], "execute-api:Invoke");
            let arns = st["Resource"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string());
            match st["Effect"].as_str().unwrap() {
                "Allow" => allow.extend(arns),
                "Deny" => deny.extend(arns),
                other => panic!("unexpected effect {other}"),
            }
        }
    }
    (allow, deny)
}

/// Whether IAM lets the role make `verb path` in `stage`, under the generated policy.
fn iam_allows(policy: &RolePolicy, stage: &str, verb: &str, path: &str) -> bool {
    let (allow, deny) = statements(policy);
    let request = Request {
        api: api(),
        stage: stage.into(),
        verb: verb.into(),
        path: path.into(),
        method: verb.into(),
    };
    allows(&allow, &deny, &request.arn())
}

#[test]
fn iam_matching_lets_a_star_cross_slashes() {
    assert!(iam_matches("a/*", "a/b/c"));
    assert!(iam_matches("a/*/c", "a/b/x/c"));
    assert!(iam_matches("a/?", "a/b"));
    assert!(!iam_matches("a/?", "a/bc"));
    assert!(!iam_matches("a/*/c", "a/b/d"));
    assert!(iam_matches("*", ""));
    assert!(!iam_matches("GET/orders", "GET/orders/1"));
    assert!(!iam_matches("a", "A"), "ARNs match case-sensitively");
}

#[test]
fn a_grant_on_an_item_does_not_allow_its_sub_resources_and_a_grant_on_both_allows_both() {
    let routes = catalog(
        &["prod"],
        &[
            ("/orders", "GET"),
            ("/orders/{orderId}", "GET"),
            ("/orders/{orderId}/items", "GET"),
        ],
    );
    let item = grant("prod", "GET", "/orders/{orderId}");
    let policy = role_policy("orders", &[&item], &routes, 10).unwrap();
    assert!(iam_allows(&policy, "prod", "GET", "/orders/{orderId}"));
    assert!(
        !iam_allows(&policy, "prod", "GET", "/orders/{orderId}/items"),
        "`orders/*` reaches /items under IAM's rules: the policy must deny it"
    );
    assert!(!iam_allows(&policy, "prod", "GET", "/orders"));
    let (_, deny) = statements(&policy);
    assert_eq!(
        deny,
        ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/*/items"]
    );

    let items = grant("prod", "GET", "/orders/{orderId}/items");
    let both = role_policy("orders", &[&item, &items], &routes, 10).unwrap();
    assert!(iam_allows(&both, "prod", "GET", "/orders/{orderId}"));
    assert!(iam_allows(&both, "prod", "GET", "/orders/{orderId}/items"));
    assert_eq!(statements(&both).1, Vec::<String>::new(), "nothing to deny");
}

#[test]
fn any_method_and_every_stage_are_made_exact_too() {
    let routes = catalog(
        &["dev", "prod"],
        &[
            ("/orders/{orderId}", "ANY"),
            ("/orders/{orderId}/items", "POST"),
        ],
    );
    let any = grant("*", "*", "/orders/{orderId}");
    let policy = role_policy("orders", &[&any], &routes, 10).unwrap();
    for stage in ["dev", "prod"] {
        assert!(iam_allows(&policy, stage, "DELETE", "/orders/{orderId}"));
        assert!(!iam_allows(
            &policy,
            stage,
            "POST",
            "/orders/{orderId}/items"
        ));
    }
}

#[test]
fn a_subtree_grant_reaches_deeper_routes_on_purpose() {
    let routes = catalog(
        &["prod"],
        &[("/orders", "GET"), ("/orders/{orderId}/items", "GET")],
    );
    let subtree = grant("prod", "GET", "/orders/*");
    let policy = role_policy("orders", &[&subtree], &routes, 10).unwrap();
    assert!(iam_allows(
        &policy,
        "prod",
        "GET",
        "/orders/{orderId}/items"
    ));
    assert!(!iam_allows(&policy, "prod", "GET", "/orders"));
    assert!(statements(&policy).1.is_empty());
}

#[test]
fn grants_iam_cannot_tell_apart_are_refused_with_both_named() {
    // `*/x` reaches /{a}/{b}/x, whose deny `*/*/x` would also block the granted /{a}/{b}/{c}/x.
    let routes = catalog(
        &["prod"],
        &[
            ("/{a}/x", "GET"),
            ("/{a}/{b}/x", "GET"),
            ("/{a}/{b}/{c}/x", "GET"),
        ],
    );
    let short = grant("prod", "GET", "/{a}/x");
    let long = grant("prod", "GET", "/{a}/{b}/{c}/x");
    let err = role_policy("orders", &[&short, &long], &routes, 10).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("GET /{a}/{b}/{c}/x") && text.contains("GET /{a}/{b}/x"),
        "{text}"
    );
}

/// A random resource tree as API Gateway allows it: under each resource, static children and at
/// most one `{parameter}` child.
fn tree() -> impl Strategy<Value = Vec<String>> {
    let child = prop_oneof![
        3 => prop::sample::select(vec!["orders", "items", "x", "health"]).prop_map(String::from),
        2 => Just("{p}".to_string()),
    ];
    prop::collection::vec(prop::collection::vec(child, 1..5), 1..12).prop_map(|paths| {
        let mut all = std::collections::BTreeSet::new();
        for segments in paths {
            let mut path = String::new();
            for (depth, s) in segments.iter().enumerate() {
                // Name each level's parameter apart, as API Gateway's siblings must be.
                let s = if s == "{p}" {
                    format!("{{p{depth}}}")
                } else {
                    s.clone()
                };
                path = format!("{path}/{s}");
                all.insert(path.clone());
            }
        }
        all.into_iter().collect()
    })
}

proptest! {
    /// For random trees and grants, each catalogued route is allowed by the generated policy
    /// under IAM's matching rules exactly when it is granted (or the grants are refused as
    /// inexpressible, naming a granted route the needed deny would block).
    #[test]
    fn generated_policies_allow_exactly_the_granted_routes(
        paths in tree(),
        methods in prop::collection::vec(prop::sample::select(vec!["GET", "POST", "ANY"]), 12),
        picks in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec!["GET", "*", "POST"]), any::<bool>(), any::<bool>()), 1..6),
    ) {
        let catalogued: Vec<(&str, &str)> = paths
            .iter()
            .zip(methods.iter().cycle())
            .map(|(p, m)| (p.as_str(), *m))
            .collect();
        let routes = catalog(&["dev", "prod"], &catalogued);
        let grants: Vec<Grant> = picks
            .iter()
            .map(|(i, method, every_stage, subtree)| {
                let path = &paths[i.index(paths.len())];
                let path = if *subtree { format!("{path}/*") } else { path.clone() };
                grant(if *every_stage { "*" } else { "prod" }, method, &path)
            })
            .collect();
        let refs: Vec<&Grant> = grants.iter().collect();
        match role_policy("orders", &refs, &routes, 10) {
            Ok(policy) => {
                let (allow, deny) = statements(&policy);
                for r in requests(&api(), &routes[&api()]) {
                    let granted = refs.iter().any(|g| grant_covers(g, &r));
                    prop_assert_eq!(
                        allows(&allow, &deny, &r.arn()), granted,
                        "{} granted={} under {:?} / deny {:?}", r.describe(), granted, allow, deny
                    );
                }
            }
            Err(crate::domain::policy::PolicyError::NotExact(e)) => {
                let (granted, denied) = (e.granted.clone(), e.denied.clone());
                prop_assert!(granted != denied);
            }
            Err(e) => prop_assert!(false, "unexpected {}", e),
        }
    }
}

#[test]
fn the_default_route_is_denied_to_no_path_grant_and_allowed_to_its_own() {
    let routes = catalog(&["prod"], &[("$default", "ANY"), ("/orders", "GET")]);
    // A grant on every path never reaches `$default` (its ARN has no verb and no path).
    let everything = grant("prod", "*", "/*");
    assert_eq!(
        exact_denies(&[&everything], &routes).unwrap(),
        Vec::<String>::new()
    );
    let default = grant("prod", "*", "$default");
    assert_eq!(
        exact_denies(&[&default], &routes).unwrap(),
        Vec::<String>::new()
    );
    assert!(default.invoke_arn().ends_with("/prod/$default"));
}
