//! The `gatehouse` server: configuration, sign-in, sessions, database, AWS and the HTTP router.

pub mod http;
pub mod rest;
pub mod seed_demo;
pub mod seed_demo_http;
pub mod seed_scale;

// The request path's code lives in the app crate (server functions call it directly); the
// binary re-exports it under its old names for the CLI and the integration tests.
pub use app::backend::{
    audit, auth, aws, callers, campaigns, catalog, clock, config, db, directory, expiry, history,
    mappings, memberships, owners, person_access, push, schedule, session, state, tryit, users,
    webhooks,
};

use std::sync::Arc;

use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::trace::{DefaultMakeSpan, TraceLayer};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use app::backend::notices::session_store::KeptSessionStore;

use crate::{auth::oidc::Oidc, config::Settings, state::AppState};

/// The app's routes, worked out once per process. Working them out runs the app with resource
/// loading suppressed process-wide (leptos's `SuppressResourceLoad`); a page rendering at that
/// moment in another server of the same process (the integration tests run several) then waited
/// forever for its resource (leptos-rs/leptos#4773).
pub fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let pool = db::prepare(&settings.database).await?;
    if let Some(file) = &settings.clock_skew_file {
        tracing::warn!(file = %file.display(), "Gatehouse's clock is moved by a file (GATEHOUSE_CLOCK_SKEW_FILE): for demos and tests only");
        app::backend::clock::use_skew_file(file.clone());
    }
    let oidc = Oidc::new(settings.oidc.clone(), &settings.base_url)?;
    let directories = settings.directory.build()?;
    let mut syncer =
        catalog::Syncer::new(pool.clone(), &settings.aws, directories.groups.clone()).await;
    syncer.max_removal_percent = directories.max_removal_percent;
    let syncer = Arc::new(syncer);
    // Pages name the hashed files when the site was built with them (see `http::assets`).
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        .unwrap_or_default();
    let hashes = http::assets::site_hashes(
        &exe_dir,
        std::path::Path::new(&settings.site_root),
        "gatehouse",
    );
    // Pages outside the app (sign-in refusals, the REST reference) link the same stylesheet.
    if let Some(hashes) = &hashes {
        app::backend::page::set_stylesheet(format!("/pkg/gatehouse.{}.css", hashes.css));
    }
    let leptos_options = LeptosOptions::builder()
        .output_name("gatehouse")
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(settings.listen)
        .hash_files(hashes.is_some())
        .build();
    let pusher = Arc::new(
        push::Pusher::new(pool.clone(), &settings.aws, settings.push.clone())
            .await
            .with_graph(directories.graph.clone())
            .with_catalog(Arc::clone(&syncer)),
    );
    Ok(AppState {
        leptos_options,
        pool,
        settings: Arc::new(settings),
        oidc: Arc::new(oidc),
        pusher,
        syncer,
        graph: directories.graph,
        callback_throttle: Default::default(),
        desired: Default::default(),
        callers: Default::default(),
        directory_cache: Default::default(),
        session_memory: Default::default(),
    })
}

/// The largest request body accepted (a change set's justification is a few kilobytes).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn router(state: AppState) -> Router {
    let store = KeptSessionStore::new(
        PostgresStore::new(state.pool.clone()),
        state.session_memory.clone(),
    );
    let idle = time::Duration::seconds(state.settings.session_idle.as_secs() as i64);
    let sessions = SessionManagerLayer::new(store)
        .with_name("gatehouse_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.secure_cookies())
        .with_expiry(Expiry::OnInactivity(idle));

    let routes = route_list();
    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                // The page's CSP is set by the security-headers middleware with this nonce.
                if let (Some(nonce), Some(parts)) = (
                    leptos::nonce::use_nonce(),
                    use_context::<axum::http::request::Parts>(),
                ) {
                    if let Some(slot) = parts.extensions.get::<http::headers::NonceSlot>() {
                        if let Ok(mut n) = slot.0.lock() {
                            *n = Some(nonce.to_string());
                        }
                    }
                }
                provide_context(context_state.clone());
            },
            move || app::shell(shell_options.clone()),
        )
        // The site's assets are served here rather than by Leptos's fallback, which renders the
        // app for any answer but 200: a browser revalidating a cached /pkg file got a page (403)
        // instead of 304 Not Modified.
        .nest_service(
            "/pkg",
            // A deploy that ships `.br`/`.gz` beside each file has them served to browsers
            // that take them.
            tower_http::services::ServeDir::new(format!("{}/pkg", state.settings.site_root))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .merge(auth::routes())
        .merge(http::health::routes())
        .merge(if state.settings.metrics_listen.is_none() {
            http::observe::routes()
        } else {
            Router::new()
        })
        .merge(rest::routes(state.clone()))
        .merge(history::routes::routes())
        .merge(history::person_report::routes())
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(middleware::from_fn(http::status::server_fn_status))
        .layer(middleware::from_fn(http::guards::page_access))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::load_user,
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::guards::same_origin,
        ))
        // Inside the security headers: a 503 carries them too.
        .layer(middleware::from_fn_with_state(
            http::limits::Limits::new(
                state.settings.max_concurrent_requests,
                state.settings.request_timeout,
            ),
            http::limits::limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::headers::security_headers,
        ))
        // No request of Gatehouse's needs more; larger ones are refused with 413 before any work.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        // Pages and JSON go compressed to clients that take it (the site's files are
        // precompressed already). Session cookies are SameSite=Lax, so another site cannot
        // make a signed-in browser fetch pages to measure their compressed size (BREACH).
        // Downloads (exports) keep their exact length, which the export page and the manifest
        // state.
        .layer(
            tower_http::compression::CompressionLayer::new().compress_when(
                tower_http::compression::Predicate::and(
                    tower_http::compression::predicate::DefaultPredicate::new(),
                    |_: axum::http::StatusCode,
                     _: axum::http::Version,
                     headers: &axum::http::HeaderMap,
                     _: &axum::http::Extensions| {
                        !headers.contains_key(axum::http::header::CONTENT_DISPOSITION)
                    },
                ),
            ),
        )
        // Spans at INFO so a failed response's log line names its method and path.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO)),
        )
        // Outermost: the request id is on every log line of the request, and every answer is
        // counted, the limits' 503s included.
        .layer(middleware::from_fn(http::observe::observe))
        .with_state(state)
}

/// Ctrl-C or SIGTERM (what a service manager or Kubernetes sends): stop accepting, finish the
/// requests under way. A push still running is taken over by the next process (its resumer).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests under way");
}

/// Logs what a stopping process handed back to the other replicas: `jobs` of them, at once, or,
/// when the database did not answer, left to their leases or claims to lapse.
fn handed_back(jobs: &str, result: sqlx::Result<u64>) {
    match result {
        Ok(0) => {}
        Ok(n) => tracing::info!(count = n, "{jobs} handed back to another process"),
        Err(e) => {
            tracing::error!(error = %e, "could not hand {jobs} back; their leases or claims lapse instead")
        }
    }
}

/// Deletes expired sessions in the background, every few minutes.
pub fn spawn_session_cleanup(state: &AppState) {
    use tower_sessions::ExpiredDeletion;
    let store = PostgresStore::new(state.pool.clone());
    tokio::spawn(async move {
        if let Err(e) = store
            .continuously_delete_expired(std::time::Duration::from_secs(300))
            .await
        {
            tracing::error!(error = %e, "expired-session cleanup stopped");
        }
    });
}

pub async fn serve(listener: TcpListener, state: AppState) -> anyhow::Result<()> {
    // The approved state (read and indexed) before the first request: the first pages do not
    // wait for it, and memory is what it will be under load from the start.
    if let Err(e) = state.desired.current(&state.pool).await {
        tracing::warn!(error = %e, "could not read the approved state ahead of the first request");
    }
    spawn_session_cleanup(&state);
    http::observe::spawn_upkeep();
    // Sessions changed or ended through any replica are forgotten here too.
    state.session_memory.clone().spawn_listener(&state.pool);
    // Pushes a stopped process left unfinished are taken over.
    state.pusher.clone().spawn_resumer();
    // So are exports whose rows were still being hashed (each by one replica: a lease).
    history::exports::spawn_resumer(state.pool.clone(), state.settings.anchoring.clone());
    match &state.settings.anchoring {
        Some(anchoring) => anchoring.clone().spawn_schedule(state.pool.clone()),
        None => tracing::warn!(
            "no audit key (GATEHOUSE_AUDIT_KEY_FILE): the audit chain has no signed checkpoints \
             outside the database and export manifests are unsigned"
        ),
    }
    // Time-bound access ends by itself (one replica per period).
    app::backend::expiry::spawn(state.pusher.clone(), state.settings.expiry_every);
    // Review campaigns close at their due date, with a reminder before (same period).
    app::backend::campaigns::close::spawn(state.pool.clone(), state.settings.expiry_every);
    if let Some(every) = state.settings.push.drift_interval {
        state.pusher.clone().spawn_drift_schedule(every);
    }
    // Notifications: events become deliveries, sent and retried until taken.
    let notifications = webhooks::spawn(
        state.pool.clone(),
        state.settings.base_url.to_string(),
        state.settings.webhook_poll,
        state.settings.webhook_retry,
    );
    if let Some(every) = state.settings.sync_interval {
        catalog::schedule::spawn(state.syncer.clone(), every);
    }
    if let Some(address) = state.settings.metrics_listen {
        let metrics = TcpListener::bind(address).await.map_err(|e| {
            anyhow::anyhow!("cannot listen on {address} (GATEHOUSE_METRICS_LISTEN): {e}")
        })?;
        let app = http::observe::routes().with_state(state.clone());
        tracing::info!("metrics on http://{address}/metrics");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, app).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    // Client addresses reach the handlers (the sign-in callback limits per address).
    let pusher = state.pusher.clone();
    let pool = state.pool.clone();
    let grace = state.settings.shutdown_grace;
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    // On SIGTERM or Ctrl-C: stop accepting, let the requests under way finish within the grace
    // period, then hand running pushes, exports and unsent notifications back and exit.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let deadline = async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|s| *s).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server => served?,
        _ = deadline => tracing::warn!(?grace, "requests still under way after the grace period; stopping anyway"),
    }
    handed_back("running pushes", pusher.release_leases().await);
    handed_back(
        "exports being hashed",
        history::exports::hand_back(&pool).await,
    );
    handed_back("unsent notifications", notifications.hand_back(&pool).await);
    tracing::info!("stopped");
    Ok(())
}
