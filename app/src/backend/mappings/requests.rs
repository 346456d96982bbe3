//! Access requests: any signed-in person asks for a role for themselves, for a bounded time.
//! A request is a change set (purpose [`PURPOSE`]) binding that one person to the role, made
//! and submitted at once, reviewed like any other (never by the requester: they are its
//! author), and revoked at its end like any time-bound change set.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    store,
    views::Names,
    workflow::{add_and_save, WorkflowError},
};
use crate::{
    backend::{
        audit::{self, action, Actor},
        catalog::queries::utc,
        state::AppState,
    },
    domain::{
        access_limit,
        change_set::{Action, State},
        desired::{ChangeItem, Route},
        expiry,
        grant::GroupRef,
        names::RoleArn,
        request::{self, RequestForm},
    },
    mappings::types::{MyRequest, RequestOptions, RequestableRole, RequestableRoute},
};

/// `change_sets.purpose` of an access request.
pub const PURPOSE: &str = "access-request";

use WorkflowError::{Fields, Refused};

/// The person signed in, as the directory Gatehouse reads knows them: a request binds them by
/// their object id in that directory.
async fn directory_person(pool: &PgPool, oid: Uuid) -> sqlx::Result<Option<(GroupRef, String)>> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT source, object_id, display_name FROM directory_people
         WHERE object_id = $1 AND deleted_at IS NULL
         ORDER BY source = 'graph' DESC, source LIMIT 1",
    )
    .bind(oid.to_string())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(source, id, name)| (GroupRef::person(&source, &id), name)))
}

/// The requester as the directory knows them, or why a request cannot name them.
async fn requester(
    pool: &PgPool,
    actor: &Actor,
) -> Result<(Uuid, GroupRef, String), WorkflowError> {
    let who = actor
        .oid
        .ok_or_else(|| Refused("only a signed-in person can request access".into()))?;
    let Some((person, person_name)) = directory_person(pool, who).await? else {
        return Err(Refused(
            "You are not in the directory Gatehouse reads, so access cannot be given to you by \
             name. Ask a Gatehouse admin to check the directory sync."
                .into(),
        ));
    };
    Ok((who, person, person_name))
}

/// The roles `person` holds: bound to them directly (earlier requests still running) or to a
/// group they are in, directly or through nesting. Asking again for what a group already gives
/// would only add a second path to review and revoke.
async fn held_by(
    pool: &PgPool,
    desired: &crate::domain::desired::DesiredState,
    person: &GroupRef,
) -> sqlx::Result<Vec<RoleArn>> {
    let groups =
        crate::backend::memberships::groups_of(pool, &person.source, &person.object_id, None)
            .await?;
    Ok(desired
        .bindings
        .iter()
        .filter(|b| &b.group == person || groups.contains_key(&b.group))
        .map(|b| b.role.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect())
}

/// Makes and submits a request for a role; answers its change set's id.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    form: &RequestForm,
) -> Result<i64, WorkflowError> {
    let now = crate::backend::clock::now();
    let asked = request::parse(form, now).map_err(Fields)?;
    let (who, person, person_name) = requester(&state.pool, actor).await?;
    let desired = state.desired.current(&state.pool).await?;
    // Every enforcement mode can name one person (Identity Center: a user assignment; SAML:
    // the user's app role assignment; token mode: the person's object id; `none` records it),
    // so a role is worth asking for as soon as it may call something.
    if desired.state.grants_of(&asked.role).is_empty() {
        return Err(Fields(vec![(
            "role_arn",
            format!(
                "Role {} may call no API route yet, so it would give you nothing.",
                asked.role.name()
            ),
        )]));
    }
    if held_by(&state.pool, &desired.state, &person)
        .await?
        .contains(&asked.role)
    {
        return Err(Fields(vec![(
            "role_arn",
            format!("You already hold role {}.", asked.role.name()),
        )]));
    }
    let title = request::title(&person_name, &asked.role);
    let asked_for = Asked {
        who,
        person,
        roles: vec![asked.role.clone()],
        field: "role_arn",
        title,
        justification: asked.justification,
        ends_at: asked.ends_at,
        hours: (asked.ends_at - now).whole_hours(),
        routes: Vec::new(),
    };
    submit(state, actor, &desired.state, asked_for).await
}

/// Makes and submits a request for a set of routes: the person is bound to the fewest roles
/// that give them ([`request::roles_for`]); the justification says what else those roles give,
/// so the reviewer weighs it. Answers the change set's id.
pub async fn create_for_routes(
    state: &AppState,
    actor: &Actor,
    form: &request::RouteRequestForm,
) -> Result<i64, WorkflowError> {
    let now = crate::backend::clock::now();
    let desired = state.desired.current(&state.pool).await?;
    let offered: Vec<Route> = desired.state.grants.iter().map(Route::of).collect();
    let asked = request::parse_routes(form, &offered, now).map_err(Fields)?;
    let (who, person, person_name) = requester(&state.pool, actor).await?;
    let held = held_by(&state.pool, &desired.state, &person).await?;
    let roles = request::roles_for(&desired.state, &held, &asked.routes)
        .map_err(|why| Fields(vec![("routes", why)]))?;
    let names = Names::load(&state.pool, std::iter::empty()).await?;
    let listed = |routes: &mut dyn Iterator<Item = &Route>| -> String {
        routes
            .map(|r| names.route(r))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let role_names: Vec<&str> = roles.iter().map(RoleArn::name).collect();
    let beyond = request::beyond(&desired.state, &roles, &asked.routes);
    let mut justification = format!(
        "{}\n\nAsked for {} route{}: {}.\nGiven through role{} {}",
        asked.justification,
        asked.routes.len(),
        if asked.routes.len() == 1 { "" } else { "s" },
        listed(&mut asked.routes.iter()),
        if roles.len() == 1 { "" } else { "s" },
        role_names.join(", "),
    );
    if beyond.is_empty() {
        justification.push_str(", which give nothing else.");
    } else {
        justification.push_str(&format!(
            ", which also allow: {}.",
            listed(&mut beyond.iter())
        ));
    }
    let asked_for = Asked {
        who,
        person,
        title: request::routes_title(&person_name, asked.routes.len(), &roles),
        roles,
        field: "routes",
        justification,
        ends_at: asked.ends_at,
        hours: (asked.ends_at - now).whole_hours(),
        routes: asked.routes.iter().map(request::route_key).collect(),
    };
    submit(state, actor, &desired.state, asked_for).await
}

/// A request, checked, ready to be written.
struct Asked {
    who: Uuid,
    person: GroupRef,
    roles: Vec<RoleArn>,
    /// The field a refusal about the roles is said next to.
    field: &'static str,
    title: String,
    justification: String,
    ends_at: time::OffsetDateTime,
    hours: i64,
    /// The routes asked for (route keys), when the person asked for routes.
    routes: Vec<String>,
}

/// Writes the request as a change set binding the person to each role, submitted at once.
async fn submit(
    state: &AppState,
    actor: &Actor,
    desired: &crate::domain::desired::DesiredState,
    asked: Asked,
) -> Result<i64, WorkflowError> {
    let items: Vec<ChangeItem> = asked
        .roles
        .iter()
        .map(|role| request::item(asked.person.clone(), role.clone()))
        .collect();
    let mut tx = state.pool.begin().await?;
    // The APIs the roles reach may allow less time than asked: the submission's rule, said
    // next to the duration.
    let after = desired.apply(&items).map_err(|e| {
        Refused(format!(
            "the request no longer fits the current mappings: {e}"
        ))
    })?;
    let limits = crate::backend::access_limits::reached(&mut tx, &items, &after).await?;
    let too_long = access_limit::request_refusals(&items, &after, asked.hours, &limits);
    if !too_long.is_empty() {
        return Err(Fields(vec![("hours", too_long.join(" "))]));
    }
    store::lock_author(&mut tx, asked.who).await?;
    // One open request per person and role: a second would only wait beside the first.
    for item in &items {
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM change_sets
             WHERE author_oid = $1 AND purpose = $2 AND state IN ('submitted', 'approved', 'pushing')
               AND items @> $3 LIMIT 1",
        )
        .bind(asked.who)
        .bind(PURPOSE)
        .bind(sqlx::types::Json(vec![item]))
        .fetch_optional(&mut *tx)
        .await?;
        if let (Some(id), Some(role)) = (open, item.role()) {
            return Err(Fields(vec![(
                asked.field,
                format!(
                    "You already asked for role {}: request {id} is still open.",
                    role.name()
                ),
            )]));
        }
    }
    let version = store::version(&mut tx, false).await?;
    let id = store::insert_purpose_draft(
        &mut tx,
        asked.who,
        &actor.name,
        version,
        PURPOSE,
        &asked.title,
    )
    .await?;
    let draft = store::change_set(&mut tx, id, true)
        .await?
        .ok_or(WorkflowError::NotFound(id))?;
    add_and_save(&mut tx, actor, &draft, &items, Some(json!(PURPOSE))).await?;
    store::save_details(
        &mut tx,
        id,
        &asked.title,
        &asked.justification,
        None,
        Some(asked.ends_at),
    )
    .await?;
    let submitted = State::Draft
        .next(Action::Submit)
        .map_err(|e| Refused(e.to_string()))?;
    store::set_state(&mut tx, id, submitted).await?;
    let roles: Vec<String> = asked.roles.iter().map(ToString::to_string).collect();
    let mut request = json!({ "person": asked.person, "role": roles.first(), "roles": roles });
    if !asked.routes.is_empty() {
        request["routes"] = json!(asked.routes);
    }
    audit::record(
        &mut *tx,
        actor,
        action::CHANGE_SET_SUBMITTED,
        Some(&format!("change_set:{id}")),
        json!({
            "request": request,
            "before": { "state": "draft" },
            "after": { "state": submitted.as_str(), "title": asked.title,
                       "justification": asked.justification,
                       "access_ends_at": expiry::show(asked.ends_at) },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// What the request page offers `who`: the roles they may ask for, with the routes each
/// gives, and their own requests, newest first.
pub async fn options(state: &AppState, who: Uuid) -> Result<RequestOptions, WorkflowError> {
    let in_directory = directory_person(&state.pool, who).await?;
    let desired = state.desired.current(&state.pool).await?;
    let names = Names::load(&state.pool, std::iter::empty()).await?;
    let limits = {
        let mut conn = state.pool.acquire().await?;
        crate::backend::access_limits::all(&mut conn).await?
    };
    let held: Vec<RoleArn> = match &in_directory {
        Some((person, _)) => held_by(&state.pool, &desired.state, person).await?,
        None => Vec::new(),
    };
    let mut roles: Vec<RequestableRole> = desired
        .state
        .grants
        .iter()
        .map(|g| &g.role)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|role| RequestableRole {
            arn: role.to_string(),
            name: role.name().to_string(),
            routes: desired
                .state
                .grants_of(role)
                .iter()
                .map(|g| names.route(&Route::of(g)))
                .collect(),
            held: held.contains(role),
            longest: access_limit::of_role(role, &desired.state, &limits)
                .map(access_limit::describe),
        })
        .collect();
    roles.sort_by_key(|r| r.name.to_lowercase());
    let mut by_route: BTreeMap<Route, Vec<&RoleArn>> = BTreeMap::new();
    for g in &desired.state.grants {
        by_route.entry(Route::of(g)).or_default().push(&g.role);
    }
    let mut routes: Vec<RequestableRoute> = by_route
        .into_iter()
        .map(|(r, via)| RequestableRoute {
            key: request::route_key(&r),
            api: names.api(r.api.api_id.as_str()),
            stage: r.stage.as_str().to_string(),
            method: r.method.to_string(),
            path: r.path.as_str().to_string(),
            held: via.iter().any(|role| held.contains(role)),
            via: via.iter().map(|role| role.name().to_string()).collect(),
        })
        .collect();
    routes.sort_by(|a, b| {
        (a.api.to_lowercase(), &a.stage, &a.path, &a.method).cmp(&(
            b.api.to_lowercase(),
            &b.stage,
            &b.path,
            &b.method,
        ))
    });
    Ok(RequestOptions {
        in_directory: in_directory.is_some(),
        roles,
        routes,
        durations: request::DURATIONS
            .iter()
            .map(|(h, label)| (*h, label.to_string()))
            .collect(),
        mine: mine(&state.pool, who).await?,
    })
}

/// One of a person's requests as `mine` reads it.
#[derive(sqlx::FromRow)]
struct RequestRow {
    id: i64,
    title: String,
    state: String,
    access_ends_at: Option<time::OffsetDateTime>,
    created_at: time::OffsetDateTime,
    base_version: i64,
    items: sqlx::types::Json<Vec<ChangeItem>>,
    /// The change set that revoked it at its end.
    revoked_by: Option<i64>,
}

/// `who`'s requests, newest first, each with its outcome and the reviewer's word.
pub async fn mine(pool: &PgPool, who: Uuid) -> sqlx::Result<Vec<MyRequest>> {
    let rows: Vec<RequestRow> = sqlx::query_as(
        "SELECT c.id, c.title, c.state, c.access_ends_at, c.created_at, c.base_version, c.items,
                    (SELECT r.id FROM change_sets r WHERE r.revokes_change_set_id = c.id)
                        AS revoked_by
             FROM change_sets c
             WHERE c.author_oid = $1 AND c.purpose = $2
             ORDER BY c.id DESC LIMIT 50",
    )
    .bind(who)
    .bind(PURPOSE)
    .fetch_all(pool)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let reviews: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT change_set_id, reviewer_name, decision, comment FROM reviews
         WHERE change_set_id = ANY($1) ORDER BY at",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let now = crate::backend::clock::now();
    // A waiting request whose role changed since (another change set applied on it) cannot
    // be approved as asked: its requester confirms it against the role as it is now.
    let mut stale_ids = Vec::new();
    let waiting: Vec<&RequestRow> = rows.iter().filter(|r| r.state == "submitted").collect();
    if !waiting.is_empty() {
        let mut conn = pool.acquire().await?;
        let now_state = store::desired_state(&mut conn).await?;
        for r in waiting {
            if !store::conflicting_in(&mut conn, &now_state, r.base_version, &r.items.0)
                .await?
                .is_empty()
            {
                stale_ids.push(r.id);
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (id, state, ends, revoked_by) = (r.id, r.state, r.access_ends_at, r.revoked_by);
            let said: Vec<String> = reviews
                .iter()
                .filter(|r| r.0 == id)
                .map(|(_, who, decision, comment)| {
                    // "Rita Reviewer <rita@…>" → "Rita Reviewer".
                    let who = who.split(" <").next().unwrap_or(who);
                    let verb = if decision == "approve" {
                        "approved"
                    } else {
                        "rejected"
                    };
                    if comment.is_empty() {
                        format!("{who} {verb}")
                    } else {
                        format!("{who} {verb}: “{comment}”")
                    }
                })
                .collect();
            let outcome = if revoked_by.is_some() {
                "Ended: the access was revoked at its end.".to_string()
            } else if ends.is_some_and(|e| e <= now) && state != "submitted" {
                "Its end has passed: Gatehouse is revoking it.".to_string()
            } else if stale_ids.contains(&id) {
                "The role changed since you asked: confirm your request to ask for it as it is now."
                    .to_string()
            } else {
                outcome(&state)
            };
            MyRequest {
                stale: stale_ids.contains(&id),
                id,
                title: r.title,
                outcome,
                state,
                ends_at: ends.map(expiry::show).unwrap_or_default(),
                asked_at: utc(r.created_at),
                reviews: said,
                revoked_by,
            }
        })
        .collect())
}

/// What the requester reads about where their request stands (before its end).
fn outcome(state: &str) -> String {
    match state {
        "submitted" => "Waiting for a reviewer.".into(),
        "approved" => "Approved: an admin pushes it to AWS next.".into(),
        "pushing" => "Approved, being pushed to AWS.".into(),
        "pushed" => "Granted: you may use the role until it ends.".into(),
        "push_failed" => "Approved, but the push to AWS failed: an admin will retry it.".into(),
        "rejected" => "Rejected.".into(),
        "withdrawn" => "Withdrawn.".into(),
        other => other.to_string(),
    }
}

/// `who`'s own request `id`, or "no change set" (someone else's change set, or no request:
/// the same answer, so ids tell nothing).
async fn own_request(pool: &PgPool, who: Uuid, id: i64) -> Result<(), WorkflowError> {
    let mut conn = pool.acquire().await?;
    match store::change_set(&mut conn, id, false).await? {
        Some(cs) if cs.is_request() && cs.author_oid == who => Ok(()),
        _ => Err(WorkflowError::NotFound(id)),
    }
}

/// Withdraws `who`'s request `id` (only their own, only while it waits: the workflow refuses
/// the rest).
pub async fn withdraw(
    pool: &PgPool,
    actor: &Actor,
    who: Uuid,
    id: i64,
) -> Result<(), WorkflowError> {
    own_request(pool, who, id).await?;
    super::workflow::withdraw(pool, actor, id).await
}

/// Confirms `who`'s waiting request `id` against the mappings as they are now (after the role
/// changed); earlier approvals no longer count.
pub async fn confirm(
    pool: &PgPool,
    actor: &Actor,
    who: Uuid,
    id: i64,
) -> Result<(), WorkflowError> {
    own_request(pool, who, id).await?;
    super::workflow::rebase(pool, actor, id).await.map(|_| ())
}
