//! No request can stall the others: pages and server functions share a bounded number of slots
//! (a request waits a moment for one, then gets 503), and one that runs past the timeout is
//! abandoned (its future dropped, so its work stops) with 503. Health checks, assets and
//! sign-in never queue behind pages.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::Semaphore;

pub struct Limits {
    slots: Arc<Semaphore>,
    /// The pages that build large views (a matrix) take one of these too, as many as the
    /// cores: their heavy computing is bounded apart (`app::backend::compute`, one fewer than
    /// the cores, so a core is always free for everything else); this bounds how many are under
    /// way at once, their database reads and rendering included.
    heavy: Arc<Semaphore>,
    /// How long a request waits for a slot.
    wait: Duration,
    timeout: Duration,
}

impl Limits {
    pub fn new(slots: usize, timeout: Duration) -> Arc<Limits> {
        Arc::new(Limits {
            slots: Arc::new(Semaphore::new(slots.max(1))),
            heavy: Arc::new(Semaphore::new(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1),
            )),
            wait: timeout.min(Duration::from_secs(10)),
            timeout,
        })
    }
}

/// Paths that answer at once or stream a file: they are not held to slots or the timeout.
fn exempt(path: &str) -> bool {
    app::backend::page::is_probe(path)
        || app::backend::page::is_site_file(path)
        || path.starts_with("/auth/")
        || path.starts_with("/api/audit/exports/")
}

/// Pages (and their server functions) that compute large views in the server process (the
/// others wait on the database, which has cores of its own).
fn heavy(path: &str) -> bool {
    (path.starts_with("/apis/") && path.ends_with("/matrix")) || path == "/api/mappings/matrix"
}

fn busy(message: &'static str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "2")],
        message,
    )
        .into_response()
}

pub async fn limit(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    if exempt(request.uri().path()) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    let Ok(Ok(_slot)) =
        tokio::time::timeout(limits.wait, limits.slots.clone().acquire_owned()).await
    else {
        tracing::warn!(%path, "every request slot busy: answered 503");
        return busy("Gatehouse is busy: try again in a moment.");
    };
    let _heavy = if heavy(&path) {
        match tokio::time::timeout(limits.wait, limits.heavy.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => {
                tracing::warn!(%path, "every slot for large pages busy: answered 503");
                return busy("Gatehouse is busy: try again in a moment.");
            }
        }
    } else {
        None
    };
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%path, timeout = ?limits.timeout, "request abandoned: answered 503");
            busy("This page took too long to prepare and was abandoned: try again, or narrow it with a filter.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_assets_and_sign_in_never_queue() {
        for path in [
            "/healthz",
            "/readyz",
            "/pkg/gatehouse.wasm",
            "/auth/callback",
        ] {
            assert!(exempt(path), "{path}");
        }
        for path in ["/", "/apis/abc/matrix", "/api/mappings/matrix", "/healthzz"] {
            assert!(!exempt(path), "{path}");
        }
        assert!(heavy("/apis/abc1234567/matrix") && heavy("/api/mappings/matrix"));
        assert!(!heavy("/apis/abc1234567") && !heavy("/apis"));
    }
}
