//! What Gatehouse tells operators: every response carries a request id (a proxy's plain one
//! kept, a bad one replaced), `/metrics` is Prometheus text whose counters move with requests
//! and pushes, a separate metrics address takes `/metrics` off the main one, and a JSON log line
//! carries the request id the response header showed.

mod common;

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use common::aws_proxy::Fault;
use common::{
    provider,
    pushing::{orders_readers_get, push_planned, push_settings, setup, through},
    spawn_app, spawn_app_with, ADMIN_GROUP, TENANT,
};
use gatehouse::push::Pusher;

/// The value of one series in Prometheus text (`name{labels} value`), 0 when absent.
fn series(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

async fn scrape(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_metrics_move_with_requests_and_pushes() {
    let app = spawn_app().await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let id_of = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .unwrap_or_else(|| panic!("no request id: {r:?}"))
            .to_str()
            .unwrap()
            .to_string()
    };

    let made = plain.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(&id_of(&made))
            .unwrap()
            .get_version_num(),
        4
    );
    let kept = plain
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-7f3a.42")
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&kept), "lb-7f3a.42");
    let replaced = plain
        .get(app.url("/healthz"))
        .header("x-request-id", "x\",\"level\":\"ERROR")
        .send()
        .await
        .unwrap();
    assert!(uuid::Uuid::parse_str(&id_of(&replaced)).is_ok());
    // A page nobody may see unsigned still has one (the redirect to sign-in).
    let page = plain.get(app.url("/change-sets")).send().await.unwrap();
    assert!(!id_of(&page).is_empty());

    let healthz = r#"gatehouse_http_requests_total{method="GET",route="/healthz",status="200"}"#;
    let before = scrape(&plain, &app.url("/metrics")).await;
    assert!(series(&before, healthz) >= 3.0, "{before}");
    for _ in 0..5 {
        plain.get(app.url("/healthz")).send().await.unwrap();
    }
    let after = scrape(&plain, &app.url("/metrics")).await;
    assert_eq!(series(&after, healthz) - series(&before, healthz), 5.0);
    // Routes are labelled by pattern, so an id makes no series of its own.
    plain.get(app.url("/apis/abc123")).send().await.unwrap();
    let text = scrape(&plain, &app.url("/metrics")).await;
    assert!(
        text.contains(r#"route="/apis/:id""#) || text.contains(r#"route="/apis/{id}""#),
        "{text}"
    );
    assert!(!text.contains("abc123"));
    assert!(text.contains("gatehouse_http_request_duration_seconds_bucket"));
    assert!(text.contains("gatehouse_audit_chain_length"));

    // A push moves the push counters (the pusher records to the same process's recorder).
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;
    let put = r#"gatehouse_push_steps_total{operation="PutRolePolicy",outcome="done"}"#;
    let runs = r#"gatehouse_push_runs_total{outcome="succeeded"}"#;
    // Every AWS call is counted by operation, and AWS's throttling (once, then retried) too.
    let aws_put =
        r#"gatehouse_aws_calls_total{service="IAM",operation="PutRolePolicy",outcome="ok"}"#;
    let throttled = r#"gatehouse_aws_throttles_total{service="IAM",operation="PutRolePolicy"}"#;
    proxy.fault("PutRolePolicy", Fault::Throttle);
    let before = scrape(&plain, &app.url("/metrics")).await;
    push_planned(&pusher, id).await;
    let after = scrape(&plain, &app.url("/metrics")).await;
    assert_eq!(series(&after, put) - series(&before, put), 1.0, "{after}");
    assert_eq!(series(&after, runs) - series(&before, runs), 1.0, "{after}");
    assert_eq!(
        series(&after, aws_put) - series(&before, aws_put),
        1.0,
        "one call (its retry is an attempt, not a call): {after}"
    );
    assert_eq!(
        series(&after, throttled) - series(&before, throttled),
        1.0,
        "{after}"
    );
    assert!(
        after.contains(r#"gatehouse_aws_calls_total{service="IAM",operation="GetRolePolicy""#)
            || after.contains(r#"gatehouse_aws_calls_total{service="IAM",operation="GetRole""#),
        "the plan's reads are counted too: {after}"
    );
    assert!(after.contains("gatehouse_aws_call_duration_seconds_bucket"));
}

#[tokio::test]
async fn a_separate_metrics_address_takes_metrics_off_the_main_one() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = free.local_addr().unwrap();
    drop(free);
    let app = spawn_app_with(|s| s.metrics_listen = Some(address)).await;
    let plain = reqwest::Client::new();
    let main = plain.get(app.url("/metrics")).send().await.unwrap();
    assert_ne!(
        main.status(),
        200,
        "the main address no longer serves /metrics"
    );
    let mut text = None;
    for _ in 0..50 {
        if let Ok(r) = plain.get(format!("http://{address}/metrics")).send().await {
            text = Some(r.text().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text
        .expect("metrics listener")
        .contains("gatehouse_audit_chain_length"));
}

#[tokio::test]
async fn a_json_log_line_carries_the_request_id_of_the_response() {
    let database_url = common::fresh_database().await;
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = free.local_addr().unwrap().to_string();
    drop(free);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .env("DATABASE_URL", &database_url)
        .env("GATEHOUSE_OWNER_DATABASE_URL", &database_url)
        .env("GATEHOUSE_LISTEN", &listen)
        .env("GATEHOUSE_BASE_URL", format!("http://{listen}"))
        .env("GATEHOUSE_OIDC_ISSUER", &provider().issuer)
        .env("GATEHOUSE_OIDC_CLIENT_ID", "gatehouse")
        .env("GATEHOUSE_OIDC_CLIENT_SECRET", "gatehouse-demo-secret")
        .env("GATEHOUSE_ALLOWED_TENANTS", TENANT)
        .env("GATEHOUSE_ADMIN_GROUPS", ADMIN_GROUP)
        .env("GATEHOUSE_SYNC_INTERVAL_MINUTES", "0")
        .env("GATEHOUSE_DRIFT_INTERVAL_MINUTES", "0")
        .env("GATEHOUSE_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut response = None;
    for _ in 0..100 {
        if let Ok(r) = plain
            .get(format!("http://{listen}/change-sets"))
            .send()
            .await
        {
            response = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let response = response.expect("the server came up");
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let status = response.status().as_u16();
    let mut found = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while found.is_none() && std::time::Instant::now() < deadline {
        let Ok(line) = received.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
            panic!("a log line that is not JSON: {line}");
        };
        if json["span"]["request_id"] == id.as_str() && json["fields"]["message"] == "answered" {
            found = Some(json);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = found.unwrap_or_else(|| panic!("no JSON log line with request id {id}"));
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["fields"]["status"], status);
    assert_eq!(line["span"]["route"], "/change-sets");
    assert_eq!(line["span"]["method"], "GET");
}
