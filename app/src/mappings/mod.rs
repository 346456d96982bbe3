//! Mapping and change-set server functions. Each checks the caller's roles, then calls
//! `crate::backend::mappings::service`, which owns the database work.

pub mod types;

use leptos::prelude::*;

use crate::error::AppError;
use types::{
    ApiMatrix, ChangeSetDetail, ChangeSetSummary, FormOutcome, GroupMappings, HomeSummary,
    MappingRow,
};

#[cfg(feature = "ssr")]
use crate::{
    backend::{mappings::service, state::app_state},
    form::ssr::{answer_result, answer_typed},
    me::ssr::require_role,
    roles::{Role, READERS},
};

/// Admins: bind a role to a group (or unbind it, with `remove=true`) in their draft.
#[server(endpoint = "mappings/bind", output = crate::codec::StrJson)]
pub async fn bind_role(
    source: String,
    group_id: String,
    role_arn: String,
    remove: String,
) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    let edit = service::Edit::Bind {
        source,
        group_id,
        role_arn,
        remove: remove == "true",
    };
    answer_result(service::edit(&app_state()?, edit).await)
}

/// Admins: grant a route to a role (or revoke it, with `remove=true`) in their draft.
#[server(endpoint = "mappings/grant", output = crate::codec::StrJson)]
#[allow(clippy::too_many_arguments)]
pub async fn grant_route(
    role_arn: String,
    target: String,
    api_id: String,
    stage: String,
    method: String,
    path: String,
    remove: String,
) -> Result<FormOutcome, AppError> {
    let (account, region) = target
        .split_once('/')
        .map(|(a, r)| (a.to_string(), r.to_string()))
        .unwrap_or_default();
    let input = crate::domain::grant::GrantInput {
        role_arn,
        account,
        region,
        api_id,
        stage,
        method,
        path,
    };
    let remove = remove == "true";
    let typed = [
        ("role_arn".to_string(), input.role_arn.clone()),
        ("target".to_string(), target),
        ("api_id".to_string(), input.api_id.clone()),
        ("stage".to_string(), input.stage.clone()),
        ("method".to_string(), input.method.clone()),
        ("path".to_string(), input.path.clone()),
    ];
    require_role(&[Role::Admin])?;
    let edit = service::Edit::Grant { input, remove };
    answer_typed(service::edit(&app_state()?, edit).await, &pairs(&typed))
}

#[cfg(feature = "ssr")]
fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(f, v)| (f.as_str(), v.as_str()))
        .collect()
}

/// Admins, on their own draft: save title, justification and ticket; `submit=true` submits too.
#[server(endpoint = "change-sets/save", output = crate::codec::StrJson)]
pub async fn save_change_set(
    id: i64,
    title: String,
    justification: String,
    ticket: String,
    // When the access it adds ends (`datetime-local`, UTC); empty: no end.
    #[server(default)] access_ends: String,
    submit: String,
) -> Result<FormOutcome, AppError> {
    let submit = submit == "true";
    let typed = [
        ("title".to_string(), title.clone()),
        ("justification".to_string(), justification.clone()),
        ("ticket".to_string(), ticket.clone()),
        ("access_ends".to_string(), access_ends.clone()),
    ];
    require_role(&[Role::Admin])?;
    let details = crate::backend::mappings::workflow::Details {
        title,
        justification,
        ticket,
        access_ends,
    };
    answer_typed(
        service::save(&app_state()?, id, details, submit).await,
        &pairs(&typed),
    )
}

#[server(endpoint = "change-sets/withdraw", output = crate::codec::StrJson)]
pub async fn withdraw_change_set(id: i64) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    answer_result(service::withdraw(&app_state()?, id).await)
}

#[server(endpoint = "change-sets/drop-item", output = crate::codec::StrJson)]
pub async fn drop_change_set_item(id: i64, index: usize) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    answer_result(service::drop_item(&app_state()?, id, index).await)
}

#[server(endpoint = "change-sets/rebase", output = crate::codec::StrJson)]
pub async fn rebase_change_set(id: i64) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Admin])?;
    answer_result(service::rebase(&app_state()?, id).await)
}

/// Reviewers: approve or reject (`decision` = `approve` | `reject`) with a comment.
#[server(endpoint = "change-sets/review", output = crate::codec::StrJson)]
pub async fn review_change_set(
    id: i64,
    decision: String,
    comment: String,
    // The hash of what the reviewer was shown (the page's hidden field); a review without it
    // is refused as not matching the content.
    #[server(default)] content_hash: String,
) -> Result<FormOutcome, AppError> {
    require_role(&[Role::Reviewer])?;
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(AppError::invalid(
                "decision",
                format!("`{other}` is neither approve nor reject"),
            ))
        }
    };
    answer_typed(
        service::review(&app_state()?, id, approve, &comment, &content_hash).await,
        &[("comment", &comment)],
    )
}

#[server(endpoint = "change-sets/list", output = crate::codec::StrJson)]
pub async fn list_change_sets(
    state: String,
    #[server(default)] sort: String,
    #[server(default)] dir: String,
    #[server(default)] after: String,
    #[server(default)] before: String,
    #[server(default)] size: String,
) -> Result<crate::catalog::types::Page<ChangeSetSummary>, AppError> {
    require_role(READERS)?;
    let order = types::ChangeSetOrder::of(&sort, &dir);
    let cursor = crate::catalog::types::Cursor::from_query(&after, &before);
    let size = crate::domain::paging::size_of(&size);
    service::change_sets(&app_state()?, &state, &order, &cursor, size).await
}

#[server(endpoint = "change-sets/get", output = crate::codec::StrJson)]
pub async fn get_change_set(id: i64) -> Result<ChangeSetDetail, AppError> {
    require_role(READERS)?;
    service::change_set(&app_state()?, id).await
}

#[server(endpoint = "change-sets/queue", output = crate::codec::StrJson)]
pub async fn review_queue() -> Result<Vec<ChangeSetSummary>, AppError> {
    require_role(&[Role::Reviewer])?;
    service::review_queue(&app_state()?).await
}

#[server(endpoint = "mappings/group", output = crate::codec::StrJson)]
pub async fn get_group_mappings(
    source: String,
    id: String,
    #[server(default)] role: String,
) -> Result<GroupMappings, AppError> {
    require_role(READERS)?;
    service::group_mappings(&app_state()?, &source, &id, role.trim()).await
}

/// The resource paths of one API, which the group page's grant form suggests.
#[server(endpoint = "mappings/api-paths", output = crate::codec::StrJson)]
pub async fn get_api_paths(api_id: String) -> Result<Vec<String>, AppError> {
    require_role(READERS)?;
    Ok(crate::backend::mappings::queries::api_paths(&app_state()?.pool, api_id.trim()).await?)
}

/// One page of the approved mappings matching `search`, after or before a row's key.
#[server(endpoint = "mappings/list", output = crate::codec::StrJson)]
pub async fn list_mappings(
    search: String,
    #[server(default)] after: String,
    #[server(default)] before: String,
    #[server(default)] size: String,
) -> Result<crate::catalog::types::Page<MappingRow>, AppError> {
    require_role(READERS)?;
    let cursor = crate::catalog::types::Cursor::from_query(&after, &before);
    let size = crate::domain::paging::size_of(&size);
    service::mappings(&app_state()?, search.trim(), &cursor, size).await
}

/// Home: the caller's open change sets, what waits for their review, the last syncs.
#[server(endpoint = "home", output = crate::codec::StrJson)]
pub async fn get_home() -> Result<HomeSummary, AppError> {
    let user = require_role(READERS)?;
    let mut summary = service::home(&app_state()?, user.has(Role::Reviewer)).await?;
    summary.viewer = Some(user);
    Ok(summary)
}

/// Readers: groups × routes of one API, from the approved mappings.
/// A window of it: groups whose name contains `groups` (a page after or before a row's key) ×
/// routes containing `routes`, from the `from`th.
#[server(endpoint = "mappings/matrix", output = crate::codec::StrJson)]
pub async fn get_api_matrix(
    api_id: String,
    #[server(default)] groups: String,
    #[server(default)] routes: String,
    #[server(default)] after: String,
    #[server(default)] before: String,
    #[server(default)] from: usize,
    #[server(default)] pick: String,
) -> Result<ApiMatrix, AppError> {
    require_role(READERS)?;
    let window = crate::backend::mappings::matrix::Window {
        groups,
        routes,
        cursor: crate::catalog::types::Cursor::from_query(&after, &before),
        from,
        pick,
    };
    service::matrix(&app_state()?, &api_id, &window).await
}
