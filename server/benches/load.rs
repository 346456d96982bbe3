//! Load and faults against a running Gatehouse (started by `bench/load.sh`): signed-in sessions
//! hitting pages and server functions for a while, next to `/healthz` in the same run; then the
//! same load while PostgreSQL restarts (FAULT_CMD), counting errors and the longest request (none
//! may hang), and how long until requests succeed again. Prints figures; asserts nothing timed.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

#[path = "support/sign_in.rs"]
mod sign_in;

use reqwest::{header, Client};
use sign_in::signed_in;

struct Figures {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<Instant>,
    last_error: Option<Instant>,
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// One request of the daily mix: pages and the server functions behind them.
async fn one(client: &Client, base: &str, i: usize) -> Result<(), String> {
    let request = match i % 6 {
        0 => client.get(format!("{base}/")),
        1 => client.get(format!("{base}/apis")),
        2 => client.get(format!("{base}/change-sets")),
        3 => client.get(format!("{base}/history")),
        4 => client
            .post(format!("{base}/api/catalog/apis"))
            .header(header::ORIGIN, base)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("search=&sort="),
        _ => client
            .post(format!("{base}/api/history/page"))
            .header(header::ORIGIN, base)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("filter[from]=&filter[to]=&filter[actor]=&filter[action]=&filter[change_set]=&filter[mentions]="),
    };
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let _ = response.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(status.to_string())
    }
}

async fn run(
    clients: &[Client],
    base: &str,
    seconds: u64,
    healthz: bool,
    fault: Option<(Duration, String)>,
    pid: &str,
) -> (Figures, Duration, u64) {
    let figures = Arc::new(Mutex::new(Figures {
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
        last_error: None,
    }));
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (n, client) in clients.iter().enumerate() {
        let (client, base, figures) = (client.clone(), base.to_string(), figures.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = n;
            while Instant::now() < end {
                let t = Instant::now();
                let outcome = if healthz {
                    match client.get(format!("{base}/healthz")).send().await {
                        Ok(r) if r.status().is_success() => Ok(()),
                        Ok(r) => Err(r.status().to_string()),
                        Err(e) => Err(e.to_string()),
                    }
                } else {
                    one(&client, &base, i).await
                };
                let took = t.elapsed();
                let mut f = figures.lock().unwrap();
                f.latencies.push(took);
                if outcome.is_err() {
                    f.errors += 1;
                    f.first_error.get_or_insert(Instant::now());
                    f.last_error = Some(Instant::now());
                }
                i += 1;
            }
        }));
    }
    let mut peak_rss = 0;
    let mut faulted = false;
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak_rss = peak_rss.max(rss_kib(pid).unwrap_or(0));
        if let Some((at, cmd)) = &fault {
            if !faulted && start.elapsed() >= *at {
                faulted = true;
                let status = std::process::Command::new("sh").arg("-c").arg(cmd).status();
                eprintln!(
                    "fault: `{cmd}` → {status:?} at {:.1} s",
                    start.elapsed().as_secs_f64()
                );
            }
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let figures = Arc::try_unwrap(figures).ok().unwrap().into_inner().unwrap();
    (figures, start.elapsed(), peak_rss)
}

fn report(name: &str, f: &mut Figures, took: Duration, rss: u64) -> f64 {
    f.latencies.sort();
    let n = f.latencies.len().max(1);
    let at = |q: f64| f.latencies[((n as f64 * q) as usize).min(n - 1)];
    let rate = f.latencies.len() as f64 / took.as_secs_f64();
    println!(
        "{name:<34} {:>8.0} req/s  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>8.1} ms  errors {:>5}  peak RSS {:>6} MiB",
        rate,
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        f.latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        f.errors,
        rss / 1024
    );
    rate
}

#[tokio::main]
async fn main() {
    let Ok(base) = std::env::var("GATEHOUSE_URL") else {
        eprintln!("load: GATEHOUSE_URL is not set; run bash bench/load.sh");
        return;
    };
    let sessions: usize = env("SESSIONS", "50").parse().unwrap();
    let seconds: u64 = env("SECONDS_EACH", "60").parse().unwrap();
    let pid = env("SERVER_PID", "self");
    let hints = ["admin", "reviewer", "auditor", "admin-reviewer"];
    let mut clients = Vec::new();
    for i in 0..sessions {
        clients.push(signed_in(&base, hints[i % hints.len()]).await);
    }
    println!("{sessions} signed-in sessions, {seconds} s each phase, loopback");
    let (mut h, took, rss) = run(&clients, &base, seconds, true, None, &pid).await;
    let health = report("/healthz", &mut h, took, rss);
    let (mut p, took, rss) = run(&clients, &base, seconds, false, None, &pid).await;
    let pages = report("pages + server functions", &mut p, took, rss);
    println!(
        "pages and server functions run at {:.3}× the rate of /healthz",
        pages / health
    );

    if let Ok(cmd) = std::env::var("FAULT_CMD") {
        let (mut f, took, rss) = run(
            &clients,
            &base,
            seconds.clamp(15, 30),
            false,
            Some((Duration::from_secs(5), cmd)),
            &pid,
        )
        .await;
        report("same, PostgreSQL restarted at 5 s", &mut f, took, rss);
        match (f.first_error, f.last_error) {
            (Some(a), Some(b)) => println!(
                "errors for {:.1} s after the restart, then requests succeed again without restarting Gatehouse; longest request {:.1} s (client limit 60 s)",
                (b - a).as_secs_f64(),
                f.latencies.last().unwrap().as_secs_f64()
            ),
            _ => println!("no request failed during the restart"),
        }
        // After the fault: everything answers again.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let ok = one(&clients[0], &base, 0).await;
        println!(
            "after the fault: {}",
            if ok.is_ok() {
                "recovered"
            } else {
                "NOT recovered"
            }
        );
    }
}
