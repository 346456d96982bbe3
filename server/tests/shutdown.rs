//! `gatehouse serve` stopped by a real SIGTERM while it pushes and notifies: it stops accepting,
//! exits 0 within its grace period, and hands the push back at once (its lease ended, not left to
//! lapse), so another process finishes it without waiting out the lease; the notifications it
//! claimed and had not sent are due again at once too.

use crate::common;

use std::{
    process::{Command, Stdio},
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use app::domain::change_set::State;
use common::{
    aws_proxy::Fault,
    count, person, provider,
    pushing::{cli_env, orders_readers_get, push_settings, setup, state_of, through},
    receivers::{due_deliveries, slow_receiver, DUE_NOW},
    ADMIN_GROUP, TENANT,
};
use gatehouse::push::Pusher;

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_and_hands_its_push_and_notifications_back() {
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    // The deployment hangs, so the server is mid-push when it is told to stop.
    proxy.fault("CreateDeployment", Fault::Hang(Duration::from_secs(60)));
    // A push recorded by a process that stopped at once: the server's resumer takes it over.
    let starter = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;
    let run = starter
        .begin(&person(1, "Ada Admin"), id)
        .await
        .unwrap()
        .unwrap();
    drop(starter);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    // Three notifications due for a receiver that takes a minute to answer: the server is
    // sending the first when it is told to stop.
    let (receiver_hits, receiver_url) = slow_receiver(Duration::from_secs(60)).await;
    due_deliveries(&pool, &receiver_url, "export_ready", 3).await;

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = free.local_addr().unwrap().to_string();
    drop(free);
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("serve")
        .envs(cli_env(&pool, &proxy))
        .env("GATEHOUSE_LISTEN", &listen)
        .env("GATEHOUSE_BASE_URL", format!("http://{listen}"))
        .env("GATEHOUSE_OIDC_ISSUER", &provider().issuer)
        .env("GATEHOUSE_OIDC_CLIENT_ID", "gatehouse")
        .env("GATEHOUSE_OIDC_CLIENT_SECRET", "gatehouse-demo-secret")
        .env("GATEHOUSE_ALLOWED_TENANTS", TENANT)
        .env("GATEHOUSE_ADMIN_GROUPS", ADMIN_GROUP)
        .env("GATEHOUSE_SYNC_INTERVAL_MINUTES", "0")
        .env("GATEHOUSE_DRIFT_INTERVAL_MINUTES", "0")
        // A long lease: only handing it back lets another process go on at once.
        .env("GATEHOUSE_PUSH_LEASE_SECONDS", "60")
        .env("GATEHOUSE_SHUTDOWN_GRACE_SECONDS", "2")
        .env("GATEHOUSE_WEBHOOK_POLL_MS", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let hanging =
        "SELECT count(*) FROM push_steps WHERE operation = 'CreateDeployment' AND state = 'running'";
    // Marked running is not enough: the call must have reached AWS (the proxy), or the fault
    // would still be queued and catch the other process's call instead.
    for _ in 0..300 {
        if count(&pool, hanging).await == 1 && proxy.count("CreateDeployment") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&pool, hanging).await,
        1,
        "the server did not take the push over"
    );
    assert_eq!(
        proxy.count("CreateDeployment"),
        1,
        "its call did not reach AWS"
    );
    let healthz = reqwest::get(format!("http://{listen}/healthz"))
        .await
        .unwrap();
    assert_eq!(healthz.status(), 200);
    for _ in 0..100 {
        if receiver_hits.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        receiver_hits.load(Ordering::SeqCst),
        1,
        "no notification under way"
    );
    assert_eq!(count(&pool, DUE_NOW).await, 0, "all three claimed");

    let told = Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            told.elapsed() < Duration::from_secs(15),
            "the server did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0), "a clean stop exits 0");
    assert!(
        reqwest::get(format!("http://{listen}/healthz"))
            .await
            .is_err(),
        "nothing listens any more"
    );
    assert_eq!(state_of(&pool, id).await, State::Pushing);
    let released = count(
        &pool,
        "SELECT count(*) FROM push_runs WHERE state = 'running' AND lease_until < now()",
    )
    .await;
    assert_eq!(released, 1, "the push's lease was handed back");
    assert_eq!(
        count(&pool, DUE_NOW).await,
        2,
        "the two unsent notifications were handed back (the one under way keeps its claim)"
    );

    // Another process takes it over now, well before the 60 s lease would have lapsed (a run
    // another process holds is refused, not waited for), and finishes it.
    let stopped_after = told.elapsed();
    assert!(stopped_after < Duration::from_secs(30), "{stopped_after:?}");
    let other = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;
    let outcome = other.execute(run).await.unwrap();
    assert!(outcome.succeeded, "{outcome:?}");
    assert_eq!(state_of(&pool, id).await, State::Pushed);
    eprintln!(
        "stopped {stopped_after:?} after SIGTERM; the other process finished the push {:?} later",
        told.elapsed() - stopped_after
    );
}
