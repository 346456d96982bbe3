//! Benchmark: sync 50,000 groups from the Microsoft Graph fake into a fresh database, then a
//! full re-listing with nothing changed, then a delta round; and read group pages at 50k.
//! Prints groups/s and the process's peak memory. `cargo bench -p server --bench group_sync`
//! (needs PostgreSQL: GATEHOUSE_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).

#[path = "../tests/common/mod.rs"]
#[allow(unused_imports)]
mod common;

use std::{sync::Arc, time::Instant};

use app::catalog::types::Cursor;
use common::{graph_fake::*, migrated_database};
use gatehouse::{
    audit::Actor,
    catalog::{group_queries, Catalog, Syncer},
    directory::{graph::GraphDirectory, Directory},
};

const GROUPS: usize = 50_000;

/// (current, peak) resident memory of this process in MiB, from /proc.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn timed<T>(what: &str, count: usize, f: impl std::future::Future<Output = T>) -> T {
    let start = Instant::now();
    let out = f.await;
    let secs = start.elapsed().as_secs_f64();
    let (rss, peak) = memory_mib();
    println!(
        "{what:<42} {secs:>8.3} s  {:>10.0} groups/s  rss {rss:>6.1} MiB  peak {peak:>6.1} MiB",
        count as f64 / secs
    );
    out
}

#[tokio::main]
async fn main() {
    let fake = GraphFake::start().await;
    fake.generate_groups(GROUPS);
    let pool = migrated_database().await;
    let graph = Arc::new(GraphDirectory::new(fake.settings()).unwrap());
    let aws = gatehouse::config::ServeArgs::default().aws().unwrap();
    let syncer = Syncer::new(pool.clone(), &aws, Some(Arc::new(Directory::Graph(graph)))).await;
    let actor = Actor::system("bench");
    let (rss, peak) = memory_mib();
    println!("before any sync: rss {rss:.1} MiB, peak {peak:.1} MiB ({GROUPS} groups in the fake, 999 per page)");

    let first = timed(
        "first sync (all new)",
        GROUPS,
        syncer.sync(&actor, Catalog::Groups),
    )
    .await
    .unwrap();
    assert_eq!(first.counts.added as usize, GROUPS);

    fake.forget_delta_tokens();
    let again = timed(
        "full re-listing, nothing changed",
        GROUPS,
        syncer.sync(&actor, Catalog::Groups),
    )
    .await
    .unwrap();
    assert_eq!((again.counts.added, again.counts.changed), (0, 0));

    let start = Instant::now();
    let again = syncer.sync(&actor, Catalog::Groups).await.unwrap();
    assert_eq!(again.counts.changed, 0);
    println!(
        "{:<42} {:>8.3} s  (one delta page, no group in it)",
        "delta round, nothing changed",
        start.elapsed().as_secs_f64()
    );

    // Reading pages: the first, one deep in the list (keyset), and a search.
    let pages = 200;
    let first_page = group_queries::list_groups(&pool, "", &Cursor::First)
        .await
        .unwrap();
    let start = Instant::now();
    for _ in 0..pages {
        group_queries::list_groups(&pool, "", &Cursor::First)
            .await
            .unwrap();
    }
    let first_ms = start.elapsed().as_secs_f64() * 1000.0 / pages as f64;
    let deep = Cursor::After(format!("graph/{}", generated_id(GROUPS - 100)));
    let start = Instant::now();
    for _ in 0..pages {
        group_queries::list_groups(&pool, "", &deep).await.unwrap();
    }
    let deep_ms = start.elapsed().as_secs_f64() * 1000.0 / pages as f64;
    let start = Instant::now();
    for _ in 0..pages {
        group_queries::list_groups(&pool, "group 0499", &Cursor::First)
            .await
            .unwrap();
    }
    let search_ms = start.elapsed().as_secs_f64() * 1000.0 / pages as f64;
    println!(
        "group page at {GROUPS}: first {first_ms:.2} ms, page near the end {deep_ms:.2} ms (ratio {:.2}), search {search_ms:.2} ms; {} on the first page",
        deep_ms / first_ms,
        first_page.items.len()
    );
}
