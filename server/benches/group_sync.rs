//! Benchmark: sync a tenant of 50,000 groups, 200,000 people and 1,000,000 membership edges
//! from the Microsoft Graph fake into a fresh database (first delta rounds, `members@delta`),
//! then a full re-listing with nothing changed, then delta rounds (nothing, then membership
//! changes); and read group pages and a group's members at that size. Prints the time, the
//! rate, and the peak memory of each phase (the peak is reset between phases; the fake serves
//! from this process, so its pages count too). `cargo bench -p server --bench group_sync`
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
const PEOPLE: usize = 200_000;
const MEMBERS_PER_GROUP: usize = 20;

/// Resets the process's peak resident memory, so each phase reports its own (Linux 4.0+).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

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
    reset_peak();
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
    fake.generate_tenant(GROUPS, PEOPLE, MEMBERS_PER_GROUP);
    let pool = migrated_database().await;
    let graph = Arc::new(GraphDirectory::new(fake.settings()).unwrap());
    let aws = gatehouse::config::ServeArgs::default().aws().unwrap();
    let syncer = Syncer::new(pool.clone(), &aws, Some(Arc::new(Directory::Graph(graph)))).await;
    let actor = Actor::system("bench");
    let (rss, peak) = memory_mib();
    println!(
        "before any sync: rss {rss:.1} MiB, peak {peak:.1} MiB ({GROUPS} groups, {PEOPLE} people, {} edges in the fake, 999 per page)",
        GROUPS * MEMBERS_PER_GROUP
    );

    let first = timed(
        "first sync (all new)",
        GROUPS,
        syncer.sync(&actor, Catalog::Groups),
    )
    .await
    .unwrap();
    assert_eq!(first.counts.added as usize, GROUPS);
    let report = first.directory.as_ref().unwrap();
    assert_eq!(report.people_added as usize, PEOPLE);
    assert_eq!(report.memberships as usize, GROUPS * MEMBERS_PER_GROUP);
    println!(
        "  stored {} people and {} membership edges",
        report.people_added, report.memberships
    );

    fake.forget_delta_tokens();
    let again = timed(
        "full re-listing, nothing changed",
        GROUPS,
        syncer.sync(&actor, Catalog::Groups),
    )
    .await
    .unwrap();
    assert_eq!((again.counts.added, again.counts.changed), (0, 0));

    let again = timed(
        "delta round, nothing changed",
        GROUPS,
        syncer.sync(&actor, Catalog::Groups),
    )
    .await
    .unwrap();
    assert_eq!(again.counts.changed, 0);

    // A delta round with membership changes: 100 groups of the tenant gain and lose members.
    for g in 0..100 {
        let id = format!("0f000000-0000-4000-8000-{g:012}");
        fake.add_group(FakeGroup {
            id: id.clone(),
            display_name: format!("Changing group {g:03}"),
            description: None,
            mail: None,
            members: (0..50).map(|p| generated_person_id(g * 50 + p)).collect(),
            nested: vec![generated_id(g)],
        });
    }
    timed(
        "delta round, 100 groups added (5,100 edges)",
        100,
        syncer.sync(&actor, Catalog::Groups),
    )
    .await
    .unwrap();
    for g in 0..100 {
        let id = format!("0f000000-0000-4000-8000-{g:012}");
        fake.remove_member(&id, &generated_person_id(g * 50));
        fake.add_member(&id, &generated_person_id(PEOPLE - 1 - g));
    }
    let changed = timed(
        "delta round, 200 membership changes",
        100,
        syncer.sync(&actor, Catalog::Groups),
    )
    .await
    .unwrap();
    let report = changed.directory.unwrap();
    assert_eq!(
        (report.memberships_added, report.memberships_removed),
        (100, 100)
    );

    // A group's members from the stored graph: 50 direct and 20 through a nested group.
    let group = "0f000000-0000-4000-8000-000000000007";
    let runs = 200;
    let start = Instant::now();
    for _ in 0..runs {
        let detail = group_queries::group_detail(&pool, "graph", group, &Cursor::First)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(detail.members.unwrap().total, 70);
    }
    println!(
        "group page with members at {} edges: {:.2} ms",
        report.memberships,
        start.elapsed().as_secs_f64() * 1000.0 / runs as f64
    );

    // Reading pages: the first, one deep in the list (keyset), and a search.
    let pages = 200;
    let first_page = group_queries::list_groups(&pool, &Default::default(), "", &Cursor::First)
        .await
        .unwrap();
    let start = Instant::now();
    for _ in 0..pages {
        group_queries::list_groups(&pool, &Default::default(), "", &Cursor::First)
            .await
            .unwrap();
    }
    let first_ms = start.elapsed().as_secs_f64() * 1000.0 / pages as f64;
    let deep = Cursor::After(format!("graph/{}", generated_id(GROUPS - 100)));
    let start = Instant::now();
    for _ in 0..pages {
        group_queries::list_groups(&pool, &Default::default(), "", &deep)
            .await
            .unwrap();
    }
    let deep_ms = start.elapsed().as_secs_f64() * 1000.0 / pages as f64;
    let start = Instant::now();
    for _ in 0..pages {
        group_queries::list_groups(&pool, &Default::default(), "group 0499", &Cursor::First)
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
