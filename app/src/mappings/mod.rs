//! Mapping and change-set server functions. Each checks the caller's roles, then asks the
//! server's [`MappingsBackend`] (through context), which owns the database.

pub mod types;

use leptos::prelude::*;

use types::{
    ApiMatrix, ChangeSetDetail, ChangeSetSummary, FormOutcome, GroupMappings, HomeSummary,
    MappingRow,
};

#[cfg(feature = "ssr")]
pub use backend::{Edit, MappingsBackend};

#[cfg(feature = "ssr")]
mod backend {
    use super::types::*;
    use crate::domain::grant::GrantInput;
    use std::{future::Future, pin::Pin};

    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

    /// One edit of a person's draft.
    pub enum Edit {
        Bind {
            source: String,
            group_id: String,
            role_arn: String,
            remove: bool,
        },
        Grant {
            input: GrantInput,
            remove: bool,
        },
    }

    /// Implemented by the server. The caller is the request's signed-in person.
    pub trait MappingsBackend: Send + Sync {
        fn edit(&self, edit: Edit) -> BoxFuture<'_, FormOutcome>;
        fn save<'a>(
            &'a self,
            id: i64,
            title: &'a str,
            justification: &'a str,
            ticket: &'a str,
            submit: bool,
        ) -> BoxFuture<'a, FormOutcome>;
        fn withdraw(&self, id: i64) -> BoxFuture<'_, FormOutcome>;
        fn drop_item(&self, id: i64, index: usize) -> BoxFuture<'_, FormOutcome>;
        fn review<'a>(
            &'a self,
            id: i64,
            approve: bool,
            comment: &'a str,
        ) -> BoxFuture<'a, FormOutcome>;
        fn rebase(&self, id: i64) -> BoxFuture<'_, FormOutcome>;
        fn change_sets<'a>(&'a self, state: &'a str) -> BoxFuture<'a, Vec<ChangeSetSummary>>;
        fn change_set(&self, id: i64) -> BoxFuture<'_, Option<ChangeSetDetail>>;
        fn review_queue(&self) -> BoxFuture<'_, Vec<ChangeSetSummary>>;
        fn group_mappings<'a>(
            &'a self,
            source: &'a str,
            id: &'a str,
        ) -> BoxFuture<'a, GroupMappings>;
        fn mappings<'a>(&'a self, search: &'a str) -> BoxFuture<'a, Vec<MappingRow>>;
        fn home(&self, reviewer: bool) -> BoxFuture<'_, HomeSummary>;
        fn matrix<'a>(&'a self, api_id: &'a str) -> BoxFuture<'a, Option<ApiMatrix>>;
    }

    pub fn backend() -> Result<std::sync::Arc<dyn MappingsBackend>, leptos::prelude::ServerFnError>
    {
        leptos::prelude::use_context::<std::sync::Arc<dyn MappingsBackend>>()
            .ok_or_else(|| leptos::prelude::ServerFnError::new("mappings are not available"))
    }
}

#[cfg(feature = "ssr")]
use crate::roles::Role;
#[cfg(feature = "ssr")]
const READERS: &[Role] = &[Role::Admin, Role::Reviewer, Role::Auditor];

#[cfg(feature = "ssr")]
async fn as_admin<T>(
    f: impl FnOnce(std::sync::Arc<dyn MappingsBackend>) -> backend::BoxFuture<'static, T>,
) -> Result<T, ServerFnError> {
    crate::me::ssr::require_role(&[Role::Admin])?;
    f(backend::backend()?).await.map_err(ServerFnError::new)
}

/// A plain HTML form post (JavaScript off) gets a refused or invalid outcome as an error, which
/// the redirect back carries to the page; the browser's own calls get it as a value.
#[cfg(feature = "ssr")]
pub fn form_outcome(outcome: FormOutcome) -> Result<FormOutcome, ServerFnError> {
    form(outcome)
}

#[cfg(feature = "ssr")]
fn form(outcome: FormOutcome) -> Result<FormOutcome, ServerFnError> {
    let html_form = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::ACCEPT)?
                .to_str()
                .ok()
                .map(String::from)
        })
        .is_some_and(|accept| accept.contains("text/html"));
    if html_form {
        outcome.into_result().map_err(ServerFnError::new)
    } else {
        Ok(outcome)
    }
}

/// Admins: bind a role to a group (or unbind it, with `remove=true`) in their draft.
#[server(endpoint = "mappings/bind")]
pub async fn bind_role(
    source: String,
    group_id: String,
    role_arn: String,
    remove: String,
) -> Result<FormOutcome, ServerFnError> {
    let remove = remove == "true";
    form(
        as_admin(move |b| {
            Box::pin(async move {
                b.edit(Edit::Bind {
                    source,
                    group_id,
                    role_arn,
                    remove,
                })
                .await
            })
        })
        .await?,
    )
}

/// Admins: grant a route to a role (or revoke it, with `remove=true`) in their draft.
#[server(endpoint = "mappings/grant")]
#[allow(clippy::too_many_arguments)]
pub async fn grant_route(
    role_arn: String,
    target: String,
    api_id: String,
    stage: String,
    method: String,
    path: String,
    remove: String,
) -> Result<FormOutcome, ServerFnError> {
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
        ("stage".to_string(), input.stage.clone()),
        ("path".to_string(), input.path.clone()),
    ];
    let outcome =
        as_admin(move |b| Box::pin(async move { b.edit(Edit::Grant { input, remove }).await }))
            .await?;
    form(outcome.keep_typed(&pairs(&typed)))
}

#[cfg(feature = "ssr")]
fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(f, v)| (f.as_str(), v.as_str()))
        .collect()
}

/// Admins, on their own draft: save title, justification and ticket; `submit=true` submits too.
#[server(endpoint = "change-sets/save")]
pub async fn save_change_set(
    id: i64,
    title: String,
    justification: String,
    ticket: String,
    submit: String,
) -> Result<FormOutcome, ServerFnError> {
    let submit = submit == "true";
    let typed = [
        ("title".to_string(), title.clone()),
        ("justification".to_string(), justification.clone()),
        ("ticket".to_string(), ticket.clone()),
    ];
    let outcome = as_admin(move |b| {
        Box::pin(async move { b.save(id, &title, &justification, &ticket, submit).await })
    })
    .await?;
    form(outcome.keep_typed(&pairs(&typed)))
}

#[server(endpoint = "change-sets/withdraw")]
pub async fn withdraw_change_set(id: i64) -> Result<FormOutcome, ServerFnError> {
    form(as_admin(move |b| Box::pin(async move { b.withdraw(id).await })).await?)
}

#[server(endpoint = "change-sets/drop-item")]
pub async fn drop_change_set_item(id: i64, index: usize) -> Result<FormOutcome, ServerFnError> {
    form(as_admin(move |b| Box::pin(async move { b.drop_item(id, index).await })).await?)
}

#[server(endpoint = "change-sets/rebase")]
pub async fn rebase_change_set(id: i64) -> Result<FormOutcome, ServerFnError> {
    form(as_admin(move |b| Box::pin(async move { b.rebase(id).await })).await?)
}

/// Reviewers: approve or reject (`decision` = `approve` | `reject`) with a comment.
#[server(endpoint = "change-sets/review")]
pub async fn review_change_set(
    id: i64,
    decision: String,
    comment: String,
) -> Result<FormOutcome, ServerFnError> {
    crate::me::ssr::require_role(&[Role::Reviewer])?;
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(ServerFnError::new(format!(
                "`{other}` is neither approve nor reject"
            )))
        }
    };
    let outcome = backend::backend()?
        .review(id, approve, &comment)
        .await
        .map_err(ServerFnError::new)?;
    form(outcome.keep_typed(&[("comment", &comment)]))
}

#[server(endpoint = "change-sets/list")]
pub async fn list_change_sets(state: String) -> Result<Vec<ChangeSetSummary>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    backend::backend()?
        .change_sets(&state)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "change-sets/get")]
pub async fn get_change_set(id: i64) -> Result<Option<ChangeSetDetail>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    backend::backend()?
        .change_set(id)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "change-sets/queue")]
pub async fn review_queue() -> Result<Vec<ChangeSetSummary>, ServerFnError> {
    crate::me::ssr::require_role(&[Role::Reviewer])?;
    backend::backend()?
        .review_queue()
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "mappings/group")]
pub async fn get_group_mappings(
    source: String,
    id: String,
) -> Result<GroupMappings, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    backend::backend()?
        .group_mappings(&source, &id)
        .await
        .map_err(ServerFnError::new)
}

#[server(endpoint = "mappings/list")]
pub async fn list_mappings(search: String) -> Result<Vec<MappingRow>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    backend::backend()?
        .mappings(search.trim())
        .await
        .map_err(ServerFnError::new)
}

/// Home: the caller's open change sets, what waits for their review, the last syncs.
#[server(endpoint = "home")]
pub async fn get_home() -> Result<HomeSummary, ServerFnError> {
    let user = crate::me::ssr::require_role(READERS)?;
    let mut summary = backend::backend()?
        .home(user.has(Role::Reviewer))
        .await
        .map_err(ServerFnError::new)?;
    summary.viewer = Some(user);
    Ok(summary)
}

/// Readers: groups × routes of one API, from the approved mappings.
#[server(endpoint = "mappings/matrix")]
pub async fn get_api_matrix(api_id: String) -> Result<Option<ApiMatrix>, ServerFnError> {
    crate::me::ssr::require_role(READERS)?;
    backend::backend()?
        .matrix(&api_id)
        .await
        .map_err(ServerFnError::new)
}
