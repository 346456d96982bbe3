//! Sync: admins start catalog syncs; runs go on in the background and the page follows them
//! (fetched again while one runs: `components::live`).

use leptos::prelude::*;

use crate::components::loaded::error_view;
use leptos_meta::Title;

use crate::catalog::{
    directory_status, list_sync_runs,
    types::{plural, DirectoryStatus, SyncRun},
    StartSyncForm,
};
use crate::components::{layout::Guarded, live::KeepFresh};
use crate::form::FormOutcome;
use crate::pages::forms::outcome_notice;
use crate::roles::Page;

#[component]
pub fn SyncPage() -> impl IntoView {
    // One action for every form here: a post reloads the page, whose outcome names its catalog
    // (each card shows its own); the page's reads are then current.
    let start = ServerAction::<StartSyncForm>::new();
    let runs = Resource::new(|| (), |_| list_sync_runs());
    let status = Resource::new(|| (), |_| directory_status());
    view! {
        <Title text="Sync"/>
        <Guarded page=Page::Sync>
            <h1>"Sync"</h1>
            <p class="lead">"Bring the catalogs up to date with AWS and the directory. Runs go on in the background; each is recorded and audited."</p>
            <p class="muted">"Who hears of reviews, pushes and drift: " <a href="/notifications" data-testid="notifications-link">"Notifications"</a>"."</p>
            <div class="cards">
                <SyncCard action=start catalog="apis" title="API Gateway" button="Sync APIs now"
                    about="REST APIs with their stages, resources and methods, from every target. APIs deleted in AWS are kept and marked gone."/>
                <SyncCard action=start catalog="roles" title="IAM roles" button="Sync IAM roles now"
                    about="Roles with their trust policies and tags. Only roles tagged gatehouse:managed=true will ever be changed by Gatehouse."/>
                <SyncCard action=start catalog="groups" title="Directory groups" button="Sync groups now"
                    about="Groups, people and memberships from the configured directory (Microsoft Graph, LDAP or a file). Incremental where the directory allows; vanished groups are marked deleted, but a sync that would remove more than a tenth of them is held for you to confirm."/>
            </div>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    status.await.ok().flatten().map(|s| view! { <DirectoryFacts s/> })
                })}
            </Suspense>
            <h2>"Recent runs"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty-state" data-testid="no-runs">"No sync has run yet. Start the first one above."</p>
                        }.into_any(),
                        Ok(list) => {
                            let running = list.iter().any(SyncRun::running);
                            // The newest groups run decides whether removals wait for a decision.
                            let held = list
                                .iter()
                                .find(|r| r.catalog == "groups")
                                .filter(|r| !r.running())
                                .and_then(|r| r.removals_held().map(|n| (r.id, n, r.error.clone().unwrap_or_default())));
                            view! {
                                // The page follows the run while it goes on.
                                <KeepFresh active=running seconds=2/>
                                {held.map(|(run, n, why)| view! { <HeldRemovals action=start run n why/> })}
                                <RunTable runs=list/>
                            }.into_any()
                        }
                        Err(e) => error_view(&e),
                    }
                })}
            </Suspense>
            <super::people::PeopleSessions/>
        </Guarded>
    }
}

#[component]
fn SyncCard(
    action: ServerAction<StartSyncForm>,
    catalog: &'static str,
    title: &'static str,
    button: &'static str,
    about: &'static str,
) -> impl IntoView {
    view! {
        <section class="card" data-catalog=catalog>
            <h2>{title}</h2>
            <p>{about}</p>
            <ActionForm action>
                <input type="hidden" name="catalog" value=catalog/>
                <input type="hidden" name="mode" value=""/>
                <button type="submit" class="button button-primary">{button}</button>
            </ActionForm>
            {(catalog == "groups").then(|| view! {
                <ActionForm action>
                    <input type="hidden" name="catalog" value=catalog/>
                    <input type="hidden" name="mode" value="full"/>
                    <button type="submit" class="button" data-testid="full-resync"
                        title="List every group, person and membership again instead of asking for changes since the last sync">
                        "Full resync"
                    </button>
                </ActionForm>
            })}
            // Said beside the button that started it (the outcome names its catalog); an outcome
            // without one (refused before the catalog was read) in the first card.
            {move || action.value().get().map(|r| FormOutcome::of(&r)).filter(|o| {
                o.typed("catalog").map_or(catalog == "apis", |c| c == catalog)
            }).map(|o| outcome_notice(&o))}
        </section>
    }
}

/// Where the directory's stored copy stands: counts, how old, and how often the directory made
/// Gatehouse list everything again.
#[component]
fn DirectoryFacts(s: DirectoryStatus) -> impl IntoView {
    use crate::components::when::When;
    view! {
        <p class="muted directory-status" data-testid="directory-status">
            {format!("Directory ({}): {} groups, {} people, {} direct memberships stored", s.source, s.groups, s.people, s.memberships)}
            {match s.memberships_synced_at {
                Some(at) => view! { ", as of " <When at/> }.into_any(),
                None => view! { ", never synced" }.into_any(),
            }}
            {s.last_full_sync_at.map(|at| view! { "; last full listing " <When at/> })}
            {format!(
                "; full resyncs the directory asked for: {}.",
                s.full_resyncs
            )}
        </p>
    }
}

/// The newest groups run was held back by the mass-removal guard: say why, and let an admin
/// apply the removals deliberately (the run that does it is audited as such).
#[component]
fn HeldRemovals(
    action: ServerAction<StartSyncForm>,
    run: i64,
    n: i64,
    why: String,
) -> impl IntoView {
    view! {
        <section class="notice notice-warning" role="alert" data-testid="held-removals">
            <p><strong>{format!("Run {run} held back {n} {}.", plural(n, "removal", "removals"))}</strong> " " {why}</p>
            <p>"Fix the directory settings and sync again if the groups should not go. If they were really deleted, apply the removals; the groups stay in Gatehouse marked deleted, with their history."</p>
            <ActionForm action>
                <input type="hidden" name="catalog" value="groups"/>
                <input type="hidden" name="mode" value="allow-removals"/>
                <button type="submit" class="button button-danger" data-testid="apply-removals">
                    {if n == 1 { "Apply the removal".to_string() } else { format!("Apply the {n} removals") }}
                </button>
            </ActionForm>
        </section>
    }
}

fn summary(run: &SyncRun) -> String {
    match (&run.error, &run.finished_at) {
        (Some(e), _) => format!("Failed: {e}"),
        (None, None) => run.progress.clone().unwrap_or_else(|| "Starting…".into()),
        (None, Some(_)) => {
            let counts = format!(
                "{} added, {} changed, {} removed",
                run.added.unwrap_or(0),
                run.changed.unwrap_or(0),
                run.removed.unwrap_or(0)
            );
            match &run.details {
                Some(d) => format!("{counts}; {}", d.summary()),
                None => counts,
            }
        }
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
                <tr data-run=run.id data-catalog=run.catalog.clone()>
                    <td class="num">{run.id}</td>
                    <td>{run.catalog.clone()}</td>
                    <td>{outcome}</td>
                    <td><crate::components::when::When at=run.started_at.clone()/></td>
                    <td>{run.started_by.clone()}</td>
                    <td>{summary(&run)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="sync-runs" aria-live="polite">
                <thead><tr>
                    <th scope="col" class="num">"Run"</th><th scope="col">"Catalog"</th><th scope="col">"Outcome"</th>
                    <th scope="col">"Started (UTC)"</th><th scope="col">"By"</th><th scope="col">"Result"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
