//! `/api/v1/change-sets`: list, create (with its items, in one go; `Idempotency-Key`), read,
//! submit, withdraw. Reviews are refused to tokens by the authorisation table.

use app::{
    backend::{
        mappings::{
            service::{self, Edit},
            workflow::{self, Details, Purpose},
        },
        tokens::TokenCaller,
    },
    catalog::types::Cursor,
    domain::grant::GrantInput,
    mappings::types::{ChangeSetDetail, ChangeSetOrder},
};
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    etag::{etagged, IfNoneMatch},
    idempotency,
    problem::{ApiResult, Problem},
};
use crate::state::AppState;

/// One change to make. `bind` puts a group on a role; `grant` gives a role a route.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemRequest {
    Bind {
        /// The directory the group is in (`entra`, `ldap`, `file`).
        group_source: String,
        group_id: String,
        role_arn: String,
        /// Unbind instead.
        #[serde(default)]
        remove: bool,
    },
    Grant {
        role_arn: String,
        /// `ACCOUNT/REGION` of the API.
        target: String,
        api_id: String,
        /// A stage, or `*`.
        stage: String,
        /// `GET`, …, or `*`.
        method: String,
        /// A resource path (`/orders/{id}`), `/orders/*`, or `$default`.
        path: String,
        /// Revoke instead.
        #[serde(default)]
        remove: bool,
    },
}

impl ItemRequest {
    pub fn edit(self) -> Edit {
        match self {
            ItemRequest::Bind {
                group_source,
                group_id,
                role_arn,
                remove,
            } => Edit::Bind {
                source: group_source,
                group_id,
                role_arn,
                remove,
            },
            ItemRequest::Grant {
                role_arn,
                target,
                api_id,
                stage,
                method,
                path,
                remove,
            } => {
                let (account, region) = target
                    .split_once('/')
                    .map(|(a, r)| (a.to_string(), r.to_string()))
                    .unwrap_or_default();
                Edit::Grant {
                    input: GrantInput {
                        role_arn,
                        account,
                        region,
                        api_id,
                        stage,
                        method,
                        path,
                    },
                    remove,
                }
            }
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct NewChangeSet {
    pub title: String,
    /// Why this access is needed (what the reviewer reads).
    pub justification: String,
    #[serde(default)]
    pub ticket: String,
    pub items: Vec<ItemRequest>,
    /// When the access it adds ends (RFC 3339); Gatehouse revokes it then, under the same
    /// approval. Absent: no end.
    #[serde(default)]
    pub access_ends: Option<String>,
    /// Submit for review at once.
    #[serde(default)]
    pub submit: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemOut {
    pub index: usize,
    pub added: bool,
    pub text: String,
    pub warning: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyOut {
    pub role: String,
    pub summary: String,
    /// The policy's diff, a line each, `+`/`-`/` ` first.
    pub diff: Vec<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OwnerApprovalOut {
    pub api_id: String,
    pub api_name: String,
    /// The owner groups ("Orders team or Platform engineering"): a member of any may approve.
    pub owners: String,
    /// The approver who owns it; `null` while it waits for one.
    pub approved_by: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeSetOut {
    pub id: i64,
    pub title: String,
    /// `draft`, `submitted`, `approved`, `rejected`, `withdrawn`, `pushing`, `pushed`, `push_failed`.
    pub state: String,
    pub author: String,
    pub justification: String,
    pub ticket: Option<String>,
    pub items: Vec<ItemOut>,
    pub policies: Vec<PolicyOut>,
    pub approvals: usize,
    pub approvals_required: usize,
    /// The owned APIs it changes the callers of: each needs an approval from one of its owners
    /// besides the approvals required.
    pub owner_approvals: Vec<OwnerApprovalOut>,
    /// Why approving would be refused now (another change set changed the same mappings).
    pub stale: Option<String>,
    pub updated_at: String,
    /// When the access it adds ends (`2026-12-24 17:00`, UTC); Gatehouse revokes it then.
    pub access_ends_at: Option<String>,
    /// The change set Gatehouse wrote to revoke it at its end, once written.
    pub revoked_by: Option<i64>,
    /// For a revocation: the time-bound change set whose access it ends.
    pub revokes: Option<i64>,
    /// The change set's page, for people.
    pub url: String,
}

impl From<ChangeSetDetail> for ChangeSetOut {
    fn from(d: ChangeSetDetail) -> Self {
        let s = d.summary;
        ChangeSetOut {
            id: s.id,
            url: format!("/change-sets/{}", s.id),
            title: s.title,
            state: s.state,
            author: s.author_name,
            justification: d.justification,
            ticket: d.ticket,
            access_ends_at: d.access_end.as_ref().map(|e| e.at.clone()),
            revoked_by: d.access_end.as_ref().and_then(|e| e.revoked_by),
            revokes: d.revokes,
            items: d
                .items
                .into_iter()
                .map(|i| ItemOut {
                    index: i.index,
                    added: i.added,
                    text: i.text,
                    warning: i.warning,
                })
                .collect(),
            policies: d
                .policies
                .into_iter()
                .map(|p| PolicyOut {
                    role: p.role,
                    summary: p.summary,
                    diff: p
                        .lines
                        .iter()
                        .map(|l| {
                            let sign = match l.kind {
                                app::domain::diff::LineKind::Same => ' ',
                                app::domain::diff::LineKind::Added => '+',
                                app::domain::diff::LineKind::Removed => '-',
                            };
                            format!("{sign}{}", l.after_text())
                        })
                        .collect(),
                    error: p.error,
                })
                .collect(),
            approvals: d.approvals,
            approvals_required: d.approvals_required,
            owner_approvals: d
                .owner_approvals
                .into_iter()
                .map(|o| OwnerApprovalOut {
                    api_id: o.api_id,
                    api_name: o.api_name,
                    owners: o.group_name,
                    approved_by: o.approved_by,
                })
                .collect(),
            stale: d.stale,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeSetSummaryOut {
    pub id: i64,
    pub title: String,
    pub state: String,
    pub author: String,
    pub items: usize,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeSetPage {
    pub items: Vec<ChangeSetSummaryOut>,
    /// How many match, across every page.
    pub total: i64,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `draft`, `submitted`, `approved`, … or empty for all.
    #[serde(default)]
    pub state: String,
    /// A `next` from the previous page.
    #[serde(default)]
    pub after: String,
    /// Rows per page (1–200, default 50).
    #[serde(default)]
    pub size: String,
}

#[utoipa::path(get, path = "/api/v1/change-sets", tag = "change sets", params(ListQuery),
    responses((status = 200, body = ChangeSetPage), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["read"])))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ChangeSetPage>> {
    let order = ChangeSetOrder::of("updated", "desc");
    let cursor = Cursor::from_query(&q.after, "");
    let size = app::domain::paging::size_of(&q.size);
    let page = service::change_sets(&state, q.state.trim(), &order, &cursor, size).await?;
    Ok(Json(ChangeSetPage {
        total: page.total,
        next: page.next,
        items: page
            .items
            .into_iter()
            .map(|s| ChangeSetSummaryOut {
                id: s.id,
                title: s.title,
                state: s.state,
                author: s.author_name,
                items: s.items,
                updated_at: s.updated_at,
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/change-sets", tag = "change sets", request_body = NewChangeSet,
    params(("Idempotency-Key" = Option<String>, Header, description = "the same key and body answer the first answer again; another body is refused")),
    responses((status = 201, body = ChangeSetOut, description = "made (and submitted, with `submit`)"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "a field or an item is wrong; nothing was made")),
    security(("token" = ["draft"])))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<TokenCaller>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let key = match idempotency::key(&headers) {
        Ok(k) => k,
        Err(p) => return p.into_response(),
    };
    let Some(key) = key else {
        return answer(create_now(&state, &caller, &body).await);
    };
    idempotency::once(&state.pool, caller.id, &key, &body, || async {
        answer(create_now(&state, &caller, &body).await)
    })
    .await
}

fn answer(r: ApiResult<(StatusCode, Json<ChangeSetOut>)>) -> Response {
    match r {
        Ok(ok) => ok.into_response(),
        Err(p) => p.into_response(),
    }
}

async fn create_now(
    state: &AppState,
    caller: &TokenCaller,
    body: &[u8],
) -> ApiResult<(StatusCode, Json<ChangeSetOut>)> {
    let new: NewChangeSet = serde_json::from_slice(body)
        .map_err(|e| Problem::invalid(vec![("body".into(), e.to_string())]))?;
    let id = make(&state.pool, &state.settings.push, &caller.actor, new).await?;
    let detail = service::change_set_for(state, None, id).await?;
    Ok((StatusCode::CREATED, Json(detail.into())))
}

/// Makes `new` as `who` (submitted, with `submit`): every field is checked before anything is
/// made, and nothing is made if one item does not fit. The REST API and `gatehouse changes`.
pub async fn make(
    pool: &sqlx::PgPool,
    push: &app::backend::config::PushSettings,
    who: &app::backend::audit::Actor,
    new: NewChangeSet,
) -> ApiResult<i64> {
    if new.items.is_empty() {
        return Err(Problem::invalid(vec![(
            "items".into(),
            "give at least one item".into(),
        )]));
    }
    let details = Details {
        title: new.title.clone(),
        justification: new.justification.clone(),
        ticket: new.ticket.clone(),
        access_ends: new.access_ends.clone().unwrap_or_default(),
    };
    workflow::check_details(&details, new.submit)?;
    let purpose = Purpose {
        key: format!("api:{}", uuid::Uuid::new_v4()),
        title: new.title.trim().to_string(),
    };
    let edits = new.items.into_iter().map(ItemRequest::edit).collect();
    let (id, _warnings) = service::draft_for(pool, push, who, &purpose, edits).await?;
    workflow::save_details(pool, who, id, details, new.submit).await?;
    Ok(id)
}

#[utoipa::path(get, path = "/api/v1/change-sets/{id}", tag = "change sets",
    params(("id" = i64, Path), ("If-None-Match" = Option<String>, Header)),
    responses((status = 200, body = ChangeSetOut, headers(("ETag" = String))), (status = 304, description = "unchanged since that ETag"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["read"])))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    if_none_match: IfNoneMatch,
) -> ApiResult<Response> {
    let detail = service::change_set_for(&state, None, id).await?;
    Ok(etagged(&if_none_match, &ChangeSetOut::from(detail)))
}

#[utoipa::path(post, path = "/api/v1/change-sets/{id}/submit", tag = "change sets", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeSetOut), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["draft"])))]
pub async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<TokenCaller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ChangeSetOut>> {
    // What was saved stays as it is: only the state moves.
    let cs = {
        let mut conn = state.pool.acquire().await?;
        app::backend::mappings::store::change_set(&mut conn, id, false)
            .await?
            .ok_or_else(|| Problem::new("not-found", format!("There is no change set {id}.")))?
    };
    let details = Details {
        title: cs.title,
        justification: cs.justification,
        ticket: cs.ticket.unwrap_or_default(),
        access_ends: cs
            .access_ends_at
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default(),
    };
    workflow::save_details(&state.pool, &caller.actor, id, details, true).await?;
    Ok(Json(
        service::change_set_for(&state, None, id).await?.into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/change-sets/{id}/withdraw", tag = "change sets", params(("id" = i64, Path)),
    responses((status = 200, body = ChangeSetOut), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("token" = ["draft"])))]
pub async fn withdraw(
    State(state): State<AppState>,
    Extension(caller): Extension<TokenCaller>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ChangeSetOut>> {
    workflow::withdraw(&state.pool, &caller.actor, id).await?;
    Ok(Json(
        service::change_set_for(&state, None, id).await?.into(),
    ))
}

/// Never reached: the authorisation table refuses every token here, with the reason.
#[utoipa::path(post, path = "/api/v1/change-sets/{id}/reviews", tag = "change sets", params(("id" = i64, Path)),
    description = "Approving or rejecting is done by a reviewer signed in to Gatehouse, where they see the diff; every token is refused (403), whatever its scopes.",
    responses((status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json", description = "always, with the reason")),
    security(("token" = [])))]
pub async fn review(Path(_id): Path<i64>) -> Problem {
    Problem::new("forbidden", app::access::REVIEW_REFUSAL)
}
