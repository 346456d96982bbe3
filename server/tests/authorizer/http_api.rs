//! HTTP APIs (API Gateway v2) on moto_server, end to end: the catalog syncs one beside the REST
//! API (routes as methods, `$default` included), grants name its routes, a push sets granted
//! routes to `AWS_IAM` (no resource policy: HTTP APIs have none; auto-deployed stages get no
//! deployment) or, in token mode, creates Gatehouse's `REQUEST` authorizer and attaches it by
//! `UpdateRoute`; a second push writes nothing; a route set back by hand is drift; and the Lambda
//! answers an HTTP API's payload 2.0 event from the bundle the push published.

use std::time::Duration;

use app::domain::{
    desired::ChangeItem,
    grant::{Grant, GrantInput},
    route_key::ApiKind,
};
use authorizer::{
    handler::now,
    source::{BundleSource, S3Source},
};
use gatehouse::{
    audit::Actor,
    aws::AwsClients,
    catalog::{queries, Catalog, Syncer},
    push::Pusher,
};
use serde_json::json;

use super::{access_token, authorizer, bind, push, s3, API, BUCKET, KEY, ORDERS_TEAM};
use crate::common::{
    approved, person,
    pushing::{push_settings, role_arn, setup, through, ACCOUNT},
};

/// An HTTP API with `GET` and `DELETE /payments/{id}` and `$default`, stage `prod` deployed by
/// hand and stage `dev` deploying itself. Answers its id and the route ids by route key.
async fn payments_http_api(
    aws: &AwsClients,
) -> (String, std::collections::HashMap<String, String>) {
    let gw = &aws.apigatewayv2;
    let api = gw
        .create_api()
        .name("payments-http")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .send()
        .await
        .unwrap();
    let api_id = api.api_id().unwrap().to_string();
    let mut routes = std::collections::HashMap::new();
    for key in ["GET /payments/{id}", "DELETE /payments/{id}", "$default"] {
        let route = gw
            .create_route()
            .api_id(&api_id)
            .route_key(key)
            .send()
            .await
            .unwrap();
        routes.insert(key.to_string(), route.route_id().unwrap().to_string());
    }
    gw.create_stage()
        .api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    gw.create_stage()
        .api_id(&api_id)
        .stage_name("dev")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    gw.create_deployment()
        .api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    (api_id, routes)
}

fn route_grant(role: &str, api_id: &str, stage: &str, method: &str, path: &str) -> ChangeItem {
    ChangeItem::AddGrant(
        Grant::parse(&GrantInput {
            role_arn: role_arn(role),
            account: ACCOUNT.into(),
            region: "us-east-1".into(),
            api_id: api_id.into(),
            stage: stage.into(),
            method: method.into(),
            path: path.into(),
        })
        .unwrap(),
    )
}

/// (authorization type, authorizer id) of a route.
async fn route_of(
    gw: &aws_sdk_apigatewayv2::Client,
    api_id: &str,
    route_id: &str,
) -> (String, String) {
    let r = gw
        .get_route()
        .api_id(api_id)
        .route_id(route_id)
        .send()
        .await
        .unwrap();
    (
        r.authorization_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        r.authorizer_id().unwrap_or_default().to_string(),
    )
}

async fn prod_deployment(gw: &aws_sdk_apigatewayv2::Client, api_id: &str) -> Option<String> {
    let stages = gw.get_stages().api_id(api_id).send().await.unwrap();
    stages
        .items()
        .iter()
        .find(|s| s.stage_name() == Some("prod"))
        .and_then(|s| s.deployment_id().map(String::from))
}

#[tokio::test]
async fn an_http_api_is_synced_granted_and_its_routes_set_to_aws_iam_once() {
    let (pool, moto, proxy, direct, _rest_api) = setup().await;
    let (api_id, routes) = payments_http_api(&direct).await;
    let syncer = Syncer::new(pool.clone(), &moto.settings(), None).await;
    syncer
        .sync(&Actor::system("test"), Catalog::Apis)
        .await
        .unwrap();

    // Synced beside the REST API, its routes as methods.
    let listed = queries::list_apis(&pool, "", Default::default())
        .await
        .unwrap();
    let kinds: Vec<(&str, ApiKind)> = listed.iter().map(|a| (a.name.as_str(), a.kind)).collect();
    assert_eq!(
        kinds,
        [("orders", ApiKind::Rest), ("payments-http", ApiKind::Http)]
    );
    let detail = queries::api_detail(&pool, &api_id).await.unwrap().unwrap();
    let shape: Vec<(String, Vec<String>)> = detail
        .resources
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.methods.iter().map(|m| m.http_method.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("$default".to_string(), vec!["ANY".to_string()]),
            (
                "/payments/{id}".to_string(),
                vec!["DELETE".to_string(), "GET".to_string()]
            ),
        ]
    );
    let stages: Vec<&str> = detail.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(stages, ["dev", "prod"]);

    let mut settings = push_settings();
    settings.enforce_iam = true; // and resource_policy stays on: never planned for HTTP APIs
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), settings).await;
    let id = approved(
        &pool,
        vec![
            route_grant("payments-readers", &api_id, "*", "GET", "/payments/{id}"),
            route_grant("payments-readers", &api_id, "prod", "*", "$default"),
        ],
    )
    .await;
    let before = prod_deployment(&direct.apigatewayv2, &api_id).await;
    let steps = push(&pusher, id).await;
    let api_steps: Vec<&String> = steps.iter().filter(|s| s.contains(&api_id)).collect();
    assert_eq!(
        api_steps,
        [
            &format!("set route $default of HTTP API {api_id} to AWS_IAM (was NONE)"),
            &format!("set route GET /payments/{{id}} of HTTP API {api_id} to AWS_IAM (was NONE)"),
            // `dev` deploys itself; no resource policy.
            &format!("deploy HTTP API {api_id} to stage prod"),
        ],
        "{steps:#?}"
    );
    let gw = &direct.apigatewayv2;
    for key in ["GET /payments/{id}", "$default"] {
        assert_eq!(
            route_of(gw, &api_id, &routes[key]).await.0,
            "AWS_IAM",
            "{key}"
        );
    }
    assert_eq!(
        route_of(gw, &api_id, &routes["DELETE /payments/{id}"])
            .await
            .0,
        "NONE"
    );
    assert_ne!(
        prod_deployment(gw, &api_id).await,
        before,
        "prod was redeployed"
    );
    // The role may invoke exactly the granted routes; `$default` by its own ARN.
    let policy = direct
        .iam
        .get_role_policy()
        .role_name("payments-readers")
        .policy_name("gatehouse-invoke")
        .send()
        .await
        .unwrap();
    let document: String =
        url::form_urlencoded::parse(format!("x={}", policy.policy_document()).as_bytes())
            .map(|(_, v)| v.into_owned())
            .collect();
    assert!(
        document.contains(&format!("{api_id}/prod/$default")),
        "{document}"
    );
    assert!(
        document.contains(&format!("{api_id}/*/GET/payments/*")),
        "{document}"
    );

    // A second push writes nothing.
    let writes = proxy.writes().len();
    assert_eq!(pusher.plan(id).await.unwrap(), vec![]);
    assert_eq!(proxy.writes().len(), writes);
}

#[tokio::test]
async fn token_mode_attaches_a_request_authorizer_to_granted_routes_and_the_lambda_answers_v2_events(
) {
    let (pool, moto, proxy, direct, _rest_api) = setup().await;
    let (api_id, routes) = payments_http_api(&direct).await;
    let syncer = Syncer::new(pool.clone(), &moto.settings(), None).await;
    syncer
        .sync(&Actor::system("test"), Catalog::Apis)
        .await
        .unwrap();
    let s3 = s3(&moto).await;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let mut settings = push_settings();
    settings.resource_policy = false;
    settings.access_bundle = Some((BUCKET.into(), KEY.into()));
    settings.attach_authorizer = app::domain::attach::AttachScope::parse("payments-http").unwrap();
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), settings).await;
    let id = approved(
        &pool,
        vec![
            bind(ORDERS_TEAM, "payments-readers"),
            route_grant("payments-readers", &api_id, "prod", "GET", "/payments/{id}"),
        ],
    )
    .await;
    let steps = push(&pusher, id).await;
    let function = "arn:aws:lambda:us-east-1:123456789012:function:gatehouse-authorizer";
    let api_steps: Vec<&String> = steps.iter().filter(|s| s.contains(&api_id)).collect();
    assert_eq!(
        api_steps,
        [
            &format!("create authorizer gatehouse on HTTP API {api_id}: REQUEST (payload 2.0, simple responses) from the Authorization header, function {function}, answers cached 60 s"),
            &format!("set route GET /payments/{{id}} of HTTP API {api_id} to CUSTOM with authorizer gatehouse (was NONE)"),
            &format!("deploy HTTP API {api_id} to stage prod"),
        ],
        "{steps:#?}"
    );
    let gw = &direct.apigatewayv2;
    let authorizers = gw.get_authorizers().api_id(&api_id).send().await.unwrap();
    let [made] = authorizers.items() else {
        panic!("{authorizers:?}")
    };
    assert_eq!(made.authorizer_type().map(|t| t.as_str()), Some("REQUEST"));
    assert_eq!(made.authorizer_payload_format_version(), Some("2.0"));
    assert_eq!(made.enable_simple_responses(), Some(true));
    assert_eq!(made.identity_source(), ["$request.header.Authorization"]);
    let authorizer_id = made.authorizer_id().unwrap().to_string();
    assert_eq!(
        route_of(gw, &api_id, &routes["GET /payments/{id}"]).await,
        ("CUSTOM".into(), authorizer_id.clone())
    );
    assert_eq!(
        route_of(gw, &api_id, &routes["DELETE /payments/{id}"])
            .await
            .0,
        "NONE"
    );
    let writes = proxy.writes().len();
    assert_eq!(pusher.plan(id).await.unwrap(), vec![]);
    assert_eq!(proxy.writes().len(), writes);

    // The Lambda, on the bundle just published, answers HTTP API events with simple responses.
    let source = BundleSource::S3(S3Source::new(
        s3.clone(),
        BUCKET.into(),
        KEY.into(),
        Duration::ZERO,
        Duration::from_secs(300),
    ));
    let authz = authorizer(source).await;
    let event = |token: &str, verb: &str| {
        json!({"version": "2.0", "type": "REQUEST", "routeKey": format!("{verb} /payments/{{id}}"),
            "rawPath": "/payments/7", "headers": {"authorization": format!("Bearer {token}")},
            "routeArn": format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/{verb}/payments/7"),
            "requestContext": {"apiId": api_id, "stage": "prod", "http": {"method": verb}}})
    };
    let member = access_token("norole", API).await;
    let outsider = access_token("auditor", API).await;
    for (token, verb, allowed) in [
        (&member, "GET", true),
        (&member, "DELETE", false),
        (&outsider, "GET", false),
    ] {
        let outcome = authz.handle(&event(token, verb), now()).await.unwrap();
        let response = outcome.response.as_ref().unwrap();
        assert_eq!(
            response["isAuthorized"],
            json!(allowed),
            "{verb}: {}",
            outcome.log.line()
        );
        assert_eq!(
            outcome.log.decision == "allow",
            allowed,
            "{}",
            outcome.log.line()
        );
    }

    // Someone opens the route to everyone by hand: one drift item, reverted by a re-push.
    gw.update_route()
        .api_id(&api_id)
        .route_id(&routes["GET /payments/{id}"])
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::None)
        .send()
        .await
        .unwrap();
    let (_, drift) = pusher.check_drift(&person(1, "Ada Admin")).await.unwrap();
    let items: Vec<(&str, &str, &str)> = drift
        .iter()
        .map(|d| (d.kind.as_str(), d.desired.as_str(), d.actual.as_str()))
        .collect();
    assert!(
        items.contains(&(
            "authorization of route GET /payments/{id} changed",
            "CUSTOM with authorizer gatehouse",
            "NONE"
        )),
        "{items:#?}"
    );
}
