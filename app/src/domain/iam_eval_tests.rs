use proptest::prelude::*;
use serde_json::json;

use super::*;

const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5";

fn get(path: &str) -> String {
    format!("{ARN}/prod/GET/{path}")
}

fn policy(statements: Value) -> Vec<(String, Value)> {
    vec![(
        "gatehouse-invoke".to_string(),
        json!({"Version": "2012-10-17", "Statement": statements}),
    )]
}

fn allow(resource: Value) -> Value {
    json!({"Sid": "Allow", "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource})
}

const INVOKE: &str = "execute-api:Invoke";

#[test]
fn an_explicit_deny_wins_over_any_allow_in_any_order() {
    let deny = json!({"Sid": "NoDelete", "Effect": "Deny", "Action": "execute-api:*",
        "Resource": format!("{ARN}/*/DELETE/*")});
    for statements in [
        json!([allow(json!(format!("{ARN}/*"))), deny.clone()]),
        json!([deny.clone(), allow(json!(format!("{ARN}/*")))]),
    ] {
        let e = evaluate(
            &policy(statements),
            INVOKE,
            &format!("{ARN}/prod/DELETE/orders/7"),
        );
        assert!(
            matches!(&e.verdict, Verdict::Denied(s) if s.sid == "NoDelete"),
            "{e:?}"
        );
    }
    let e = evaluate(
        &policy(json!([allow(json!(format!("{ARN}/*"))), deny])),
        INVOKE,
        &get("orders/7"),
    );
    assert!(e.allowed());
}

#[test]
fn wildcards_in_actions_and_resources_match_as_iam_matches_them() {
    // Actions: `*`, a service wildcard, and any case.
    for action in [
        "*",
        "execute-api:*",
        "EXECUTE-API:invoke",
        "execute-api:Inv?ke",
    ] {
        let st = json!([{"Effect": "Allow", "Action": action, "Resource": "*"}]);
        assert!(
            evaluate(&policy(st), INVOKE, &get("orders")).allowed(),
            "{action}"
        );
    }
    let other =
        json!([{"Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": "*"}]);
    assert!(!evaluate(&policy(other), INVOKE, &get("orders")).allowed());
    // Method `*`, stage `*`, a path variable as `*` (which reaches across `/`, as IAM's does).
    let yes = |resource: &str, request: &str| {
        evaluate(&policy(json!([allow(json!(resource))])), INVOKE, request).allowed()
    };
    assert!(yes(&format!("{ARN}/prod/*/orders"), &get("orders")));
    assert!(yes(
        &format!("{ARN}/*/GET/orders"),
        &format!("{ARN}/dev/GET/orders")
    ));
    assert!(yes(&format!("{ARN}/prod/GET/orders/*"), &get("orders/42")));
    assert!(yes(
        &format!("{ARN}/prod/GET/orders/*"),
        &get("orders/42/items")
    ));
    assert!(!yes(&format!("{ARN}/prod/GET/orders/*"), &get("orders")));
    assert!(!yes(
        &format!("{ARN}/prod/GET/orders"),
        &format!("{ARN}/prod/POST/orders")
    ));
    assert!(!yes(
        &format!("{ARN}/prod/GET/orders"),
        &format!("{ARN}/dev/GET/orders")
    ));
    // Resources compare with case.
    assert!(!yes(&format!("{ARN}/prod/GET/Orders"), &get("orders")));
}

#[test]
fn not_action_and_not_resource_match_everything_else() {
    let st = json!([{"Effect": "Allow", "NotAction": "iam:*", "NotResource": format!("{ARN}/prod/DELETE/*")}]);
    assert!(evaluate(&policy(st.clone()), INVOKE, &get("orders")).allowed());
    assert!(!evaluate(&policy(st), INVOKE, &format!("{ARN}/prod/DELETE/orders")).allowed());
    let deny_all_but = json!([allow(json!("*")),
        {"Sid": "OnlyReports", "Effect": "Deny", "Action": "*", "NotResource": format!("{ARN}/*/GET/reports")}]);
    assert!(evaluate(&policy(deny_all_but.clone()), INVOKE, &get("reports")).allowed());
    assert!(matches!(
        evaluate(&policy(deny_all_but), INVOKE, &get("orders")).verdict,
        Verdict::Denied(_)
    ));
}

#[test]
fn a_conditional_statement_is_reported_not_applied() {
    let st = json!([{"Sid": "FromOffice", "Effect": "Allow", "Action": INVOKE, "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]);
    let e = evaluate(&policy(st), INVOKE, &get("orders"));
    assert_eq!(e.verdict, Verdict::ImplicitlyDenied);
    assert_eq!(e.conditional[0].sid, "FromOffice");
    // No statement at all: implicitly denied; a statement without Sid is named by position.
    assert_eq!(
        evaluate(&[], INVOKE, &get("x")).verdict,
        Verdict::ImplicitlyDenied
    );
    let e = evaluate(
        &policy(json!({"Effect": "Allow", "Action": INVOKE, "Resource": "*"})),
        INVOKE,
        &get("x"),
    );
    assert!(
        matches!(&e.verdict, Verdict::Allowed(s) if s.sid == "#1" && s.policy == "gatehouse-invoke")
    );
}

#[test]
fn what_decides_a_method_follows_its_authorization_type() {
    let nothing = || evaluate(&[], INVOKE, &get("orders"));
    assert_eq!(reach("NONE", nothing), Reach::Anyone);
    assert_eq!(reach("AWS_IAM", nothing), Reach::Iam(nothing()));
    assert_eq!(reach("CUSTOM", nothing), Reach::Authorizer("CUSTOM".into()));
    assert_eq!(reach("JWT", nothing), Reach::Authorizer("JWT".into()));
}

/// IAM's wildcard match written another way (recursively), to check the evaluator against.
fn reference_match(p: &[u8], t: &[u8]) -> bool {
    match (p.first(), t.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            reference_match(&p[1..], t) || (!t.is_empty() && reference_match(p, &t[1..]))
        }
        (Some(b'?'), Some(_)) => reference_match(&p[1..], &t[1..]),
        (Some(a), Some(b)) if a == b => reference_match(&p[1..], &t[1..]),
        _ => false,
    }
}

proptest! {
    /// Allowed only when an unconditional `Allow` statement matches and no unconditional `Deny`
    /// does: the evaluator never allows what no statement allows.
    #[test]
    fn never_allows_what_no_statement_allows(
        statements in prop::collection::vec(
            (any::<bool>(), 0usize..4, 0usize..6, any::<bool>(), any::<bool>()), 0..6),
        request in 0usize..5,
    ) {
        let actions = ["execute-api:Invoke", "execute-api:*", "*", "s3:GetObject"];
        let resources = [
            format!("{ARN}/prod/GET/orders"), format!("{ARN}/*/GET/orders"), format!("{ARN}/prod/*"),
            format!("{ARN}/prod/GET/orders/*"), "*".to_string(), format!("{ARN}/dev/POST/orders"),
        ];
        let requests = [get("orders"), get("orders/1"), format!("{ARN}/dev/POST/orders"),
            format!("{ARN}/dev/GET/orders"), get("reports")];
        let docs: Vec<Value> = statements.iter().map(|(allow, a, r, not_resource, conditional)| {
            let mut st = json!({"Effect": if *allow { "Allow" } else { "Deny" }, "Action": actions[*a]});
            let key = if *not_resource { "NotResource" } else { "Resource" };
            st[key] = json!(resources[*r]);
            if *conditional { st["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}}); }
            st
        }).collect();
        let request = &requests[request];
        let e = evaluate(&policy(json!(docs)), INVOKE, request);
        let matches = |st: &Value| {
            let a = st["Action"].as_str().unwrap().to_ascii_lowercase();
            let action_ok = reference_match(a.as_bytes(), INVOKE.to_ascii_lowercase().as_bytes());
            let resource_ok = match st.get("Resource") {
                Some(r) => reference_match(r.as_str().unwrap().as_bytes(), request.as_bytes()),
                None => !reference_match(st["NotResource"].as_str().unwrap().as_bytes(), request.as_bytes()),
            };
            action_ok && resource_ok && st.get("Condition").is_none()
        };
        let some_allow = docs.iter().any(|st| st["Effect"] == "Allow" && matches(st));
        let some_deny = docs.iter().any(|st| st["Effect"] == "Deny" && matches(st));
        prop_assert_eq!(e.allowed(), some_allow && !some_deny);
        prop_assert_eq!(matches!(e.verdict, Verdict::Denied(_)), some_deny);
    }
}

#[test]
fn routes_other_policies_allow_beyond_the_grants_are_found_with_the_statement() {
    use crate::domain::{
        exact::{ApiRoutes, RouteCatalog},
        grant::{Grant, GrantInput},
    };
    let grant = Grant::parse(&GrantInput {
        role_arn: "arn:aws:iam::123456789012:role/readers".into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: "prod".into(),
        method: "GET".into(),
        path: "/orders".into(),
    })
    .unwrap();
    let catalog = RouteCatalog::from([(
        grant.api.clone(),
        ApiRoutes {
            stages: vec!["prod".into()],
            methods: vec![
                ("/orders".into(), "GET".into()),
                ("/orders".into(), "POST".into()),
            ],
            kind: Default::default(),
        },
    )]);
    let managed = vec![(
        "managed policy arn:aws:iam::123456789012:policy/hand-made".to_string(),
        json!({"Statement": [{"Sid": "Orders", "Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": format!("{ARN}/*/*/orders")}]}),
    )];
    let found = outside_access(&[&grant], &managed, &catalog);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].route, "POST /orders in prod");
    assert_eq!(found[0].by.sid, "Orders");
    assert!(found[0].by.policy.contains("policy/hand-made"));
    assert!(outside_access(&[&grant], &[], &catalog).is_empty());
}
