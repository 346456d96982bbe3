//! `/api/v1/groups`, `/roles`, `/people`, `/apis/{api_id}/routes` and `/mappings`: what the
//! directory, IAM and API Gateway hold as Gatehouse last synced them, and the approved mappings
//! between them. Every list pages with `after` (keyset).

use app::catalog::types::Cursor;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    etag::{etagged, IfNoneMatch},
    problem::{ApiResult, Problem},
};
use crate::state::AppState;

/// A list's query: a search and where to continue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Part of a name, an e-mail, an id or an ARN.
    #[serde(default)]
    pub search: String,
    /// A `next` from the previous page.
    #[serde(default)]
    pub after: String,
    /// Rows per page (1–200, default 50; groups: 50).
    #[serde(default)]
    pub size: String,
}

/// One page of a list.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// How many match, across every page.
    pub total: i64,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

const PROBLEM: &str = "application/problem+json";

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupOut {
    /// The directory: `entra`, `ldap` or `file`.
    pub source: String,
    pub id: String,
    pub name: String,
    pub mail: Option<String>,
    /// When it vanished from the directory.
    pub deleted_at: Option<String>,
    pub last_synced_at: String,
}

#[utoipa::path(get, path = "/api/v1/groups", tag = "catalog", params(ListQuery, ("If-None-Match" = Option<String>, Header)),
    responses((status = 200, body = Paged<GroupOut>, headers(("ETag" = String))), (status = 304, description = "unchanged"),
        (status = 401, body = Problem, content_type = PROBLEM), (status = 403, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn groups(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
    if_none_match: IfNoneMatch,
) -> ApiResult<Response> {
    let page = app::backend::catalog::group_queries::list_groups(
        &state.pool,
        &state.directory_cache,
        q.search.trim(),
        &Cursor::from_query(&q.after, ""),
    )
    .await?;
    let out = Paged {
        total: page.total,
        next: page.next,
        items: page
            .items
            .into_iter()
            .map(|g| GroupOut {
                source: g.source,
                id: g.object_id,
                name: g.display_name,
                mail: g.mail,
                deleted_at: g.deleted_at,
                last_synced_at: g.last_synced_at,
            })
            .collect(),
    };
    Ok(etagged(&if_none_match, &out))
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RoleOut {
    pub arn: String,
    pub name: String,
    /// `ACCOUNT/REGION`.
    pub target: String,
    /// Carries Gatehouse's managed tag: Gatehouse writes its policy.
    pub managed: bool,
    /// Who may assume it, from its trust policy.
    pub trusted: Vec<String>,
    /// Gone from IAM at the last sync.
    pub gone: bool,
    pub last_synced_at: String,
}

#[utoipa::path(get, path = "/api/v1/roles", tag = "catalog", params(ListQuery, ("If-None-Match" = Option<String>, Header)),
    responses((status = 200, body = Paged<RoleOut>, headers(("ETag" = String))), (status = 304, description = "unchanged"),
        (status = 401, body = Problem, content_type = PROBLEM), (status = 403, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn roles(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
    if_none_match: IfNoneMatch,
) -> ApiResult<Response> {
    // An account holds at most a few thousand roles: paged here by ARN, in the page's order.
    let all = app::backend::catalog::role_queries::list_roles(&state.pool, q.search.trim()).await?;
    let total = all.len() as i64;
    let after = q.after.trim();
    let start = match after {
        "" => 0,
        arn => all
            .iter()
            .position(|r| r.arn == arn)
            .map(|i| i + 1)
            .ok_or_else(|| {
                Problem::invalid(vec![(
                    "after".into(),
                    format!("no role {arn} in this list (start again without `after`)"),
                )])
            })?,
    };
    let size = app::domain::paging::size_of(&q.size);
    let rows: Vec<RoleOut> = all
        .into_iter()
        .skip(start)
        .take(size + 1)
        .map(|r| RoleOut {
            arn: r.arn,
            name: r.role_name,
            target: r.target,
            managed: r.managed,
            trusted: r.trusted,
            gone: r.gone,
            last_synced_at: r.last_synced_at,
        })
        .collect();
    Ok(etagged(
        &if_none_match,
        &paged(rows, size, total, |r| r.arn.clone()),
    ))
}

/// The first `size` of `rows` (fetched one over), and the key to continue after, if more.
fn paged<T>(mut rows: Vec<T>, size: usize, total: i64, key: impl Fn(&T) -> String) -> Paged<T> {
    let more = rows.len() > size;
    rows.truncate(size);
    Paged {
        next: rows.last().filter(|_| more).map(key),
        items: rows,
        total,
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonOut {
    pub source: String,
    pub id: String,
    pub name: String,
    /// Their sign-in name (e-mail), when the directory has one.
    pub username: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/people", tag = "catalog", params(ListQuery),
    responses((status = 200, body = Paged<PersonOut>),
        (status = 401, body = Problem, content_type = PROBLEM), (status = 403, body = Problem, content_type = PROBLEM), (status = 422, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn people(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Paged<PersonOut>>> {
    let search = q.search.trim();
    let pattern = app::backend::catalog::queries::like_pattern(search);
    // `after` is `source/id` of the last person of the previous page.
    let (after_source, after_id) = match q.after.trim() {
        "" => (String::new(), String::new()),
        a => a
            .split_once('/')
            .map(|(s, i)| (s.to_string(), i.to_string()))
            .ok_or_else(|| {
                Problem::invalid(vec![(
                    "after".into(),
                    "give the `next` of the previous page".into(),
                )])
            })?,
    };
    let size = app::domain::paging::size_of(&q.size);
    const MATCH: &str = "deleted_at IS NULL
        AND ($1 = '' OR display_name ILIKE $2 OR user_principal_name ILIKE $2 OR object_id = $1)";
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT source, object_id, display_name, user_principal_name FROM directory_people
         WHERE {MATCH}
           AND ($3 = '' OR (lower(display_name), object_id, source) >
                (SELECT lower(display_name), object_id, source FROM directory_people
                 WHERE source = $3 AND object_id = $4))
         ORDER BY lower(display_name), object_id, source LIMIT $5"
    ))
    .bind(search)
    .bind(&pattern)
    .bind(&after_source)
    .bind(&after_id)
    .bind(size as i64 + 1)
    .fetch_all(&state.pool)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM directory_people WHERE {MATCH}"
    ))
    .bind(search)
    .bind(&pattern)
    .fetch_one(&state.pool)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(source, id, name, username)| PersonOut {
            source,
            id,
            name,
            username,
        })
        .collect();
    Ok(axum::Json(paged(rows, size, total, |p| {
        format!("{}/{}", p.source, p.id)
    })))
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RouteOut {
    pub path: String,
    pub method: String,
    /// API Gateway's authorization type: `AWS_IAM`, `CUSTOM`, `NONE`, …
    pub authorization: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RoutesOut {
    pub api_id: String,
    /// `ACCOUNT/REGION`.
    pub target: String,
    pub stages: Vec<String>,
    pub routes: Vec<RouteOut>,
}

#[utoipa::path(get, path = "/api/v1/apis/{api_id}/routes", tag = "catalog",
    params(("api_id" = String, Path), ("If-None-Match" = Option<String>, Header)),
    responses((status = 200, body = RoutesOut, headers(("ETag" = String))), (status = 304, description = "unchanged"),
        (status = 401, body = Problem, content_type = PROBLEM), (status = 403, body = Problem, content_type = PROBLEM), (status = 404, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn routes(
    State(state): State<AppState>,
    Path(api_id): Path<String>,
    if_none_match: IfNoneMatch,
) -> ApiResult<Response> {
    let detail = app::backend::catalog::queries::api_detail(&state.pool, &api_id)
        .await?
        .ok_or_else(|| Problem::new("not-found", format!("no API {api_id} was synced")))?;
    let routes = detail
        .resources
        .iter()
        .flat_map(|r| {
            r.methods.iter().map(|m| RouteOut {
                path: r.path.clone(),
                method: m.http_method.clone(),
                authorization: m.authorization_type.clone(),
            })
        })
        .collect();
    let stages = detail.stages.into_iter().map(|s| s.name).collect();
    let target = detail.summary.target;
    let out = RoutesOut {
        api_id,
        target,
        stages,
        routes,
    };
    Ok(etagged(&if_none_match, &out))
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MappingOut {
    pub group: String,
    pub role: String,
    /// The routes the role may call, `STAGE METHOD PATH` on each API.
    pub routes: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/mappings", tag = "catalog", params(ListQuery, ("If-None-Match" = Option<String>, Header)),
    responses((status = 200, body = Paged<MappingOut>, headers(("ETag" = String))), (status = 304, description = "unchanged"),
        (status = 401, body = Problem, content_type = PROBLEM), (status = 403, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn mappings(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
    if_none_match: IfNoneMatch,
) -> ApiResult<Response> {
    let page = app::backend::mappings::queries::mappings(
        &state.pool,
        &state.desired,
        q.search.trim(),
        &Cursor::from_query(&q.after, ""),
        app::domain::paging::size_of(&q.size),
        // Every route: a client reads the mapping whole (the page names the first few).
        usize::MAX,
    )
    .await?;
    let out = Paged {
        total: page.total,
        next: page.next,
        items: page
            .items
            .into_iter()
            .map(|m| MappingOut {
                group: m.group,
                role: m.role,
                routes: m.routes,
            })
            .collect(),
    };
    Ok(etagged(&if_none_match, &out))
}
