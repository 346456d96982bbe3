//! The scale benchmark's verdict (`benches/support/goals.rs`, compiled here as `bench_goals`):
//! benches are not built by `cargo test`, so its tests live here.

use crate::bench_goals::*;

fn measured(rate: f64, p99_ms: f64) -> Measured {
    Measured {
        one_ms: 3.0,
        rate,
        p99_ms,
        healthz_p99_ms: 10.0,
        kb: 30,
        errors: 0,
    }
}

fn summary(label: &str, kind: Kind, rounds: &[(f64, f64)]) -> Summary {
    Summary {
        label: label.into(),
        kind,
        rounds: rounds.iter().map(|&(r, p)| measured(r, p)).collect(),
    }
}

#[test]
fn the_median_is_the_middle_round_not_the_best() {
    assert_eq!(median(&[900.0, 1200.0, 1000.0]), 1000.0);
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    assert!(median(&[]).is_nan());
}

#[test]
fn a_list_below_the_rate_on_its_median_misses_even_with_one_good_round() {
    let slow = summary(
        "/roles",
        Kind::List,
        &[(1300.0, 20.0), (950.0, 20.0), (900.0, 20.0)],
    );
    assert_eq!(slow.misses(), ["950 req/s"]);
    let fine = summary(
        "/roles",
        Kind::List,
        &[(1300.0, 20.0), (1001.0, 20.0), (900.0, 20.0)],
    );
    assert!(fine.misses().is_empty());
    // A page that is not a list is held to its p99, not to the rate.
    let page = summary(
        "a group's page",
        Kind::Page,
        &[(300.0, 120.0), (310.0, 101.0), (320.0, 90.0)],
    );
    assert_eq!(page.misses(), ["p99 101.0 ms"]);
}

#[test]
fn the_larger_dataset_is_compared_page_by_page_with_the_saved_medians() {
    let before = [
        summary("/roles", Kind::List, &[(1200.0, 30.0)]),
        summary("/apis", Kind::List, &[(1000.0, 20.0)]),
    ];
    let saved: String = before.iter().map(Summary::saved).collect();
    let now = [
        summary("/roles", Kind::List, &[(1000.0, 33.0)]),
        summary("/apis", Kind::List, &[(600.0, 20.0)]),
        summary("/groups", Kind::List, &[(900.0, 20.0)]),
    ];
    let table = compare(&saved, &now);
    let roles = table.lines().find(|l| l.starts_with("/roles")).unwrap();
    assert!(roles.contains("1.20") && roles.ends_with('✓'), "{table}");
    let apis = table.lines().find(|l| l.starts_with("/apis")).unwrap();
    assert!(apis.contains("1.67") && apis.ends_with('✗'), "{table}");
    // Nothing saved for it: not compared.
    assert!(!table.contains("/groups"), "{table}");
}
