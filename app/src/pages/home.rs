use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{layout::Guarded, state::StateBadge};
use crate::mappings::{get_home, types::HomeSummary};
use crate::roles::{Page, Role};

/// "What needs me?": open change sets, reviews waiting, pushes, drift and syncs, then what each
/// of the person's roles lets them do.
#[component]
pub fn HomePage() -> impl IntoView {
    // One resource only: the person comes with the summary. (Awaiting the shared `me` resource
    // here too, beside the layout's Suspense, left an SSR response hanging now and then.)
    let summary = Resource::new(|| (), |_| get_home());
    view! {
        <Title text="Home"/>
        <Guarded page=Page::Home>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let summary = summary.await.ok();
                    let user = summary.as_ref().and_then(|s| s.viewer.clone());
                    let name = user.as_ref().map(|u| u.display_name.clone()).unwrap_or_default();
                    let roles = user.map(|u| u.roles).unwrap_or_default();
                    let needs = summary.map(|s| view! { <NeedsYou s/> });
                    view! {
                        <h1>"Welcome, " {name}</h1>
                        <p class="lead">
                            "Gatehouse keeps who may call which API reviewed, pushed and auditable."
                        </p>
                        {needs}
                        <ul class="cards">
                            {roles.into_iter().map(role_card).collect_view()}
                        </ul>
                    }
                })}
            </Suspense>
        </Guarded>
    }
}

fn role_card(role: Role) -> impl IntoView {
    let (title, text, href, link) = match role {
        Role::Admin => (
            "As an admin",
            "Browse APIs and directory groups, draft change sets that map groups to IAM roles and \
             routes, and push approved change sets to AWS.",
            Page::ChangeSets.path(),
            "Go to change sets",
        ),
        Role::Reviewer => (
            "As a reviewer",
            "Approve or reject change sets drafted by other people. You can never approve your own.",
            Page::Reviews.path(),
            "Go to the review queue",
        ),
        Role::Auditor => (
            "As an auditor",
            "Filter the full history of access changes and export it with a manifest that proves \
             nothing was altered.",
            Page::History.path(),
            "Go to the history",
        ),
    };
    view! {
        <li class="card" data-testid=format!("role-card-{}", role.label())>
            <h2>{title}</h2>
            <p>{text}</p>
            <a href=href>{link}</a>
        </li>
    }
}

#[component]
fn NeedsYou(s: HomeSummary) -> impl IntoView {
    let list = |rows: Vec<crate::mappings::types::ChangeSetSummary>| {
        rows.into_iter()
            .map(|cs| {
                view! {
                    <li><a href=format!("/change-sets/{}", cs.id)>{cs.title.clone()}</a> " "
                        <StateBadge state=cs.state.clone()/>
                        {cs.request.then(|| view! { " " <span class="badge badge-kind" data-testid="request-badge">"Access request"</span> })}
                        {cs.waits_on_viewer.then(|| view! { " " <span class="badge badge-warn" data-testid="waits-on">{cs.waits_on.clone()}</span> })}
                        <span class="muted small">" drafted by " {cs.author_name.clone()}</span></li>
                }
            })
            .collect_view()
    };
    let mine = if s.mine.is_empty() {
        view! { <p class="muted">"You have no open change set."</p> }.into_any()
    } else {
        view! { <ul class="plain needs" data-testid="home-mine">{list(s.mine)}</ul> }.into_any()
    };
    let review = (!s.to_review.is_empty()).then(|| {
        view! {
            <h3>"Waiting for your review"</h3>
            <ul class="plain needs" data-testid="home-to-review">{list(s.to_review)}</ul>
        }
    });
    let syncs = if s.last_syncs.is_empty() {
        view! { <p class="muted">"No catalog has been synced yet."</p> }.into_any()
    } else {
        view! {
            <ul class="plain needs">
                {s.last_syncs.into_iter().map(|r| {
                    let outcome = match (&r.error, &r.finished_at) {
                        (Some(e), _) => format!("failed: {e}"),
                        (None, None) => "running".to_string(),
                        (None, Some(_)) => format!("{} added, {} changed, {} removed", r.added.unwrap_or(0), r.changed.unwrap_or(0), r.removed.unwrap_or(0)),
                    };
                    view! { <li><strong>{r.catalog.clone()}</strong> " " <crate::components::when::When at=r.started_at.clone()/> " — " {outcome}</li> }
                }).collect_view()}
            </ul>
        }.into_any()
    };
    let pushes = (!s.pushes.is_empty()).then(|| {
        view! {
            <h3>"Pushes"</h3>
            <p class="muted small">"Approved change sets not yet pushed, being pushed, or whose push failed."</p>
            <ul class="plain needs" data-testid="home-pushes">{list(s.pushes)}</ul>
        }
    });
    let ending = (!s.ending.is_empty()).then(|| {
        view! {
            <h3>"Access ending soon"</h3>
            <p class="muted small">"Time-bound access Gatehouse revokes at its end (within a week). To keep it, ask again in a new change set once it has ended."</p>
            <ul class="plain needs" data-testid="home-ending">
                {s.ending.into_iter().map(|(id, title, at)| view! {
                    <li><a href=format!("/change-sets/{id}")>{title}</a> <span class="muted small">{format!(" ends at {at} UTC")}</span></li>
                }).collect_view()}
            </ul>
        }
    });
    let campaigns = (!s.campaigns.is_empty()).then(|| {
        view! {
            <h3>"Review campaigns"</h3>
            <ul class="plain needs" data-testid="home-campaigns">
                {s.campaigns.into_iter().map(|(id, name, due, n)| view! {
                    <li><a href=format!("/campaigns/{id}?show=yours")>{name}</a>
                        <span class="muted small">{format!(" {n} line{} to certify by {due} UTC", if n == 1 { "" } else { "s" })}</span></li>
                }).collect_view()}
            </ul>
        }
    });
    let drift = match s.drift {
        None => view! {
            <p class="muted">"No drift check has run yet. " <a href="/drift">"Check for drift"</a></p>
        }
        .into_any(),
        Some(d) => {
            let (class, text) = match (d.differences, d.error) {
                (_, Some(e)) => ("text-bad", format!("The last check failed: {e}")),
                (Some(0), None) => ("text-ok", "AWS matched the approved mappings.".to_string()),
                (Some(1), None) => ("text-bad", "1 difference between AWS and the approved mappings.".to_string()),
                (Some(n), None) => ("text-bad", format!("{n} differences between AWS and the approved mappings.")),
                (None, None) => ("muted", "The last check found nothing to compare.".to_string()),
            };
            view! {
                <p data-testid="home-drift">
                    <span class=class>{text}</span>
                    <span class="muted small">" Checked " <crate::components::when::When at=d.checked_at/> ". "</span>
                    <a href="/drift">"Open the drift page"</a>
                </p>
            }
            .into_any()
        }
    };
    let notice = s.enforcement_notice.map(|n| {
        view! {
            <p class="notice notice-info" role="status" data-testid="enforcement-notice">
                {crate::pages::change_sets::capitalised(&n)} ". " <a href="/roles">"Roles"</a>
                " and change sets say so where it applies."
            </p>
        }
    });
    view! {
        {notice}
        <section class="card needs-you" data-testid="needs-you">
            <h2>"What needs you"</h2>
            <h3>"Your change sets"</h3>
            {mine}
            {review}
            {pushes}
            {ending}
            {campaigns}
            <h3>"Drift"</h3>
            {drift}
            <h3>"Last syncs"</h3>
            {syncs}
        </section>
    }
}
