//! What the mapping and change-set server functions call.

use crate::{
    domain::{
        change_set::State,
        desired::{ChangeItem, DesiredState},
        grant::{authorization_warning, Binding, Grant, GrantInput, GroupRef, MethodsOnPush},
        names::RoleArn,
    },
    error::AppError,
    mappings::types::*,
};
use sqlx::PgPool;
use std::collections::BTreeMap;

use super::{
    store,
    views::{self, Names},
    workflow::{self, Details, WorkflowError},
};
use crate::backend::{
    audit::Actor,
    catalog::queries as catalog,
    config::PushSettings,
    session::SessionUser,
    state::{actor, caller, AppState},
};

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

impl From<WorkflowError> for AppError {
    fn from(e: WorkflowError) -> Self {
        match e {
            WorkflowError::Fields(fields) => AppError::form(FormOutcome::invalid(
                fields
                    .into_iter()
                    .map(|(f, e)| (f.to_string(), e))
                    .collect(),
            )),
            WorkflowError::Refused(why) => AppError::Refused(why),
            e @ WorkflowError::NotFound(_) => AppError::NotFound(e.to_string()),
            WorkflowError::Database(e) => AppError::internal(e),
        }
    }
}

/// What a push does to the methods of the grant's API: token mode's attachment (the API by id,
/// target or catalogued name), else IAM enforcement, else nothing.
async fn methods_on_push(
    pool: &PgPool,
    push: &PushSettings,
    g: &Grant,
) -> sqlx::Result<MethodsOnPush> {
    if !push.attach_authorizer.is_empty() {
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM rest_apis WHERE target = $1 AND api_id = $2")
                .bind(format!(
                    "{}/{}",
                    g.api.account.as_str(),
                    g.api.region.as_str()
                ))
                .bind(g.api.api_id.as_str())
                .fetch_optional(pool)
                .await?;
        if push
            .attach_authorizer
            .covers(&g.api, name.as_deref().unwrap_or(""))
        {
            return Ok(MethodsOnPush::Gatehouse);
        }
    }
    Ok(if push.enforce_iam {
        MethodsOnPush::Iam
    } else {
        MethodsOnPush::Left
    })
}

/// A warning when a grant names nothing the synced catalog has (allowed, but visible).
async fn catalog_warning(
    pool: &PgPool,
    g: &Grant,
    push: &PushSettings,
) -> sqlx::Result<Option<String>> {
    let target = format!("{}/{}", g.api.account.as_str(), g.api.region.as_str());
    let api_id = g.api.api_id.as_str();
    let stages = catalog::stage_names(pool, &target, api_id).await?;
    if !catalog::api_exists(pool, &target, api_id).await? {
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
    let methods = catalog::api_routes(pool, &target, api_id).await?;
    let matched = methods
        .iter()
        .any(|(path, method, _)| g.path.covers(path) && g.method.covers(method));
    if !matched {
        return Ok(Some(format!(
            "No method of the API matches {} {}: the grant matches nothing yet.",
            g.method,
            g.path.as_str()
        )));
    }
    let on_push = methods_on_push(pool, push, g).await?;
    Ok(authorization_warning(g, &methods, on_push))
}

/// The groups bound to a grant's role (after the draft): all of them gain what it grants.
fn inherited_by(role: &RoleArn, after: &DesiredState, names: &Names) -> Option<String> {
    let mut groups: Vec<String> = after
        .bindings
        .iter()
        .filter(|b| &b.role == role)
        .map(|b| names.group(&b.group))
        .collect();
    groups.sort_by_key(|g| g.to_lowercase());
    (!groups.is_empty()).then(|| {
        format!(
            "Every group bound to {} gains it: {}.",
            role.name(),
            groups.join(", ")
        )
    })
}

/// The change item an edit asks for, checked against the catalog, with a warning when it names
/// something the catalog does not know.
pub async fn item_of(
    pool: &PgPool,
    edit: Edit,
    push: &PushSettings,
) -> Result<(ChangeItem, Option<String>), WorkflowError> {
    Ok(match edit {
        Edit::Bind {
            source,
            group_id,
            role_arn,
            remove,
        } => {
            let role = RoleArn::parse(&role_arn)
                .map_err(|e| WorkflowError::Fields(vec![("role_arn", e.0)]))?;
            let group_exists = catalog::group_exists(pool, &source, &group_id).await?;
            if !group_exists && !remove {
                return Err(WorkflowError::Refused(
                    "that group is not in the synced directory (or was deleted)".into(),
                ));
            }
            let managed = catalog::role_managed(pool, &role.to_string()).await?;
            if managed == Some(false) && !remove {
                return Err(WorkflowError::Fields(vec![(
                    "role_arn",
                    "Gatehouse changes only roles tagged gatehouse:managed=true; this one is not."
                        .into(),
                )]));
            }
            let warning = managed.is_none().then(|| {
                "No synced IAM role has this ARN: it will be bound when it exists.".to_string()
            });
            let b = Binding {
                group: GroupRef::group(&source, &group_id),
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
                catalog_warning(pool, &g, push).await?
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
    })
}

/// Puts `edits` together into a new change set of `who`'s own for `purpose` (nothing lands if
/// one does not fit); answers its id and each edit's warning.
pub async fn draft_for(
    pool: &PgPool,
    push: &PushSettings,
    who: &Actor,
    purpose: &workflow::Purpose,
    edits: Vec<Edit>,
) -> Result<(i64, Vec<Option<String>>), WorkflowError> {
    let mut items = Vec::new();
    let mut warnings = Vec::new();
    for edit in edits {
        let (item, warning) = item_of(pool, edit, push).await?;
        items.push(item);
        warnings.push(warning);
    }
    let id = workflow::edit_for(pool, who, purpose, items).await?;
    Ok((id, warnings))
}

/// A change set's state (`approved`, `pushing`, …).
pub async fn change_set_state(state: &AppState, id: i64) -> Result<String, AppError> {
    let mut conn = state.pool.acquire().await?;
    match store::change_set(&mut conn, id, false).await? {
        Some(cs) => Ok(cs.state.as_str().to_string()),
        None => Err(AppError::not_found(format!("There is no change set {id}."))),
    }
}

/// A change set as `viewer` (or nobody in particular) sees it.
pub async fn change_set_for(
    state: &AppState,
    viewer: Option<SessionUser>,
    id: i64,
) -> Result<ChangeSetDetail, AppError> {
    detail(&state.pool, &state.settings, viewer, id).await
}

async fn edit_now(
    pool: &PgPool,
    who: &Actor,
    edit: Edit,
    push: &PushSettings,
) -> Result<FormOutcome, WorkflowError> {
    let (item, warning) = item_of(pool, edit, push).await?;
    let id = workflow::edit(pool, who, item.clone()).await?;
    // A grant goes to a role, so every group bound to it gains the route: say which.
    let warning = match &item {
        ChangeItem::AddGrant(g) => {
            let inherited = grant_reaches(pool, id, &g.role).await?;
            match (warning, inherited) {
                (Some(w), Some(i)) => Some(format!("{w} {i}")),
                (w, i) => w.or(i),
            }
        }
        _ => warning,
    };
    Ok(FormOutcome {
        change_set: Some(id),
        warning,
        message: Some(format!("Added to your draft change set {id}.")),
        ..Default::default()
    })
}

/// Which groups a role's grants reach once draft `id` is applied.
async fn grant_reaches(
    pool: &PgPool,
    id: i64,
    role: &RoleArn,
) -> Result<Option<String>, WorkflowError> {
    let mut conn = pool.acquire().await?;
    let Some(cs) = store::change_set(&mut conn, id, false).await? else {
        return Ok(None);
    };
    let Ok(after) = store::desired_state(&mut conn).await?.apply(&cs.items) else {
        return Ok(None);
    };
    drop(conn);
    let names = Names::load(pool, super::queries::bound_groups(&after)).await?;
    Ok(inherited_by(role, &after, &names))
}

/// The warnings next to each item: for a grant, the methods IAM does not decide and the
/// groups that gain it.
async fn item_warnings(
    pool: &PgPool,
    items: &[ChangeItem],
    after: Option<&DesiredState>,
    names: &Names,
    push: &PushSettings,
) -> sqlx::Result<Vec<Option<String>>> {
    let mut methods: BTreeMap<(String, String), Vec<catalog::MethodAuth>> = BTreeMap::new();
    let mut out = Vec::new();
    for item in items {
        let ChangeItem::AddGrant(g) = item else {
            out.push(None);
            continue;
        };
        let key = (
            format!("{}/{}", g.api.account.as_str(), g.api.region.as_str()),
            g.api.api_id.as_str().to_string(),
        );
        if !methods.contains_key(&key) {
            let found = catalog::api_routes(pool, &key.0, &key.1).await?;
            methods.insert(key.clone(), found);
        }
        let notes: Vec<String> = [
            authorization_warning(g, &methods[&key], methods_on_push(pool, push, g).await?),
            after.and_then(|a| inherited_by(&g.role, a, names)),
        ]
        .into_iter()
        .flatten()
        .collect();
        out.push((!notes.is_empty()).then(|| notes.join(" ")));
    }
    Ok(out)
}

async fn detail(
    pool: &PgPool,
    settings: &crate::backend::config::Settings,
    viewer: Option<SessionUser>,
    id: i64,
) -> Result<ChangeSetDetail, AppError> {
    let required_approvals = settings.required_approvals;
    let mut conn = pool.acquire().await?;
    let Some(cs) = store::change_set(&mut conn, id, false).await? else {
        return Err(AppError::not_found(format!("There is no change set {id}.")));
    };
    let reviews = store::reviews(&mut conn, id).await?;
    let before = store::desired_state(&mut conn).await?;
    let item_groups = cs.items.iter().filter_map(|i| match i {
        ChangeItem::AddBinding(b) | ChangeItem::RemoveBinding(b) => Some(&b.group),
        _ => None,
    });
    let names = Names::load(
        pool,
        super::queries::bound_groups(&before).chain(item_groups),
    )
    .await?;
    let open = matches!(cs.state, State::Draft | State::Submitted);
    let after = before.apply(&cs.items).ok();
    // An applied change set shows what it did: the approved state just before it, and after.
    let applied = match cs.applied_version {
        Some(version) if !open => applied_states(&mut conn, &before, version, &cs.items).await?,
        _ => None,
    };
    let (policies, access) = match (&after, open, &applied) {
        (Some(after), true, _) => (
            views::policy_diffs(&cs.items, &before, after),
            views::access(pool, &names, &before, after).await?,
        ),
        (_, false, Some((then, after))) => (
            views::policy_diffs(&cs.items, then, after),
            views::access(pool, &names, then, after).await?,
        ),
        _ => (Vec::new(), Vec::new()),
    };
    let warnings = item_warnings(
        pool,
        &cs.items,
        after.as_ref().filter(|_| open),
        &names,
        &settings.push,
    )
    .await?;
    let stale = if open {
        store::conflicting(&mut conn, cs.base_version, &cs.items)
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
        .zip(warnings)
        .map(|((index, item), warning)| ItemView {
            index,
            added: item.is_addition(),
            text: names.item(item),
            warning,
        })
        .collect();
    let (bindings, enforcement_notice) =
        views::binding_lines(pool, &names, &cs.items, &settings.aws).await?;
    let access_end = match cs.access_ends_at {
        Some(at) => Some(crate::mappings::types::AccessEnd {
            at: crate::domain::expiry::show(at),
            field: crate::domain::expiry::field_value(at),
            ended: at <= crate::backend::clock::now(),
            revoked_by: crate::backend::expiry::revocation_of(&mut conn, id).await?,
        }),
        None => None,
    };
    // The APIs this change set opens a path to that limit how long access lasts, said before
    // the author submits.
    let longest = match (&after, open) {
        (Some(after), true) => {
            let limits =
                crate::backend::access_limits::reached(&mut conn, &cs.items, after).await?;
            crate::domain::access_limit::limits_reached(&cs.items, after, &limits)
                .into_iter()
                .map(crate::domain::access_limit::Limit::sentence)
                .collect()
        }
        _ => Vec::new(),
    };
    Ok(ChangeSetDetail {
        access_end,
        longest,
        revokes: cs.revokes,
        bindings,
        enforcement_notice,
        content_hash: store::content_hash(&cs.items, cs.base_version, cs.access_ends_at),
        summary: views::summary(&cs),
        justification: cs.justification.clone(),
        ticket: cs.ticket.clone(),
        items,
        policies,
        access,
        timeline: views::timeline(pool, id).await?,
        approvals: reviews.iter().filter(|r| r.decision == "approve").count(),
        approvals_required: required_approvals,
        owner_approvals: crate::backend::owners::for_change_set(&mut conn, id, &cs.items)
            .await?
            .into_iter()
            .map(|c| crate::mappings::types::OwnerApproval {
                group_name: c.groups(),
                api_id: c.api_id,
                api_name: c.api_name,
                approved_by: c.approved_by,
            })
            .collect(),
        stale,
        viewer_is_author: viewer_oid == Some(cs.author_oid),
        viewer_may_review: is_reviewer
            && viewer_oid != Some(cs.author_oid)
            && !reviewed
            && cs.state == State::Submitted,
    })
}

pub async fn edit(state: &AppState, edit: Edit) -> Result<FormOutcome, AppError> {
    Ok(edit_now(&state.pool, &actor(), edit, &state.settings.push).await?)
}

pub async fn save(
    state: &AppState,
    id: i64,
    details: Details,
    submit: bool,
) -> Result<FormOutcome, AppError> {
    let saved = workflow::save_details(&state.pool, &actor(), id, details, submit).await?;
    Ok(FormOutcome {
        change_set: Some(id),
        ..FormOutcome::message(if saved == State::Submitted {
            "Submitted for review."
        } else {
            "Saved."
        })
    })
}

pub async fn withdraw(state: &AppState, id: i64) -> Result<FormOutcome, AppError> {
    workflow::withdraw(&state.pool, &actor(), id).await?;
    Ok(FormOutcome::message("Withdrawn."))
}

pub async fn drop_item(state: &AppState, id: i64, index: usize) -> Result<FormOutcome, AppError> {
    workflow::drop_item(&state.pool, &actor(), id, index).await?;
    Ok(FormOutcome::message("Removed from the change set."))
}

pub async fn review(
    state: &AppState,
    id: i64,
    approve: bool,
    comment: &str,
    seen: &str,
) -> Result<FormOutcome, AppError> {
    let who = actor();
    let required = state.settings.required_approvals;
    let reviewed = workflow::review_seen(
        &state.pool,
        &who,
        id,
        approve,
        comment,
        required,
        Some(seen),
    )
    .await?;
    let message = match reviewed {
        State::Approved if state.settings.push.push_on_approval => {
            match state.pusher.start(who.clone(), id).await {
                Ok(_) => "Approved, applied to the mappings, and pushing to AWS now.".to_string(),
                Err(e) => {
                    format!("Approved and applied to the mappings; the push could not start: {e}")
                }
            }
        }
        State::Approved => "Approved and applied to the mappings.".into(),
        State::Rejected => "Rejected.".into(),
        _ => {
            let mut conn = state.pool.acquire().await?;
            let items = store::change_set(&mut conn, id, false)
                .await?
                .map(|cs| cs.items)
                .unwrap_or_default();
            let checks = crate::backend::owners::for_change_set(&mut conn, id, &items).await?;
            match crate::backend::owners::missing(&checks) {
                Some(owners) => format!(
                    "Your approval is recorded; it still needs an approval from an owner of {owners}."
                ),
                None => "Your approval is recorded; more are needed.".into(),
            }
        }
    };
    Ok(FormOutcome::message(message))
}

pub async fn rebase(state: &AppState, id: i64) -> Result<FormOutcome, AppError> {
    let version = workflow::rebase(&state.pool, &actor(), id).await?;
    Ok(FormOutcome::message(format!(
        "Rebased onto mappings version {version}."
    )))
}

pub async fn change_sets(
    state: &AppState,
    filter: &str,
    order: &ChangeSetOrder,
    cursor: &crate::catalog::types::Cursor,
    size: usize,
) -> Result<crate::catalog::types::Page<ChangeSetSummary>, AppError> {
    let states: Vec<State> = State::parse(filter).into_iter().collect();
    let page = store::listed_page(
        &state.pool,
        &states,
        order.sort,
        order.ascending,
        cursor,
        size,
    )
    .await?;
    Ok(crate::catalog::types::Page {
        items: page.items.into_iter().map(|r| r.summary).collect(),
        total: page.total,
        next: page.next,
        prev: page.prev,
    })
}

pub async fn change_set(state: &AppState, id: i64) -> Result<ChangeSetDetail, AppError> {
    detail(&state.pool, &state.settings, caller(), id).await
}

pub async fn review_queue(state: &AppState) -> Result<Vec<ChangeSetSummary>, AppError> {
    let viewer = caller().map(|v| v.oid);
    let rows = store::listed(&state.pool, &[State::Submitted], 200).await?;
    let mut queue = Vec::new();
    let mut conn = state.pool.acquire().await?;
    for cs in rows.into_iter().filter(|cs| Some(cs.author_oid) != viewer) {
        let mut summary = cs.summary;
        (summary.waits_on, summary.waits_on_viewer) =
            owners_waited_on(&mut conn, summary.id, viewer).await?;
        queue.push(summary);
    }
    Ok(queue)
}

/// What a submitted change set waits on from API owners, and whether `viewer` is one of them.
async fn owners_waited_on(
    db: &mut sqlx::PgConnection,
    id: i64,
    viewer: Option<uuid::Uuid>,
) -> Result<(Option<String>, bool), AppError> {
    use crate::backend::owners;
    let Some(cs) = store::change_set(&mut *db, id, false).await? else {
        return Ok((None, false));
    };
    let checks = owners::for_change_set(&mut *db, id, &cs.items).await?;
    let mut yours = Vec::new();
    let mut others = Vec::new();
    for check in checks.iter().filter(|c| c.approved_by.is_none()) {
        let mut owns = false;
        if let Some(oid) = viewer {
            for owner in &check.owners {
                owns = owns || owners::is_member(&mut *db, &owner.group(), oid).await?;
            }
        }
        if owns {
            yours.push(check.api_name.clone());
        } else {
            others.push(format!("{} ({})", check.api_name, check.groups()));
        }
    }
    Ok(if !yours.is_empty() {
        (
            Some(format!("Waits on you: owner of {}", yours.join(", "))),
            true,
        )
    } else if !others.is_empty() {
        (
            Some(format!("Needs an owner of {}", others.join(", "))),
            false,
        )
    } else {
        (None, false)
    })
}

pub async fn group_mappings(
    state: &AppState,
    source: &str,
    id: &str,
    role_search: &str,
) -> Result<GroupMappings, AppError> {
    let viewer = caller().map(|v| v.oid);
    Ok(
        super::queries::group_mappings(
            &state.pool,
            &state.desired,
            viewer,
            source,
            id,
            role_search,
        )
        .await?,
    )
}

pub async fn mappings(
    state: &AppState,
    search: &str,
    cursor: &crate::catalog::types::Cursor,
    size: usize,
) -> Result<crate::catalog::types::Page<MappingRow>, AppError> {
    Ok(super::queries::mappings(
        &state.pool,
        &state.desired,
        search,
        cursor,
        size,
        super::queries::ROUTES_SHOWN,
    )
    .await?)
}

pub async fn home(state: &AppState, reviewer: bool) -> Result<HomeSummary, AppError> {
    let pool = &state.pool;
    let viewer = caller().map(|v| v.oid);
    // The single-query reads on one connection (sqlx pings a connection given back: a round
    // trip each), given back before the campaigns are read from the pool.
    let mut conn = pool.acquire().await?;
    let open = store::listed(&mut *conn, &[State::Draft, State::Submitted], 200).await?;
    let mine = open
        .iter()
        .filter(|cs| Some(cs.author_oid) == viewer)
        .map(|cs| cs.summary.clone())
        .collect();
    let mut to_review = Vec::new();
    if reviewer {
        for cs in open
            .iter()
            .filter(|cs| cs.state == State::Submitted && Some(cs.author_oid) != viewer)
        {
            let mut summary = cs.summary.clone();
            (summary.waits_on, summary.waits_on_viewer) =
                owners_waited_on(&mut conn, summary.id, viewer).await?;
            to_review.push(summary);
        }
    }
    let runs = crate::backend::catalog::queries::sync_runs(&mut *conn, 50).await?;
    let mut last_syncs: Vec<crate::catalog::types::SyncRun> = Vec::new();
    for run in runs {
        if !last_syncs.iter().any(|r| r.catalog == run.catalog) {
            last_syncs.push(run);
        }
    }
    let pushes = store::listed(
        &mut *conn,
        &[State::Approved, State::Pushing, State::PushFailed],
        20,
    )
    .await?
    .into_iter()
    .map(|cs| cs.summary)
    .collect();
    let drift = crate::backend::push::drift::latest_glance(&mut *conn)
        .await?
        .map(|(checked_at, differences, error)| DriftGlance {
            checked_at: crate::backend::catalog::queries::utc(checked_at),
            differences,
            error,
        });
    let now = crate::backend::clock::now();
    let ending =
        crate::backend::expiry::ending_before(&mut *conn, now + time::Duration::days(7), 50)
            .await?
            .into_iter()
            .map(|(id, title, at)| (id, title, crate::domain::expiry::show(at)))
            .collect();
    drop(conn);
    let campaigns = match caller() {
        Some(who) => {
            crate::backend::campaigns::view::waiting_on(pool, &who.actor(), &who.current_user())
                .await?
        }
        None => Vec::new(),
    };
    Ok(HomeSummary {
        campaigns,
        ending,
        viewer: None,
        mine,
        to_review,
        last_syncs,
        pushes,
        drift,
        enforcement_notice: state
            .settings
            .aws
            .any_recorded_only()
            .then(|| crate::domain::enforcement::RECORDED_ONLY.to_string()),
    })
}

pub async fn matrix(
    state: &AppState,
    api_id: &str,
    window: &super::matrix::Window,
) -> Result<ApiMatrix, AppError> {
    let viewer = caller().map(|v| v.oid);
    super::matrix::api_matrix(state, api_id, viewer, window)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No API with the id `{api_id}` was synced.")))
}

/// The approved state just before the change set applied at `version`, and just after it:
/// `current` with every change set applied since (itself included) undone. `None` when they
/// cannot be undone (a state changed outside the workflow).
async fn applied_states(
    conn: &mut sqlx::PgConnection,
    current: &crate::domain::desired::DesiredState,
    version: i64,
    items: &[ChangeItem],
) -> sqlx::Result<
    Option<(
        crate::domain::desired::DesiredState,
        crate::domain::desired::DesiredState,
    )>,
> {
    let since: Vec<sqlx::types::Json<Vec<ChangeItem>>> = sqlx::query_scalar(
        "SELECT items FROM change_sets WHERE applied_version >= $1 ORDER BY applied_version",
    )
    .bind(version)
    .fetch_all(&mut *conn)
    .await?;
    let since: Vec<Vec<ChangeItem>> = since.into_iter().map(|j| j.0).collect();
    let Ok(before) = crate::domain::pending::pushed_state(current, &since) else {
        return Ok(None);
    };
    Ok(before.apply(items).ok().map(|after| (before, after)))
}
