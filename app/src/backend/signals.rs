//! What Gatehouse's work tells monitoring, through the `metrics` facade (the server installs a
//! Prometheus recorder and serves it at `/metrics`). Names and labels are kept here, in one
//! place, so a dashboard's queries have one source to match. Labels take bounded values only
//! (operation names, outcomes, catalog names), never ids or user input.

use std::time::Duration;

/// One AWS (or directory) call of a push, by operation and outcome (`done` or `failed`).
pub fn push_step(operation: &str, done: bool) {
    metrics::counter!(
        "gatehouse_push_steps_total",
        "operation" => operation.to_string(),
        "outcome" => if done { "done" } else { "failed" },
    )
    .increment(1);
}

/// A push run that ended, by outcome.
pub fn push_run(succeeded: bool) {
    metrics::counter!(
        "gatehouse_push_runs_total",
        "outcome" => if succeeded { "succeeded" } else { "failed" },
    )
    .increment(1);
}

/// A drift check that ended: how many items it found (`None`: the check failed).
pub fn drift_check(items: Option<usize>) {
    metrics::counter!(
        "gatehouse_drift_checks_total",
        "outcome" => match items { None => "failed", Some(0) => "clean", Some(_) => "drift" },
    )
    .increment(1);
    if let Some(n) = items {
        metrics::gauge!("gatehouse_drift_items").set(n as f64);
    }
}

/// A catalog or directory sync that ended, how long it took, and whether it succeeded.
pub fn sync(catalog: &'static str, took: Duration, succeeded: bool) {
    metrics::histogram!("gatehouse_sync_duration_seconds", "catalog" => catalog)
        .record(took.as_secs_f64());
    metrics::counter!(
        "gatehouse_syncs_total",
        "catalog" => catalog,
        "outcome" => if succeeded { "succeeded" } else { "failed" },
    )
    .increment(1);
}

/// One call to a directory (`graph` or `ldap`), whatever its retries: by operation (an HTTP
/// method or `search`) and outcome (`ok`, `refused`, `error`).
pub fn directory_call(
    directory: &'static str,
    operation: &'static str,
    outcome: &'static str,
    took: Duration,
) {
    metrics::counter!(
        "gatehouse_directory_calls_total",
        "directory" => directory,
        "operation" => operation,
        "outcome" => outcome,
    )
    .increment(1);
    metrics::histogram!("gatehouse_directory_call_duration_seconds", "directory" => directory)
        .record(took.as_secs_f64());
}

/// A directory told Gatehouse to slow down (Graph's 429/503/504 with `Retry-After`).
pub fn directory_throttle(directory: &'static str) {
    metrics::counter!("gatehouse_directory_throttles_total", "directory" => directory).increment(1);
}
