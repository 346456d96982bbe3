//! An API's matrix: groups × routes under the approved mappings and under the viewer's draft.
//! Only groups that may call the API (now or in the draft) have a row, and the page shows a
//! window: a page of groups and a slice of routes, filtered by name.

use std::sync::Arc;

use crate::{
    domain::{
        grant::{ApiRef, Grant, GroupRef},
        paging::{self, Cursor},
    },
    mappings::types::{ApiMatrix, CellGrant, MatrixCell, MatrixRoute, MatrixRow, RoleOption},
};
use uuid::Uuid;

use super::{cache::Snapshot, store, views::Names};

/// Groups per page of the matrix.
pub const GROUPS_SHOWN: usize = 25;
use crate::mappings::types::MATRIX_ROUTES_SHOWN as ROUTES_SHOWN;

/// What part of the matrix the page asks for.
#[derive(Clone, Debug, Default)]
pub struct Window {
    /// Groups whose name contains this (a bound group without access shows too, to be granted).
    pub groups: String,
    /// Routes whose "METHOD /path" contains this.
    pub routes: String,
    pub cursor: Cursor,
    /// The first route shown, counted in the filtered routes.
    pub from: usize,
    /// A picked route ("METHOD /path"): the slice shown holds it.
    pub pick: String,
}

/// The grants of `state` through which `group` may call `r` on `api`.
fn via<'s>(state: &'s Snapshot, api: &ApiRef, group: &GroupRef, r: &MatrixRoute) -> Vec<&'s Grant> {
    state
        .roles_of(group)
        .iter()
        .flat_map(|role| state.grants_of(role))
        .filter(|g| &g.api == api && g.path.covers(&r.path) && g.method.covers(&r.method))
        .collect()
}

/// The groups that reach `api` through some role in `state`.
fn with_access<'s>(state: &'s Snapshot, api: &ApiRef) -> impl Iterator<Item = &'s GroupRef> {
    state
        .roles_of_api(api.api_id.as_str())
        .iter()
        .flat_map(|r| state.groups_of(r))
}

/// Who may call which route: pure, given both states.
fn cells(
    now: &Snapshot,
    draft: &Snapshot,
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

/// The rows' candidates: groups with access now or in the draft, and, when the viewer filters
/// by name, every bound group (so one without access yet can be granted from here).
fn candidates(now: &Snapshot, draft: &Snapshot, api: &ApiRef, all_bound: bool) -> Vec<GroupRef> {
    let mut groups: Vec<GroupRef> = with_access(now, api)
        .chain(with_access(draft, api))
        .cloned()
        .collect();
    if all_bound {
        groups.extend(draft.state.bindings.iter().map(|b| b.group.clone()));
    }
    groups.sort();
    groups.dedup();
    groups
}

/// The matrix of one API for `viewer` (their draft shows as pending cells), windowed.
pub async fn api_matrix(
    state: &crate::backend::state::AppState,
    api_id: &str,
    viewer: Option<Uuid>,
    window: &Window,
) -> sqlx::Result<Option<ApiMatrix>> {
    // The reads before each computing step on one connection (each acquisition costs sqlx's
    // ping on release), given back before the step: a request waiting for a compute thread
    // holds no connection.
    let mut conn = state.pool.acquire().await?;
    let Some(detail) = crate::backend::catalog::queries::api_detail_on(&mut conn, api_id).await?
    else {
        return Ok(None);
    };
    let Some(api) = super::routes::api_ref(&detail.summary.target, api_id) else {
        return Ok(None);
    };
    let now = state.desired.current_on(&mut conn).await?;
    let draft_row = match viewer {
        Some(oid) => store::draft_of(&mut conn, oid).await?,
        None => None,
    };
    drop(conn);
    // Applying a draft copies the whole state: off the async workers. A draft that no longer
    // applies (its base moved) shows the approved state; its page says why.
    let items = draft_row.as_ref().map(|d| d.items.clone());
    let (draft, groups) = {
        let now = now.clone();
        let api = api.clone();
        let all_bound = !window.groups.trim().is_empty();
        crate::backend::compute::run("building the matrix", move || {
            let draft = items
                .and_then(|items| now.state.apply(&items).ok())
                .map(|state| Arc::new(Snapshot::new(now.version, state)))
                .unwrap_or_else(|| now.clone());
            let groups = candidates(&now, &draft, &api, all_bound);
            (draft, groups)
        })
        .await?
    };
    let names = {
        let mut conn = state.pool.acquire().await?;
        Names::load_cached_on(&mut conn, &state.directory_cache, &groups).await?
    };
    // Ordering every group that may call the API by name (hundreds) is the other heavy part.
    let page = {
        let needle = window.groups.trim().to_lowercase();
        let cursor = window.cursor.clone();
        crate::backend::compute::run("ordering the matrix's groups", move || {
            let mut named: Vec<(String, String, GroupRef)> = groups
                .into_iter()
                .map(|g| {
                    let name = names.group(&g);
                    let key = format!("{}\u{1f}{}/{}", name.to_lowercase(), g.source, g.object_id);
                    (key, name, g)
                })
                .filter(|(_, name, _)| needle.is_empty() || name.to_lowercase().contains(&needle))
                .collect();
            named.sort();
            paging::page(&named, |(k, ..)| k.clone(), &cursor, GROUPS_SHOWN)
        })
        .await?
    };
    let route_needle = window.routes.trim().to_lowercase();
    let all_routes: Vec<MatrixRoute> = detail
        .resources
        .iter()
        .flat_map(|r| {
            r.methods.iter().map(|m| MatrixRoute {
                method: m.http_method.clone(),
                path: r.path.clone(),
            })
        })
        .filter(|r| route_needle.is_empty() || r.label().to_lowercase().contains(&route_needle))
        .collect();
    let mut from = window.from.min(all_routes.len().saturating_sub(1));
    if let Some(i) = all_routes.iter().position(|r| r.label() == window.pick) {
        if !(from..from + ROUTES_SHOWN).contains(&i) {
            from = i - i % ROUTES_SHOWN;
        }
    }
    let routes: Vec<MatrixRoute> = all_routes
        .iter()
        .skip(from)
        .take(ROUTES_SHOWN)
        .cloned()
        .collect();
    let page_roles: Vec<String> = page
        .items
        .iter()
        .flat_map(|(_, _, g)| draft.roles_of(g).iter().map(|r| r.to_string()))
        .collect();
    let role_targets: std::collections::HashMap<String, String> = sqlx::query!(
        "SELECT arn, target FROM iam_roles WHERE arn = ANY($1)",
        &page_roles
    )
    .fetch_all(&state.pool)
    .await?
    .into_iter()
    .map(|r| (r.arn, r.target))
    .collect();
    let rows: Vec<MatrixRow> = page
        .items
        .iter()
        .map(|(_, name, group)| {
            let mut roles: Vec<RoleOption> = draft
                .roles_of(group)
                .iter()
                .map(|role| {
                    let arn = role.to_string();
                    RoleOption {
                        name: role.name().to_string(),
                        target: role_targets.get(&arn).cloned().unwrap_or_default(),
                        arn,
                    }
                })
                .collect();
            roles.sort_by(|a, b| a.name.cmp(&b.name));
            MatrixRow {
                group: name.clone(),
                key: format!("{}/{}", group.source, group.object_id),
                group_href: group.href(),
                roles,
                cells: cells(&now, &draft, &api, group, &routes),
            }
        })
        .collect();
    Ok(Some(ApiMatrix {
        api_id: detail.summary.api_id.clone(),
        api_name: detail.summary.name.clone(),
        target: detail.summary.target.clone(),
        stages: detail.stages.iter().map(|s| s.name.clone()).collect(),
        routes,
        rows,
        draft: draft_row.map(|d| d.id),
        groups_total: page.total,
        next: page.next,
        prev: page.prev,
        routes_total: all_routes.len(),
        routes_from: from,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        desired::{ChangeItem, DesiredState},
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
        let group = GroupRef::group("file", "g1");
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
        let (now, draft) = (Snapshot::new(1, now), Snapshot::new(1, draft));
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
