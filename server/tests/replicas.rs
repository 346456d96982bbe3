//! Two replicas on one database: a scheduled job (the catalog sync, the drift check) is claimed
//! by one of them per period, however their timers fall.

use crate::common;

use std::time::{Duration, Instant};

use gatehouse::schedule::claim;

#[tokio::test]
async fn a_scheduled_job_runs_once_per_period_across_two_replicas() {
    let pool = common::migrated_database().await;
    let every = Duration::from_millis(400);
    let replica = |name: &'static str, offset: Duration| {
        let pool = pool.clone();
        tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut ran = Vec::new();
            // Each replica ticks twice as often as the period: without the claim, every tick of
            // both would run the job.
            for _ in 0..10 {
                if claim(&pool, "drift-check", name, every).await.unwrap() {
                    ran.push(Instant::now());
                }
                tokio::time::sleep(every / 2).await;
            }
            ran
        })
    };
    let (a, b) = (
        replica("replica-a", Duration::ZERO),
        replica("replica-b", Duration::from_millis(70)),
    );
    let mut runs = a.await.unwrap();
    runs.extend(b.await.unwrap());
    runs.sort();
    assert!(runs.len() >= 3, "the job ran: {runs:?}");
    for pair in runs.windows(2) {
        let gap = pair[1] - pair[0];
        // A tenth of the period is the claim's own slack; a little more for the clocks.
        assert!(
            gap >= every.mul_f64(0.8),
            "two runs {gap:?} apart, in a period of {every:?}"
        );
    }
    // Another job has its own claim.
    assert!(claim(&pool, "catalog-sync", "replica-a", every)
        .await
        .unwrap());
    assert!(!claim(&pool, "catalog-sync", "replica-b", every)
        .await
        .unwrap());
}

/// An export whose rows are being hashed belongs to the process holding its lease: another
/// replica starting (or looking again) leaves it alone while the lease is live, takes it over
/// once it lapses (its process stopped), and two replicas looking at once take it once.
#[tokio::test]
async fn an_unfinished_export_is_taken_over_once_and_only_when_its_process_stopped() {
    use gatehouse::{audit::Actor, history::exports};
    let pool = common::migrated_database().await;
    for i in 0..30 {
        gatehouse::audit::record(
            &pool,
            &Actor::system("test"),
            "test.event",
            Some(&format!("thing:{i}")),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    }
    let record = new_export(&pool).await;
    let manifest = "SELECT count(*) FROM audit_exports WHERE manifest IS NOT NULL";
    // Another replica is hashing it now.
    sqlx::query(
        "UPDATE audit_exports SET lease_owner = 'replica-b', lease_until = now() + interval '1 minute'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(exports::resume_unfinished(&pool, None).await.unwrap(), 0);
    assert!(
        exports::prepare(&pool, None, &record)
            .await
            .unwrap()
            .is_none(),
        "held by a live replica"
    );
    assert_eq!(common::count(&pool, manifest).await, 0);
    // That replica stopped: its lease lapses, and of two replicas looking at once, one takes it.
    sqlx::query("UPDATE audit_exports SET lease_until = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        exports::resume_unfinished(&pool, None),
        exports::resume_unfinished(&pool, None)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    for _ in 0..100 {
        if common::count(&pool, manifest).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        common::count(&pool, manifest).await,
        1,
        "the export was finished"
    );
    assert_eq!(exports::resume_unfinished(&pool, None).await.unwrap(), 0);
}

/// A stopping process hands back the exports it is hashing: at once claimable by another
/// replica (no 30-second wait for the lease), while another replica's export is left alone.
#[tokio::test]
async fn a_stopping_process_hands_its_exports_back() {
    use gatehouse::{audit::Actor, history::exports, schedule::this_process};
    let pool = common::migrated_database().await;
    gatehouse::audit::record(
        &pool,
        &Actor::system("test"),
        "test.event",
        None,
        serde_json::json!({}),
    )
    .await
    .unwrap();
    let ids = [new_export(&pool).await.id, new_export(&pool).await.id];
    // This process is hashing the first; another live replica the second.
    for (id, owner) in [(ids[0], this_process()), (ids[1], "replica-b")] {
        sqlx::query(
            "UPDATE audit_exports SET lease_owner = $2, lease_until = now() + interval '1 minute'
             WHERE id = $1",
        )
        .bind(id)
        .bind(owner)
        .execute(&pool)
        .await
        .unwrap();
    }
    assert_eq!(
        exports::resume_unfinished(&pool, None).await.unwrap(),
        0,
        "both held"
    );

    assert_eq!(exports::hand_back(&pool).await.unwrap(), 1);
    let free = "SELECT count(*) FROM audit_exports WHERE lease_owner IS NULL AND manifest IS NULL";
    assert_eq!(common::count(&pool, free).await, 1);
    // Another replica looking now (the same query, from this test) takes the handed-back one only.
    assert_eq!(exports::resume_unfinished(&pool, None).await.unwrap(), 1);
    let finished = format!(
        "SELECT count(*) FROM audit_exports WHERE manifest IS NOT NULL AND id = {}",
        ids[0]
    );
    for _ in 0..100 {
        if common::count(&pool, &finished).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        common::count(&pool, &finished).await,
        1,
        "the handed-back export was finished"
    );
    let other = format!(
        "SELECT count(*) FROM audit_exports WHERE id = {} AND lease_owner = 'replica-b' AND manifest IS NULL",
        ids[1]
    );
    assert_eq!(
        common::count(&pool, &other).await,
        1,
        "the other replica's export is untouched"
    );
}

/// An export of the whole history as JSON Lines, not prepared yet.
async fn new_export(pool: &sqlx::PgPool) -> gatehouse::history::exports::ExportRecord {
    use gatehouse::{
        audit::Actor,
        history::{export::Format, exports},
    };
    exports::create_export(
        pool,
        &Actor::system("test"),
        &Default::default(),
        Format::Jsonl,
    )
    .await
    .unwrap()
}

/// A `gatehouse serve` process of its own, killed when dropped.
struct Replica {
    base_url: String,
    child: std::process::Child,
}

impl Replica {
    fn start(pool: &sqlx::PgPool, proxy: &common::aws_proxy::AwsProxy, every: &str) -> Self {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let listen = free.local_addr().unwrap().to_string();
        drop(free);
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("serve")
            .envs(common::pushing::cli_env(pool, proxy))
            .env("GATEHOUSE_LISTEN", &listen)
            .env("GATEHOUSE_BASE_URL", format!("http://{listen}"))
            .env("GATEHOUSE_OIDC_ISSUER", &common::provider().issuer)
            .env("GATEHOUSE_OIDC_CLIENT_ID", "gatehouse")
            .env("GATEHOUSE_OIDC_CLIENT_SECRET", "gatehouse-demo-secret")
            .env("GATEHOUSE_ALLOWED_TENANTS", common::TENANT)
            .env("GATEHOUSE_ADMIN_GROUPS", common::ADMIN_GROUP)
            .env("GATEHOUSE_SYNC_INTERVAL_MINUTES", every)
            .env("GATEHOUSE_DRIFT_INTERVAL_MINUTES", every)
            .env("GATEHOUSE_PUSH_LEASE_SECONDS", "3")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Replica {
            base_url: format!("http://{listen}"),
            child,
        }
    }

    async fn ready(&self) {
        for _ in 0..300 {
            if let Ok(r) = reqwest::get(format!("{}/readyz", self.base_url)).await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} never became ready", self.base_url);
    }

    /// A browser on this replica, sharing `client`'s cookies (one browser behind a balancer).
    fn seen_by(&self, pool: &sqlx::PgPool, client: &reqwest::Client) -> common::TestApp {
        common::TestApp {
            base_url: self.base_url.clone(),
            pool: pool.clone(),
            owner_url: String::new(),
            client: client.clone(),
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Times (seconds since the epoch) of what one query lists, in order.
async fn times(pool: &sqlx::PgPool, sql: &str) -> Vec<f64> {
    sqlx::query_scalar(sql).fetch_all(pool).await.unwrap()
}

/// Two `gatehouse serve` processes on one database, as behind a load balancer: a person signed
/// in on one is signed in on the other; a push started on one is seen on the other, which takes
/// it over when the first dies; the scheduled sync and drift check run once per period between
/// them, and go on when one of them is gone.
#[tokio::test]
async fn two_server_processes_share_sessions_pushes_and_schedules() {
    use app::domain::change_set::State;
    use common::{
        aws_proxy::Fault,
        pushing::{orders_readers_get, setup, state_of},
    };

    let (pool, _moto, proxy, _direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    // Each schedule every 3 seconds on both replicas.
    let period = Duration::from_secs(3);
    let (mut a, b) = (
        Replica::start(&pool, &proxy, "0.05"),
        Replica::start(&pool, &proxy, "0.05"),
    );
    a.ready().await;
    b.ready().await;

    // Signed in on A, signed in on B: the session lives in the database.
    let browser = common::browser();
    let on_a = a.seen_by(&pool, &browser);
    let on_b = b.seen_by(&pool, &browser);
    let signed_in = on_a.sign_in("admin", "/").await;
    assert_eq!(
        signed_in.url.origin(),
        url::Url::parse(&a.base_url).unwrap().origin()
    );
    let (status, home) = common::body(on_b.get("/").await).await;
    assert_eq!(status, 200);
    assert!(
        home.contains("Ada Admin"),
        "B does not know who signed in on A"
    );

    // A push started on A, hanging at its deployment, is seen running from B.
    proxy.fault("CreateDeployment", Fault::Hang(Duration::from_secs(120)));
    let (status, started) = rest_call(&on_a, "/api/push/start", &format!("id={id}")).await;
    assert_eq!(status, 200, "{started}");
    for _ in 0..300 {
        if proxy.count("CreateDeployment") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        proxy.count("CreateDeployment"),
        1,
        "A's push did not reach its deployment"
    );
    let (status, view) = rest_call(&on_b, "/api/push/view", &format!("id={id}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["run"]["state"], "running", "{view}");
    let run = view["run"]["id"].as_i64().unwrap();

    // A dies mid-push (no clean stop): B takes the push over once A's lease lapses, and
    // finishes it; the signed-in person goes on using B.
    let killed_at = std::time::Instant::now();
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    for _ in 0..300 {
        if state_of(&pool, id).await == State::Pushed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        state_of(&pool, id).await,
        State::Pushed,
        "B did not finish A's push"
    );
    let (status, view) = rest_call(&on_b, "/api/push/view", &format!("id={id}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["run"]["id"], run, "the same run, taken over: {view}");
    assert_eq!(view["run"]["state"], "succeeded", "{view}");
    eprintln!("B finished A's push {:?} after A died", killed_at.elapsed());

    // Let the schedules run a few more periods on B alone, then look at every run.
    tokio::time::sleep(period * 3).await;
    // Each run syncs every catalog (the APIs, the directory), a row each: one catalog's rows.
    let syncs = times(
        &pool,
        "SELECT extract(epoch FROM started_at)::float8 FROM sync_runs \
         WHERE catalog = (SELECT min(catalog) FROM sync_runs) ORDER BY started_at",
    )
    .await;
    let checks = times(
        &pool,
        "SELECT extract(epoch FROM checked_at)::float8 FROM drift_reports \
         WHERE checked_by ILIKE '%schedule%' ORDER BY checked_at",
    )
    .await;
    for (job, runs) in [("sync", &syncs), ("drift check", &checks)] {
        assert!(
            runs.len() >= 3,
            "the scheduled {job} ran {} times",
            runs.len()
        );
        for pair in runs.windows(2) {
            // Two replicas running one period's job would start within moments of each other.
            assert!(
                pair[1] - pair[0] >= period.as_secs_f64() / 2.0,
                "two {job} runs {:.2} s apart, in a period of {period:?}: {runs:?}",
                pair[1] - pair[0]
            );
        }
    }
    eprintln!(
        "{} syncs and {} drift checks, once per period",
        syncs.len(),
        checks.len()
    );
}

/// A server function called as the page's form would (same origin, JSON answer).
async fn rest_call(app: &common::TestApp, path: &str, form: &str) -> (u16, serde_json::Value) {
    let response = app
        .client
        .post(app.url(path))
        .header(reqwest::header::ORIGIN, &app.base_url)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(reqwest::header::ACCEPT, "application/json")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}
