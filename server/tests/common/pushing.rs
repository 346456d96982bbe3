//! What the push tests share: moto behind a counting, fault-injecting proxy, a fresh database,
//! and the change items and settings they push.

use std::time::Duration;

use app::domain::plan::Step;
use app::domain::{
    change_set::State,
    desired::ChangeItem,
    grant::{Binding, Grant, GrantInput, GroupRef},
    names::RoleArn,
};
use gatehouse::{
    aws::AwsClients,
    config::{AwsSettings, PushSettings},
    mappings::store,
    push::Pusher,
};
use sqlx::PgPool;

use super::{aws_proxy::AwsProxy, migrated_database, orders_api, start_moto, Moto};

pub const ACCOUNT: &str = "123456789012";

pub fn role_arn(role: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{role}")
}

pub fn grant(role: &str, api_id: &str, method: &str) -> ChangeItem {
    ChangeItem::AddGrant(
        Grant::parse(&GrantInput {
            role_arn: role_arn(role),
            account: ACCOUNT.into(),
            region: "us-east-1".into(),
            api_id: api_id.into(),
            stage: "prod".into(),
            method: method.into(),
            path: "/orders".into(),
        })
        .unwrap(),
    )
}

pub fn binding(role: &str) -> ChangeItem {
    ChangeItem::AddBinding(Binding {
        group: GroupRef::group("file", "orders-team"),
        role: RoleArn::parse(&role_arn(role)).unwrap(),
    })
}

pub fn push_settings() -> PushSettings {
    // The tests push through the resource policy; the planner's unit tests cover AWS_IAM
    // enforcement, and the authorizer tests attaching Gatehouse's authorizer.
    PushSettings {
        enforce_iam: false,
        resource_policy: true,
        trust_policy: None,
        calls_per_second: 1000.0,
        deploy_interval: Duration::ZERO,
        push_on_approval: false,
        lease: Duration::from_secs(2),
        drift_interval: None,
        ..Default::default()
    }
}

pub fn through(moto: &Moto, proxy: &AwsProxy) -> AwsSettings {
    let mut settings = moto.settings();
    settings.endpoint_url = Some(proxy.url.parse().unwrap());
    settings
}

pub async fn state_of(pool: &PgPool, id: i64) -> State {
    let mut conn = pool.acquire().await.unwrap();
    store::change_set(&mut conn, id, false)
        .await
        .unwrap()
        .unwrap()
        .state
}

/// Pushes change set `id` as Ada Admin, to the end; answers the plan it made. Fails unless the
/// push succeeded and the change set is pushed.
pub async fn push_planned(pusher: &Pusher, id: i64) -> Vec<Step> {
    let plan = pusher.plan(id).await.unwrap();
    let run = pusher
        .begin(&super::person(1, "Ada Admin"), id)
        .await
        .unwrap()
        .unwrap();
    let outcome = pusher.execute(run).await.unwrap();
    assert!(outcome.succeeded, "{outcome:?}");
    assert_eq!(state_of(&pusher.pool, id).await, State::Pushed);
    plan
}

pub async fn setup() -> (PgPool, Moto, AwsProxy, AwsClients, String) {
    let pool = migrated_database().await;
    let moto = start_moto().await;
    let proxy = AwsProxy::start(&moto.1).await;
    let direct = moto.clients().await;
    let api_id = orders_api(&direct).await;
    (pool, moto, proxy, direct, api_id)
}

/// The change set most push tests push: orders-readers bound, and granted GET /orders.
pub async fn orders_readers_get(pool: &PgPool, api_id: &str) -> i64 {
    super::approved(
        pool,
        vec![
            binding("orders-readers"),
            grant("orders-readers", api_id, "GET"),
        ],
    )
    .await
}

/// The environment a `gatehouse` command needs to reach the test's database and, through the
/// proxy, moto (pushing through the resource policy, without pauses between deployments).
pub fn cli_env(pool: &PgPool, proxy: &AwsProxy) -> Vec<(&'static str, String)> {
    let database_url = sqlx::ConnectOptions::to_url_lossy(&*pool.connect_options()).to_string();
    vec![
        ("DATABASE_URL", database_url),
        ("AWS_ENDPOINT_URL", proxy.url.clone()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("GATEHOUSE_AWS_ACCOUNT_ID", ACCOUNT.into()),
        ("GATEHOUSE_RESOURCE_POLICY", "true".into()),
        ("GATEHOUSE_PUSH_DEPLOY_INTERVAL_MS", "0".into()),
    ]
}

/// `gatehouse push ID` in a process of its own (to be killed mid-push), with a 2 s lease.
pub fn push_process(pool: &PgPool, proxy: &AwsProxy, id: i64) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["push", &id.to_string()])
        .envs(cli_env(pool, proxy))
        .env("GATEHOUSE_PUSH_LEASE_SECONDS", "2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}
