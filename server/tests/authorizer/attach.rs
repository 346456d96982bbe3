//! Token mode's attachment on moto_server: a push creates Gatehouse's authorizer on the API,
//! sets each granted method to `CUSTOM` with it and redeploys; a second push writes nothing; a
//! later grant attaches only its method; changes made by hand are drift. Also checks the
//! harness's UpdateMethod (moto has none) keeps API Gateway's rules, and that IAM enforcement
//! (GATEHOUSE_ENFORCE_IAM_AUTH), until now planned only in unit tests, works through it.

use aws_sdk_apigateway::{
    error::ProvideErrorMetadata,
    types::{Op, PatchOperation},
};
use gatehouse::push::Pusher;

use super::{bind, push, s3, BUCKET, KEY, ORDERS_TEAM};
use crate::common::{
    approved, person,
    pushing::{grant, push_settings, setup, through},
};

fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

/// The id of the `/orders` resource.
async fn orders_resource(gw: &aws_sdk_apigateway::Client, api_id: &str) -> String {
    let resources = gw.get_resources().rest_api_id(api_id).send().await.unwrap();
    resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/orders"))
        .and_then(|r| r.id())
        .unwrap()
        .to_string()
}

/// (authorization type, authorizer id) of `verb /orders`.
async fn method_of(gw: &aws_sdk_apigateway::Client, api_id: &str, verb: &str) -> (String, String) {
    let m = gw
        .get_method()
        .rest_api_id(api_id)
        .resource_id(orders_resource(gw, api_id).await)
        .http_method(verb)
        .send()
        .await
        .unwrap();
    (
        m.authorization_type().unwrap_or_default().to_string(),
        m.authorizer_id().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn a_push_attaches_the_authorizer_to_granted_methods_once_and_hand_edits_are_drift() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    s3(&moto)
        .await
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let mut settings = push_settings();
    settings.resource_policy = false;
    settings.access_bundle = Some((BUCKET.into(), KEY.into()));
    // By the API's name, as an operator would write it.
    settings.attach_authorizer = app::domain::attach::AttachScope::parse("orders").unwrap();
    settings.authorizer_ttl_seconds = 30;
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), settings).await;
    let gw = &direct.apigateway;

    let first = approved(
        &pool,
        vec![
            bind(ORDERS_TEAM, "orders-readers"),
            grant("orders-readers", &api_id, "GET"),
        ],
    )
    .await;
    let steps = push(&pusher, first).await;
    let function = "arn:aws:lambda:us-east-1:123456789012:function:gatehouse-authorizer";
    for expected in [
        format!("create authorizer gatehouse on API {api_id}: TOKEN from the Authorization header, function {function}, answers cached 30 s"),
        format!("set GET /orders of API {api_id} to CUSTOM with authorizer gatehouse (was NONE)"),
        format!("deploy API {api_id} to stage prod"),
    ] {
        assert!(steps.contains(&expected), "{expected} not in {steps:#?}");
    }
    assert!(steps
        .last()
        .unwrap()
        .starts_with("publish access bundle version 1"));
    // The method's step uses the id CreateAuthorizer answered: no read of the API's authorizers
    // between the two writes (API Gateway's quota is 10 calls a second).
    let calls = proxy.calls();
    let created = calls.iter().rposition(|c| c == "CreateAuthorizer").unwrap();
    let attached = calls.iter().rposition(|c| c == "UpdateMethod").unwrap();
    assert!(
        created < attached
            && !calls[created..attached]
                .iter()
                .any(|c| c == "GetAuthorizers"),
        "{calls:?}"
    );
    let authorizers = gw
        .get_authorizers()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let [made] = authorizers.items() else {
        panic!("{authorizers:?}")
    };
    assert_eq!(made.name(), Some("gatehouse"));
    assert_eq!(made.authorizer_result_ttl_in_seconds(), Some(30));
    assert_eq!(
        made.identity_source(),
        Some("method.request.header.Authorization")
    );
    assert_eq!(
        made.authorizer_uri(),
        Some(format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function}/invocations").as_str())
    );
    let id = made.id().unwrap().to_string();
    assert_eq!(
        method_of(gw, &api_id, "GET").await,
        ("CUSTOM".into(), id.clone())
    );
    // Not granted: left as it was.
    assert_eq!(method_of(gw, &api_id, "POST").await.0, "NONE");

    // A second push writes nothing.
    let writes = proxy.writes().len();
    assert_eq!(pusher.plan(first).await.unwrap(), vec![]);
    assert_eq!(proxy.writes().len(), writes);

    // A later grant attaches its method only; the authorizer is reused.
    let second = approved(&pool, vec![grant("orders-readers", &api_id, "POST")]).await;
    let steps = push(&pusher, second).await;
    assert!(!steps.iter().any(|s| s.contains("authorizer gatehouse on")));
    assert!(steps.contains(&format!(
        "set POST /orders of API {api_id} to CUSTOM with authorizer gatehouse (was NONE)"
    )));
    assert_eq!(
        method_of(gw, &api_id, "POST").await,
        ("CUSTOM".into(), id.clone())
    );

    // Someone opens GET /orders to everyone and lengthens the cache by hand: two drift items.
    let orders_id = orders_resource(gw, &api_id).await;
    gw.update_method()
        .rest_api_id(&api_id)
        .resource_id(&orders_id)
        .http_method("GET")
        .patch_operations(replace("/authorizationType", "NONE"))
        .send()
        .await
        .unwrap();
    gw.update_authorizer()
        .rest_api_id(&api_id)
        .authorizer_id(&id)
        .patch_operations(replace("/authorizerResultTtlInSeconds", "3600"))
        .send()
        .await
        .unwrap();
    let (_, drift) = pusher.check_drift(&person(1, "Ada Admin")).await.unwrap();
    let kinds: Vec<(&str, &str, &str)> = drift
        .iter()
        .map(|d| (d.kind.as_str(), d.desired.as_str(), d.actual.as_str()))
        .collect();
    assert!(
        kinds.contains(&(
            "authorization of GET /orders changed",
            "CUSTOM with authorizer gatehouse",
            "NONE"
        )),
        "{kinds:#?}"
    );
    assert!(
        kinds.iter().any(|(kind, desired, actual)| *kind
            == "authorizer gatehouse changed outside Gatehouse"
            && desired.ends_with("answers cached 30 s")
            && actual.ends_with("answers cached 3600 s")),
        "{kinds:#?}"
    );
}

#[tokio::test]
async fn the_harness_update_method_keeps_api_gateways_rules() {
    let (_pool, _moto, _proxy, direct, api_id) = setup().await;
    let gw = &direct.apigateway;
    let orders_id = orders_resource(gw, &api_id).await;
    let update = |ops: Vec<PatchOperation>| {
        gw.update_method()
            .rest_api_id(&api_id)
            .resource_id(&orders_id)
            .http_method("GET")
            .set_patch_operations(Some(ops))
            .send()
    };
    // CUSTOM needs a valid authorizer; the whole request is refused, its other op included.
    let refused = update(vec![
        replace("/operationName", "listOrders"),
        replace("/authorizationType", "CUSTOM"),
    ])
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Some("BadRequestException"));
    assert!(refused
        .message()
        .unwrap()
        .contains("Invalid authorizer ID specified"));
    let unknown = update(vec![replace("/integration", "x")])
        .await
        .unwrap_err();
    assert!(unknown
        .message()
        .unwrap()
        .contains("Invalid patch path '/integration'"));
    let kept = gw
        .get_method()
        .rest_api_id(&api_id)
        .resource_id(&orders_id)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.authorization_type(), Some("NONE"));
    assert_eq!(kept.operation_name(), None);
    // AWS_IAM is a valid type on its own and drops any authorizer.
    let set = update(vec![replace("/authorizationType", "AWS_IAM")])
        .await
        .unwrap();
    assert_eq!(set.authorization_type(), Some("AWS_IAM"));
    assert_eq!(set.authorizer_id(), None);
}

#[tokio::test]
async fn iam_enforcement_sets_granted_methods_to_aws_iam_on_moto_once() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    let mut settings = push_settings();
    settings.resource_policy = false;
    settings.enforce_iam = true;
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), settings).await;
    let first = approved(&pool, vec![grant("orders-readers", &api_id, "GET")]).await;
    let steps = push(&pusher, first).await;
    assert!(
        steps.contains(&format!(
            "set GET /orders of API {api_id} to AWS_IAM (was NONE)"
        )),
        "{steps:#?}"
    );
    let gw = &direct.apigateway;
    assert_eq!(
        method_of(gw, &api_id, "GET").await,
        ("AWS_IAM".into(), String::new())
    );
    assert_eq!(method_of(gw, &api_id, "POST").await.0, "NONE");
    let writes = proxy.writes().len();
    assert_eq!(pusher.plan(first).await.unwrap(), vec![]);
    assert_eq!(proxy.writes().len(), writes);
}
