//! Drift: every managed role and mapped API compared with the desired state. Each difference
//! is an item with both sides; an admin reverts it (a change set that pushes the desired state
//! again) or adopts it (a change set that makes AWS's state the desired one), each reviewed.

mod bindings;
pub mod waiting;

use std::collections::BTreeSet;

use crate::domain::{
    desired::{ChangeItem, DesiredState, RepushTarget},
    drift::{adopt_role, policy_arns},
    grant::ApiRef,
    names::RoleArn,
    pending,
    plan::{Call, Step, STATEMENT_PREFIX},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use waiting::{PendingChangeSet, PendingPush};

use super::{Actual, PushError, Pusher, Scope};
use crate::backend::audit::{self, Actor};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftItem {
    /// A role ARN or `API api-id (ACCOUNT/REGION)`.
    pub subject: String,
    pub kind: String,
    pub desired: String,
    pub actual: String,
    /// The call a revert would make.
    pub fix: String,
    /// `None`: a push cannot mend it (a role Gatehouse no longer manages, something it could
    /// not read); the item says what to do instead.
    pub revert: Option<ChangeItem>,
    /// Empty when AWS's side cannot be expressed as mappings.
    pub adopt: Vec<ChangeItem>,
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::String(text.into()))
}

/// What a drift check found: the differences, and what only waits for its push.
pub struct Findings {
    pub items: Vec<DriftItem>,
    pub pending: PendingPush,
}

/// The drift of `actual` against the state last pushed (the approved one without `waiting`),
/// and the calls the waiting change sets' push will make. A call only the approved state's
/// plan makes is pending, not drift; a call only the pushed state's plan makes means AWS already
/// holds the approved state there (pushed with a later change set): neither.
pub fn findings(
    pusher: &Pusher,
    approved: &DesiredState,
    pushed: &DesiredState,
    waiting: Vec<PendingChangeSet>,
    actual: &Actual,
) -> Result<Findings, PushError> {
    let approved_steps = pusher.plan_actual(approved, actual)?;
    let pushed_steps = if pushed == approved {
        approved_steps.clone()
    } else {
        pusher.plan_actual(pushed, actual)?
    };
    let approved_keys: BTreeSet<String> = approved_steps
        .iter()
        .map(|s| pending::call_key(&s.call))
        .collect();
    let drifted: Vec<Step> = pushed_steps
        .iter()
        .filter(|s| approved_keys.contains(&pending::call_key(&s.call)))
        .cloned()
        .collect();
    let approved_calls: Vec<Call> = approved_steps.into_iter().map(|s| s.call).collect();
    let pushed_calls: Vec<Call> = pushed_steps.into_iter().map(|s| s.call).collect();
    let calls: Vec<String> = pending::pending_calls(&approved_calls, &pushed_calls)
        .into_iter()
        .map(Call::summary)
        .collect();
    Ok(Findings {
        items: items(&drifted, pushed, actual),
        pending: PendingPush {
            change_sets: if calls.is_empty() && waiting.is_empty() {
                Vec::new()
            } else {
                waiting
            },
            calls,
        },
    })
}

/// The drift items of `steps` (the calls that bring `actual` to `desired`), one per call
/// (deployments follow from their API's item and are not items of their own).
fn items(steps: &[Step], desired: &DesiredState, actual: &Actual) -> Vec<DriftItem> {
    let role_of = |name: &str| actual.roles.keys().find(|r| r.name() == name).cloned();
    let api_of = |id: &str| actual.apis.iter().find(|a| a.api.api_id.as_str() == id);
    // APIs whose policy or methods differ: their deployments follow from that item.
    let changed: BTreeSet<&str> = steps
        .iter()
        .filter_map(|s| match &s.call {
            Call::UpdateResourcePolicy { api_id, .. }
            | Call::UpdateMethodAuthorization { api_id, .. }
            | Call::CreateAuthorizer { api_id, .. }
            | Call::UpdateAuthorizer { api_id, .. }
            | Call::AttachAuthorizer { api_id, .. }
            | Call::UpdateRoute { api_id, .. } => Some(api_id.as_str()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for step in steps {
        let item = match &step.call {
            Call::CreateRole { role_name, .. } => {
                let Some(role) = role_of(role_name) else {
                    continue;
                };
                DriftItem {
                    subject: role.to_string(),
                    kind: "role deleted".into(),
                    desired: "the role, with Gatehouse's policy".into(),
                    actual: "no such role".into(),
                    fix: step.call.summary(),
                    adopt: adopt_role(desired, &role, None).0,
                    revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
                }
            }
            Call::PutRolePolicy {
                role_name,
                policy_name,
                document,
            } => {
                let Some(role) = role_of(role_name) else {
                    continue;
                };
                let have = actual.roles[&role].inline.get(policy_name);
                DriftItem {
                    subject: role.to_string(),
                    kind: if have.is_some() {
                        "policy edited outside Gatehouse"
                    } else {
                        "policy missing"
                    }
                    .into(),
                    desired: pretty(&parse(document)),
                    actual: have.map(pretty).unwrap_or_else(|| "none".into()),
                    fix: step.call.summary(),
                    adopt: adopt_role(
                        desired,
                        &role,
                        Some(&policy_arns(actual.roles[&role].inline.values())),
                    )
                    .0,
                    revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
                }
            }
            Call::DeleteRolePolicy {
                role_name,
                policy_name,
            } => {
                let Some(role) = role_of(role_name) else {
                    continue;
                };
                DriftItem {
                    subject: role.to_string(),
                    kind: "policy added outside Gatehouse".into(),
                    desired: "none".into(),
                    actual: actual.roles[&role]
                        .inline
                        .get(policy_name)
                        .map(pretty)
                        .unwrap_or_default(),
                    fix: step.call.summary(),
                    adopt: adopt_role(
                        desired,
                        &role,
                        Some(&policy_arns(actual.roles[&role].inline.values())),
                    )
                    .0,
                    revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
                }
            }
            Call::UpdateResourcePolicy { api_id, policy } => {
                let Some(api) = api_of(api_id) else { continue };
                let gatehouse = |doc: &serde_json::Value| -> serde_json::Value {
                    let statements: Vec<&serde_json::Value> = doc["Statement"]
                        .as_array()
                        .map(|all| {
                            all.iter()
                                .filter(|s| {
                                    s["Sid"]
                                        .as_str()
                                        .is_some_and(|sid| sid.starts_with(STATEMENT_PREFIX))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    json!(statements)
                };
                DriftItem {
                    subject: api_subject(&api.api),
                    kind: "resource policy changed outside Gatehouse".into(),
                    desired: pretty(&gatehouse(&parse(policy))),
                    actual: api
                        .policy
                        .as_ref()
                        .map(|p| pretty(&gatehouse(p)))
                        .unwrap_or_else(|| "none".into()),
                    fix: step.call.summary(),
                    adopt: Vec::new(),
                    revert: Some(ChangeItem::Repush(RepushTarget::Api(api.api.clone()))),
                }
            }
            Call::UpdateMethodAuthorization {
                api_id,
                path,
                http_method,
                from,
                ..
            } => {
                let Some(api) = api_of(api_id) else { continue };
                DriftItem {
                    subject: api_subject(&api.api),
                    kind: format!("authorization of {http_method} {path} changed"),
                    desired: "AWS_IAM".into(),
                    actual: from.clone(),
                    fix: step.call.summary(),
                    adopt: Vec::new(),
                    revert: Some(ChangeItem::Repush(RepushTarget::Api(api.api.clone()))),
                }
            }
            Call::CreateAuthorizer { api_id, name, .. } => {
                let Some(api) = api_of(api_id) else { continue };
                DriftItem {
                    subject: api_subject(&api.api),
                    kind: "Gatehouse's authorizer missing".into(),
                    desired: format!("authorizer {name}, invoking Gatehouse's authorizer function"),
                    actual: "no authorizer invokes it".into(),
                    fix: step.call.summary(),
                    adopt: Vec::new(),
                    revert: Some(ChangeItem::Repush(RepushTarget::Api(api.api.clone()))),
                }
            }
            Call::UpdateAuthorizer {
                api_id,
                name,
                uri,
                ttl_seconds,
                from,
                ..
            } => {
                let Some(api) = api_of(api_id) else { continue };
                DriftItem {
                    subject: api_subject(&api.api),
                    kind: format!("authorizer {name} changed outside Gatehouse"),
                    desired: format!(
                        "function {}, answers cached {ttl_seconds} s",
                        crate::domain::call::function_of(uri)
                    ),
                    actual: from.clone(),
                    fix: step.call.summary(),
                    adopt: Vec::new(),
                    revert: Some(ChangeItem::Repush(RepushTarget::Api(api.api.clone()))),
                }
            }
            Call::AttachAuthorizer {
                api_id,
                path,
                http_method,
                from,
                authorizer_name,
                ..
            } => {
                let Some(api) = api_of(api_id) else { continue };
                DriftItem {
                    subject: api_subject(&api.api),
                    kind: format!("authorization of {http_method} {path} changed"),
                    desired: format!("CUSTOM with authorizer {authorizer_name}"),
                    actual: from.clone(),
                    fix: step.call.summary(),
                    adopt: Vec::new(),
                    revert: Some(ChangeItem::Repush(RepushTarget::Api(api.api.clone()))),
                }
            }
            Call::UpdateRoute {
                api_id,
                route_key,
                authorization_type,
                authorizer_name,
                from,
                ..
            } => {
                let Some(api) = api_of(api_id) else { continue };
                DriftItem {
                    subject: api_subject(&api.api),
                    kind: format!("authorization of route {route_key} changed"),
                    desired: match authorizer_name {
                        Some(name) => format!("{authorization_type} with authorizer {name}"),
                        None => authorization_type.clone(),
                    },
                    actual: from.clone(),
                    fix: step.call.summary(),
                    adopt: Vec::new(),
                    revert: Some(ChangeItem::Repush(RepushTarget::Api(api.api.clone()))),
                }
            }
            call @ (Call::UpdateAssumeRolePolicy { .. }
            | Call::CreatePermissionSet { .. }
            | Call::PutPermissionSetPolicy { .. }
            | Call::DeletePermissionSetPolicy { .. }
            | Call::ProvisionPermissionSet { .. }
            | Call::CreateAccountAssignment { .. }
            | Call::DeleteAccountAssignment { .. }
            | Call::CreateAppRole { .. }
            | Call::AssignAppRole { .. }
            | Call::RemoveAppRoleAssignment { .. }) => {
                match bindings::item(call, desired, actual) {
                    Some(item) => item,
                    None => continue,
                }
            }
            Call::PublishAccessBundle {
                version,
                content_sha256,
                ..
            } => {
                let Some(published) = &actual.bundle else {
                    continue;
                };
                // A re-push of any mapped API plans the bundle again (every plan does).
                let Some(api) = desired.grants.iter().next().map(|g| g.api.clone()) else {
                    continue;
                };
                let head = published.head.as_ref();
                DriftItem {
                    subject: "the authorizer's access bundle".into(),
                    kind: published
                        .difference(content_sha256)
                        .unwrap_or("access bundle differs")
                        .into(),
                    desired: format!(
                        "version {version} of the approved state (sha256 {content_sha256}), ETag {}",
                        published.last_etag.as_deref().unwrap_or("none yet")
                    ),
                    actual: match head {
                        None => "no object".into(),
                        Some(h) => format!(
                            "version {}, sha256 {}, ETag {}",
                            h.version.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into()),
                            h.content_sha256.as_deref().unwrap_or("unknown"),
                            h.etag.as_deref().unwrap_or("none")
                        ),
                    },
                    fix: step.call.summary(),
                    adopt: Vec::new(),
                    revert: Some(ChangeItem::Repush(RepushTarget::Api(api))),
                }
            }
            Call::CreateDeployment { api_id, stage, .. } => {
                if changed.contains(api_id.as_str()) {
                    continue;
                }
                let Some(api) = api_of(api_id) else { continue };
                let when = |secs: Option<i64>| {
                    secs.and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
                        .map(crate::backend::catalog::queries::utc)
                        .unwrap_or_else(|| "unknown".into())
                };
                DriftItem {
                    subject: api_subject(&api.api),
                    kind: format!(
                        "stage {stage} serves a deployment older than the last policy change"
                    ),
                    desired: format!(
                        "a deployment made after Gatehouse changed the API at {}",
                        when(api.changed_at)
                    ),
                    actual: format!(
                        "the deployment made at {}",
                        when(api.deployed_at.get(stage).copied())
                    ),
                    fix: step.call.summary(),
                    adopt: Vec::new(),
                    revert: Some(ChangeItem::Repush(RepushTarget::Api(api.api.clone()))),
                }
            }
        };
        out.push(item);
    }
    out
}

/// Routes a role may call through policies that are not Gatehouse's (other inline policies,
/// attached managed policies) and no approved grant of the role covers: one item per role.
/// Gatehouse never changes those policies, so the item says what to do instead of a revert.
fn outside_items(approved: &DesiredState, actual: &Actual) -> Vec<DriftItem> {
    actual
        .roles
        .iter()
        .filter_map(|(arn, role)| {
            let grants = approved.grants_of(arn);
            let found =
                crate::domain::iam_eval::outside_access(&grants, &role.outside, &approved.catalog);
            (!found.is_empty()).then(|| DriftItem {
                subject: arn.to_string(),
                kind: "access granted outside Gatehouse".into(),
                desired: "only the routes approved for the role".into(),
                actual: found
                    .iter()
                    .map(|o| {
                        format!(
                            "{} of API {}: allowed by {} (statement {})",
                            o.route, o.api_id, o.by.policy, o.by.sid
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
                fix: "detach or narrow those policies in AWS, or approve the routes in a change set (Gatehouse never changes policies it does not own)".into(),
                revert: None,
                adopt: Vec::new(),
            })
        })
        .collect()
}

/// Roles that exist without Gatehouse's tag: one item each, and left out of the plan (which
/// would otherwise stop at the first of them).
fn unmanaged(actual: &mut Actual) -> Vec<DriftItem> {
    let lost: Vec<RoleArn> = actual
        .roles
        .iter()
        .filter(|(_, r)| r.exists && !r.managed)
        .map(|(arn, _)| arn.clone())
        .collect();
    lost.into_iter()
        .map(|arn| {
            actual.roles.remove(&arn);
            DriftItem {
                subject: arn.to_string(),
                kind: "role no longer managed by Gatehouse".into(),
                desired: "tagged gatehouse:managed=true, so Gatehouse keeps its policies".into(),
                actual: "no gatehouse:managed=true tag: Gatehouse neither reads nor changes it"
                    .into(),
                fix: "tag the role gatehouse:managed=true again if it is Gatehouse's (then check again), or remove its mappings in a change set".into(),
                revert: None,
                adopt: Vec::new(),
            }
        })
        .collect()
}

fn api_subject(api: &ApiRef) -> String {
    format!(
        "API {} ({}/{})",
        api.api_id.as_str(),
        api.account.as_str(),
        api.region.as_str()
    )
}

impl Pusher {
    /// Every role Gatehouse manages (the desired state's, and those the catalog found tagged)
    /// and every API a grant names.
    async fn everything(&self, desired: &DesiredState) -> Result<Scope, PushError> {
        let mut roles: BTreeSet<RoleArn> = desired
            .grants
            .iter()
            .map(|g| g.role.clone())
            .chain(desired.bindings.iter().map(|b| b.role.clone()))
            .collect();
        let tagged =
            sqlx::query_scalar!("SELECT arn FROM iam_roles WHERE managed AND gone_at IS NULL")
                .fetch_all(&self.pool)
                .await?;
        roles.extend(tagged.iter().filter_map(|a| RoleArn::parse(a).ok()));
        let apis: BTreeSet<ApiRef> = desired.grants.iter().map(|g| g.api.clone()).collect();
        Ok(Scope {
            roles: roles.into_iter().collect(),
            apis: apis.into_iter().collect(),
        })
    }

    /// Compares AWS with the state last pushed (approved change sets still waiting for their
    /// push are "pending", not drift), records the report (and a `drift.found` audit event when
    /// anything differs) and answers the report's id and items. A role Gatehouse no longer
    /// manages, or a role or API that cannot be read, is one item; the rest is still checked.
    #[tracing::instrument(name = "drift", skip_all, fields(by = %actor.name))]
    pub async fn check_drift(&self, actor: &Actor) -> Result<(i64, Vec<DriftItem>), PushError> {
        let approved = self.desired().await?;
        let result = async {
            let waiting = waiting::change_sets(&self.pool).await?;
            let undone: Vec<Vec<ChangeItem>> = waiting.iter().map(|(_, i)| i.clone()).collect();
            // A waiting change set that cannot be undone from the approved state (a state
            // written by hand) leaves everything compared with the approved state.
            let pushed = pending::pushed_state(&approved, &undone).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "drift: the pushed state could not be worked out");
                approved.clone()
            });
            let mut scope = self.everything(&approved).await?;
            let also = self.everything(&pushed).await?;
            scope.roles = scope.roles.into_iter().chain(also.roles).collect::<BTreeSet<_>>().into_iter().collect();
            scope.apis = scope.apis.into_iter().chain(also.apis).collect::<BTreeSet<_>>().into_iter().collect();
            let (mut actual, unreadable) = self.read_actual_with(&approved, &scope, true).await?;
            let mut notes: Vec<DriftItem> = unreadable
                .into_iter()
                .map(|(subject, error)| DriftItem {
                    subject,
                    kind: "could not be read".into(),
                    desired: "readable by Gatehouse, to compare with the approved mappings".into(),
                    actual: error,
                    fix: "give Gatehouse's AWS identity read access to it (or bring it back), then check again".into(),
                    revert: None,
                    adopt: Vec::new(),
                })
                .collect();
            notes.extend(unmanaged(&mut actual));
            notes.extend(outside_items(&approved, &actual));
            let waiting = waiting.into_iter().map(|(c, _)| c).collect();
            let mut found = findings(self, &approved, &pushed, waiting, &actual)?;
            notes.append(&mut found.items);
            found.items = notes;
            Ok::<_, PushError>(found)
        }
        .await;
        let (found, pending, error) = match &result {
            Ok(f) => (
                Some(serde_json::to_value(&f.items).expect("items serialise")),
                (!f.pending.is_empty())
                    .then(|| serde_json::to_value(&f.pending).expect("pending serialises")),
                None,
            ),
            Err(e) => (None, None, Some(e.to_string())),
        };
        // The report and its event commit together; every run is an event, clean or failed.
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO drift_reports (checked_by, items, error, pending) VALUES ($1, $2, $3, $4)
             RETURNING id",
        )
        .bind(&actor.name)
        .bind(found)
        .bind(error)
        .bind(pending)
        .fetch_one(&mut *tx)
        .await?;
        let result = result.map(|f| f.items);
        let (action, details) = match &result {
            Ok(items) if !items.is_empty() => (
                audit::action::DRIFT_FOUND,
                json!({"report": id, "items": items.iter().map(|i| json!({"subject": i.subject, "kind": i.kind, "desired": i.desired, "actual": i.actual})).collect::<Vec<_>>()}),
            ),
            Ok(_) => (
                audit::action::DRIFT_CHECKED,
                json!({"report": id, "items": []}),
            ),
            Err(e) => (
                audit::action::DRIFT_FAILED,
                json!({"report": id, "error": e.to_string()}),
            ),
        };
        audit::record(
            &mut *tx,
            actor,
            action,
            Some(&format!("drift_report:{id}")),
            details,
        )
        .await?;
        tx.commit().await?;
        crate::backend::signals::drift_check(result.as_ref().ok().map(Vec::len));
        let items = result?;
        Ok((id, items))
    }

    /// Runs a drift check now and every `every`.
    pub fn spawn_drift_schedule(self: std::sync::Arc<Self>, every: std::time::Duration) {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                // One replica checks per period.
                if !crate::backend::schedule::ours(&self.pool, "drift-check", every).await {
                    continue;
                }
                if let Err(e) = self.check_drift(&Actor::system("drift schedule")).await {
                    tracing::warn!(error = %e, "scheduled drift check failed");
                }
            }
        });
    }
}

/// A stored drift report.
pub struct Report {
    pub id: i64,
    pub checked_at: time::OffsetDateTime,
    pub checked_by: String,
    /// `None` when the check failed (`error` says why).
    pub items: Option<sqlx::types::Json<Vec<DriftItem>>>,
    pub error: Option<String>,
    /// What waited for a push at the check (`None`: nothing).
    pub pending: Option<sqlx::types::Json<PendingPush>>,
}

/// The newest report.
/// The newest check at a glance: when, how many differences (counted by the database), error.
pub async fn latest_glance(
    db: impl sqlx::PgExecutor<'_>,
) -> sqlx::Result<Option<(time::OffsetDateTime, Option<usize>, Option<String>)>> {
    let row = sqlx::query!(
        "SELECT checked_at, jsonb_array_length(items) AS differences, error
         FROM drift_reports ORDER BY id DESC LIMIT 1"
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.checked_at, r.differences.map(|n| n as usize), r.error)))
}

pub async fn latest(pool: &sqlx::PgPool) -> sqlx::Result<Option<Report>> {
    sqlx::query_as!(
        Report,
        r#"SELECT id, checked_at, checked_by, items AS "items: sqlx::types::Json<Vec<DriftItem>>",
           error, pending AS "pending: sqlx::types::Json<PendingPush>"
           FROM drift_reports ORDER BY id DESC LIMIT 1"#,
    )
    .fetch_optional(pool)
    .await
}
