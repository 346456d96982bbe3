//! What each request tells operators: an id (`x-request-id`, kept from a proxy when it is short
//! and plain, made otherwise) on the response and on every log line of the request, one log line
//! per answer, and a count and latency by route in `/metrics` (Prometheus).

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// An id from outside is kept only when it is short and plain: it goes into every log line.
pub fn acceptable_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The route a request matched, as a metric label: the pattern (`/apis/{id}`), never the path
/// itself, so ids and typos do not make a label each.
fn route_label(req: &Request) -> String {
    match req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
    {
        Some(p) if p.starts_with("/pkg") => "/pkg".into(),
        Some(p) => p.to_string(),
        None => "unmatched".into(),
    }
}

/// Probes and assets: logged at debug, not once per scrape or file.
fn quiet(route: &str) -> bool {
    matches!(route, "/healthz" | "/readyz" | "/metrics" | "/pkg")
}

/// The outermost layer: gives the request its id and span, then counts and logs the answer.
pub async fn observe(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header_value = HeaderValue::from_str(&id).expect("an acceptable id is a header value");
    req.headers_mut().insert(REQUEST_ID, header_value.clone());
    let route = route_label(&req);
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let began = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let took = began.elapsed();
    let status = response.status().as_u16();
    metrics::counter!(
        "gatehouse_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status.to_string(),
    )
    .increment(1);
    metrics::histogram!(
        "gatehouse_http_request_duration_seconds",
        "method" => method,
        "route" => route.clone(),
    )
    .record(took.as_secs_f64());
    let took_ms = took.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if quiet(&route) {
            tracing::debug!(status, took_ms, "answered");
        } else {
            tracing::info!(status, took_ms, "answered");
        }
    });
    response.headers_mut().insert(REQUEST_ID, header_value);
    response
}

/// The process's Prometheus recorder, installed on first use. A recorder installed before
/// (another in the same process) keeps recording; this one then renders only what it saw.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_seconds".into()),
                &[
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
                ],
            )
            .expect("bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed before Gatehouse's");
        }
        handle
    })
}

/// Every latency recorded waits in the recorder, one sample each, until drained into its
/// buckets. A scrape drains them, but a process nobody scrapes (or scrapes rarely) kept every
/// request's: 1.5 MiB more each 65,000 requests (`bench/scale.sh`). Drained every second: at
/// 30,000 requests a second (`/healthz` under load) five seconds' samples held 3 MiB.
pub fn spawn_upkeep() {
    const EVERY: Duration = Duration::from_secs(1);
    tokio::spawn(async {
        let mut every = tokio::time::interval(EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            recorder().run_upkeep();
        }
    });
}

/// `/metrics`, on the main router or on a listener of its own.
pub fn routes() -> Router<AppState> {
    recorder();
    Router::new().route("/metrics", get(metrics_text))
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    // Read when scraped: the audit chain's length (its newest sequence number, from an index).
    match sqlx::query_scalar::<_, Option<i64>>("SELECT max(seq) FROM audit_events")
        .fetch_one(&state.pool)
        .await
    {
        Ok(seq) => metrics::gauge!("gatehouse_audit_chain_length").set(seq.unwrap_or(0) as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: the audit chain's length not read"),
    }
    let handle = recorder();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::acceptable_id;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(acceptable_id("3f2c9a1e-7b4d-4c2a-9e1f-0a1b2c3d4e5f"));
        assert!(acceptable_id("lb.1701:abc_9"));
        assert!(!acceptable_id(""));
        assert!(!acceptable_id(&"a".repeat(65)));
        assert!(!acceptable_id("a b"));
        assert!(!acceptable_id("id\",\"admin\":true"));
        assert!(!acceptable_id("é"));
    }
}
