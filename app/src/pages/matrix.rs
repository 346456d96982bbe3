//! An API's matrix: groups × routes, a tick where the approved mappings let the group call the
//! route (with the stages and roles on hover and for screen readers).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{layout::Guarded, search::SearchBar};
use crate::mappings::{get_api_matrix, types::ApiMatrix};
use crate::roles::Page;

#[component]
pub fn ApiMatrixPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let api_id = move || params.read().get("id").unwrap_or_default();
    let search = move || query.read().get("q").unwrap_or_default();
    let matrix = Resource::new(api_id, get_api_matrix);
    view! {
        <Guarded page=Page::Apis>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match matrix.await {
                        Ok(Some(m)) => view! { <Matrix m search=search()/> }.into_any(),
                        Ok(None) => view! {
                            <Title text="API not found"/>
                            <section class="empty-state"><h1>"API not found"</h1><p><a href="/apis">"All APIs"</a></p></section>
                        }.into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn Matrix(m: ApiMatrix, search: String) -> impl IntoView {
    let needle = search.to_lowercase();
    let nobody = m.rows.is_empty();
    let rows: Vec<_> = m
        .rows
        .into_iter()
        .filter(|r| needle.is_empty() || r.group.to_lowercase().contains(&needle))
        .collect();
    let header = m
        .routes
        .iter()
        .map(|r| view! { <th scope="col" class="route"><code>{r.clone()}</code></th> })
        .collect_view();
    let routes = m.routes.clone();
    let body = rows
        .into_iter()
        .map(|row| {
            let cells = row
                .cells
                .into_iter()
                .zip(routes.iter())
                .map(|(via, route)| {
                    if via.is_empty() {
                        view! { <td class="cell no" aria-label=format!("cannot call {route}")>"—"</td> }.into_any()
                    } else {
                        let how = via.join(", ");
                        view! { <td class="cell yes" title=how.clone() aria-label=format!("can call {route}: {how}")>"✓"</td> }.into_any()
                    }
                })
                .collect_view();
            view! { <tr><th scope="row"><a href=row.group_href.clone()>{row.group.clone()}</a></th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <Title text=format!("{} · matrix", m.api_name)/>
        <p class="breadcrumb"><a href="/apis">"APIs"</a> " / " <a href=format!("/apis/{}", m.api_id)>{m.api_name.clone()}</a> " / "</p>
        <h1>"Who can call " {m.api_name.clone()}</h1>
        <p class="lead">"Groups × routes under the approved mappings. Change them through a change set on a group's page."</p>
        <SearchBar id="matrix-search" label="Filter groups" value=Signal::derive(move || search.clone())/>
        {if nobody {
            view! { <p class="empty-state" data-testid="empty-state">"No group may call this API yet."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap"><table class="matrix" data-testid="matrix">
                    <thead><tr><th scope="col">"Group"</th>{header}</tr></thead>
                    <tbody>{body}</tbody>
                </table></div>
            }.into_any()
        }}
    }
}
