//! Drift: what AWS holds that differs from the approved mappings, each difference with both
//! sides. Admins check now, and revert or adopt an item through a change set of their own.

use leptos::prelude::*;

use crate::components::loaded::error_view;
use leptos_meta::Title;

use super::forms::outcome_notice;
use crate::components::{layout::Guarded, two_sides::TwoSides};
use crate::mappings::types::FormOutcome;
use crate::push::{get_drift, CheckDrift, DriftItemView, DriftView, PendingPushView, ResolveDrift};
use crate::roles::Page;

#[component]
pub fn DriftPage() -> impl IntoView {
    let check = ServerAction::<CheckDrift>::new();
    let resolve = ServerAction::<ResolveDrift>::new();
    let drift = Resource::new(move || check.version().get(), |_| get_drift());
    view! {
        <Title text="Drift"/>
        <Guarded page=Page::Drift>
            <h1>"Drift"</h1>
            <p class="lead">"Where AWS differs from the approved mappings: policies edited by hand, roles deleted, resource policies or method authorization changed. Checked on a schedule and on demand; every finding is audited."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match drift.await {
                        Ok(v) => view! { <Report v check resolve/> }.into_any(),
                        Err(e) => error_view(&e),
                    }
                })}
            </Suspense>
            {move || check.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
            {move || resolve.value().get().map(|r| {
                let o = FormOutcome::of(&r);
                view! {
                    {outcome_notice(&o)}
                    {o.change_set.map(|d| view! { <p><a href=format!("/change-sets/{d}")>"Open your draft change set " {d}</a></p> })}
                }
            })}
        </Guarded>
    }
}

#[component]
fn Report(
    v: DriftView,
    check: ServerAction<CheckDrift>,
    resolve: ServerAction<ResolveDrift>,
) -> impl IntoView {
    let button = v.may_act.then(|| {
        view! {
            <ActionForm action=check attr:class="inline-form">
                <button class="button button-primary" type="submit">"Check for drift now"</button>
            </ActionForm>
        }
    });
    let pending = v
        .report
        .as_ref()
        .and_then(|r| r.pending.clone())
        .map(|p| view! { <Pending p/> });
    let body = match v.report {
        None => view! {
            <p class="empty-state" data-testid="drift-empty">"No drift check has run yet. An admin can run one now, or wait for the schedule (gatehouse drift runs one from the command line)."</p>
        }
        .into_any(),
        Some(r) if r.error.is_some() => view! {
            <p class="notice notice-error" role="alert">{format!("The check of {} failed: {}", r.checked_at, r.error.unwrap_or_default())}</p>
        }
        .into_any(),
        Some(r) if r.items.is_empty() => view! {
            <p class="notice notice-success" role="status" data-testid="drift-none">{format!("No drift: AWS matched the state last pushed at {} (checked by {}).", r.checked_at, r.checked_by)}</p>
        }
        .into_any(),
        Some(r) => {
            let (report, may_act) = (r.id, v.may_act);
            let n = r.items_len();
            let summary = format!(
                "Report {} — {n} {} found at {} (checked by {}).",
                r.id,
                if n == 1 { "difference" } else { "differences" },
                r.checked_at,
                r.checked_by
            );
            let items = r
                .items
                .into_iter()
                .map(|i| view! { <Item i report may_act resolve/> })
                .collect_view();
            view! {
                <p class="notice notice-warning" role="status" data-testid="drift-summary">{summary}</p>
                <ol class="drift-items" data-testid="drift-items">{items}</ol>
            }
            .into_any()
        }
    };
    view! { {button} {body} {pending} }
}

/// Approved change sets still waiting for their push, and what the push will do: not drift.
#[component]
fn Pending(p: PendingPushView) -> impl IntoView {
    let sets = p
        .change_sets
        .into_iter()
        .map(|(id, title, state)| {
            let state = state.replace('_', " ");
            view! {
                <li><a href=format!("/change-sets/{id}")>"Change set " {id} ": " {title}</a>
                    " " <span class="badge badge-muted">{state}</span></li>
            }
        })
        .collect_view();
    let calls = p
        .calls
        .into_iter()
        .map(|c| view! { <li><code class="step">{c}</code></li> })
        .collect_view();
    view! {
        <section class="card pending-push" data-testid="drift-pending" aria-labelledby="pending-title">
            <h2 class="h3" id="pending-title">"Pending push — not drift"</h2>
            <p class="muted">"Approved, not yet pushed: AWS still holds the state pushed before them. Open a change set to push it."</p>
            <ul>{sets}</ul>
            <details>
                <summary>"What their push will do"</summary>
                <ul class="pending-calls">{calls}</ul>
            </details>
        </section>
    }
}

#[component]
fn Item(
    i: DriftItemView,
    report: i64,
    may_act: bool,
    resolve: ServerAction<ResolveDrift>,
) -> impl IntoView {
    let actions = may_act.then(|| {
        view! {
            <ActionForm action=resolve attr:class="actions">
                <input type="hidden" name="report" value=report/>
                <input type="hidden" name="index" value=i.index/>
                {i.revertable.then(|| view! {
                    <button class="button" type="submit" name="action" value="revert">"Revert (push the desired state again)"</button>
                })}
                {i.adoptable.then(|| view! {
                    <button class="button" type="submit" name="action" value="adopt">"Adopt (make AWS's state the desired one)"</button>
                })}
            </ActionForm>
        }
    });
    view! {
        <li class="card drift-item">
            <h2 class="h3">{i.kind.clone()} <span class="muted">" — "</span><code class="ident">{i.subject.clone()}</code></h2>
            <TwoSides desired=i.desired.clone() actual=i.actual.clone()/>
            {if i.revertable {
                view! { <p class="muted small">"A revert would " {i.fix.clone()} "."</p> }.into_any()
            } else {
                view! { <p class="small" data-testid="drift-todo">"A push cannot mend this: " {i.fix.clone()} "."</p> }.into_any()
            }}
            {actions}
        </li>
    }
}
