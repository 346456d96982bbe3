//! Every page at a mid-sized company's size, against a running Gatehouse (started by
//! `bench/scale.sh` on a database `gatehouse seed-scale` filled). Per page: one request (the
//! median of five), the HTML's size, then CONNECTIONS concurrent requests for SECONDS_EACH
//! seconds while /healthz is asked beside them; each answer is checked to be the page (status
//! and a marker of its content, not a sign-in redirect). Prints req/s, p50, p99 and the server's
//! RSS; asserts nothing timed.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

#[path = "support/goals.rs"]
mod goals;
#[path = "support/sign_in.rs"]
mod sign_in;

use goals::{Kind, Measured, Summary};
use reqwest::Client;
use sign_in::signed_in;

/// (label, path, a marker of the real page's content, what the goals hold it to: /healthz is
/// the probe beside every page; the lists — the catalog's, mappings, change sets, roles and
/// History — serve at least 1,000 req/s)
const PAGES: &[(&str, &str, &str, Kind)] = &[
    ("/healthz", "/healthz", "ok", Kind::Probe),
    (
        "an API's matrix",
        "/apis/bench00007/matrix",
        "data-testid=\"matrix\"",
        Kind::Page,
    ),
    (
        "/mappings",
        "/mappings",
        "data-testid=\"mapping-table\"",
        Kind::List,
    ),
    (
        "an API's page",
        "/apis/bench00007",
        "data-testid=\"callers\"",
        Kind::Page,
    ),
    (
        "a group's page",
        "/groups/file/bench-group-00042",
        "data-testid=\"group-roles\"",
        Kind::Page,
    ),
    (
        "a person's page",
        "/people/file/bench-person-4242",
        "data-testid=\"person-routes\"",
        Kind::Page,
    ),
    (
        "explain on a person's page",
        "/people/file/bench-person-4242?api=bench00007&stage=prod&method=GET&path=%2Forders%2F42",
        "data-testid=\"explain-outcome\"",
        Kind::Page,
    ),
    (
        "who can call a method (2,000+ people)",
        "/apis/bench00007/callers?route=GET%20%2Forders%2F%7Bid%7D",
        "data-testid=\"caller-table\"",
        Kind::Page,
    ),
    (
        "who can call, page 20",
        "/apis/bench00007/callers?route=GET%20%2Forders%2F%7Bid%7D&page=20",
        "data-testid=\"caller-table\"",
        Kind::Page,
    ),
    (
        "/change-sets",
        "/change-sets",
        "Benchmark change set",
        Kind::List,
    ),
    ("/roles", "/roles", "data-testid=\"role-table\"", Kind::List),
    ("Home", "/", "What needs you", Kind::Page),
    (
        "/history by actor",
        "/history?actor=Person%2017",
        "data-testid=\"history-table\"",
        Kind::List,
    ),
    (
        "/history by date range",
        "/history?from=2026-06-01&to=2026-06-02",
        "data-testid=\"history-table\"",
        Kind::List,
    ),
    (
        "/history by action",
        "/history?action=push.call",
        "data-testid=\"history-table\"",
        Kind::List,
    ),
    ("/apis", "/apis", "data-testid=\"api-table\"", Kind::List),
    (
        "/groups",
        "/groups",
        "data-testid=\"group-table\"",
        Kind::List,
    ),
    (
        "/history",
        "/history",
        "data-testid=\"history-table\"",
        Kind::List,
    ),
];

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// A field of the server's /proc status in MiB (VmRSS, RssAnon, RssFile), 0 when unread.
fn status_mib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.split(':').next() == Some(field))?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0)
        / 1024
}

fn rss_mib(pid: &str) -> u64 {
    status_mib(pid, "VmRSS")
}

/// RSS and what it is made of: the heap and stacks (anonymous) and the binary's pages read so
/// far (files), which grow only as code is first run.
fn rss_parts(pid: &str) -> String {
    format!(
        "{} MiB (anonymous {}, files {})",
        rss_mib(pid),
        status_mib(pid, "RssAnon"),
        status_mib(pid, "RssFile")
    )
}

/// The page, or why it is not the page.
async fn fetch(client: &Client, url: &str, marker: &str) -> Result<usize, String> {
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("status {status}"));
    }
    if !body.contains(marker) {
        return Err(format!("not the page (no {marker})"));
    }
    Ok(body.len())
}

#[derive(Default)]
struct Figures {
    latencies: Vec<Duration>,
    errors: Vec<String>,
}

impl Figures {
    fn quantile(&mut self, q: f64) -> f64 {
        self.latencies.sort();
        let n = self.latencies.len();
        if n == 0 {
            return f64::NAN;
        }
        self.latencies[((n as f64 * q) as usize).min(n - 1)].as_secs_f64() * 1e3
    }
}

/// `connections` loops on `url` until `end`.
fn hammer(
    client: &Client,
    url: String,
    marker: &'static str,
    connections: usize,
    end: Instant,
) -> (Arc<Mutex<Figures>>, Vec<tokio::task::JoinHandle<()>>) {
    let figures = Arc::new(Mutex::new(Figures::default()));
    let tasks = (0..connections)
        .map(|_| {
            let (client, url, figures) = (client.clone(), url.clone(), figures.clone());
            tokio::spawn(async move {
                while Instant::now() < end {
                    let t = Instant::now();
                    let outcome = fetch(&client, &url, marker).await;
                    let mut f = figures.lock().unwrap();
                    f.latencies.push(t.elapsed());
                    if let Err(e) = outcome {
                        f.errors.push(e);
                    }
                }
            })
        })
        .collect();
    (figures, tasks)
}

/// One benchmark run's settings, against one server.
struct Run<'a> {
    client: &'a Client,
    health: &'a Client,
    base: &'a str,
    connections: usize,
    seconds: u64,
    pid: &'a str,
}

impl Run<'_> {
    /// One page: the median of five single requests, then the load beside /healthz; prints its
    /// line and answers the highest RSS and anonymous MiB seen during the load, and its figures.
    async fn load(&self, label: &str, path: &str, marker: &'static str) -> (u64, u64, Measured) {
        let url = format!("{}{path}", self.base);
        let mut singles = Vec::new();
        let mut size = 0;
        for _ in 0..5 {
            let t = Instant::now();
            match fetch(self.client, &url, marker).await {
                Ok(n) => size = n,
                Err(e) => {
                    println!("{label}: {e}");
                    break;
                }
            }
            singles.push(t.elapsed().as_secs_f64() * 1e3);
        }
        singles.sort_by(f64::total_cmp);
        let one = singles.get(singles.len() / 2).copied().unwrap_or(f64::NAN);
        let start = Instant::now();
        let end = start + Duration::from_secs(self.seconds);
        let (figures, tasks) = hammer(self.client, url, marker, self.connections, end);
        let health = format!("{}/healthz", self.base);
        let (beside, beside_tasks) = hammer(self.health, health, "ok", 1, end);
        let (mut peak, mut anon) = (0, 0);
        while Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(250)).await;
            peak = peak.max(rss_mib(self.pid));
            anon = anon.max(status_mib(self.pid, "RssAnon"));
        }
        for t in tasks.into_iter().chain(beside_tasks) {
            let _ = t.await;
        }
        let took = start.elapsed().as_secs_f64();
        let mut f = figures.lock().unwrap();
        let mut h = beside.lock().unwrap();
        let rate = f.latencies.len() as f64 / took;
        println!(
            "{label:<24} {one:>9.1} {rate:>9.0} {:>9.1} {:>9.1} {:>8} {:>11.1} {:>7} {:>8} {:>5}",
            f.quantile(0.5),
            f.quantile(0.99),
            f.errors.len(),
            h.quantile(0.99),
            size / 1024,
            peak,
            anon
        );
        if let Some(e) = f.errors.first() {
            println!("  first error: {e}");
        }
        let measured = Measured {
            one_ms: one,
            rate,
            p99_ms: f.quantile(0.99),
            healthz_p99_ms: h.quantile(0.99),
            kb: size / 1024,
            errors: f.errors.len(),
        };
        (peak, anon, measured)
    }
}

/// Whether PAGES (labels as printed, `;`-separated: labels hold commas) asks for `label`; an
/// empty PAGES asks for every page.
fn chosen(only: &str, label: &str) -> bool {
    only.is_empty() || only.split(';').any(|p| p == label)
}

#[tokio::main]
async fn main() {
    let Ok(base) = std::env::var("GATEHOUSE_URL") else {
        eprintln!("scale: GATEHOUSE_URL is not set; run bash bench/scale.sh");
        return;
    };
    let seconds: u64 = env("SECONDS_EACH", "20").parse().unwrap();
    let connections: usize = env("CONNECTIONS", "16").parse().unwrap();
    let pid = env("SERVER_PID", "self");
    let only = env("PAGES", "");
    // Each round asks every page again on the same process: what a round leaves behind, the
    // next would add to if anything grew with use.
    let rounds: usize = env("ROUNDS", "1").parse().unwrap();
    let (fresh, fresh_anon) = (rss_mib(&pid), status_mib(&pid, "RssAnon"));
    println!(
        "{connections} connections × {seconds} s per page, /healthz asked beside each; RSS at start {}",
        rss_parts(&pid)
    );
    let client = signed_in(&base, "admin").await;
    let health = Client::new();
    println!("RSS after signing in: {}", rss_parts(&pid));
    let mut rss_seen = vec![fresh, rss_mib(&pid)];
    // The process's own memory (heap, stacks), apart from the binary's pages: how many of those
    // a fresh process has mapped depends on what the page cache holds (52–62 MiB seen at start
    // for one binary), so growth is read best here.
    let mut anon_seen = vec![fresh_anon, status_mib(&pid, "RssAnon")];
    let run = Run {
        client: &client,
        health: &health,
        base: &base,
        connections,
        seconds,
        pid: &pid,
    };
    // A first request of every page: what a process sets up once (its threads' allocator
    // heaps, connections, per-page state) is then in place, and what grows after is the load's.
    for &(label, path, marker, _) in PAGES {
        if chosen(&only, label) {
            let _ = fetch(&client, &format!("{base}{path}"), marker).await;
        }
    }
    let (warm, warm_anon) = (rss_mib(&pid), status_mib(&pid, "RssAnon"));
    println!("RSS after one request of each page: {}", rss_parts(&pid));
    let mut summaries: Vec<Summary> = PAGES
        .iter()
        .filter(|(label, ..)| chosen(&only, label))
        .map(|&(label, _, _, kind)| Summary {
            label: label.to_string(),
            kind,
            rounds: Vec::new(),
        })
        .collect();
    for round in 1..=rounds {
        if rounds > 1 {
            println!("round {round}");
        }
        println!(
            "{:<24} {:>9} {:>9} {:>9} {:>9} {:>8} {:>11} {:>7} {:>8} {:>5}",
            "page",
            "one (ms)",
            "req/s",
            "p50 ms",
            "p99 ms",
            "errors",
            "healthz p99",
            "KB",
            "RSS MiB",
            "anon"
        );
        let mut round_peak = 0;
        for &(label, path, marker, _) in PAGES {
            if !chosen(&only, label) {
                continue;
            }
            let (peak, anon, measured) = run.load(label, path, marker).await;
            if let Some(s) = summaries.iter_mut().find(|s| s.label == label) {
                s.rounds.push(measured);
            }
            round_peak = round_peak.max(peak);
            rss_seen.push(peak);
            anon_seen.push(anon);
        }
        if rounds > 1 {
            println!("round {round}: RSS at most {round_peak} MiB");
        }
    }
    let (lo, hi) = (
        rss_seen.iter().min().copied().unwrap_or(0),
        rss_seen.iter().max().copied().unwrap_or(0),
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "RSS: {lo}–{hi} MiB over the run from its start, before any request ({:+.0}% from the \
         lowest; {:+.0}% from {warm} MiB after one request of each page), {} idle after it",
        (hi as f64 / lo.max(1) as f64 - 1.0) * 100.0,
        (hi as f64 / warm.max(1) as f64 - 1.0) * 100.0,
        rss_parts(&pid)
    );
    judge(&summaries, rounds);
    let anon_hi = anon_seen.iter().max().copied().unwrap_or(0);
    println!(
        "Anonymous (heap, stacks): {}–{anon_hi} MiB over the run, {warm_anon} MiB after one \
         request of each page ({:+.0}% from it)",
        anon_seen.iter().min().copied().unwrap_or(0),
        (anon_hi as f64 / warm_anon.max(1) as f64 - 1.0) * 100.0
    );
}

/// The goals, on each page's medians over the rounds; then, when asked, the medians saved
/// (SAVE_TO) or compared with a smaller dataset's saved ones (COMPARE_WITH).
fn judge(summaries: &[Summary], rounds: usize) {
    println!(
        "Goals on the median of {rounds} round(s): one request < {} ms, p99 < {} ms, lists ≥ {} \
         req/s, HTML < {} KB, /healthz p99 < {} ms beside each",
        goals::ONE_MS,
        goals::P99_MS,
        goals::LIST_RATE,
        goals::MAX_KB,
        goals::HEALTHZ_P99_MS
    );
    println!(
        "{:<38} {:>8} {:>15} {:>8} {:>11}  goals",
        "page", "one ms", "req/s (range)", "p99 ms", "healthz p99"
    );
    let mut missed = 0;
    for s in summaries {
        let m = s.typical();
        let lo = s
            .rounds
            .iter()
            .map(|r| r.rate)
            .fold(f64::INFINITY, f64::min);
        let hi = s.rounds.iter().map(|r| r.rate).fold(0.0, f64::max);
        let misses = s.misses();
        missed += usize::from(!misses.is_empty());
        let verdict = if misses.is_empty() {
            "✓".to_string()
        } else {
            format!("✗ {}", misses.join(", "))
        };
        println!(
            "{:<38} {:>8.1} {:>5.0} ({lo:.0}–{hi:.0}) {:>8.1} {:>11.1}  {verdict}",
            s.label, m.one_ms, m.rate, m.p99_ms, m.healthz_p99_ms
        );
    }
    println!("{missed} page(s) miss a goal");
    if let Ok(path) = std::env::var("SAVE_TO") {
        let saved: String = summaries.iter().map(Summary::saved).collect();
        match std::fs::write(&path, saved) {
            Ok(()) => println!("medians saved to {path}"),
            Err(e) => println!("could not save the medians to {path}: {e}"),
        }
    }
    if let Ok(path) = std::env::var("COMPARE_WITH") {
        match std::fs::read_to_string(&path) {
            Ok(saved) => {
                // A saved run from another build or another day compares two machines' moods.
                let age = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .map_or("of unknown age".to_string(), |d| {
                        format!("saved {} min ago", d.as_secs() / 60)
                    });
                println!("compared with {path} ({age})");
                print!("{}", goals::compare(&saved, summaries))
            }
            Err(e) => println!("could not read {path} to compare with: {e}"),
        }
    }
}
