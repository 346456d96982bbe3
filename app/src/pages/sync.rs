//! Sync: admins run catalog syncs and see each run's result.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::catalog::{list_sync_runs, types::SyncRun, SyncApis, SyncRoles};
use crate::components::layout::Guarded;
use crate::roles::Page;

#[component]
pub fn SyncPage() -> impl IntoView {
    let sync = ServerAction::<SyncApis>::new();
    let sync_roles = ServerAction::<SyncRoles>::new();
    let runs = Resource::new(
        move || (sync.version().get(), sync_roles.version().get()),
        |_| list_sync_runs(),
    );
    view! {
        <Title text="Sync"/>
        <Guarded page=Page::Sync>
            <h1>"Sync"</h1>
            <p class="lead">"Bring the catalogs up to date with AWS. Each run is recorded and audited."</p>
            <div class="cards">
                <section class="card">
                    <h2>"API Gateway"</h2>
                    <p>"REST APIs with their stages, resources and methods. APIs deleted in AWS are kept and marked gone."</p>
                    <ActionForm action=sync>
                        <button type="submit" class="button button-primary" disabled=move || sync.pending().get()>
                            {move || if sync.pending().get() { "Syncing…" } else { "Sync APIs now" }}
                        </button>
                    </ActionForm>
                    {move || sync.value().get().map(outcome)}
                </section>
                <section class="card">
                    <h2>"IAM roles"</h2>
                    <p>"Roles with their trust policies and tags. Only roles tagged "
                        <code>"gatehouse:managed=true"</code> " will ever be changed by Gatehouse."</p>
                    <ActionForm action=sync_roles>
                        <button type="submit" class="button button-primary" disabled=move || sync_roles.pending().get()>
                            {move || if sync_roles.pending().get() { "Syncing…" } else { "Sync IAM roles now" }}
                        </button>
                    </ActionForm>
                    {move || sync_roles.value().get().map(outcome)}
                </section>
            </div>
            <h2>"Recent runs"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty-state" data-testid="no-runs">"No sync has run yet. Start the first one above."</p>
                        }.into_any(),
                        Ok(list) => view! { <RunTable runs=list/> }.into_any(),
                        Err(e) => view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Guarded>
    }
}

fn outcome(result: Result<SyncRun, ServerFnError>) -> AnyView {
    match result {
        Ok(run) => {
            view! { <p class="notice notice-success" role="status">{summary(&run)}</p> }.into_any()
        }
        Err(e) => {
            view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }.into_any()
        }
    }
}

fn summary(run: &SyncRun) -> String {
    match &run.error {
        Some(e) => format!("Run {} failed: {e}", run.id),
        None => format!(
            "Run {} finished: {} added, {} changed, {} removed.",
            run.id,
            run.added.unwrap_or(0),
            run.changed.unwrap_or(0),
            run.removed.unwrap_or(0)
        ),
    }
}

#[component]
fn RunTable(runs: Vec<SyncRun>) -> impl IntoView {
    let rows = runs
        .into_iter()
        .map(|run| {
            let outcome = match (&run.error, &run.finished_at) {
                (Some(_), _) => {
                    view! { <span class="badge badge-error">"failed"</span> }.into_any()
                }
                (None, Some(_)) => {
                    view! { <span class="badge badge-ok">"finished"</span> }.into_any()
                }
                (None, None) => {
                    view! { <span class="badge badge-warn">"running"</span> }.into_any()
                }
            };
            view! {
                <tr>
                    <td class="num">{run.id}</td>
                    <td>{run.catalog.clone()}</td>
                    <td>{outcome}</td>
                    <td>{run.started_at.clone()}</td>
                    <td>{run.started_by.clone()}</td>
                    <td>{summary(&run)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="sync-runs">
                <thead><tr>
                    <th scope="col" class="num">"Run"</th><th scope="col">"Catalog"</th><th scope="col">"Outcome"</th>
                    <th scope="col">"Started (UTC)"</th><th scope="col">"By"</th><th scope="col">"Result"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
