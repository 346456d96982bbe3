//! What people do to change sets: edit a draft, submit, withdraw, review, rebase. Each is one
//! transaction holding the change set's row (and, to apply, the desired state's), so two people
//! acting at once end in one outcome. Every step is an audit event with before and after.

use crate::domain::{
    change_set::{may_review, Action, State},
    desired::{add_item, affected_roles, ChangeItem, DesiredState},
    expiry,
    policy::unpushable,
};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::store::{self, ChangeSetRow};
use crate::backend::audit::{self, action, Actor};

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("there is no change set {0}")]
    NotFound(i64),
    /// Refused, with the reason worded for the person.
    #[error("{0}")]
    Refused(String),
    /// The form's fields that are wrong, each with its reason.
    #[error("some fields need attention")]
    Fields(Vec<(&'static str, String)>),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

use WorkflowError::Refused;

fn person(actor: &Actor) -> Result<Uuid, WorkflowError> {
    actor
        .oid
        .ok_or_else(|| Refused("only a signed-in person can change mappings".into()))
}

fn subject(id: i64) -> String {
    format!("change_set:{id}")
}

async fn locked(db: &mut PgConnection, id: i64) -> Result<ChangeSetRow, WorkflowError> {
    store::change_set(db, id, true)
        .await?
        .ok_or(WorkflowError::NotFound(id))
}

fn own(cs: &ChangeSetRow, who: Uuid) -> Result<(), WorkflowError> {
    if cs.author_oid != who {
        return Err(Refused(format!(
            "change set {} belongs to {}; only its author can change it",
            cs.id, cs.author_name
        )));
    }
    Ok(())
}

/// Refuses items that would give a role a policy Gatehouse cannot push (too large, or not
/// expressible exactly), naming the role, the size and the limit.
fn pushable(items: &[ChangeItem], after: &DesiredState) -> Result<(), WorkflowError> {
    match unpushable(&affected_roles(items), after) {
        Some(why) => Err(Refused(format!("this change cannot be pushed: {why}"))),
        None => Ok(()),
    }
}

fn step(cs: &ChangeSetRow, a: Action) -> Result<State, WorkflowError> {
    cs.state.next(a).map_err(|e| Refused(e.to_string()))
}

/// Puts one edit into the author's draft (made on the first edit) and answers the draft's id.
/// The edit must make sense against the desired state as it is now.
pub async fn edit(pool: &PgPool, actor: &Actor, item: ChangeItem) -> Result<i64, WorkflowError> {
    let who = person(actor)?;
    let mut tx = pool.begin().await?;
    // One person's edits queue here, so two at once (a double click) find or make one draft
    // between them instead of racing to create two.
    store::lock_author(&mut tx, who).await?;
    let current = store::version(&mut tx, false).await?;
    let draft = match store::draft_of(&mut tx, who).await? {
        Some(d) => d,
        None => {
            let id = store::insert_draft(&mut tx, who, &actor.name, current).await?;
            locked(&mut tx, id).await?
        }
    };
    step(&draft, Action::Edit)?;
    let before = draft.items.clone();
    let mut items = draft.items.clone();
    add_item(&mut items, item.clone());
    too_many(&items)?;
    let desired = store::desired_state(&mut tx).await?;
    let after = desired
        .apply(&items)
        .map_err(|e| Refused(format!("this edit does not fit the current mappings: {e}")))?;
    pushable(&items, &after)?;
    store::save_items(&mut tx, draft.id, &items).await?;
    audit::record(
        &mut *tx,
        actor,
        action::CHANGE_SET_EDITED,
        Some(&subject(draft.id)),
        json!({ "edit": item, "before": before, "after": items }),
    )
    .await?;
    tx.commit().await?;
    Ok(draft.id)
}

fn too_many(items: &[ChangeItem]) -> Result<(), WorkflowError> {
    if items.len() > crate::domain::desired::MAX_ITEMS {
        return Err(Refused(format!(
            "a change set holds at most {} items; submit this one and make the rest in another",
            crate::domain::desired::MAX_ITEMS
        )));
    }
    Ok(())
}

/// What a draft of its own is for: `key` tells two apart (one draft per person and key), and
/// `title` says what it does.
pub struct Purpose {
    pub key: String,
    pub title: String,
}

/// Puts `items` together into the author's draft for `purpose` (made if needed), never into
/// their general draft: a rollback or a drift resolution is reviewed on its own, and nothing
/// lands if one item does not fit.
pub async fn edit_for(
    pool: &PgPool,
    actor: &Actor,
    purpose: &Purpose,
    new_items: Vec<ChangeItem>,
) -> Result<i64, WorkflowError> {
    let who = person(actor)?;
    let mut tx = pool.begin().await?;
    store::lock_author(&mut tx, who).await?;
    let current = store::version(&mut tx, false).await?;
    let draft = match store::purpose_draft_of(&mut tx, who, &purpose.key).await? {
        Some(d) => d,
        None => {
            let id = store::insert_purpose_draft(
                &mut tx,
                who,
                &actor.name,
                current,
                &purpose.key,
                &purpose.title,
            )
            .await?;
            locked(&mut tx, id).await?
        }
    };
    step(&draft, Action::Edit)?;
    let purpose_key = json!(purpose.key);
    add_and_save(&mut tx, actor, &draft, &new_items, Some(purpose_key)).await?;
    tx.commit().await?;
    Ok(draft.id)
}

/// Adds `new_items` to change set `cs` (held locked), checks the result fits the desired state
/// and can be pushed, saves it and records the edit.
pub(super) async fn add_and_save(
    tx: &mut PgConnection,
    actor: &Actor,
    cs: &ChangeSetRow,
    new_items: &[ChangeItem],
    purpose: Option<serde_json::Value>,
) -> Result<(), WorkflowError> {
    let mut items = cs.items.clone();
    for item in new_items {
        add_item(&mut items, item.clone());
    }
    too_many(&items)?;
    let desired = store::desired_state(&mut *tx).await?;
    let after = desired
        .apply(&items)
        .map_err(|e| Refused(format!("this does not fit the current mappings: {e}")))?;
    pushable(&items, &after)?;
    store::save_items(&mut *tx, cs.id, &items).await?;
    let mut details = json!({ "edit": new_items, "before": cs.items, "after": items });
    if let Some(purpose) = purpose {
        details["purpose"] = purpose;
    }
    audit::record(
        &mut *tx,
        actor,
        action::CHANGE_SET_EDITED,
        Some(&subject(cs.id)),
        details,
    )
    .await?;
    Ok(())
}

/// Change set `id`, held locked, when `actor` wrote it and may still edit it.
async fn own_draft(
    db: &mut PgConnection,
    actor: &Actor,
    id: i64,
) -> Result<ChangeSetRow, WorkflowError> {
    let who = person(actor)?;
    let cs = locked(db, id).await?;
    own(&cs, who)?;
    step(&cs, Action::Edit)?;
    Ok(cs)
}

/// Adds `new_items` to the author's draft `id` (nothing lands if one does not fit): the REST
/// API's way to grow a draft it made.
pub async fn add_items(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    new_items: Vec<ChangeItem>,
) -> Result<(), WorkflowError> {
    let mut tx = pool.begin().await?;
    let cs = own_draft(&mut tx, actor, id).await?;
    add_and_save(&mut tx, actor, &cs, &new_items, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one item from the author's draft.
pub async fn drop_item(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    index: usize,
) -> Result<(), WorkflowError> {
    let mut tx = pool.begin().await?;
    let cs = own_draft(&mut tx, actor, id).await?;
    let mut items = cs.items.clone();
    if index >= items.len() {
        return Err(Refused("that item is no longer in the change set".into()));
    }
    let removed = items.remove(index);
    store::save_items(&mut tx, id, &items).await?;
    audit::record(
        &mut *tx,
        actor,
        action::CHANGE_SET_EDITED,
        Some(&subject(id)),
        json!({ "removed": removed, "before": cs.items, "after": items }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct Details {
    pub title: String,
    pub justification: String,
    pub ticket: String,
    /// When the access it adds ends, as typed (empty: no end); see [`expiry::parse_end`].
    pub access_ends: String,
}

/// Checks the details as typed, and answers the end they give (if any).
pub fn check_details(
    d: &Details,
    submitting: bool,
) -> Result<Option<time::OffsetDateTime>, WorkflowError> {
    let mut errors = Vec::new();
    let ends =
        expiry::parse_end(&d.access_ends, crate::backend::clock::now()).unwrap_or_else(|e| {
            errors.push(("access_ends", e));
            None
        });
    let title = d.title.trim();
    if (submitting && title.is_empty()) || title.chars().count() > 120 {
        errors.push((
            "title",
            "A title of 1 to 120 characters says what the change does.".to_string(),
        ));
    }
    let justification = d.justification.trim();
    if submitting && justification.chars().count() < 10 {
        errors.push((
            "justification",
            "Say why this access is needed (at least 10 characters): reviewers decide on it."
                .to_string(),
        ));
    }
    if justification.chars().count() > 4000 {
        errors.push(("justification", "At most 4,000 characters.".to_string()));
    }
    let ticket = d.ticket.trim();
    if ticket.chars().count() > 64 || ticket.chars().any(char::is_whitespace) {
        errors.push((
            "ticket",
            "A ticket reference is one word of at most 64 characters, such as CHG-1234."
                .to_string(),
        ));
    }
    if errors.is_empty() {
        Ok(ends)
    } else {
        Err(WorkflowError::Fields(errors))
    }
}

/// Saves title, justification and ticket of a draft; with `submit`, also submits it.
pub async fn save_details(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    details: Details,
    submit: bool,
) -> Result<State, WorkflowError> {
    let who = person(actor)?;
    let ends = check_details(&details, submit)?;
    let mut tx = pool.begin().await?;
    let cs = locked(&mut tx, id).await?;
    own(&cs, who)?;
    let mut state = step(&cs, Action::Edit)?;
    let ticket = Some(details.ticket.trim()).filter(|t| !t.is_empty());
    store::save_details(
        &mut tx,
        id,
        details.title.trim(),
        details.justification.trim(),
        ticket,
        ends,
    )
    .await?;
    if submit {
        if cs.items.is_empty() {
            return Err(Refused(
                "the change set has no changes yet; add some before submitting".into(),
            ));
        }
        if ends.is_some() && !expiry::adds_access(&cs.items) {
            return Err(WorkflowError::Fields(vec![(
                "access_ends",
                "Only access that is added can end: this change set adds none; leave the end empty."
                    .into(),
            )]));
        }
        let desired = store::desired_state(&mut tx).await?;
        let after = desired.apply(&cs.items).map_err(|e| {
            Refused(format!(
                "the change set no longer fits the current mappings: {e}"
            ))
        })?;
        pushable(&cs.items, &after)?;
        let now = crate::backend::clock::now();
        let too_long =
            crate::backend::access_limits::refusals(&mut tx, &cs.items, &after, ends, now).await?;
        if !too_long.is_empty() {
            return Err(WorkflowError::Fields(vec![(
                "access_ends",
                too_long.join(" "),
            )]));
        }
        state = step(&cs, Action::Submit)?;
        store::set_state(&mut tx, id, state).await?;
    }
    audit::record(
        &mut *tx,
        actor,
        if submit { action::CHANGE_SET_SUBMITTED } else { action::CHANGE_SET_EDITED },
        Some(&subject(id)),
        json!({
            "before": { "state": cs.state.as_str(), "title": cs.title, "justification": cs.justification, "ticket": cs.ticket, "access_ends_at": cs.access_ends_at.map(expiry::show) },
            "after": { "state": state.as_str(), "title": details.title.trim(), "justification": details.justification.trim(), "ticket": ticket, "access_ends_at": ends.map(expiry::show) },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(state)
}

pub async fn withdraw(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), WorkflowError> {
    let who = person(actor)?;
    let mut tx = pool.begin().await?;
    let cs = locked(&mut tx, id).await?;
    own(&cs, who)?;
    let state = step(&cs, Action::Withdraw)?;
    store::set_state(&mut tx, id, state).await?;
    audit::record(
        &mut *tx,
        actor,
        action::CHANGE_SET_WITHDRAWN,
        Some(&subject(id)),
        json!({ "before": cs.state.as_str(), "after": state.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A reviewer's decision. Approving with enough approvals applies the change set to the
/// desired state, unless another change set touching the same bindings or roles was applied
/// since its base (then the author must rebase).
pub async fn review(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    approve: bool,
    comment: &str,
    required_approvals: usize,
) -> Result<State, WorkflowError> {
    review_seen(pool, actor, id, approve, comment, required_approvals, None).await
}

/// A review of exactly the content the reviewer was shown (`seen`: its [`store::content_hash`]
/// from the page; `None` only for callers that read the change set in the same breath).
pub async fn review_seen(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    approve: bool,
    comment: &str,
    required_approvals: usize,
    seen: Option<&str>,
) -> Result<State, WorkflowError> {
    let who = person(actor)?;
    let comment = comment.trim();
    if !approve && comment.is_empty() {
        return Err(WorkflowError::Fields(vec![(
            "comment",
            "Say why you reject it, so the author can fix it.".into(),
        )]));
    }
    if comment.chars().count() > 2000 {
        return Err(WorkflowError::Fields(vec![(
            "comment",
            "At most 2,000 characters.".into(),
        )]));
    }
    let mut tx = pool.begin().await?;
    let cs = locked(&mut tx, id).await?;
    if cs.state != State::Submitted {
        return Err(Refused(format!(
            "change set {id} is {} now; only submitted change sets are reviewed",
            cs.state
        )));
    }
    let earlier: Vec<Uuid> = store::reviews(&mut tx, id)
        .await?
        .iter()
        .map(|r| r.reviewer_oid)
        .collect();
    may_review(&cs.author_oid, &who, &earlier).map_err(|e| Refused(e.to_string()))?;
    if let Some(token) = service_token_made_by(&mut tx, cs.author_oid, who).await? {
        return Err(Refused(format!(
            "{} wrote change set {id} with the service token “{token}”, which you made: whoever drives a pipeline cannot approve what it authored",
            cs.author_name
        )));
    }
    let content = store::content_hash(&cs.items, cs.base_version, cs.access_ends_at);
    if seen.is_some_and(|h| h != content) {
        return Err(Refused(
            "the change set changed since you opened it (edited or rebased): reload it and review what it holds now".into(),
        ));
    }
    store::insert_review(&mut tx, id, who, &actor.name, approve, comment, &content).await?;
    let approvals = store::approvals(&mut tx, id).await?;
    // An owned API the change set touches needs one of its owners among the approvers.
    let owners = if approve {
        crate::backend::owners::for_change_set(&mut tx, id, &cs.items).await?
    } else {
        Vec::new()
    };
    let owners_missing = crate::backend::owners::missing(&owners);
    let action_taken = if approve {
        Action::Approve {
            enough: approvals as usize >= required_approvals && owners_missing.is_none(),
        }
    } else {
        Action::Reject
    };
    let state = step(&cs, action_taken)?;
    let audit_action = if approve {
        action::CHANGE_SET_APPROVED
    } else {
        action::CHANGE_SET_REJECTED
    };
    // The review first, then what it caused: the timeline reads "approved", then "applied".
    audit::record(
        &mut *tx,
        actor,
        audit_action,
        Some(&subject(id)),
        json!({
            "comment": comment, "before": cs.state.as_str(), "after": state.as_str(),
            "approvals": approvals, "access_ends_at": cs.access_ends_at.map(expiry::show),
            "owners": owners.iter().map(|c| json!({
                "api": c.api_id, "group": c.groups(), "approved_by": c.approved_by,
            })).collect::<Vec<_>>(),
            "owners_missing": owners_missing,
        }),
    )
    .await?;
    if state == State::Approved {
        if let Some(end) = cs
            .access_ends_at
            .filter(|end| *end <= crate::backend::clock::now())
        {
            return Err(Refused(format!(
                "the access it asks for would have ended already ({} UTC); the author must withdraw it and ask again with a later end",
                expiry::show(end)
            )));
        }
        store::version(&mut tx, true).await?;
        let conflicts = store::conflicting(&mut tx, cs.base_version, &cs.items).await?;
        if let Some((other, title)) = conflicts.first() {
            return Err(Refused(format!(
                "change set {other} (“{title}”) changed the same mappings after this one was written; the author must rebase it onto the current mappings first"
            )));
        }
        let desired = store::desired_state(&mut tx).await?;
        let after = desired.apply(&cs.items).map_err(|e| {
            Refused(format!(
                "the change set no longer fits the current mappings: {e}"
            ))
        })?;
        pushable(&cs.items, &after)?;
        // An API's limit set (or shortened) while the change set waited holds at approval.
        let now = crate::backend::clock::now();
        let too_long = crate::backend::access_limits::refusals(
            &mut tx,
            &cs.items,
            &after,
            cs.access_ends_at,
            now,
        )
        .await?;
        if !too_long.is_empty() {
            return Err(Refused(format!(
                "{} The author must withdraw it and ask again with an earlier end.",
                too_long.join(" ")
            )));
        }
        let version = store::apply(&mut tx, id, &cs.items).await?;
        audit::record(
            &mut *tx,
            actor,
            action::CHANGE_SET_APPLIED,
            Some(&subject(id)),
            json!({ "items": cs.items, "version": { "before": version - 1, "after": version } }),
        )
        .await?;
    }
    store::set_state(&mut tx, id, state).await?;
    tx.commit().await?;
    Ok(state)
}

/// A service token acting as `author` that `reviewer` made, if any: a person approving what
/// their own pipeline wrote would be reviewing themselves.
async fn service_token_made_by(
    db: &mut PgConnection,
    author: Uuid,
    reviewer: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT name FROM api_tokens
         WHERE kind = 'service' AND subject_oid = $1 AND created_by_oid = $2
         ORDER BY id LIMIT 1",
    )
    .bind(author)
    .bind(reviewer)
    .fetch_optional(db)
    .await
}

/// Moves a change set's base to the current mappings, when its items still fit them.
pub async fn rebase(pool: &PgPool, actor: &Actor, id: i64) -> Result<i64, WorkflowError> {
    let who = person(actor)?;
    let mut tx = pool.begin().await?;
    let cs = locked(&mut tx, id).await?;
    own(&cs, who)?;
    if !matches!(cs.state, State::Draft | State::Submitted) {
        return Err(Refused(format!(
            "change set {id} is {}; only drafts and submitted change sets are rebased",
            cs.state
        )));
    }
    let version = store::version(&mut tx, false).await?;
    let desired = store::desired_state(&mut tx).await?;
    desired.apply(&cs.items).map_err(|e| {
        Refused(format!("its items no longer fit the current mappings ({e}); withdraw it and start again from the current mappings"))
    })?;
    store::set_base(&mut tx, id, version).await?;
    // What the change set does may differ on the new base: earlier approvals no longer count,
    // and it waits in the queue for reviewers to look again.
    let cleared = store::supersede_reviews(&mut tx, id).await?;
    audit::record(
        &mut *tx,
        actor,
        action::CHANGE_SET_REBASED,
        Some(&subject(id)),
        json!({ "before": cs.base_version, "after": version, "approvals_cleared": cleared }),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}
