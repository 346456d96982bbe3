//! The [`MappingsBackend`] the pages' server functions call.

use crate::{
    domain::{
        change_set::State,
        desired::ChangeItem,
        grant::{Binding, Grant, GroupRef},
        names::RoleArn,
    },
    mappings::{types::*, Edit, MappingsBackend},
};
use sqlx::PgPool;

use super::{
    store,
    views::{self, Names},
    workflow::{self, Details, WorkflowError},
};
use crate::backend::{audit::Actor, session::SessionUser};

type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, String>> + Send + 'a>>;

pub struct ServerMappings {
    pub pool: PgPool,
    pub required_approvals: usize,
    /// Set when approved change sets are pushed at once (GATEHOUSE_PUSH_ON_APPROVAL).
    pub push_on_approval: Option<std::sync::Arc<crate::backend::push::Pusher>>,
}

pub(crate) fn internal(e: impl std::fmt::Display) -> String {
    tracing::error!(error = %e, "mappings query failed");
    "Gatehouse could not read or save the mappings; try again.".to_string()
}

/// The signed-in person making the request.
pub(crate) fn caller() -> Option<SessionUser> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SessionUser>().cloned())
}

pub(crate) fn actor() -> Actor {
    caller().map(|u| u.actor()).unwrap_or_else(Actor::anonymous)
}

fn outcome(result: Result<FormOutcome, WorkflowError>) -> Result<FormOutcome, String> {
    match result {
        Ok(o) => Ok(o),
        Err(WorkflowError::Fields(fields)) => Ok(FormOutcome {
            errors: fields
                .into_iter()
                .map(|(f, e)| (f.to_string(), e))
                .collect(),
            ..Default::default()
        }),
        Err(WorkflowError::Refused(why)) => Ok(FormOutcome {
            refused: Some(why),
            ..Default::default()
        }),
        Err(e @ WorkflowError::NotFound(_)) => Ok(FormOutcome {
            refused: Some(e.to_string()),
            ..Default::default()
        }),
        Err(WorkflowError::Database(e)) => Err(internal(e)),
    }
}

/// A warning when a grant names nothing the synced catalog has (allowed, but visible).
async fn catalog_warning(pool: &PgPool, g: &Grant) -> sqlx::Result<Option<String>> {
    let target = format!("{}/{}", g.api.account.as_str(), g.api.region.as_str());
    let stages: Vec<String> =
        sqlx::query_scalar("SELECT stage_name FROM api_stages WHERE target = $1 AND api_id = $2")
            .bind(&target)
            .bind(g.api.api_id.as_str())
            .fetch_all(pool)
            .await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rest_apis WHERE target = $1 AND api_id = $2 AND gone_at IS NULL)")
        .bind(&target)
        .bind(g.api.api_id.as_str())
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(Some(format!(
            "No synced API {} exists in {target}: the grant matches nothing yet.",
            g.api.api_id.as_str()
        )));
    }
    if g.stage.as_str() != "*" && !stages.iter().any(|s| s == g.stage.as_str()) {
        return Ok(Some(format!(
            "The API has no stage {} (it has {}).",
            g.stage.as_str(),
            stages.join(", ")
        )));
    }
    let methods: Vec<(String, String)> = sqlx::query_as(
        "SELECT r.path, m.http_method FROM api_resources r JOIN api_methods m USING (target, api_id, resource_id)
         WHERE r.target = $1 AND r.api_id = $2",
    )
    .bind(&target)
    .bind(g.api.api_id.as_str())
    .fetch_all(pool)
    .await?;
    let matched = methods
        .iter()
        .any(|(path, method)| g.path.covers(path) && g.method.covers(method));
    Ok((!matched).then(|| {
        format!(
            "No method of the API matches {} {}: the grant matches nothing yet.",
            g.method,
            g.path.as_str()
        )
    }))
}

impl ServerMappings {
    async fn edit_now(&self, who: &Actor, edit: Edit) -> Result<FormOutcome, WorkflowError> {
        let (item, warning) = match edit {
            Edit::Bind {
                source,
                group_id,
                role_arn,
                remove,
            } => {
                let role = RoleArn::parse(&role_arn)
                    .map_err(|e| WorkflowError::Fields(vec![("role_arn", e.0)]))?;
                let group_exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM directory_groups WHERE source = $1 AND object_id = $2 AND deleted_at IS NULL)",
                )
                .bind(&source)
                .bind(&group_id)
                .fetch_one(&self.pool)
                .await?;
                if !group_exists && !remove {
                    return Err(WorkflowError::Refused(
                        "that group is not in the synced directory (or was deleted)".into(),
                    ));
                }
                let managed: Option<bool> = sqlx::query_scalar(
                    "SELECT managed FROM iam_roles WHERE arn = $1 AND gone_at IS NULL",
                )
                .bind(role.to_string())
                .fetch_optional(&self.pool)
                .await?;
                if managed == Some(false) && !remove {
                    return Err(WorkflowError::Fields(vec![("role_arn", "Gatehouse changes only roles tagged gatehouse:managed=true; this one is not.".into())]));
                }
                let warning = managed.is_none().then(|| {
                    "No synced IAM role has this ARN: it will be bound when it exists.".to_string()
                });
                let b = Binding {
                    group: GroupRef {
                        source,
                        object_id: group_id,
                    },
                    role,
                };
                (
                    if remove {
                        ChangeItem::RemoveBinding(b)
                    } else {
                        ChangeItem::AddBinding(b)
                    },
                    warning,
                )
            }
            Edit::Grant { input, remove } => {
                let g = Grant::parse(&input).map_err(WorkflowError::Fields)?;
                let warning = if remove {
                    None
                } else {
                    catalog_warning(&self.pool, &g).await?
                };
                (
                    if remove {
                        ChangeItem::RemoveGrant(g)
                    } else {
                        ChangeItem::AddGrant(g)
                    },
                    warning,
                )
            }
        };
        let id = workflow::edit(&self.pool, who, item).await?;
        Ok(FormOutcome {
            change_set: Some(id),
            warning,
            message: Some(format!("Added to your draft change set {id}.")),
            ..Default::default()
        })
    }

    async fn detail(
        &self,
        viewer: Option<SessionUser>,
        id: i64,
    ) -> Result<Option<ChangeSetDetail>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let Some(cs) = store::change_set(&mut conn, id, false).await? else {
            return Ok(None);
        };
        let reviews = store::reviews(&mut conn, id).await?;
        let before = store::desired_state(&mut conn).await?;
        let item_groups = cs.items.iter().filter_map(|i| match i {
            ChangeItem::AddBinding(b) | ChangeItem::RemoveBinding(b) => Some(&b.group),
            _ => None,
        });
        let names = Names::load(
            &self.pool,
            super::queries::bound_groups(&before).chain(item_groups),
        )
        .await?;
        let open = matches!(cs.state, State::Draft | State::Submitted);
        let (policies, access) = if open {
            match before.apply(&cs.items) {
                Ok(after) => (
                    views::policy_diffs(&cs.items, &before, &after),
                    views::access(&self.pool, &names, &before, &after).await?,
                ),
                Err(_) => (Vec::new(), Vec::new()),
            }
        } else {
            (Vec::new(), Vec::new())
        };
        let stale = if open {
            store::conflicting(&mut conn, cs.base_version, &store::touches(&cs.items))
                .await?
                .first()
                .map(|(other, title)| format!("Change set {other} (“{title}”) changed the same mappings after this one was written: rebase it before it can be approved."))
        } else {
            None
        };
        let viewer_oid = viewer.as_ref().map(|v| v.oid);
        let is_reviewer = viewer
            .as_ref()
            .is_some_and(|v| v.roles.contains(&crate::roles::Role::Reviewer));
        let reviewed = reviews.iter().any(|r| Some(r.reviewer_oid) == viewer_oid);
        let items = cs
            .items
            .iter()
            .enumerate()
            .map(|(index, item)| ItemView {
                index,
                added: item.is_addition(),
                text: names.item(item),
                warning: None,
            })
            .collect();
        Ok(Some(ChangeSetDetail {
            summary: views::summary(&cs),
            justification: cs.justification.clone(),
            ticket: cs.ticket.clone(),
            items,
            policies,
            access,
            timeline: views::timeline(&self.pool, id).await?,
            approvals: reviews.iter().filter(|r| r.decision == "approve").count(),
            approvals_required: self.required_approvals,
            stale,
            viewer_is_author: viewer_oid == Some(cs.author_oid),
            viewer_may_review: is_reviewer
                && viewer_oid != Some(cs.author_oid)
                && !reviewed
                && cs.state == State::Submitted,
        }))
    }
}

impl MappingsBackend for ServerMappings {
    fn edit(&self, edit: Edit) -> BoxFuture<'_, FormOutcome> {
        let who = actor();
        Box::pin(async move { outcome(self.edit_now(&who, edit).await) })
    }

    fn save<'a>(
        &'a self,
        id: i64,
        title: &'a str,
        justification: &'a str,
        ticket: &'a str,
        submit: bool,
    ) -> BoxFuture<'a, FormOutcome> {
        let who = actor();
        let details = Details {
            title: title.into(),
            justification: justification.into(),
            ticket: ticket.into(),
        };
        Box::pin(async move {
            outcome(
                workflow::save_details(&self.pool, &who, id, details, submit)
                    .await
                    .map(|state| FormOutcome {
                        change_set: Some(id),
                        message: Some(if state == State::Submitted {
                            "Submitted for review.".into()
                        } else {
                            "Saved.".into()
                        }),
                        ..Default::default()
                    }),
            )
        })
    }

    fn withdraw(&self, id: i64) -> BoxFuture<'_, FormOutcome> {
        let who = actor();
        Box::pin(async move {
            outcome(
                workflow::withdraw(&self.pool, &who, id)
                    .await
                    .map(|_| FormOutcome {
                        message: Some("Withdrawn.".into()),
                        ..Default::default()
                    }),
            )
        })
    }

    fn drop_item(&self, id: i64, index: usize) -> BoxFuture<'_, FormOutcome> {
        let who = actor();
        Box::pin(async move {
            outcome(
                workflow::drop_item(&self.pool, &who, id, index)
                    .await
                    .map(|_| FormOutcome {
                        message: Some("Removed from the change set.".into()),
                        ..Default::default()
                    }),
            )
        })
    }

    fn review<'a>(
        &'a self,
        id: i64,
        approve: bool,
        comment: &'a str,
    ) -> BoxFuture<'a, FormOutcome> {
        let who = actor();
        Box::pin(async move {
            let reviewed = workflow::review(
                &self.pool,
                &who,
                id,
                approve,
                comment,
                self.required_approvals,
            )
            .await;
            let mut pushing = None;
            if let (Ok(State::Approved), Some(pusher)) = (&reviewed, &self.push_on_approval) {
                pushing = Some(match pusher.start(who.clone(), id).await {
                    Ok(_) => {
                        "Approved, applied to the mappings, and pushing to AWS now.".to_string()
                    }
                    Err(e) => format!(
                        "Approved and applied to the mappings; the push could not start: {e}"
                    ),
                });
            }
            outcome(reviewed.map(|state| FormOutcome {
                message: Some(match state {
                    State::Approved => {
                        pushing.unwrap_or_else(|| "Approved and applied to the mappings.".into())
                    }
                    State::Rejected => "Rejected.".into(),
                    _ => "Your approval is recorded; more are needed.".into(),
                }),
                ..Default::default()
            }))
        })
    }

    fn rebase(&self, id: i64) -> BoxFuture<'_, FormOutcome> {
        let who = actor();
        Box::pin(async move {
            outcome(
                workflow::rebase(&self.pool, &who, id)
                    .await
                    .map(|v| FormOutcome {
                        message: Some(format!("Rebased onto mappings version {v}.")),
                        ..Default::default()
                    }),
            )
        })
    }

    fn change_sets<'a>(&'a self, state: &'a str) -> BoxFuture<'a, Vec<ChangeSetSummary>> {
        Box::pin(async move {
            let states: Vec<State> = State::parse(state).into_iter().collect();
            let rows = store::list(&self.pool, &states, 200)
                .await
                .map_err(internal)?;
            Ok(rows.iter().map(views::summary).collect())
        })
    }

    fn change_set(&self, id: i64) -> BoxFuture<'_, Option<ChangeSetDetail>> {
        let viewer = caller();
        Box::pin(async move { self.detail(viewer, id).await.map_err(internal) })
    }

    fn review_queue(&self) -> BoxFuture<'_, Vec<ChangeSetSummary>> {
        let viewer = caller().map(|v| v.oid);
        Box::pin(async move {
            let rows = store::list(&self.pool, &[State::Submitted], 200)
                .await
                .map_err(internal)?;
            Ok(rows
                .iter()
                .filter(|cs| Some(cs.author_oid) != viewer)
                .map(views::summary)
                .collect())
        })
    }

    fn group_mappings<'a>(&'a self, source: &'a str, id: &'a str) -> BoxFuture<'a, GroupMappings> {
        let viewer = caller().map(|v| v.oid);
        Box::pin(async move {
            super::queries::group_mappings(&self.pool, viewer, source, id)
                .await
                .map_err(internal)
        })
    }

    fn mappings<'a>(&'a self, search: &'a str) -> BoxFuture<'a, Vec<MappingRow>> {
        Box::pin(async move {
            super::queries::mappings(&self.pool, search)
                .await
                .map_err(internal)
        })
    }

    fn home(&self, reviewer: bool) -> BoxFuture<'_, HomeSummary> {
        let viewer = caller().map(|v| v.oid);
        Box::pin(async move {
            let open = store::list(&self.pool, &[State::Draft, State::Submitted], 200)
                .await
                .map_err(internal)?;
            let mine = open
                .iter()
                .filter(|cs| Some(cs.author_oid) == viewer)
                .map(views::summary)
                .collect();
            let to_review = if reviewer {
                open.iter()
                    .filter(|cs| cs.state == State::Submitted && Some(cs.author_oid) != viewer)
                    .map(views::summary)
                    .collect()
            } else {
                Vec::new()
            };
            let runs = crate::backend::catalog::queries::sync_runs(&self.pool, 50)
                .await
                .map_err(internal)?;
            let mut last_syncs: Vec<_> = Vec::new();
            for run in runs {
                if !last_syncs
                    .iter()
                    .any(|r: &crate::catalog::types::SyncRun| r.catalog == run.catalog)
                {
                    last_syncs.push(run);
                }
            }
            let pushes = store::list(
                &self.pool,
                &[State::Approved, State::Pushing, State::PushFailed],
                20,
            )
            .await
            .map_err(internal)?
            .iter()
            .map(views::summary)
            .collect();
            let drift = crate::backend::push::drift::latest(&self.pool)
                .await
                .map_err(internal)?
                .map(|r| crate::mappings::types::DriftGlance {
                    checked_at: crate::backend::catalog::queries::utc(r.checked_at),
                    differences: r.items.map(|items| items.0.len()),
                    error: r.error,
                });
            Ok(HomeSummary {
                viewer: None,
                mine,
                to_review,
                last_syncs,
                pushes,
                drift,
            })
        })
    }

    fn matrix<'a>(&'a self, api_id: &'a str) -> BoxFuture<'a, Option<ApiMatrix>> {
        let viewer = caller().map(|v| v.oid);
        Box::pin(async move {
            super::matrix::api_matrix(&self.pool, api_id, viewer)
                .await
                .map_err(internal)
        })
    }
}
