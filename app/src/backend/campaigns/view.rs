//! What the campaign pages read: the campaigns with their tallies and the lines waiting on the
//! viewer, and one campaign's lines, each with who certifies it and whether the viewer may.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{types::Json, PgPool};
use time::OffsetDateTime;

use super::{decider, sources};
use crate::{
    backend::{audit::Actor, catalog::queries::utc, mappings::views::Names, state::AppState},
    campaigns::{CampaignLine, CampaignSummary, CampaignView, CampaignsView, MANAGERS},
    domain::{
        campaign::{self, Decider, Scope},
        desired::{ChangeItem, Route},
        expiry::show,
        grant::GroupRef,
    },
    error::AppError,
    roles::CurrentUser,
};

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: i64,
    name: String,
    scope: Json<Scope>,
    reviewers: String,
    reviewer_group: Option<Json<GroupRef>>,
    due_at: OffsetDateTime,
    default_decision: String,
    started_by: String,
    started_at: OffsetDateTime,
    closed_at: Option<OffsetDateTime>,
    revocation_change_set_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LineRow {
    campaign_id: i64,
    line: i32,
    item: Json<ChangeItem>,
    reviewer_groups: Json<Vec<GroupRef>>,
    decision: Option<String>,
    comment: String,
    decided_by: Option<String>,
    decided_at: Option<OffsetDateTime>,
    defaulted: bool,
}

const CAMPAIGN_COLUMNS: &str = "id, name, scope, reviewers, reviewer_group, due_at,
    default_decision, started_by, started_at, closed_at, revocation_change_set_id";

async fn lines_of(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as(
        "SELECT campaign_id, line, item, reviewer_groups, decision, comment, decided_by,
                decided_at, defaulted
         FROM review_campaign_lines WHERE campaign_id = ANY($1) ORDER BY campaign_id, line",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

fn scope_text(scope: &Scope, names: &Names) -> String {
    if scope.is_everything() {
        return "Every binding and grant".into();
    }
    let apis = scope.apis.iter().map(|a| format!("API {}", names.api(a)));
    let roles = scope.roles.iter().map(|r| format!("role {}", r.name()));
    apis.chain(roles).collect::<Vec<_>>().join(", ")
}

fn group_names(groups: &[GroupRef], names: &Names) -> String {
    if groups.is_empty() {
        "Gatehouse reviewers".into()
    } else {
        groups
            .iter()
            .map(|g| names.group(g))
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

fn summary(c: &CampaignRow, lines: &[&LineRow], me: &Decider, names: &Names) -> CampaignSummary {
    let decisions = lines
        .iter()
        .map(|l| l.decision.as_deref().and_then(campaign::Decision::parse));
    let tally = campaign::Tally::of(decisions);
    let yours = if c.closed_at.is_some() {
        0
    } else {
        lines
            .iter()
            .filter(|l| l.decision.is_none())
            .filter(|l| campaign::may_decide(me, &l.item.0, &l.reviewer_groups.0).is_ok())
            .count() as u32
    };
    CampaignSummary {
        id: c.id,
        name: c.name.clone(),
        scope: scope_text(&c.scope.0, names),
        reviewers: match &c.reviewer_group {
            Some(g) if c.reviewers == "group" => format!("Members of {}", names.group(&g.0)),
            _ => "The API owners (Gatehouse reviewers where an API has none)".into(),
        },
        due_at: show(c.due_at),
        started_by: c.started_by.clone(),
        started_at: utc(c.started_at),
        closed_at: c.closed_at.map(utc),
        keep: tally.keep,
        revoke: tally.revoke,
        undecided: tally.undecided,
        yours,
        revocation: c.revocation_change_set_id,
        default_decision: c.default_decision.clone(),
    }
}

/// Names of every group the lines mention (bindings and reviewers).
async fn names_for(pool: &PgPool, lines: &[LineRow], extra: &[GroupRef]) -> sqlx::Result<Names> {
    let mut groups: BTreeSet<&GroupRef> = extra.iter().collect();
    for l in lines {
        groups.extend(super::item_groups(&l.item.0));
        groups.extend(l.reviewer_groups.0.iter());
    }
    Names::load(pool, groups).await
}

async fn me(
    pool: &PgPool,
    actor: &Actor,
    user: &CurrentUser,
    lines: &[LineRow],
) -> sqlx::Result<Decider> {
    let sources = sources(
        lines
            .iter()
            .map(|l| (&l.item.0, l.reviewer_groups.0.as_slice())),
    );
    decider(pool, user, actor.oid, &sources).await
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    user: &CurrentUser,
) -> Result<CampaignsView, AppError> {
    let pool = &state.pool;
    let inner = async {
        let rows: Vec<CampaignRow> = sqlx::query_as(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM review_campaigns ORDER BY id DESC LIMIT 100"
        ))
        .fetch_all(pool)
        .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let lines = lines_of(pool, &ids).await?;
        let extra: Vec<GroupRef> = rows
            .iter()
            .filter_map(|r| r.reviewer_group.as_ref().map(|g| g.0.clone()))
            .collect();
        let names = names_for(pool, &lines, &extra).await?;
        let me = me(pool, actor, user, &lines).await?;
        let mut by_campaign: BTreeMap<i64, Vec<&LineRow>> = BTreeMap::new();
        for l in &lines {
            by_campaign.entry(l.campaign_id).or_default().push(l);
        }
        let campaigns = rows
            .iter()
            .map(|c| {
                let lines = by_campaign.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
                summary(c, lines, &me, &names)
            })
            .collect();
        let desired = state.desired.current(pool).await?;
        let used: BTreeSet<String> = desired
            .state
            .grants
            .iter()
            .map(|g| g.api.api_id.as_str().to_string())
            .collect();
        let mut apis: Vec<(String, String)> = used
            .into_iter()
            .map(|a| {
                let name = names.api(&a);
                (a, name)
            })
            .collect();
        apis.sort_by_key(|a| a.1.to_lowercase());
        let roles: BTreeSet<_> = desired
            .state
            .bindings
            .iter()
            .map(|b| &b.role)
            .chain(desired.state.grants.iter().map(|g| &g.role))
            .collect();
        let mut roles: Vec<(String, String)> = roles
            .into_iter()
            .map(|r| (r.to_string(), r.name().to_string()))
            .collect();
        roles.sort_by_key(|r| r.1.to_lowercase());
        Ok::<_, sqlx::Error>(CampaignsView {
            campaigns,
            may_start: MANAGERS.iter().any(|r| user.has(*r)),
            apis,
            roles,
        })
    };
    inner.await.map_err(AppError::internal)
}

pub async fn get(
    state: &AppState,
    actor: &Actor,
    user: &CurrentUser,
    id: i64,
) -> Result<CampaignView, AppError> {
    let pool = &state.pool;
    let row: Option<CampaignRow> = sqlx::query_as(&format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM review_campaigns WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(AppError::internal)?;
    let Some(c) = row else {
        return Err(AppError::NotFound(format!("There is no campaign {id}.")));
    };
    let inner = async {
        let lines = lines_of(pool, &[id]).await?;
        let extra: Vec<GroupRef> = c.reviewer_group.iter().map(|g| g.0.clone()).collect();
        let names = names_for(pool, &lines, &extra).await?;
        let me = me(pool, actor, user, &lines).await?;
        let refs: Vec<&LineRow> = lines.iter().collect();
        let summary = summary(&c, &refs, &me, &names);
        let now = crate::backend::clock::now();
        let until = c.closed_at.unwrap_or(now).min(c.due_at);
        let decided: Vec<OffsetDateTime> = lines
            .iter()
            .filter(|l| !l.defaulted)
            .filter_map(|l| l.decided_at)
            .collect();
        let by_day = campaign::decided_by_day(c.started_at, until, &decided)
            .into_iter()
            .map(|(d, n)| (d.to_string(), n))
            .collect();
        let revocation_state: Option<String> = match c.revocation_change_set_id {
            Some(cs) => {
                sqlx::query_scalar("SELECT state FROM change_sets WHERE id = $1")
                    .bind(cs)
                    .fetch_optional(pool)
                    .await?
            }
            None => None,
        };
        let closed = c.closed_at.is_some();
        let lines = lines
            .iter()
            .map(|l| line_view(l, &me, &names, closed))
            .collect();
        Ok::<_, sqlx::Error>(CampaignView {
            summary,
            lines,
            by_day,
            may_close: !closed && MANAGERS.iter().any(|r| user.has(*r)),
            revocation_state,
        })
    };
    inner.await.map_err(AppError::internal)
}

fn line_view(l: &LineRow, me: &Decider, names: &Names, closed: bool) -> CampaignLine {
    let (kind, principal, principal_href, role, route) = match &l.item.0 {
        ChangeItem::AddBinding(b) => (
            "Binding",
            names.group(&b.group),
            b.group.href(),
            b.role.name().to_string(),
            String::new(),
        ),
        ChangeItem::AddGrant(g) => (
            "Grant",
            String::new(),
            String::new(),
            g.role.name().to_string(),
            names.route(&Route::of(g)),
        ),
        other => (
            "Other",
            String::new(),
            String::new(),
            String::new(),
            format!("{other:?}"),
        ),
    };
    let not_yours = if closed {
        "The campaign is closed.".to_string()
    } else {
        campaign::may_decide(me, &l.item.0, &l.reviewer_groups.0)
            .err()
            .unwrap_or_default()
            .to_string()
    };
    CampaignLine {
        line: l.line,
        kind: kind.into(),
        principal,
        principal_href,
        role,
        route,
        reviewers: group_names(&l.reviewer_groups.0, names),
        decision: l.decision.clone(),
        comment: l.comment.clone(),
        decided_by: l.decided_by.clone().unwrap_or_default(),
        decided_at: l.decided_at.map(utc).unwrap_or_default(),
        defaulted: l.defaulted,
        not_yours,
    }
}

/// Open campaigns with lines the viewer may certify: (id, name, due, how many), for Home.
pub async fn waiting_on(
    pool: &PgPool,
    actor: &Actor,
    user: &CurrentUser,
) -> sqlx::Result<Vec<(i64, String, String, u32)>> {
    let open: Vec<(i64, String, OffsetDateTime)> = sqlx::query_as(
        "SELECT id, name, due_at FROM review_campaigns WHERE closed_at IS NULL ORDER BY due_at, id",
    )
    .fetch_all(pool)
    .await?;
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = open.iter().map(|c| c.0).collect();
    let lines: Vec<LineRow> = lines_of(pool, &ids)
        .await?
        .into_iter()
        .filter(|l| l.decision.is_none())
        .collect();
    let me = me(pool, actor, user, &lines).await?;
    Ok(open
        .into_iter()
        .filter_map(|(id, name, due)| {
            let yours = lines
                .iter()
                .filter(|l| l.campaign_id == id)
                .filter(|l| campaign::may_decide(&me, &l.item.0, &l.reviewer_groups.0).is_ok())
                .count() as u32;
            (yours > 0).then(|| (id, name, show(due), yours))
        })
        .collect())
}
