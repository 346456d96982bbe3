//! Access review campaigns: starting one (its lines are the approved bindings and grants in
//! scope, each given to its reviewers), certifying a line, and who may. Closing and the
//! schedule live in [`close`]; what the pages read in [`view`]. Every step is an audit event
//! naming the campaign (`details.campaign`), so the history exports a campaign's evidence.

pub mod close;
pub mod view;

use std::collections::BTreeSet;

use serde_json::json;
use sqlx::{types::Json, PgPool};
use uuid::Uuid;

use crate::{
    backend::{
        audit::{self, Actor},
        mappings::{store, views::Names, workflow::WorkflowError},
        memberships, owners,
        state::AppState,
    },
    domain::{
        campaign::{self, Decider, Decision, Reviewers, StartForm},
        desired::ChangeItem,
        expiry::show,
        grant::GroupRef,
    },
    roles::{CurrentUser, Role},
};

pub const STARTED: &str = "campaign.started";
pub const DECIDED: &str = "campaign.line_decided";
pub const REMINDED: &str = "campaign.reminder";
pub const CLOSED: &str = "campaign.closed";

use WorkflowError::{Fields, Refused};

/// A line as certifying reads it: item, reviewers, decision and comment so far.
type LineRow = (
    Json<ChangeItem>,
    Json<Vec<GroupRef>>,
    Option<String>,
    String,
);

pub fn subject(id: i64) -> String {
    format!("campaign:{id}")
}

/// Starts a campaign over the approved state as it is now; answers its id and line count.
pub async fn start(
    state: &AppState,
    actor: &Actor,
    form: &StartForm,
) -> Result<(i64, usize), WorkflowError> {
    let now = crate::backend::clock::now();
    let new = campaign::parse(form, now).map_err(Fields)?;
    let mut tx = state.pool.begin().await?;
    // Lines are bindings and grants: the route catalog (exact policies) is not needed.
    let desired = store::approved_rows(&mut tx).await?;
    let known: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT api_id FROM rest_apis WHERE api_id = ANY($1)")
            .bind(new.scope.apis.iter().cloned().collect::<Vec<_>>())
            .fetch_all(&mut *tx)
            .await?;
    if let Some(missing) = new.scope.apis.iter().find(|a| !known.contains(a)) {
        return Err(Fields(vec![(
            "scope",
            format!("There is no API {missing} in the catalog."),
        )]));
    }
    let items = campaign::lines(&desired, &new.scope);
    if items.is_empty() {
        return Err(Fields(vec![(
            "scope",
            "Nothing to review: no approved binding or grant falls in this scope.".into(),
        )]));
    }
    let (named_group, reviewers_text) = match &new.reviewers {
        Reviewers::Owners => (None, "owners"),
        Reviewers::Group(g) => match owners::find_group(&mut tx, g).await {
            Ok((source, id, _)) => (Some(GroupRef::group(&source, &id)), "group"),
            Err(owners::SetError::Field(_, why)) => return Err(Fields(vec![("group", why)])),
            Err(owners::SetError::Db(e)) => return Err(e.into()),
        },
    };
    // Each line's reviewers: the named group, or the owners of the APIs the line is about
    // (every API's owners read once).
    let apis_by_line: Vec<Vec<String>> = items
        .iter()
        .map(|item| campaign::apis_of(item, &desired).into_iter().collect())
        .collect();
    let all_owners = match &named_group {
        Some(_) => Vec::new(),
        None => {
            let mut apis: Vec<String> = apis_by_line.iter().flatten().cloned().collect();
            apis.sort();
            apis.dedup();
            owners::of_apis(&mut tx, &apis).await?
        }
    };
    let line_reviewers: Vec<Vec<GroupRef>> = apis_by_line
        .iter()
        .map(|apis| match &named_group {
            Some(g) => vec![g.clone()],
            None => {
                let mut groups: Vec<GroupRef> = all_owners
                    .iter()
                    .filter(|o| apis.contains(&o.api_id))
                    .map(|o| o.group())
                    .collect();
                groups.sort();
                groups.dedup();
                groups
            }
        })
        .collect();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO review_campaigns (name, scope, reviewers, reviewer_group, due_at,
             default_decision, started_by_oid, started_by, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&new.name)
    .bind(Json(&new.scope))
    .bind(reviewers_text)
    .bind(named_group.as_ref().map(Json))
    .bind(new.due_at)
    .bind(new.default_decision.as_str())
    .bind(actor.oid)
    .bind(&actor.name)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let lines: Vec<serde_json::Value> = items
        .iter()
        .zip(&line_reviewers)
        .enumerate()
        .map(|(i, (item, groups))| json!({ "line": i + 1, "item": item, "reviewers": groups }))
        .collect();
    sqlx::query(
        "INSERT INTO review_campaign_lines (campaign_id, line, item, reviewer_groups)
         SELECT $1, (l ->> 'line')::int, l -> 'item', l -> 'reviewers'
         FROM jsonb_array_elements($2) AS l",
    )
    .bind(id)
    .bind(Json(&lines))
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        STARTED,
        Some(&subject(id)),
        json!({
            "campaign": id,
            "name": new.name,
            "scope": new.scope,
            "reviewers": named_group.map_or(json!("owners"), |g| json!({ "group": g })),
            "due_at": show(new.due_at),
            "default_decision": new.default_decision.as_str(),
            "lines": lines,
        }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        campaign = id,
        lines = items.len(),
        "review campaign started"
    );
    Ok((id, items.len()))
}

/// The signed-in person as a decider: the directory groups they are in, in every directory
/// the lines' groups come from.
pub async fn decider(
    pool: &PgPool,
    user: &CurrentUser,
    oid: Option<Uuid>,
    sources: &BTreeSet<String>,
) -> sqlx::Result<Decider> {
    let mut groups = BTreeSet::new();
    if let Some(oid) = oid {
        for source in sources {
            groups.extend(
                memberships::groups_of(pool, source, &oid.to_string(), None)
                    .await?
                    .into_keys(),
            );
        }
    }
    Ok(Decider {
        oid: oid.map(|o| o.to_string()).unwrap_or_default(),
        groups,
        reviewer: user.has(Role::Reviewer),
    })
}

/// The directories a line's groups come from (the binding's and its reviewers').
pub fn sources<'a>(
    lines: impl IntoIterator<Item = (&'a ChangeItem, &'a [GroupRef])>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (item, groups) in lines {
        if let ChangeItem::AddBinding(b) = item {
            out.insert(b.group.source.clone());
        }
        out.extend(groups.iter().map(|g| g.source.clone()));
    }
    out
}

/// Certifies line `line` of campaign `id`; answers what was recorded ("kept", "to revoke").
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    user: &CurrentUser,
    id: i64,
    line: i32,
    decision: &str,
    comment: &str,
) -> Result<&'static str, WorkflowError> {
    let (d, comment) = campaign::decision(decision, comment).map_err(Fields)?;
    let mut tx = state.pool.begin().await?;
    let open: Option<Option<time::OffsetDateTime>> =
        sqlx::query_scalar("SELECT closed_at FROM review_campaigns WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    match open {
        None => return Err(Refused(format!("There is no campaign {id}."))),
        Some(Some(_)) => {
            return Err(Refused(format!(
                "Campaign {id} is closed: its decisions are final."
            )))
        }
        Some(None) => {}
    }
    let row: Option<LineRow> = sqlx::query_as(
        "SELECT item, reviewer_groups, decision, comment FROM review_campaign_lines
             WHERE campaign_id = $1 AND line = $2",
    )
    .bind(id)
    .bind(line)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((item, groups, before, before_comment)) = row else {
        return Err(Refused(format!("Campaign {id} has no line {line}.")));
    };
    let sources = sources([(&item.0, groups.0.as_slice())]);
    let me = decider(&state.pool, user, actor.oid, &sources).await?;
    campaign::may_decide(&me, &item.0, &groups.0).map_err(|why| Refused(why.into()))?;
    let now = crate::backend::clock::now();
    sqlx::query(
        "UPDATE review_campaign_lines SET decision = $3, comment = $4, decided_by_oid = $5,
             decided_by = $6, decided_at = $7
         WHERE campaign_id = $1 AND line = $2",
    )
    .bind(id)
    .bind(line)
    .bind(d.as_str())
    .bind(&comment)
    .bind(actor.oid)
    .bind(&actor.name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let names = Names::load(&state.pool, item_groups(&item.0)).await?;
    audit::record(
        &mut *tx,
        actor,
        DECIDED,
        Some(&subject(id)),
        json!({
            "campaign": id,
            "line": line,
            "item": item.0,
            "described": names.item(&item.0),
            "before": { "decision": before, "comment": before_comment },
            "after": { "decision": d.as_str(), "comment": comment },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(match d {
        Decision::Keep => "kept",
        Decision::Revoke => "to be revoked when the campaign closes",
    })
}

/// The group a binding line names (for its name).
pub fn item_groups(item: &ChangeItem) -> Vec<&GroupRef> {
    match item {
        ChangeItem::AddBinding(b) => vec![&b.group],
        _ => Vec::new(),
    }
}
