//! Test harness: a fresh database per test, the real OpenID Connect provider (started once per
//! test binary), and the real server on a free port.
#![allow(dead_code)]

pub mod aws_proxy;
pub mod graph_apps;
pub mod graph_fake;
mod moto;
mod people;
pub mod pushing;
pub mod receivers;
#[allow(unused_imports)]
pub use moto::*;
#[allow(unused_imports)]
pub use people::*;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Mutex, OnceLock},
    time::Duration,
};

use gatehouse::config::{ServeArgs, Settings};
use reqwest::{header, redirect::Policy, Client, Response, StatusCode};
use sqlx::PgPool;
use url::Url;

pub const TENANT: &str = "3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f";
pub const ADMIN_GROUP: &str = "a1d0c6e8-3f4b-4c2a-9e1d-7b8c9d0e1f20";
pub const AUDITOR_GROUP: &str = "b2e1d7f9-4a5c-4d3b-8f2e-8c9d0e1f2031";
pub const REVIEWER_APP_ROLE: &str = "Gatehouse.Reviewer";

pub struct Provider {
    pub issuer: String,
    _child: Mutex<Child>,
}

/// The demo provider of end2end/oidc, on a free port. It exits when this process does (its
/// standard input closes).
pub fn provider() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/oidc/provider.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .arg("--exit-with-stdin")
            .env("OIDC_PORT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node must be installed and end2end/node_modules present (npm ci in end2end/)");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let issuer = loop {
            let line = lines
                .next()
                .expect("the provider exited before it was ready")
                .unwrap();
            if let Some(issuer) = line.strip_prefix("OIDC_READY ") {
                break issuer.to_string();
            }
        };
        Provider {
            issuer,
            _child: Mutex::new(child),
        }
    })
}

pub fn admin_database_url() -> String {
    std::env::var("GATEHOUSE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty database for one test.
pub async fn fresh_database() -> String {
    let admin = admin_database_url();
    let name = format!("gatehouse_test_{}", uuid::Uuid::new_v4().simple());
    let pool = PgPool::connect(&admin)
        .await
        .expect("the test PostgreSQL server must be reachable");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&pool)
        .await
        .unwrap();
    ensure_runtime_login(&pool).await;
    pool.close().await;
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// The login role the servers under test run as (it holds `gatehouse_runtime`), created once
/// per server; several test binaries may race to create it.
pub const RUNTIME_LOGIN: &str = "gatehouse_test_app";

async fn ensure_runtime_login(admin: &PgPool) {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        for role in [
            "CREATE ROLE gatehouse_runtime NOLOGIN",
            "CREATE ROLE gatehouse_test_app LOGIN PASSWORD 'gatehouse_test_app' IN ROLE gatehouse_runtime",
        ] {
            let name = role.split_whitespace().nth(2).unwrap();
            for _ in 0..20 {
                let exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)",
                )
                .bind(name)
                .fetch_one(admin)
                .await
                .unwrap();
                if exists || sqlx::query(role).execute(admin).await.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    })
    .await;
}

/// `url` with the runtime login role as its user.
pub fn as_runtime(url: &str) -> String {
    let mut url = Url::parse(url).unwrap();
    url.set_username(RUNTIME_LOGIN).unwrap();
    url.set_password(Some(RUNTIME_LOGIN)).unwrap();
    url.to_string()
}

/// A fresh database with the migrations applied, for tests below the HTTP layer.
pub async fn migrated_database() -> PgPool {
    let pool = PgPool::connect(&fresh_database().await).await.unwrap();
    gatehouse::db::migrate(&pool).await.unwrap();
    pool
}

/// Waits until no sync run is unfinished (runs started from the UI go on in the background).
pub async fn wait_for_runs(pool: &PgPool) {
    for _ in 0..300 {
        if count(
            pool,
            "SELECT count(*) FROM sync_runs WHERE finished_at IS NULL",
        )
        .await
            == 0
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("a sync run did not finish in 30 s");
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

pub fn demo_args(database_url: &str, base_url: &str) -> ServeArgs {
    ServeArgs {
        database_url: Some(database_url.into()),
        base_url: Some(base_url.into()),
        listen: Some(base_url.trim_start_matches("http://").into()),
        oidc_issuer: Some(provider().issuer.clone()),
        oidc_client_id: Some("gatehouse".into()),
        oidc_client_secret: Some("gatehouse-demo-secret".into()),
        allowed_tenants: Some(TENANT.into()),
        admin_groups: Some(ADMIN_GROUP.into()),
        auditor_groups: Some(AUDITOR_GROUP.into()),
        reviewer_app_roles: Some(REVIEWER_APP_ROLE.into()),
        site_root: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site").into()),
        ..Default::default()
    }
}

pub struct TestApp {
    pub base_url: String,
    /// The server's own pool: the runtime role.
    pub pool: PgPool,
    /// The database owner's, for what only an owner (or an attacker holding it) can do.
    pub owner_url: String,
    pub client: Client,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the real server on a free port with the demo settings, changed by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_on(fresh_database().await, adjust).await
}

/// A second server process on the same database, as a replica behind a load balancer.
pub async fn spawn_beside(app: &TestApp) -> TestApp {
    spawn_on(app.owner_url.clone(), |_| {}).await
}

async fn spawn_on(database_url: String, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    // The server runs as the runtime role and migrates as the owner, as in production.
    let mut args = demo_args(&as_runtime(&database_url), &base_url);
    args.owner_database_url = Some(database_url.clone());
    let mut settings = args.settings().expect("demo settings are valid");
    // Tests start syncs themselves; the schedule stays off.
    settings.sync_interval = None;
    adjust(&mut settings);
    let state = gatehouse::build_state(settings)
        .await
        .expect("server state");
    let pool = state.pool.clone();
    tokio::spawn(async move { gatehouse::serve(listener, state).await.unwrap() });
    TestApp {
        base_url,
        pool,
        owner_url: database_url,
        client: browser(),
    }
}

/// A second browser on the same server (its own cookies).
pub fn spawn_client(app: &TestApp) -> TestApp {
    TestApp {
        base_url: app.base_url.clone(),
        pool: app.pool.clone(),
        owner_url: app.owner_url.clone(),
        client: browser(),
    }
}

/// A second browser on the same server, signed in as the demo user `hint`.
pub async fn signed_in(app: &TestApp, hint: &str) -> TestApp {
    let client = spawn_client(app);
    let _ = client.sign_in(hint, "/").await.response.text().await;
    client
}

/// Like a browser: keeps cookies, but lets the test see every redirect.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub struct Hop {
    pub url: Url,
    pub response: Response,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A same-origin form POST, as the browser sends it.
    pub async fn post_form(&self, path: &str) -> Response {
        self.client
            .post(self.url(path))
            .header(header::ORIGIN, &self.base_url)
            .send()
            .await
            .unwrap()
    }

    /// Follows redirects from `start` (any origin) to the first answer that is not a redirect.
    pub async fn follow(&self, start: &str) -> Hop {
        let mut url = Url::parse(start).unwrap();
        for _ in 0..20 {
            let response = self.client.get(url.clone()).send().await.unwrap();
            if !response.status().is_redirection() {
                return Hop { url, response };
            }
            url = next_hop(&url, &response);
        }
        panic!("too many redirects from {start}");
    }

    /// Follows redirects from `start` until the next one goes to a URL `stop` accepts, and
    /// returns that URL without requesting it.
    pub async fn follow_until(&self, start: &str, stop: impl Fn(&Url) -> bool) -> Url {
        let mut url = Url::parse(start).unwrap();
        for _ in 0..20 {
            if stop(&url) {
                return url;
            }
            let response = self.client.get(url.clone()).send().await.unwrap();
            assert!(
                response.status().is_redirection(),
                "{url} answered {}",
                response.status()
            );
            url = next_hop(&url, &response);
        }
        panic!("too many redirects from {start}");
    }

    /// Signs in through the real provider as the demo user named by `login_hint`.
    pub async fn sign_in(&self, login_hint: &str, next: &str) -> Hop {
        let start = self.url(&format!("/auth/login?login_hint={login_hint}&next={next}"));
        self.follow(&start).await
    }

    /// Calls a server function as the browser's JavaScript does: its JSON answer, or for a
    /// refused call (401, 403, …) `{"status": …, "body": …}`.
    pub async fn call(&self, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let response = self
            .client
            .post(self.url(path))
            .header(header::ORIGIN, &self.base_url)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        if status.is_success() {
            value
        } else {
            serde_json::json!({ "status": status.as_u16(), "body": value })
        }
    }

    pub async fn audit_actions(&self) -> Vec<(String, serde_json::Value)> {
        sqlx::query_as("SELECT action, details FROM audit_events ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

fn next_hop(url: &Url, response: &Response) -> Url {
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    url.join(location).unwrap()
}

pub async fn body(response: Response) -> (StatusCode, String) {
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// The field errors of a form's answer, as (field, message).
pub fn field_errors(outcome: &serde_json::Value) -> Vec<(String, String)> {
    outcome["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| (e[0].as_str().unwrap().into(), e[1].as_str().unwrap().into()))
                .collect()
        })
        .unwrap_or_default()
}

/// A grant of `role` (an ARN) on `api`'s `prod` stage, account 123456789012 in us-east-1.
pub fn grant_on(
    role: &str,
    api: &str,
    method: &str,
    path: &str,
) -> app::domain::desired::ChangeItem {
    app::domain::desired::ChangeItem::AddGrant(
        app::domain::grant::Grant::parse(&app::domain::grant::GrantInput {
            role_arn: role.into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: api.into(),
            stage: "prod".into(),
            method: method.into(),
            path: path.into(),
        })
        .unwrap(),
    )
}
