//! `/api/v1/change-sets/{id}/items` and `/plan`: grow or shrink a draft the token wrote, and
//! read the AWS calls a push would make.

use app::backend::{
    mappings::{service, workflow},
    tokens::TokenCaller,
};
use axum::{
    extract::{Path, State},
    Extension, Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    change_sets::{ChangeSetOut, ItemRequest},
    problem::{ApiResult, Problem},
};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct NewItems {
    pub items: Vec<ItemRequest>,
}

#[utoipa::path(post, path = "/api/v1/change-sets/{id}/items", tag = "change sets", params(("id" = i64, Path)),
    request_body = NewItems,
    description = "Adds items to a draft this token's identity wrote; nothing lands if one does not fit.",
    responses((status = 200, body = ChangeSetOut), (status = 401, body = Problem, content_type = PROBLEM),
        (status = 403, body = Problem, content_type = PROBLEM, description = "not a draft, or another author's"),
        (status = 404, body = Problem, content_type = PROBLEM), (status = 422, body = Problem, content_type = PROBLEM)),
    security(("token" = ["draft"])))]
pub async fn add(
    State(state): State<AppState>,
    Extension(caller): Extension<TokenCaller>,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<ChangeSetOut>> {
    let new: NewItems = serde_json::from_slice(&body)
        .map_err(|e| Problem::invalid(vec![("body".into(), e.to_string())]))?;
    if new.items.is_empty() {
        return Err(Problem::invalid(vec![(
            "items".into(),
            "give at least one item".into(),
        )]));
    }
    let mut items = Vec::new();
    for item in new.items {
        let (item, _warning) =
            service::item_of(&state.pool, item.edit(), &state.settings.push).await?;
        items.push(item);
    }
    workflow::add_items(&state.pool, &caller.actor, id, items).await?;
    Ok(Json(
        service::change_set_for(&state, None, id).await?.into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/change-sets/{id}/items/{index}", tag = "change sets",
    params(("id" = i64, Path), ("index" = usize, Path, description = "the item's `index`, from 0")),
    responses((status = 200, body = ChangeSetOut), (status = 401, body = Problem, content_type = PROBLEM),
        (status = 403, body = Problem, content_type = PROBLEM, description = "not a draft, another author's, or no such item"),
        (status = 404, body = Problem, content_type = PROBLEM)),
    security(("token" = ["draft"])))]
pub async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<TokenCaller>,
    Path((id, index)): Path<(i64, usize)>,
) -> ApiResult<Json<ChangeSetOut>> {
    workflow::drop_item(&state.pool, &caller.actor, id, index).await?;
    Ok(Json(
        service::change_set_for(&state, None, id).await?.into(),
    ))
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanStep {
    pub seq: i32,
    pub target: String,
    /// The AWS call: `iam:PutRolePolicy`, …
    pub operation: String,
    pub summary: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanOut {
    pub change_set: i64,
    /// When AWS was read for it.
    pub computed_at: String,
    /// Every call a push would make now, in order; empty when AWS already matches.
    pub steps: Vec<PlanStep>,
    /// Why there is no plan (AWS could not be read, or the change set cannot be pushed).
    pub error: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/change-sets/{id}/plan", tag = "pushes", params(("id" = i64, Path)),
    description = "Reads AWS now and answers the calls a push of this change set would make.",
    responses((status = 200, body = PlanOut), (status = 401, body = Problem, content_type = PROBLEM),
        (status = 403, body = Problem, content_type = PROBLEM, description = "not approved yet"), (status = 404, body = Problem, content_type = PROBLEM)),
    security(("token" = ["read"])))]
pub async fn plan(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<PlanOut>> {
    // A plan is of what was approved: before that there is nothing to push.
    let cs_state = service::change_set_state(&state, id).await?;
    if !["approved", "pushing", "pushed", "push_failed"].contains(&cs_state.as_str()) {
        return Err(Problem::new(
            "forbidden",
            format!("change set {id} is {cs_state}: a push is planned once it is approved"),
        ));
    }
    state
        .pusher
        .refresh_plan(id)
        .await
        .map_err(app::error::AppError::from)?;
    let stored = state
        .pusher
        .stored_plan(id)
        .await?
        .ok_or_else(|| Problem::new("internal", "the plan was read but not stored"))?;
    Ok(Json(PlanOut {
        change_set: id,
        computed_at: app::backend::catalog::queries::utc(stored.computed_at),
        steps: stored
            .steps
            .unwrap_or_default()
            .into_iter()
            .map(|s| PlanStep {
                seq: s.seq,
                target: s.target,
                operation: s.operation,
                summary: s.summary,
            })
            .collect(),
        error: stored.error,
    }))
}
