use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::{use_context, LeptosOptions};
use sqlx::PgPool;

use crate::backend::{
    audit::Actor, auth::oidc::Oidc, catalog::Syncer, config::Settings,
    directory::graph::GraphDirectory, session::SessionUser,
};
use crate::error::AppError;

/// The one state object: handed to axum routes and, through context, to server functions.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub oidc: Arc<Oidc>,
    /// Runs pushes, and takes over those a stopped process left.
    pub pusher: Arc<crate::backend::push::Pusher>,
    pub syncer: Arc<Syncer>,
    /// Microsoft Graph, when configured: sign-in reads overflowing group claims from it.
    pub graph: Option<Arc<GraphDirectory>>,
    /// Counts and limits sign-in callbacks that match no sign-in in progress.
    pub callback_throttle: Arc<crate::backend::auth::throttle::CallbackThrottle>,
    /// The approved desired state of the newest version, shared by the pages that read it.
    pub desired: Arc<crate::backend::mappings::cache::DesiredCache>,
    /// Who may call the methods looked at lately (kept per desired version and directory).
    pub callers: Arc<crate::backend::callers::CallersCache>,
    /// Group names and counts of the stored directory (kept per directory generation).
    pub directory_cache: Arc<crate::backend::directory::cache::DirectoryCache>,
    /// Sessions read lately and when each person's sessions were last ended (kept while
    /// notifications can tell).
    pub session_memory: Arc<crate::backend::notices::SessionMemory>,
}

/// For server functions: the state the router provides to every request.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| AppError::internal("AppState is not in context"))
}

/// The signed-in person making the request (the session layer put them in its extensions).
pub fn caller() -> Option<SessionUser> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SessionUser>().cloned())
}

/// The request's person as the audit log names them.
pub fn actor() -> Actor {
    caller().map(|u| u.actor()).unwrap_or_else(Actor::anonymous)
}
