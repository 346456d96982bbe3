//! Access requests: any signed-in person asks for a role for themselves, for a bounded time.
//! A request is a change set (purpose [`PURPOSE`]) binding that one person to the role, made
//! and submitted at once, reviewed like any other (never by the requester: they are its
//! author), and revoked at its end like any time-bound change set.

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
        change_set::{Action, State},
        desired::{ChangeItem, Route},
        expiry,
        grant::GroupRef,
        names::RoleArn,
        request::{self, RequestForm},
    },
    mappings::types::{MyRequest, RequestOptions, RequestableRole},
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

/// Makes and submits the request; answers its change set's id.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    form: &RequestForm,
) -> Result<i64, WorkflowError> {
    let who = actor
        .oid
        .ok_or_else(|| Refused("only a signed-in person can request access".into()))?;
    let now = crate::backend::clock::now();
    let asked = request::parse(form, now).map_err(Fields)?;
    let Some((person, person_name)) = directory_person(&state.pool, who).await? else {
        return Err(Refused(
            "You are not in the directory Gatehouse reads, so access cannot be given to you by \
             name. Ask a Gatehouse admin to check the directory sync."
                .into(),
        ));
    };
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
    let item = request::item(person.clone(), asked.role.clone());
    if let ChangeItem::AddBinding(b) = &item {
        if desired.state.bindings.contains(b) {
            return Err(Fields(vec![(
                "role_arn",
                format!("You already hold role {}.", asked.role.name()),
            )]));
        }
    }
    let mut tx = state.pool.begin().await?;
    store::lock_author(&mut tx, who).await?;
    // One open request per person and role: a second would only wait beside the first.
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM change_sets
         WHERE author_oid = $1 AND purpose = $2 AND state IN ('submitted', 'approved', 'pushing')
           AND items @> $3 LIMIT 1",
    )
    .bind(who)
    .bind(PURPOSE)
    .bind(sqlx::types::Json(vec![&item]))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = open {
        return Err(Fields(vec![(
            "role_arn",
            format!(
                "You already asked for role {}: request {id} is still open.",
                asked.role.name()
            ),
        )]));
    }
    let title = request::title(&person_name, &asked.role);
    let version = store::version(&mut tx, false).await?;
    let id =
        store::insert_purpose_draft(&mut tx, who, &actor.name, version, PURPOSE, &title).await?;
    let draft = store::change_set(&mut tx, id, true)
        .await?
        .ok_or(WorkflowError::NotFound(id))?;
    add_and_save(&mut tx, actor, &draft, &[item], Some(json!(PURPOSE))).await?;
    store::save_details(
        &mut tx,
        id,
        &title,
        &asked.justification,
        None,
        Some(asked.ends_at),
    )
    .await?;
    let submitted = State::Draft
        .next(Action::Submit)
        .map_err(|e| Refused(e.to_string()))?;
    store::set_state(&mut tx, id, submitted).await?;
    audit::record(
        &mut *tx,
        actor,
        action::CHANGE_SET_SUBMITTED,
        Some(&format!("change_set:{id}")),
        json!({
            "request": { "person": person, "role": asked.role.to_string() },
            "before": { "state": "draft" },
            "after": { "state": submitted.as_str(), "title": title,
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
    let held: Vec<&RoleArn> = in_directory
        .as_ref()
        .map(|(person, _)| {
            desired
                .state
                .bindings
                .iter()
                .filter(|b| &b.group == person)
                .map(|b| &b.role)
                .collect()
        })
        .unwrap_or_default();
    let mut roles: Vec<RequestableRole> = desired
        .state
        .grants
        .iter()
        .map(|g| &g.role)
        .collect::<std::collections::BTreeSet<_>>()
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
            held: held.contains(&role),
        })
        .collect();
    roles.sort_by_key(|r| r.name.to_lowercase());
    Ok(RequestOptions {
        in_directory: in_directory.is_some(),
        roles,
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
