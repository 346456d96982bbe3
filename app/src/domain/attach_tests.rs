use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::domain::{
    desired::ChangeItem,
    grant::GrantInput,
    plan::{plan as whole_plan, MethodActual, PlanSettings},
};

const FUNCTION: &str = "gatehouse-authorizer";
const ROLE: &str = "arn:aws:iam::123456789012:role/orders-readers";

fn grant(method: &str, path: &str, stage: &str) -> Grant {
    Grant::parse(&GrantInput {
        role_arn: ROLE.into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: stage.into(),
        method: method.into(),
        path: path.into(),
    })
    .unwrap()
}

fn state(grants: &[Grant]) -> DesiredState {
    let items: Vec<ChangeItem> = grants.iter().cloned().map(ChangeItem::AddGrant).collect();
    DesiredState::default().apply(&items).unwrap()
}

fn method(path: &str, m: &str, auth: &str, authorizer: Option<&str>) -> MethodActual {
    MethodActual {
        resource_id: format!("r{}", path.len()),
        path: path.into(),
        http_method: m.into(),
        authorization_type: auth.into(),
        authorizer_id: authorizer.map(String::from),
    }
}

fn spec(ttl: u32) -> AuthorizerSpec {
    AuthorizerSpec::for_api(&grant("GET", "/", "prod").api, FUNCTION, ttl)
}

fn gatehouse_authorizer(ttl: u32) -> AuthorizerInfo {
    AuthorizerInfo {
        id: "gh1".into(),
        name: AUTHORIZER_NAME.into(),
        kind: "TOKEN".into(),
        uri: Some(spec(ttl).uri("eu-west-1")),
        ttl_seconds: Some(ttl),
    }
}

fn api(methods: Vec<MethodActual>, authorizers: Vec<AuthorizerInfo>) -> ApiActual {
    ApiActual {
        api: grant("GET", "/", "prod").api,
        name: "orders-api".into(),
        authorizers,
        stages: vec!["dev".into(), "prod".into()],
        methods,
        policy: None,
        deployed_at: BTreeMap::new(),
        changed_at: None,
        kind: ApiKind::Rest,
        auto_deploy: BTreeSet::new(),
    }
}

fn summaries(steps: &[Step]) -> Vec<String> {
    steps.iter().map(|s| s.call.summary()).collect()
}

#[test]
fn scope_entries_are_targets_ids_names_or_everything() {
    let api_ref = grant("GET", "/", "prod").api;
    let scope = AttachScope::parse("123456789012/eu-west-1").unwrap();
    assert!(scope.covers(&api_ref, "anything"));
    let scope = AttachScope::parse(" a1b2c3d4e5 , inventory-api").unwrap();
    assert!(scope.covers(&api_ref, "orders-api"));
    assert!(AttachScope::parse("zzzzzzzzzz, inventory-api")
        .unwrap()
        .covers(&api_ref, "inventory-api"));
    assert!(!AttachScope::parse("inventory-api")
        .unwrap()
        .covers(&api_ref, "orders-api"));
    assert!(!AttachScope::parse("123456789012/us-east-1")
        .unwrap()
        .covers(&api_ref, "orders-api"));
    assert!(AttachScope::parse("*").unwrap().covers(&api_ref, ""));
    assert!(AttachScope::parse(" , ").unwrap().is_empty());
    let err = AttachScope::parse("12345/eu-west-1").unwrap_err();
    assert!(err.contains("not a target"), "{err}");
}

#[test]
fn the_function_arn_and_uri_follow_the_api_target() {
    let s = spec(60);
    assert_eq!(
        s.function_arn,
        "arn:aws:lambda:eu-west-1:123456789012:function:gatehouse-authorizer"
    );
    assert_eq!(
        s.uri("eu-west-1"),
        "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:gatehouse-authorizer/invocations"
    );
    let given = AuthorizerSpec::for_api(
        &grant("GET", "/", "prod").api,
        "arn:aws:lambda:eu-west-1:999999999999:function:authz:live",
        0,
    );
    assert_eq!(
        given.function_arn,
        "arn:aws:lambda:eu-west-1:999999999999:function:authz:live"
    );
}

#[test]
fn without_an_authorizer_it_is_created_then_each_granted_method_attached_and_deployed() {
    // `/orders/*` covers what is below /orders, not /orders itself.
    let desired = state(&[grant("GET", "/orders/*", "prod")]);
    let actual = api(
        vec![
            method("/orders", "GET", "NONE", None),
            method("/orders/{id}", "GET", "AWS_IAM", None),
            method("/orders/{id}", "DELETE", "NONE", None),
            method("/health", "GET", "NONE", None),
        ],
        vec![],
    );
    let mut stages = BTreeSet::new();
    let steps = plan(&desired, &actual, &spec(60), &mut stages).unwrap();
    assert_eq!(
        summaries(&steps),
        [
            "create authorizer gatehouse on API a1b2c3d4e5: TOKEN from the Authorization header, function arn:aws:lambda:eu-west-1:123456789012:function:gatehouse-authorizer, answers cached 60 s",
            "set GET /orders/{id} of API a1b2c3d4e5 to CUSTOM with authorizer gatehouse (was AWS_IAM)",
        ]
    );
    assert!(steps.iter().all(|s| s.target == "123456789012/eu-west-1"));
    assert_eq!(stages, BTreeSet::from(["prod".to_string()]));
}

#[test]
fn when_every_granted_method_has_the_authorizer_nothing_is_planned() {
    let desired = state(&[grant("*", "/orders", "*")]);
    let actual = api(
        vec![
            method("/orders", "GET", "CUSTOM", Some("gh1")),
            method("/orders", "POST", "CUSTOM", Some("gh1")),
            method("/health", "GET", "NONE", None),
        ],
        vec![gatehouse_authorizer(60)],
    );
    let mut stages = BTreeSet::new();
    assert_eq!(
        plan(&desired, &actual, &spec(60), &mut stages).unwrap(),
        Vec::<Step>::new()
    );
    assert!(stages.is_empty());
}

#[test]
fn an_authorizer_changed_by_hand_is_set_back_and_every_granted_stage_redeployed() {
    let desired = state(&[grant("GET", "/orders", "*")]);
    let mut edited = gatehouse_authorizer(60);
    edited.ttl_seconds = Some(3600);
    let actual = api(
        vec![method("/orders", "GET", "CUSTOM", Some("gh1"))],
        vec![edited],
    );
    let mut stages = BTreeSet::new();
    let steps = plan(&desired, &actual, &spec(60), &mut stages).unwrap();
    assert_eq!(
        summaries(&steps),
        ["set authorizer gatehouse of API a1b2c3d4e5: answers cached 60 s (was 3600 s)"]
    );
    assert_eq!(stages.len(), 2);
}

#[test]
fn a_method_on_another_authorizer_is_moved_and_says_which_it_had() {
    let desired = state(&[grant("POST", "/payments", "prod")]);
    let other = AuthorizerInfo {
        id: "x9".into(),
        name: "token-authorizer".into(),
        kind: "TOKEN".into(),
        uri: Some("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:authorizer/invocations".into()),
        ttl_seconds: Some(300),
    };
    let actual = api(
        vec![method("/payments", "POST", "CUSTOM", Some("x9"))],
        vec![other, gatehouse_authorizer(60)],
    );
    let steps = plan(&desired, &actual, &spec(60), &mut BTreeSet::new()).unwrap();
    assert_eq!(
        summaries(&steps),
        ["set POST /payments of API a1b2c3d4e5 to CUSTOM with authorizer gatehouse (was CUSTOM with authorizer token-authorizer)"]
    );
}

#[test]
fn an_authorizer_named_gatehouse_that_calls_another_function_stops_the_plan() {
    let desired = state(&[grant("GET", "/orders", "prod")]);
    let mut impostor = gatehouse_authorizer(60);
    impostor.uri = Some("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:someone-else/invocations".into());
    let actual = api(vec![method("/orders", "GET", "NONE", None)], vec![impostor]);
    let err = plan(&desired, &actual, &spec(60), &mut BTreeSet::new()).unwrap_err();
    assert!(
        matches!(&err, PlanError::AuthorizerNameTaken { uri, .. } if uri.contains("someone-else")),
        "{err}"
    );
}

#[test]
fn methods_no_longer_granted_keep_the_authorizer_never_loosened() {
    let desired = state(&[]);
    let actual = api(
        vec![method("/orders", "GET", "CUSTOM", Some("gh1"))],
        vec![gatehouse_authorizer(5)],
    );
    assert!(plan(&desired, &actual, &spec(60), &mut BTreeSet::new())
        .unwrap()
        .is_empty());
}

#[test]
fn in_the_whole_plan_attaching_replaces_iam_enforcement_for_the_apis_in_scope() {
    let desired = state(&[grant("GET", "/orders", "prod")]);
    let actual = api(vec![method("/orders", "GET", "NONE", None)], vec![]);
    let run = |attach: &dyn Fn(&ApiActual) -> Option<AuthorizerSpec>| {
        let settings = PlanSettings {
            enforce_iam: true,
            resource_policy: false,
            role_target: &|_| "123456789012/eu-west-1".into(),
            trust_policy: &|_| "{}".into(),
            keeps_trust: &|_| false,
            principal: &|r| r.to_string(),
            attach,
        };
        let steps = whole_plan(
            &desired,
            &BTreeMap::new(),
            std::slice::from_ref(&actual),
            &settings,
        )
        .unwrap();
        steps.iter().map(|s| s.call.operation()).collect::<Vec<_>>()
    };
    assert_eq!(
        run(&|_| Some(spec(60))),
        ["CreateAuthorizer", "UpdateMethod", "CreateDeployment"]
    );
    assert_eq!(run(&|_| None), ["UpdateMethod", "CreateDeployment"]);
}

#[test]
fn an_http_api_gets_a_request_authorizer_and_its_routes_are_updated() {
    let desired = state(&[grant("GET", "/orders", "prod")]);
    let mut http = api(
        vec![MethodActual {
            resource_id: "rt1".into(),
            path: "/orders".into(),
            http_method: "GET".into(),
            authorization_type: "NONE".into(),
            authorizer_id: None,
        }],
        Vec::new(),
    );
    http.kind = ApiKind::Http;
    let mut stages = BTreeSet::new();
    let steps = plan(&desired, &http, &spec(60), &mut stages).unwrap();
    assert_eq!(
        summaries(&steps),
        [
            "create authorizer gatehouse on HTTP API a1b2c3d4e5: REQUEST (payload 2.0, simple responses) from the Authorization header, function arn:aws:lambda:eu-west-1:123456789012:function:gatehouse-authorizer, answers cached 60 s",
            "set route GET /orders of HTTP API a1b2c3d4e5 to CUSTOM with authorizer gatehouse (was NONE)",
        ]
    );
    assert!(
        matches!(&steps[0].call, Call::CreateAuthorizer { identity_source, .. } if identity_source == HTTP_IDENTITY_SOURCE)
    );
    assert!(matches!(&steps[1].call, Call::UpdateRoute { route_id, .. } if route_id == "rt1"));
    assert_eq!(stages, BTreeSet::from(["prod".to_string()]));
}
