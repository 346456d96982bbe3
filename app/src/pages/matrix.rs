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
    search::{urlencode, Pager},
};
use crate::mappings::{get_api_matrix, types::ApiMatrix, GrantRoute};
use crate::me::use_me;
use crate::roles::{Page, Role};
use leptos_router::components::Form;

#[component]
pub fn ApiMatrixPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let api_id = move || params.read().get("id").unwrap_or_default();
    let grant = ServerAction::<GrantRoute>::new();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let matrix = Resource::new(
        move || {
            (
                api_id(),
                grant.version().get(),
                [
                    param("q"),
                    param("rq"),
                    param("after"),
                    param("before"),
                    param("c"),
                ],
                param("from").parse::<usize>().unwrap_or(0),
            )
        },
        |(id, _, [q, rq, after, before, c], from)| {
            get_api_matrix(id, q, rq, after, before, from, c)
        },
    );
    let selection = move || {
        let q = query.read();
        Selection {
            search: q.get("q").unwrap_or_default(),
            routes: q.get("rq").unwrap_or_default(),
            after: q.get("after").unwrap_or_default(),
            before: q.get("before").unwrap_or_default(),
            from: q.get("from").and_then(|f| f.parse().ok()).unwrap_or(0),
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
    let nobody = m.rows.is_empty();
    let filtered = !sel.search.is_empty() || !sel.routes.is_empty();
    let here = sel.query();
    let header = m
        .routes
        .iter()
        .map(|r| {
            let picked = sel.route.as_deref() == Some(r.label().as_str());
            view! { <th scope="col" class="route" class:picked=picked><code>{r.label()}</code></th> }
        })
        .collect_view();
    let body = m
        .rows
        .iter()
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
                            "?{here}&g={}&c={}#editor",
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
    let groups_shown = format!(
        "{} of {} group{} that may call this API{}",
        m.rows.len(),
        m.groups_total,
        if m.groups_total == 1 { "" } else { "s" },
        if sel.search.is_empty() {
            ""
        } else {
            " or match the filter"
        }
    );
    let routes_shown = format!(
        "routes {}–{} of {}",
        (m.routes_from + 1).min(m.routes_total),
        m.routes_from + m.routes.len(),
        m.routes_total
    );
    let route_links = route_slices(&m, &sel);
    let pager_base = format!("?{}", sel.filters_and_columns());
    view! {
        <Title text=format!("{} · matrix", m.api_name)/>
        <p class="breadcrumb"><a href="/apis">"APIs"</a> " / " <a href=format!("/apis/{}", m.api_id)>{m.api_name.clone()}</a> " / "</p>
        <h1>"Who can call " {m.api_name.clone()}</h1>
        <p class="lead">{lead}</p>
        {draft_link}
        {editor}
        <Form method="GET" action="" attr:class="searchbar" attr:role="search">
            <div class="filters-row">
                <label>"Groups containing" <input type="search" name="q" value=sel.search.clone() data-testid="matrix-groups" autocomplete="off"/></label>
                <label>"Routes containing" <input type="search" name="rq" value=sel.routes.clone() data-testid="matrix-routes" autocomplete="off"/></label>
                <button type="submit" class="button">"Filter"</button>
            </div>
        </Form>
        {if nobody && filtered {
            view! { <p class="empty-state" data-testid="empty-state">"No group or route matches the filter. " <a href="?">"Clear the filter"</a></p> }.into_any()
        } else if nobody {
            view! { <p class="empty-state" data-testid="empty-state">"No group may call this API yet. Bind a role to a group on the group's page and grant it a route; or type a bound group's name above to grant it here."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap"><table class="matrix" data-testid="matrix">
                    <thead><tr><th scope="col">"Group"</th>{header}</tr></thead>
                    <tbody>{body}</tbody>
                </table></div>
                <p class="muted small" data-testid="shown">{groups_shown} " · " {routes_shown}</p>
                {route_links}
                <Pager base=pager_base prev=m.prev.clone() next=m.next.clone()/>
                <p class="muted small">"✓ may call · — may not · + your draft grants · × your draft revokes · ✓* your draft changes how"</p>
            }.into_any()
        }}
    }
}

/// Links to the earlier and later slices of routes, keeping the filters and the page of groups.
fn route_slices(m: &ApiMatrix, sel: &Selection) -> Option<AnyView> {
    use crate::mappings::types::MATRIX_ROUTES_SHOWN as SHOWN;
    let earlier = (m.routes_from > 0).then(|| m.routes_from.saturating_sub(SHOWN));
    let later =
        (m.routes_from + m.routes.len() < m.routes_total).then(|| m.routes_from + m.routes.len());
    if earlier.is_none() && later.is_none() {
        return None;
    }
    let link = |from: usize| format!("?{}", sel.with_from(from));
    Some(
        view! {
            <nav class="pager" aria-label="Routes">
                {match earlier {
                    Some(f) => view! { <a class="button" href=link(f) data-testid="earlier-routes">"← Earlier routes"</a> }.into_any(),
                    None => view! { <span class="button" aria-disabled="true">"← Earlier routes"</span> }.into_any(),
                }}
                {match later {
                    Some(f) => view! { <a class="button" href=link(f) data-testid="later-routes">"Later routes →"</a> }.into_any(),
                    None => view! { <span class="button" aria-disabled="true">"Later routes →"</span> }.into_any(),
                }}
            </nav>
        }
        .into_any(),
    )
}
