//! The access review: who (group → role) could call which route as of a chosen date, rebuilt
//! from the change sets applied before it, and downloadable as CSV.

use leptos::prelude::*;

use crate::components::loaded::error_view;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{layout::Guarded, search::urlencode};
use crate::history::get_access_report;
use crate::roles::Page;

#[component]
pub fn AccessReportPage() -> impl IntoView {
    let query = use_query_map();
    let at = move || query.read().get("at").unwrap_or_default();
    let report = Resource::new(at, get_access_report);
    view! {
        <Title text="Access as of a date"/>
        <Guarded page=Page::History>
            <p class="breadcrumb"><a href="/history">"History"</a> " / "</p>
            <h1>"Access as of a date"</h1>
            <p class="lead">"Who could call which route at the end of a day (UTC), from the change sets approved before it. For every change between two dates, filter the History by action " <code>"change_set.applied"</code> " and export it."</p>
            <form method="get" action="/history/access" class="inline-form">
                <label for="at">"As of (end of day, UTC)"</label> " "
                <input id="at" name="at" type="date" value=at/> " "
                <button class="button button-primary" type="submit">"Show"</button>
            </form>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Ok(r) if r.error.is_some() => view! { <p class="field-error" role="alert">{r.error.unwrap_or_default()}</p> }.into_any(),
                        Ok(r) if r.at.is_none() => view! { <p class="muted">"Pick a date to see who could call what then."</p> }.into_any(),
                        Ok(r) if r.rows.is_empty() => view! { <p class="empty-state" data-testid="access-empty">"Nobody could call any route then."</p> }.into_any(),
                        Ok(r) => {
                            let rows = r.rows.iter().map(|row| view! {
                                <tr class:drifted=row.drift.is_some()><td>{row.group.clone()}</td>
                                    <td><code class="ident">{row.role.clone()}</code>
                                        {row.drift.clone().map(|d| view! { " " <a class="badge badge-warn" href="/drift" data-testid="row-drift">{d}</a> })}</td>
                                    <td>{row.route.clone()}</td></tr>
                            }).collect_view();
                            view! {
                                <p><a class="button" href=format!("/api/reports/access.csv?at={}", urlencode(&at())) download="">"Download as CSV"</a>
                                    " " <span class="muted">{format!("{} rows", r.rows.len())}</span></p>
                                <div class="table-wrap"><table data-testid="access-table">
                                    <thead><tr><th scope="col">"Group"</th><th scope="col">"Role"</th><th scope="col">"Route"</th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table></div>
                            }.into_any()
                        }
                        Err(e) => error_view(&e),
                    }
                })}
            </Suspense>
        </Guarded>
    }
}
