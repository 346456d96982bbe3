//! The desired state as the Group and Mappings pages read it.

use crate::{
    domain::{
        desired::{ChangeItem, Route},
        grant::GroupRef,
    },
    mappings::types::*,
};
use sqlx::PgPool;
use uuid::Uuid;

use super::{store, views::Names};

/// The groups the desired state binds to a role.
pub fn bound_groups(
    state: &crate::domain::desired::DesiredState,
) -> impl Iterator<Item = &GroupRef> {
    state.bindings.iter().map(|b| &b.group)
}

fn routes_of(
    state: &crate::domain::desired::DesiredState,
    names: &Names,
    role: &crate::domain::names::RoleArn,
) -> Vec<String> {
    state
        .grants_of(role)
        .iter()
        .map(|g| names.route(&Route::of(g)))
        .collect()
}

pub async fn group_mappings(
    pool: &PgPool,
    viewer: Option<Uuid>,
    source: &str,
    id: &str,
) -> sqlx::Result<GroupMappings> {
    let mut conn = pool.acquire().await?;
    let state = store::desired_state(&mut conn).await?;
    let group = GroupRef {
        source: source.into(),
        object_id: id.into(),
    };
    let names = Names::load(pool, bound_groups(&state).chain([&group])).await?;
    let bound = state
        .bindings
        .iter()
        .filter(|b| b.group == group)
        .map(|b| BoundRole {
            arn: b.role.to_string(),
            routes: routes_of(&state, &names, &b.role),
        })
        .collect();
    let draft = match viewer {
        Some(oid) => {
            let mut tx = pool.begin().await?;
            let d = store::draft_of(&mut tx, oid).await?;
            tx.rollback().await?;
            d
        }
        None => None,
    };
    let pending = draft
        .as_ref()
        .map(|d| {
            d.items
                .iter()
                .filter(|i| match i {
                    ChangeItem::AddBinding(b) | ChangeItem::RemoveBinding(b) => b.group == group,
                    _ => false,
                })
                .map(|i| names.item(i))
                .collect()
        })
        .unwrap_or_default();
    let roles = sqlx::query_as!(
        RoleOption,
        "SELECT arn, role_name AS name, target FROM iam_roles
         WHERE managed AND gone_at IS NULL ORDER BY lower(role_name)",
    )
    .fetch_all(pool)
    .await?;
    let apis = sqlx::query_as!(
        ApiOption,
        r#"SELECT a.target, a.api_id, a.name,
                ARRAY(SELECT stage_name FROM api_stages s
                      WHERE s.target = a.target AND s.api_id = a.api_id ORDER BY 1) AS "stages!",
                ARRAY(SELECT path FROM api_resources r
                      WHERE r.target = a.target AND r.api_id = a.api_id ORDER BY 1) AS "paths!"
         FROM rest_apis a WHERE a.gone_at IS NULL ORDER BY lower(a.name)"#,
    )
    .fetch_all(pool)
    .await?;
    Ok(GroupMappings {
        bound,
        pending,
        draft: draft.map(|d| d.id),
        roles,
        apis,
    })
}

pub async fn mappings(pool: &PgPool, search: &str) -> sqlx::Result<Vec<MappingRow>> {
    let mut conn = pool.acquire().await?;
    let state = store::desired_state(&mut conn).await?;
    let names = Names::load(pool, bound_groups(&state)).await?;
    let needle = search.to_lowercase();
    let mut rows: Vec<MappingRow> = state
        .bindings
        .iter()
        .map(|b| MappingRow {
            group: names.group(&b.group),
            group_href: format!("/groups/{}/{}", b.group.source, b.group.object_id),
            role: b.role.to_string(),
            routes: routes_of(&state, &names, &b.role),
        })
        .filter(|r| {
            needle.is_empty()
                || r.group.to_lowercase().contains(&needle)
                || r.role.to_lowercase().contains(&needle)
                || r.routes.iter().any(|x| x.to_lowercase().contains(&needle))
        })
        .collect();
    rows.sort_by(|a, b| (a.group.to_lowercase(), &a.role).cmp(&(b.group.to_lowercase(), &b.role)));
    Ok(rows)
}

/// Who may call each method of an API under the approved mappings, as "group via role (stage)".
pub async fn fill_callers(
    pool: &PgPool,
    detail: &mut crate::catalog::types::ApiDetail,
) -> sqlx::Result<()> {
    let mut conn = pool.acquire().await?;
    let state = store::desired_state(&mut conn).await?;
    let grants: Vec<_> = state
        .grants
        .iter()
        .filter(|g| g.api.api_id.as_str() == detail.summary.api_id)
        .collect();
    if grants.is_empty() {
        return Ok(());
    }
    let names = Names::load(pool, bound_groups(&state)).await?;
    for resource in &mut detail.resources {
        for method in &mut resource.methods {
            let mut callers: Vec<String> = grants
                .iter()
                .filter(|g| g.path.covers(&resource.path) && g.method.covers(&method.http_method))
                .flat_map(|g| {
                    state.bindings.iter().filter(|b| b.role == g.role).map(|b| {
                        format!(
                            "{} via {} ({})",
                            names.group(&b.group),
                            g.role.name(),
                            g.stage.as_str()
                        )
                    })
                })
                .collect();
            callers.sort();
            callers.dedup();
            method.callers = callers;
        }
    }
    Ok(())
}

/// One role under the approved mappings: its groups, its routes, the policy Gatehouse generates
/// for it, and what the newest drift check found on it.
pub async fn role_mappings(
    pool: &PgPool,
    aws: &crate::backend::config::AwsSettings,
    arn: &str,
) -> sqlx::Result<crate::catalog::types::RoleMappings> {
    use crate::catalog::types::{RoleDrift, RoleMappings};
    use crate::domain::policy::{role_policy, DEFAULT_MANAGED_PER_ROLE};
    let Ok(role) = crate::domain::names::RoleArn::parse(arn) else {
        return Ok(RoleMappings::default());
    };
    let mut conn = pool.acquire().await?;
    let state = store::desired_state(&mut conn).await?;
    drop(conn);
    let bound: Vec<&GroupRef> = state
        .bindings
        .iter()
        .filter(|b| b.role == role)
        .map(|b| &b.group)
        .collect();
    let names = Names::load(pool, bound.iter().copied()).await?;
    let keys: Vec<(String, String)> = bound
        .iter()
        .map(|g| (g.source.clone(), g.object_id.clone()))
        .collect();
    let counts = crate::backend::directory::membership::people_counts(pool, &keys).await?;
    let mut named: Vec<((String, String), Option<i64>)> = bound
        .iter()
        .map(|g| {
            (
                (
                    names.group(g),
                    format!("/groups/{}/{}", g.source, g.object_id),
                ),
                counts
                    .get(&(g.source.clone(), g.object_id.clone()))
                    .copied(),
            )
        })
        .collect();
    named.sort_by_key(|((name, _), _)| name.to_lowercase());
    let (groups, group_people): (Vec<(String, String)>, Vec<Option<i64>>) =
        named.into_iter().unzip();
    let mode = aws.enforcement_of(role.account.as_str());
    let (policy, policy_summary, policy_error) = match role_policy(
        role.name(),
        &state.grants_of(&role),
        &state.catalog,
        DEFAULT_MANAGED_PER_ROLE,
    ) {
        Ok(p) => {
            let (text, summary) = super::views::policy_text(&p);
            (text, summary, None)
        }
        Err(e) => (String::new(), String::new(), Some(e.to_string())),
    };
    let report = crate::backend::push::drift::latest(pool).await?;
    let drift = report
        .as_ref()
        .and_then(|r| r.items.as_ref())
        .map(|items| {
            items
                .0
                .iter()
                .filter(|i| i.subject == arn)
                .map(|i| RoleDrift {
                    kind: i.kind.clone(),
                    desired: i.desired.clone(),
                    actual: i.actual.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(RoleMappings {
        groups,
        routes: routes_of(&state, &names, &role),
        policy,
        policy_summary,
        policy_error,
        drift,
        drift_checked_at: report.map(|r| crate::backend::catalog::queries::utc(r.checked_at)),
        pushed_as: match mode {
            crate::domain::enforcement::Enforcement::IdentityCenter => format!(
                "Pushed as the inline policy of permission set {name} in IAM Identity Center, which provisions it in account {account} as a role named AWSReservedSSO_{name}_… (the trust policy below is the catalog role's, not used for this access).",
                name = role.name(),
                account = role.account.as_str()
            ),
            _ => "Pushed as the role's inline policy.".to_string(),
        },
        broker: mode.broker().to_string(),
        group_people,
        enforcement_notice: (!mode.enforces_bindings())
            .then(|| crate::domain::enforcement::RECORDED_ONLY.to_string()),
    })
}
