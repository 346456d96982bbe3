//! An API's matrix: groups × routes under the approved mappings and under the viewer's draft.

use crate::{
    domain::{
        desired::DesiredState,
        grant::{ApiRef, Grant, GroupRef},
    },
    mappings::types::{ApiMatrix, CellGrant, MatrixCell, MatrixRoute, MatrixRow, RoleOption},
};
use sqlx::PgPool;
use uuid::Uuid;

use super::{queries::bound_groups, store, views::Names};

/// The grants of `state` through which `group` may call `r` on `api`.
fn via<'s>(
    state: &'s DesiredState,
    api: &ApiRef,
    group: &GroupRef,
    r: &MatrixRoute,
) -> Vec<&'s Grant> {
    let roles: Vec<_> = state
        .bindings
        .iter()
        .filter(|b| &b.group == group)
        .map(|b| &b.role)
        .collect();
    state
        .grants
        .iter()
        .filter(|g| {
            &g.api == api
                && roles.contains(&&g.role)
                && g.path.covers(&r.path)
                && g.method.covers(&r.method)
        })
        .collect()
}

/// Who may call which route: pure, given both states.
fn cells(
    now: &DesiredState,
    draft: &DesiredState,
    api: &ApiRef,
    group: &GroupRef,
    routes: &[MatrixRoute],
) -> Vec<MatrixCell> {
    let describe = |grants: Vec<&Grant>| -> Vec<String> {
        let mut v: Vec<String> = grants
            .iter()
            .map(|g| format!("{} via {}", g.stage.as_str(), g.role.name()))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    routes
        .iter()
        .map(|r| {
            let grants = via(draft, api, group, r);
            MatrixCell {
                now: describe(via(now, api, group, r)),
                draft: describe(grants.clone()),
                grants: grants
                    .into_iter()
                    .map(|g| CellGrant {
                        role_arn: g.role.to_string(),
                        role_name: g.role.name().to_string(),
                        stage: g.stage.as_str().to_string(),
                        method: g.method.as_str().to_string(),
                        path: g.path.as_str().to_string(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The matrix of one API for `viewer` (their draft shows as pending cells).
pub async fn api_matrix(
    pool: &PgPool,
    api_id: &str,
    viewer: Option<Uuid>,
) -> sqlx::Result<Option<ApiMatrix>> {
    let Some(detail) = crate::backend::catalog::queries::api_detail(pool, api_id).await? else {
        return Ok(None);
    };
    let Some(api) = super::routes::api_ref(&detail.summary.target, api_id) else {
        return Ok(None);
    };
    let mut tx = pool.begin().await?;
    let now = store::desired_state(&mut tx).await?;
    let draft_row = match viewer {
        Some(oid) => store::draft_of(&mut tx, oid).await?,
        None => None,
    };
    tx.rollback().await?;
    // A draft that no longer applies (its base moved) shows the approved state; its page says why.
    let draft = draft_row
        .as_ref()
        .and_then(|d| now.apply(&d.items).ok())
        .unwrap_or_else(|| now.clone());
    let names = Names::load(pool, bound_groups(&now).chain(bound_groups(&draft))).await?;
    let routes: Vec<MatrixRoute> = detail
        .resources
        .iter()
        .flat_map(|r| {
            r.methods.iter().map(|m| MatrixRoute {
                method: m.http_method.clone(),
                path: r.path.clone(),
            })
        })
        .collect();
    let mut groups: Vec<&GroupRef> = bound_groups(&now).chain(bound_groups(&draft)).collect();
    groups.sort();
    groups.dedup();
    let role_targets: Vec<(String, String)> = sqlx::query!("SELECT arn, target FROM iam_roles")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.arn, r.target))
        .collect();
    let mut rows: Vec<MatrixRow> = groups
        .into_iter()
        .map(|group| {
            let mut roles: Vec<RoleOption> = draft
                .bindings
                .iter()
                .filter(|b| &b.group == group)
                .map(|b| {
                    let arn = b.role.to_string();
                    let target = role_targets
                        .iter()
                        .find(|(a, _)| a == &arn)
                        .map(|(_, t)| t.clone())
                        .unwrap_or_default();
                    RoleOption {
                        name: b.role.name().to_string(),
                        arn,
                        target,
                    }
                })
                .collect();
            roles.sort_by(|a, b| a.name.cmp(&b.name));
            MatrixRow {
                group: names.group(group),
                key: format!("{}/{}", group.source, group.object_id),
                group_href: format!("/groups/{}/{}", group.source, group.object_id),
                roles,
                cells: cells(&now, &draft, &api, group, &routes),
            }
        })
        .collect();
    rows.sort_by_key(|r| r.group.to_lowercase());
    Ok(Some(ApiMatrix {
        api_id: detail.summary.api_id.clone(),
        api_name: detail.summary.name.clone(),
        target: detail.summary.target.clone(),
        stages: detail.stages.iter().map(|s| s.name.clone()).collect(),
        routes,
        rows,
        draft: draft_row.map(|d| d.id),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        desired::ChangeItem,
        grant::{Binding, GrantInput},
        names::RoleArn,
    };

    fn grant(role: &str, method: &str, path: &str) -> Grant {
        Grant::parse(&GrantInput {
            role_arn: format!("arn:aws:iam::123456789012:role/{role}"),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: "abc123defg".into(),
            stage: "prod".into(),
            method: method.into(),
            path: path.into(),
        })
        .unwrap()
    }

    #[test]
    fn a_cell_shows_the_approved_grant_and_the_draft_that_widens_it() {
        let group = GroupRef {
            source: "file".into(),
            object_id: "g1".into(),
        };
        let role = RoleArn::parse("arn:aws:iam::123456789012:role/Reader").unwrap();
        let now = DesiredState::default()
            .apply(&[
                ChangeItem::AddBinding(Binding {
                    group: group.clone(),
                    role,
                }),
                ChangeItem::AddGrant(grant("Reader", "GET", "/orders")),
            ])
            .unwrap();
        let draft = now
            .apply(&[ChangeItem::AddGrant(grant("Reader", "*", "/orders/*"))])
            .unwrap();
        let api = grant("Reader", "GET", "/").api;
        let routes = [
            MatrixRoute {
                method: "GET".into(),
                path: "/orders".into(),
            },
            MatrixRoute {
                method: "POST".into(),
                path: "/orders/{id}".into(),
            },
            MatrixRoute {
                method: "GET".into(),
                path: "/health".into(),
            },
        ];
        let c = cells(&now, &draft, &api, &group, &routes);
        assert_eq!(c[0].now, vec!["prod via Reader"]);
        assert!(!c[0].pending());
        assert!(c[1].now.is_empty() && c[1].pending());
        assert_eq!(c[1].grants[0].path, "/orders/*");
        assert!(c[2].draft.is_empty() && !c[2].pending());
        // Another API's grants never tick this one.
        let mut other = api.clone();
        other.api_id = crate::domain::names::ApiId::parse("zzz999zzzz").unwrap();
        assert!(cells(&now, &draft, &other, &group, &routes)
            .iter()
            .all(|c| c.draft.is_empty()));
    }
}
