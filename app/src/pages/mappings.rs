//! Mappings (the desired state as a whole) and Reviews (the queue of change sets waiting).

use leptos::prelude::*;

use crate::components::loaded::error_view;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::change_sets::ChangeSetList;
use crate::components::{
    empty::EmptyState,
    layout::Guarded,
    search::{keep_size, list_base, Pager, SearchBar, SearchResults},
};
use crate::mappings::{list_mappings, review_queue};
use crate::roles::Page;

#[component]
pub fn MappingsPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let rows = Resource::new(
        move || (search(), param("after"), param("before"), param("size")),
        |(q, after, before, size)| list_mappings(q, after, before, size),
    );
    view! {
        <Title text="Mappings"/>
        <Guarded page=Page::Mappings>
            <h1>"Mappings"</h1>
            <p class="lead">"Every approved mapping: directory group → IAM role → API routes. They change only through reviewed change sets."</p>
            <SearchBar id="mapping-search" label="Search by group, role or route" value=search() keep=keep_size(param("size"))/>
            <SearchResults id="mapping-search">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match rows.await {
                            Ok(page) if page.items.is_empty() && !search().is_empty() => view! {
                                <EmptyState title="No mapping matches" text=format!("No group, role or route contains “{}”. ", search())>
                                    <a href="/mappings">"Show every mapping"</a>
                                </EmptyState>
                            }.into_any(),
                            Ok(page) if page.items.is_empty() => view! {
                                <EmptyState title="No mapping yet" text="An admin binds a role to a group on the group's page; once a reviewer approves the change set, the mapping shows here."/>
                            }.into_any(),
                            Ok(page) => {
                                let base = list_base("/mappings", &search(), &param("size"));
                                let shown = format!("{} of {} mappings", page.items.len(), page.total);
                                let body = page.items.into_iter().map(|r| {
                                    let more = (r.more_routes > 0).then(|| view! {
                                        <li><a href=r.role_href.clone() class="small" data-testid="more-routes" title="Every route the role may call, on its page">
                                            {format!("and {} more {}", r.more_routes, if r.more_routes == 1 { "route" } else { "routes" })}
                                        </a></li>
                                    });
                                    view! {
                                        <tr>
                                            <td><a href=r.group_href>{r.group}</a></td>
                                            <td><a href=r.role_href><code class="ident">{r.role}</code></a></td>
                                            <td><ul class="plain">{r.routes.into_iter().map(|x| view! { <li>{x}</li> }).collect_view()}{more}</ul></td>
                                        </tr>
                                    }
                                }).collect_view();
                                view! {
                                    <div class="table-wrap"><table data-testid="mapping-table">
                                        <thead><tr><th scope="col" aria-sort="ascending">"Group"</th><th scope="col">"Role"</th><th scope="col">"Routes"</th></tr></thead>
                                        <tbody>{body}</tbody>
                                    </table></div>
                                    <p class="muted small" data-testid="shown">{shown}</p>
                                    <Pager base prev=page.prev next=page.next/>
                                }.into_any()
                            }
                            Err(e) => error_view(&e),
                        }
                    })}
                </Suspense>
            </SearchResults>
        </Guarded>
    }
}

#[component]
pub fn ReviewsPage() -> impl IntoView {
    // The table's order is in the query: a new order renders the table again.
    let query = use_query_map();
    let order = move || (query.read().get("sort"), query.read().get("dir"));
    let queue = Resource::new(order, |_| review_queue());
    view! {
        <Title text="Reviews"/>
        <Guarded page=Page::Reviews>
            <h1>"Reviews"</h1>
            <p class="lead">"Change sets other people submitted, waiting for a decision. Your own are not here: someone else reviews them."</p>
            <ChangeSetList list=queue empty_title="Nothing is waiting for your review"
                empty_text="Submitted change sets appear here."/>
        </Guarded>
    }
}
