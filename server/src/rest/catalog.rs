//! `/api/v1/me`, `/api/v1/apis` and `/api/v1/explain`: who the token is, what is synced, and
//! whether a person may call a route.

use app::{
    backend::tokens::TokenCaller,
    catalog::types::{ApiSort, Cursor},
};
use axum::{
    extract::{Query, State},
    Extension, Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::{ApiResult, Problem};
use crate::state::AppState;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub token: i64,
    /// `person` or `service`.
    pub kind: String,
    /// Who its requests act as, as the history names them.
    pub acts_as: String,
    pub scopes: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "tokens",
    responses((status = 200, body = Me), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["read"])))]
pub async fn me(Extension(caller): Extension<TokenCaller>) -> Json<Me> {
    Json(Me {
        token: caller.id,
        kind: caller.kind.as_str().to_string(),
        acts_as: caller.actor.name.clone(),
        scopes: caller
            .scopes
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
    })
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiOut {
    /// `ACCOUNT/REGION`.
    pub target: String,
    pub api_id: String,
    pub name: String,
    pub stages: i64,
    pub methods: i64,
    /// Gone from AWS at the last sync.
    pub gone: bool,
    pub last_synced_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiPage {
    pub items: Vec<ApiOut>,
    pub total: i64,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/apis", tag = "catalog", params(super::directory::ListQuery),
    responses((status = 200, body = ApiPage), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["read"])))]
pub async fn apis(
    State(state): State<AppState>,
    Query(q): Query<super::directory::ListQuery>,
) -> ApiResult<Json<ApiPage>> {
    let page = app::backend::catalog::queries::list_apis_page(
        &state.pool,
        q.search.trim(),
        ApiSort::default(),
        &Cursor::from_query(&q.after, ""),
        app::domain::paging::size_of(&q.size),
    )
    .await?;
    Ok(Json(ApiPage {
        total: page.total,
        next: page.next,
        items: page
            .items
            .into_iter()
            .map(|a| ApiOut {
                target: a.target,
                api_id: a.api_id,
                name: a.name,
                stages: a.stages,
                methods: a.methods,
                gone: a.gone,
                last_synced_at: a.last_synced_at,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainQuery {
    /// The person: their user name (e-mail), display name or object id.
    #[serde(default)]
    pub person: String,
    #[serde(default)]
    pub api: String,
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub method: String,
    /// A request path (`/orders/42`) or a resource (`/orders/{id}`).
    #[serde(default)]
    pub path: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Explained {
    pub allowed: bool,
    pub person: String,
    /// The link that decides, in a sentence.
    pub decided_by: String,
    /// The whole chain, when allowed through Gatehouse's mappings.
    pub chain: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/explain", tag = "effective access", params(ExplainQuery),
    responses((status = 200, body = Explained), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "no such person"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["read"])))]
pub async fn explain(
    State(state): State<AppState>,
    Query(q): Query<ExplainQuery>,
) -> ApiResult<Json<Explained>> {
    let route = app::tryit::TryRoute {
        api_id: q.api,
        stage: q.stage,
        method: q.method,
        path: q.path,
    };
    let route = app::backend::tryit::check(&route)?;
    let who = app::backend::person_access::find_one(&state.pool, &q.person)
        .await?
        .map_err(|e| Problem::new("not-found", e))?;
    let snapshot = state.desired.current(&state.pool).await?;
    let e = app::backend::person_access::explain(
        &state.pool,
        &*snapshot,
        (&who.source, &who.oid),
        &route,
    )
    .await?
    .ok_or_else(|| {
        Problem::new(
            "not-found",
            format!("{} is no longer in the directory", q.person),
        )
    })?;
    Ok(Json(Explained {
        allowed: e.allowed,
        person: who.name,
        decided_by: e.decided_by,
        chain: e.chain,
    }))
}
