//! Pushing approved change sets to moto_server (through a proxy that counts calls and injects
//! faults), with real PostgreSQL: the plan, the calls, the read-back, a second push that writes
//! nothing, retries, a refused call, and a push taken over after its process is killed.

#[path = "push/as_of.rs"]
mod as_of;
#[path = "push/cli.rs"]
mod cli;
use crate::common;
#[path = "push/expiry.rs"]
mod expiry;
#[path = "push/explain.rs"]
mod explain;
#[path = "push/pending.rs"]
mod pending;
#[path = "push/plan_cache.rs"]
mod plan_cache;

use std::{sync::Arc, time::Duration};

use app::domain::change_set::State;
use common::{
    approved,
    aws_proxy::Fault,
    count, person,
    pushing::{
        binding, grant, orders_readers_get, push_process, push_settings, role_arn, setup, state_of,
        through, ACCOUNT,
    },
};
use gatehouse::{
    audit::Actor,
    push::{self, Pusher},
};
use sqlx::PgPool;

#[tokio::test]
async fn a_push_creates_the_role_policy_and_the_deployment_and_a_second_push_writes_nothing() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;

    let plan = pusher.plan(id).await.unwrap();
    let ops: Vec<&str> = plan.iter().map(|s| s.call.operation()).collect();
    assert_eq!(
        ops,
        [
            "CreateRole",
            "PutRolePolicy",
            "UpdateRestApi",
            "CreateDeployment"
        ]
    );
    assert!(
        proxy.writes().is_empty(),
        "planning writes nothing: {:?}",
        proxy.writes()
    );

    let run = pusher
        .begin(&person(1, "Ada Admin"), id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state_of(&pool, id).await, State::Pushing);
    let outcome = pusher.execute(run).await.unwrap();
    assert!(outcome.succeeded, "{outcome:?}");
    assert_eq!(state_of(&pool, id).await, State::Pushed);
    assert_eq!(
        proxy.writes(),
        [
            "CreateRole",
            "PutRolePolicy",
            "UpdateRestApi",
            "CreateDeployment"
        ]
    );

    // Read back straight from moto.
    let policy = direct
        .iam
        .get_role_policy()
        .role_name("orders-readers")
        .policy_name("gatehouse-invoke")
        .send()
        .await
        .unwrap();
    let doc = gatehouse::catalog::iam::decode_policy(policy.policy_document()).unwrap();
    assert_eq!(
        doc["Statement"][0]["Resource"][0],
        format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/GET/orders")
    );
    let tags = direct
        .iam
        .list_role_tags()
        .role_name("orders-readers")
        .send()
        .await
        .unwrap();
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == "gatehouse:managed" && t.value() == "true"));
    let api = direct
        .apigateway
        .get_rest_api()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(&api.policy().unwrap().replace("\\\"", "\"")).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Principal"]["AWS"], role_arn("orders-readers"));
    assert_eq!(
        statement["Resource"][0],
        format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/GET/orders")
    );
    let deployments = direct
        .apigateway
        .get_deployments()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    assert_eq!(deployments.items().len(), 2);
    // Each call is on record with its outcome.
    assert_eq!(
        count(
            &pool,
            &format!("SELECT count(*) FROM push_steps WHERE run_id = {run} AND state = 'done'")
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM audit_events WHERE action = 'push.call'"
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM audit_events WHERE action = 'push.succeeded'"
        )
        .await,
        1
    );

    // Pushing it again: AWS matches, so not one write call.
    let writes_before = proxy.writes().len();
    assert_eq!(
        pusher.begin(&person(1, "Ada Admin"), id).await.unwrap(),
        None
    );
    assert!(pusher.plan(id).await.unwrap().is_empty());
    assert_eq!(proxy.writes().len(), writes_before, "{:?}", proxy.calls());
}

#[tokio::test]
async fn throttling_500s_and_dropped_connections_are_retried_and_a_refused_call_is_not() {
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;
    let ada = person(1, "Ada Admin");

    // A refused call ends the push at that step; nothing after it runs.
    proxy.fault("PutRolePolicy", Fault::Refuse);
    let run = pusher.begin(&ada, id).await.unwrap().unwrap();
    let outcome = pusher.execute(run).await.unwrap();
    assert!(!outcome.succeeded);
    let error = outcome.error.unwrap();
    assert!(error.contains("MalformedPolicyDocument"), "{error}");
    assert_eq!(
        proxy.count("PutRolePolicy"),
        1,
        "a refused call is not retried"
    );
    assert_eq!(state_of(&pool, id).await, State::PushFailed);
    let states: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT state FROM push_steps WHERE run_id = {run} ORDER BY seq"
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(states, ["done", "failed", "pending", "pending"]);

    // Pushed again, through throttling, a 500 and a dropped connection: it completes.
    proxy.fault("PutRolePolicy", Fault::Throttle);
    proxy.fault("PutRolePolicy", Fault::Throttle);
    proxy.fault("UpdateRestApi", Fault::ServerError);
    proxy.fault("CreateDeployment", Fault::Drop);
    let run = pusher.begin(&ada, id).await.unwrap().unwrap();
    let outcome = pusher.execute(run).await.unwrap();
    assert!(outcome.succeeded, "{outcome:?}");
    assert_eq!(state_of(&pool, id).await, State::Pushed);
    // The role exists now, so the new plan starts at the policy.
    assert_eq!(outcome.calls_made, 3);
    assert_eq!(proxy.count("PutRolePolicy"), 1 + 3);
    assert_eq!(proxy.count("UpdateRestApi"), 2);
    assert_eq!(proxy.count("CreateDeployment"), 2);
    assert!(pusher.plan(id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_push_whose_process_is_killed_is_taken_over_and_finished() {
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    // The deployment hangs, so the process is mid-push when it is killed.
    proxy.fault("CreateDeployment", Fault::Hang(Duration::from_secs(20)));
    let mut child = push_process(&pool, &proxy, id);
    let sql = "SELECT count(*) FROM push_steps WHERE operation = 'CreateDeployment' AND state = 'running'";
    for _ in 0..300 {
        if count(&pool, sql).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&pool, sql).await,
        1,
        "the push did not reach its deployment"
    );
    let run: i64 = count(&pool, "SELECT id FROM push_runs").await;

    // While the process lives, nobody else may run its push.
    let other = Arc::new(Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await);
    assert!(other.execute(run).await.is_err());

    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    assert_eq!(state_of(&pool, id).await, State::Pushing);

    // Once the lease lapses, another process finds the push and finishes it from its steps.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(push::store::orphans(&pool).await.unwrap(), [run]);
    let outcome = other.execute(run).await.unwrap();
    assert!(outcome.succeeded, "{outcome:?}");
    assert_eq!(
        outcome.calls_made, 1,
        "only the interrupted deployment is made again"
    );
    assert_eq!(state_of(&pool, id).await, State::Pushed);
    assert_eq!(proxy.count("PutRolePolicy"), 1);
    assert!(other.plan(id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_hand_edit_is_reported_as_drift_and_a_reviewed_revert_fixes_it() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    // API Gateway keeps deployment times in seconds: the push's policy change must come in a
    // later second than the deployment the API was made with (rolled back to below).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let id = orders_readers_get(&pool, &api_id).await;
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;
    let ada = person(1, "Ada Admin");
    let run = pusher.begin(&ada, id).await.unwrap().unwrap();
    assert!(pusher.execute(run).await.unwrap().succeeded);
    let checker = Actor::system("test");
    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    assert_eq!(items, vec![], "nothing has drifted yet");

    // Someone widens the policy by hand in AWS.
    let get = format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/GET/orders");
    let post = format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/POST/orders");
    let edited = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "GatehouseInvoke",
        "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": [get, post]}]});
    direct
        .iam
        .put_role_policy()
        .role_name("orders-readers")
        .policy_name("gatehouse-invoke")
        .policy_document(edited.to_string())
        .send()
        .await
        .unwrap();
    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item.subject, role_arn("orders-readers"));
    assert_eq!(item.kind, "policy edited outside Gatehouse");
    assert!(item.actual.contains("/POST/orders") && !item.desired.contains("/POST/orders"));
    // Adopting it would grant POST /orders through a change set.
    assert_eq!(item.adopt, vec![grant("orders-readers", &api_id, "POST")]);
    // The role's page says what Gatehouse generates for it and what drifted.
    let role = gatehouse::mappings::queries::role_mappings(
        &pool,
        &Default::default(),
        &moto.settings(),
        &role_arn("orders-readers"),
    )
    .await
    .unwrap();
    assert_eq!(role.routes.len(), 1, "{role:?}");
    assert_eq!(
        role.groups,
        [(
            "file group orders-team".to_string(),
            "/groups/file/orders-team".to_string()
        )]
    );
    assert!(role.policy.contains("/prod/GET/orders") && !role.policy.contains("POST"));
    assert_eq!(role.drift.len(), 1);
    assert_eq!(role.drift[0].kind, "policy edited outside Gatehouse");
    assert!(role.drift[0].actual.contains("/POST/orders"));
    let other = gatehouse::mappings::queries::role_mappings(
        &pool,
        &Default::default(),
        &moto.settings(),
        &role_arn("someone-else"),
    )
    .await
    .unwrap();
    assert!(other.drift.is_empty() && other.policy.is_empty() && other.groups.is_empty());
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM audit_events WHERE action = 'drift.found'"
        )
        .await,
        1
    );

    // The revert is a change set of its own, reviewed, then pushed: only the role is written.
    assert_eq!(revert(&pool, &pusher, item).await, ["PutRolePolicy"]);

    // Someone points the stage back at the deployment made before Gatehouse's resource policy:
    // the stage serves the old policy again. Reverting that deploys the stage, nothing else.
    let deployments = direct
        .apigateway
        .get_deployments()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let oldest = deployments
        .items()
        .iter()
        .min_by_key(|d| d.created_date().map(|t| t.secs()))
        .unwrap();
    direct
        .apigateway
        .update_stage()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .patch_operations(
            aws_sdk_apigateway::types::PatchOperation::builder()
                .op(aws_sdk_apigateway::types::Op::Replace)
                .path("/deploymentId")
                .value(oldest.id().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        items[0].kind,
        "stage prod serves a deployment older than the last policy change"
    );
    assert_eq!(
        revert(&pool, &pusher, &items[0]).await,
        ["CreateDeployment"]
    );
}

/// Reverts a drift item through an approved change set of its own and pushes it; the calls
/// planned, after which nothing has drifted.
async fn revert(
    pool: &PgPool,
    pusher: &Pusher,
    item: &push::drift::DriftItem,
) -> Vec<&'static str> {
    let id = approved(pool, vec![item.revert.clone().expect("a push mends it")]).await;
    let plan = pusher.plan(id).await.unwrap();
    let run = pusher
        .begin(&person(1, "Ada Admin"), id)
        .await
        .unwrap()
        .unwrap();
    assert!(pusher.execute(run).await.unwrap().succeeded);
    let (_, items) = pusher.check_drift(&Actor::system("test")).await.unwrap();
    assert_eq!(items, vec![]);
    plan.iter().map(|s| s.call.operation()).collect()
}

#[tokio::test]
async fn a_role_made_outside_gatehouse_is_never_written() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    direct
        .iam
        .create_role()
        .role_name("hand-made")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        )
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("orders")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let id = approved(
        &pool,
        vec![binding("hand-made"), grant("hand-made", &api_id, "GET")],
    )
    .await;
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;
    let err = pusher.plan(id).await.unwrap_err().to_string();
    assert!(
        err.contains("hand-made") && err.contains("not managed by Gatehouse"),
        "{err}"
    );
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
}

#[tokio::test]
async fn a_role_made_by_someone_else_between_plan_and_push_is_left_untouched() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    let id = approved(
        &pool,
        vec![binding("late-comer"), grant("late-comer", &api_id, "GET")],
    )
    .await;
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;
    let run = pusher
        .begin(&person(1, "Ada Admin"), id)
        .await
        .unwrap()
        .unwrap();
    // Planned as "create role late-comer"; someone makes it first, untagged, trusting another
    // account.
    let foreign = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}"#;
    direct
        .iam
        .create_role()
        .role_name("late-comer")
        .assume_role_policy_document(foreign)
        .send()
        .await
        .unwrap();
    let outcome = pusher.execute(run).await.unwrap();
    assert!(!outcome.succeeded);
    let error = outcome.error.unwrap();
    assert!(
        error.contains("role late-comer was created by someone else")
            && error.contains("no gatehouse:managed=true tag"),
        "{error}"
    );
    assert_eq!(proxy.writes(), ["CreateRole"], "nothing after the refusal");
    let policies = direct
        .iam
        .list_role_policies()
        .role_name("late-comer")
        .send()
        .await
        .unwrap();
    assert!(policies.policy_names().is_empty());
    assert_eq!(state_of(&pool, id).await, State::PushFailed);
}
