//! Drift: what AWS holds that differs from the approved mappings, each difference with both
//! sides. Admins check now, and revert or adopt an item through a change set of their own.

use leptos::prelude::*;

use crate::components::loaded::error_view;
use leptos_meta::Title;

use super::change_sets::outcome_notice;
use crate::components::{layout::Guarded, two_sides::TwoSides};
use crate::mappings::types::FormOutcome;
use crate::push::{get_drift, CheckDrift, DriftItemView, DriftView, ResolveDrift};
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
            <p class="notice notice-success" role="status" data-testid="drift-none">{format!("No drift: AWS matched the desired state at {} (checked by {}).", r.checked_at, r.checked_by)}</p>
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
                <p class="muted">{summary}</p>
                <ol class="drift-items" data-testid="drift-items">{items}</ol>
            }
            .into_any()
        }
    };
    view! { {button} {body} }
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
                <button class="button" type="submit" name="action" value="revert">"Revert (push the desired state again)"</button>
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
            <p class="muted small">"A revert would " {i.fix.clone()} "."</p>
            {actions}
        </li>
    }
}
