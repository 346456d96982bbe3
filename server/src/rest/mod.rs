//! The REST API (`/api/v1`): token-authenticated JSON for pipelines and scripts, described by an
//! OpenAPI 3.1 document generated from the handlers and types below, and a reference page
//! rendered from that document. Who may call what is `app::access::REST`, enforced by
//! [`auth::authorize`] for every route here.

pub mod auth;
pub mod catalog;
pub mod change_sets;
pub mod directory;
pub mod docs;
pub mod etag;
pub mod history;
pub mod idempotency;
pub mod items;
pub mod problem;
pub mod push;

use axum::{
    middleware,
    response::IntoResponse,
    routing::{delete, get, post},
    Json, Router,
};
use utoipa::{
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
    Modify, OpenApi,
};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse REST API",
        version = "1",
        description = "Who may call which API: change sets, reviews, pushes, drift and effective access. Authenticate with a token made on /tokens: `Authorization: Bearer gth_…`. Errors are problem details (RFC 9457) with `type`, `title`, `status`, `detail` and, for bad input, `errors` per field. Lists page with `after` (keyset); reads carry an `ETag`; creates take an `Idempotency-Key` (kept 24 hours)."
    ),
    paths(
        catalog::me,
        catalog::apis,
        directory::routes,
        directory::groups,
        directory::roles,
        directory::people,
        directory::mappings,
        change_sets::list,
        change_sets::create,
        change_sets::get,
        change_sets::submit,
        change_sets::withdraw,
        change_sets::review,
        items::add,
        items::remove,
        items::plan,
        push::start,
        push::status,
        push::drift,
        push::check,
        catalog::explain,
        history::history,
        history::create_export,
        history::export_status,
        history::export_file,
        history::export_manifest,
    ),
    components(schemas(problem::Problem, problem::FieldError)),
    modifiers(&TokenAuth),
    tags(
        (name = "change sets", description = "Create, submit and withdraw change sets; reviews are people's"),
        (name = "pushes", description = "Push approved change sets and follow them"),
        (name = "drift", description = "What AWS holds against what was approved"),
        (name = "catalog", description = "What was synced from API Gateway, IAM and the directory, and the approved mappings"),
        (name = "history", description = "The audit history, and exports of it with their manifests"),
        (name = "effective access", description = "Can a person call a route, and why"),
        (name = "tokens", description = "The token itself"),
    )
)]
pub struct ApiDoc;

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> impl IntoResponse {
    Json(openapi())
}

/// Every route of the REST API, behind its gate.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/docs", get(docs::page))
        .route("/api/v1/me", get(catalog::me))
        .route("/api/v1/apis", get(catalog::apis))
        .route("/api/v1/apis/{api_id}/routes", get(directory::routes))
        .route("/api/v1/groups", get(directory::groups))
        .route("/api/v1/roles", get(directory::roles))
        .route("/api/v1/people", get(directory::people))
        .route("/api/v1/mappings", get(directory::mappings))
        .route(
            "/api/v1/change-sets",
            get(change_sets::list).post(change_sets::create),
        )
        .route("/api/v1/change-sets/{id}", get(change_sets::get))
        .route("/api/v1/change-sets/{id}/submit", post(change_sets::submit))
        .route(
            "/api/v1/change-sets/{id}/withdraw",
            post(change_sets::withdraw),
        )
        .route(
            "/api/v1/change-sets/{id}/reviews",
            post(change_sets::review),
        )
        .route("/api/v1/change-sets/{id}/items", post(items::add))
        .route(
            "/api/v1/change-sets/{id}/items/{index}",
            delete(items::remove),
        )
        .route("/api/v1/change-sets/{id}/plan", get(items::plan))
        .route(
            "/api/v1/change-sets/{id}/push",
            get(push::status).post(push::start),
        )
        .route("/api/v1/drift", get(push::drift))
        .route("/api/v1/drift/checks", post(push::check))
        .route("/api/v1/explain", get(catalog::explain))
        .route("/api/v1/history", get(history::history))
        .route("/api/v1/exports", post(history::create_export))
        .route("/api/v1/exports/{id}", get(history::export_status))
        .route("/api/v1/exports/{id}/file", get(history::export_file))
        .route(
            "/api/v1/exports/{id}/manifest",
            get(history::export_manifest),
        )
        // Anything else under /api/v1 is answered as the API answers, not with a page.
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
        .route_layer(middleware::from_fn_with_state(state, auth::authorize))
}

async fn not_found(uri: axum::http::Uri) -> problem::Problem {
    problem::Problem::new("not-found", format!("the REST API has no {}", uri.path()))
}
