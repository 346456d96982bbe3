//! An API's matrix: groups × routes, a tick where the approved mappings let the group call the
//! route (stages and roles on hover and for screen readers). Admins pick a cell (a plain link, so
//! it works without JavaScript) and grant or revoke it in their draft change set.

use leptos::prelude::*;

use crate::components::loaded::loaded;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::matrix_editor::{CellEditor, Selection};
use crate::components::{
    layout::Guarded,
    search::{urlencode, SearchBar},
};
use crate::mappings::{get_api_matrix, types::ApiMatrix, GrantRoute};
use crate::me::use_me;
use crate::roles::{Page, Role};

#[component]
pub fn ApiMatrixPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let api_id = move || params.read().get("id").unwrap_or_default();
    let grant = ServerAction::<GrantRoute>::new();
    let matrix = Resource::new(
        move || (api_id(), grant.version().get()),
        |(id, _)| get_api_matrix(id),
    );
    let selection = move || {
        let q = query.read();
        Selection {
            search: q.get("q").unwrap_or_default(),
            group: q.get("g").filter(|g| !g.is_empty()),
            route: q.get("c").filter(|c| !c.is_empty()),
        }
    };
    let me = use_me();
    view! {
        <Guarded page=Page::Apis>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let sel = selection();
                    Suspend::new(async move {
                    let is_admin = me.await.ok().flatten().is_some_and(|u| u.has(Role::Admin));
                    loaded(matrix.await, crate::pages::apis::API_NOT_FOUND, |m| view! { <Matrix m sel grant is_admin/> }.into_any())
                })}}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn Matrix(
    m: ApiMatrix,
    sel: Selection,
    grant: ServerAction<GrantRoute>,
    is_admin: bool,
) -> impl IntoView {
    let needle = sel.search.to_lowercase();
    let nobody = m.rows.is_empty();
    let header = m
        .routes
        .iter()
        .map(|r| {
            let picked = sel.route.as_deref() == Some(r.label().as_str());
            view! { <th scope="col" class="route" class:picked=picked><code>{r.label()}</code></th> }
        })
        .collect_view();
    let search = sel.search.clone();
    let body = m
        .rows
        .iter()
        .filter(|r| needle.is_empty() || r.group.to_lowercase().contains(&needle))
        .map(|row| {
            let cells = row
                .cells
                .iter()
                .zip(m.routes.iter())
                .map(|(cell, route)| {
                    let label = route.label();
                    let (class, mark, says) = match (cell.now.is_empty(), cell.draft.is_empty()) {
                        (true, true) => ("cell no", "—", format!("cannot call {label}")),
                        (false, false) if !cell.pending() => {
                            ("cell yes", "✓", format!("can call {label}: {}", cell.now.join(", ")))
                        }
                        (false, false) => ("cell yes changing", "✓*", format!(
                            "can call {label}: {}; your draft changes it to {}", cell.now.join(", "), cell.draft.join(", "))),
                        (true, false) => ("cell adding", "+", format!(
                            "cannot call {label}; your draft grants it: {}", cell.draft.join(", "))),
                        (false, true) => ("cell removing", "×", format!(
                            "can call {label}: {}; your draft revokes it", cell.now.join(", "))),
                    };
                    let picked = sel.group.as_deref() == Some(row.key.as_str())
                        && sel.route.as_deref() == Some(label.as_str());
                    if is_admin {
                        let href = format!(
                            "?q={}&g={}&c={}#editor",
                            urlencode(&search),
                            urlencode(&row.key),
                            urlencode(&label)
                        );
                        view! {
                            <td class=class class:picked=picked title=says.clone()>
                                <a href=href aria-label=format!("{says}. Edit")>{mark}</a>
                            </td>
                        }
                        .into_any()
                    } else {
                        view! { <td class=class title=says.clone() aria-label=says>{mark}</td> }.into_any()
                    }
                })
                .collect_view();
            view! { <tr><th scope="row"><a href=row.group_href.clone()>{row.group.clone()}</a></th>{cells}</tr> }
        })
        .collect_view();
    let draft_link = m.draft.map(|d| {
        view! { <p class="notice" role="status">"Cells marked + or × are in your draft: " <a href=format!("/change-sets/{d}")>"change set " {d}</a></p> }
    });
    let lead = if is_admin {
        "Groups × routes under the approved mappings. Pick a cell to grant or revoke it in your draft change set."
    } else {
        "Groups × routes under the approved mappings."
    };
    let editor = (is_admin && sel.route.is_some()).then(|| {
        view! { <CellEditor m=m.clone() sel=sel.clone() grant/> }
    });
    let search_value = sel.search.clone();
    view! {
        <Title text=format!("{} · matrix", m.api_name)/>
        <p class="breadcrumb"><a href="/apis">"APIs"</a> " / " <a href=format!("/apis/{}", m.api_id)>{m.api_name.clone()}</a> " / "</p>
        <h1>"Who can call " {m.api_name.clone()}</h1>
        <p class="lead">{lead}</p>
        {draft_link}
        {editor}
        <SearchBar id="matrix-search" label="Filter groups" value=Signal::derive(move || search_value.clone())/>
        {if nobody {
            view! { <p class="empty-state" data-testid="empty-state">"No group is bound to a role yet. Bind a role on a group's page; its row appears here."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap"><table class="matrix" data-testid="matrix">
                    <thead><tr><th scope="col">"Group"</th>{header}</tr></thead>
                    <tbody>{body}</tbody>
                </table></div>
                <p class="muted small">"✓ may call · — may not · + your draft grants · × your draft revokes · ✓* your draft changes how"</p>
            }.into_any()
        }}
    }
}
