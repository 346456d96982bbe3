//! Benchmark: one approved change set that grants 200 existing, managed roles a route on one of
//! 5 APIs, pushed to moto_server through the counting proxy. Prints the AWS calls by operation
//! (writes first) and the time of the plan, the push and a second push (which must write
//! nothing). `cargo bench -p server --bench push_many` (needs PostgreSQL and moto_server as the
//! tests do). Quotas are off here (moto has none); with API Gateway's, the 5 deployments alone
//! take 20 s (1 per 5 s per account).

#[path = "../tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::{collections::BTreeMap, time::Instant};

use app::domain::{
    desired::ChangeItem,
    grant::{Binding, Grant, GrantInput, GroupRef},
    names::RoleArn,
};
use common::{aws_proxy::AwsProxy, migrated_database, start_moto};
use gatehouse::{
    audit::Actor,
    config::PushSettings,
    mappings::workflow::{self, Details},
    push::Pusher,
};
use uuid::Uuid;

const ROLES: usize = 200;
const APIS: usize = 5;
const ACCOUNT: &str = "123456789012";

fn by_operation(calls: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for c in calls {
        *counts.entry(c.clone()).or_default() += 1;
    }
    counts
}

fn print_counts(title: &str, calls: &[String], writes: &[String]) {
    let total = calls.len();
    println!(
        "{title}: {total} AWS calls, {} of them writes",
        writes.len()
    );
    for (op, n) in by_operation(writes) {
        println!("    write {op:<22} {n:>5}");
    }
    let reads: Vec<String> = calls
        .iter()
        .filter(|c| !writes.contains(c))
        .cloned()
        .collect();
    for (op, n) in by_operation(&reads) {
        println!("    read  {op:<22} {n:>5}");
    }
}

#[tokio::main]
async fn main() {
    let pool = migrated_database().await;
    let moto = start_moto().await;
    let direct = moto.clients().await;
    let mut apis = Vec::new();
    for i in 0..APIS {
        let gw = &direct.apigateway;
        let api = gw
            .create_rest_api()
            .name(format!("bench-{i}"))
            .send()
            .await
            .unwrap();
        let id = api.id().unwrap().to_string();
        let root = gw.get_resources().rest_api_id(&id).send().await.unwrap();
        let items = gw
            .create_resource()
            .rest_api_id(&id)
            .parent_id(root.items()[0].id().unwrap())
            .path_part("items")
            .send()
            .await
            .unwrap();
        gw.put_method()
            .rest_api_id(&id)
            .resource_id(items.id().unwrap())
            .http_method("GET")
            .authorization_type("AWS_IAM")
            .send()
            .await
            .unwrap();
        gw.put_integration()
            .rest_api_id(&id)
            .resource_id(items.id().unwrap())
            .http_method("GET")
            .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
            .send()
            .await
            .unwrap();
        gw.create_deployment()
            .rest_api_id(&id)
            .stage_name("prod")
            .send()
            .await
            .unwrap();
        apis.push(id);
    }
    let tag = aws_sdk_iam::types::Tag::builder()
        .key("gatehouse:managed")
        .value("true")
        .build()
        .unwrap();
    for r in 0..ROLES {
        direct
            .iam
            .create_role()
            .role_name(format!("bench-role-{r:03}"))
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[]}"#)
            .tags(tag.clone())
            .send()
            .await
            .unwrap();
    }

    let ada = Actor::person(
        Uuid::from_u128(1),
        Uuid::from_u128(1),
        "Ada",
        "ada@contoso.test",
    );
    let rita = Actor::person(
        Uuid::from_u128(1),
        Uuid::from_u128(2),
        "Rita",
        "rita@contoso.test",
    );
    let mut id = 0;
    let start = Instant::now();
    for r in 0..ROLES {
        let role = format!("arn:aws:iam::{ACCOUNT}:role/bench-role-{r:03}");
        id = workflow::edit(
            &pool,
            &ada,
            ChangeItem::AddBinding(Binding {
                group: GroupRef::group("file", &format!("group-{r}")),
                role: RoleArn::parse(&role).unwrap(),
            }),
        )
        .await
        .unwrap();
        let grant = Grant::parse(&GrantInput {
            role_arn: role,
            account: ACCOUNT.into(),
            region: "us-east-1".into(),
            api_id: apis[r % APIS].clone(),
            stage: "prod".into(),
            method: "GET".into(),
            path: "/items".into(),
        })
        .unwrap();
        workflow::edit(&pool, &ada, ChangeItem::AddGrant(grant))
            .await
            .unwrap();
    }
    let details = Details {
        title: "Bench".into(),
        justification: "Two hundred roles for the push benchmark.".into(),
        ticket: String::new(),
        ..Details::default()
    };
    workflow::save_details(&pool, &ada, id, details, true)
        .await
        .unwrap();
    workflow::review(&pool, &rita, id, true, "ok", 1)
        .await
        .unwrap();
    println!(
        "change set {id}: {ROLES} roles bound and granted across {APIS} APIs, approved ({:.2} s to write)",
        start.elapsed().as_secs_f64()
    );

    let proxy = AwsProxy::start(&moto.1).await;
    let mut settings = moto.settings();
    settings.endpoint_url = Some(proxy.url.parse().unwrap());
    let push = PushSettings {
        resource_policy: true,
        calls_per_second: 10_000.0,
        deploy_interval: std::time::Duration::ZERO,
        ..PushSettings::default()
    };
    let pusher = Pusher::new(pool.clone(), &settings, push).await;

    let start = Instant::now();
    let plan = pusher.plan(id).await.unwrap();
    let plan_secs = start.elapsed().as_secs_f64();
    println!("plan: {} calls planned in {plan_secs:.2} s", plan.len());
    let after_plan = proxy.calls().len();

    let start = Instant::now();
    let run = pusher.begin(&ada, id).await.unwrap().unwrap();
    let outcome = pusher.execute(run).await.unwrap();
    let push_secs = start.elapsed().as_secs_f64();
    assert!(outcome.succeeded, "{outcome:?}");
    let calls = proxy.calls()[after_plan..].to_vec();
    let writes = proxy.writes();
    println!(
        "push: {} calls made in {push_secs:.2} s ({:.1} writes/s; planning, writing and reading back)",
        outcome.calls_made,
        writes.len() as f64 / push_secs
    );
    print_counts("push (plan again, write, read back)", &calls, &writes);

    let before = proxy.calls().len();
    let start = Instant::now();
    assert_eq!(pusher.begin(&ada, id).await.unwrap(), None);
    let again = proxy.calls()[before..].to_vec();
    let again_writes: Vec<String> = proxy.writes()[writes.len()..].to_vec();
    println!("second push: {:.2} s", start.elapsed().as_secs_f64());
    print_counts("second push", &again, &again_writes);
    assert!(again_writes.is_empty());
}
