use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use crate::backend::{
    auth::oidc::Oidc, catalog::Syncer, config::Settings, directory::graph::GraphDirectory,
};
use crate::{catalog::CatalogBackend, mappings::MappingsBackend, push::PushBackend};

/// The one state object: handed to axum routes and, through context, to server functions.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub oidc: Arc<Oidc>,
    pub catalog: Arc<dyn CatalogBackend>,
    pub mappings: Arc<dyn MappingsBackend>,
    pub push: Arc<dyn PushBackend>,
    pub drift: Arc<dyn crate::push::DriftBackend>,
    pub history: Arc<dyn crate::history::HistoryBackend>,
    /// Runs pushes, and takes over those a stopped process left.
    pub pusher: Arc<crate::backend::push::Pusher>,
    pub syncer: Arc<Syncer>,
    /// Microsoft Graph, when configured: sign-in reads overflowing group claims from it.
    pub graph: Option<Arc<GraphDirectory>>,
}
