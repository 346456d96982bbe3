//! The change set page's push section: the plan (every AWS call, read from AWS now) before
//! pushing, the push's progress live (polling with JavaScript, refreshing itself without), each
//! call's outcome, and "roll back" once pushed.

use std::time::Duration;

use leptos::prelude::*;

use crate::error::AppError;

use crate::components::loaded::error_view;

use super::change_sets::outcome_notice;
use crate::components::refresh::RefreshWithoutJs;
use crate::mappings::types::FormOutcome;
use crate::push::{
    get_push_view, PushChangeSet, PushView, RollBackChangeSet, RunState, RunView, StepState,
    StepView,
};

/// The latest push view of change set `id`, reloaded when `push` or `roll_back` acts and every
/// second while a push runs; `on_moved` is bumped when the push says the change set's state has
/// moved on from `shown` (the page then reloads its details).
/// Made at page level: a resource made inside another's `Suspense` does not hydrate cleanly.
pub fn push_view_resource(
    id: impl Fn() -> i64 + Send + Sync + 'static,
    push: ServerAction<PushChangeSet>,
    roll_back: ServerAction<RollBackChangeSet>,
    shown: impl Fn() -> Option<String> + Send + Sync + 'static,
    on_moved: RwSignal<u32>,
) -> Resource<Result<PushView, AppError>> {
    let tick = RwSignal::new(0u32);
    let view_res = Resource::new(
        move || {
            (
                id(),
                push.version().get(),
                roll_back.version().get(),
                tick.get(),
            )
        },
        |(id, ..)| get_push_view(id),
    );
    Effect::new(move |_| {
        let Some(Ok(v)) = view_res.get() else { return };
        let Some(run) = v.run.as_ref() else { return };
        if run.running() {
            set_timeout(
                move || {
                    tick.try_update(|t| *t += 1);
                },
                Duration::from_millis(1000),
            );
        }
        let implied = match run.state {
            RunState::Running => "pushing",
            RunState::Succeeded => "pushed",
            RunState::Failed => "push_failed",
        };
        if shown().is_some_and(|s| {
            s != implied && matches!(s.as_str(), "approved" | "pushing" | "push_failed")
        }) {
            on_moved.try_update(|n| *n += 1);
        }
    });
    view_res
}

#[component]
pub fn PushPanel(
    id: i64,
    view_res: Resource<Result<PushView, AppError>>,
    push: ServerAction<PushChangeSet>,
    roll_back: ServerAction<RollBackChangeSet>,
) -> impl IntoView {
    view! {
        <h2 id="push">"Push to AWS"</h2>
        <Suspense fallback=|| view! { <p class="muted">"Reading AWS for the plan…"</p> }>
            {move || Suspend::new(async move {
                match view_res.await {
                    Ok(v) => view! { <Panel id v push roll_back/> }.into_any(),
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
        {move || push.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
        {move || roll_back.value().get().map(|r| {
            let o = FormOutcome::of(&r);
            view! {
                {outcome_notice(&o)}
                {o.change_set.map(|d| view! { <p><a href=format!("/change-sets/{d}")>"Open your draft change set " {d}</a></p> })}
            }
        })}
    }
}

#[component]
fn Panel(
    id: i64,
    v: PushView,
    push: ServerAction<PushChangeSet>,
    roll_back: ServerAction<RollBackChangeSet>,
) -> impl IntoView {
    let running = v.run.as_ref().is_some_and(RunView::running);
    let nothing = (v.run.is_none() && v.plan.is_none() && v.plan_error.is_none()).then(|| {
        view! {
            <p class="muted" data-testid="push-none">"Not pushed yet. An admin sees here every AWS call the push will make, then pushes it; its progress shows here."</p>
        }
    });
    let plan = v.plan.clone().map(|steps| {
        if steps.is_empty() {
            view! { <p data-testid="push-plan">"AWS already matches: a push makes no call."</p> }
                .into_any()
        } else {
            view! {
                <p>{format!("Pushing makes these {} calls, in order:", steps.len())}</p>
                <StepTable steps attr:data-testid="push-plan"/>
            }
            .into_any()
        }
    });
    let plan_error = v.plan_error.clone().map(|e| {
        view! { <p class="notice notice-error" role="alert" data-testid="plan-error">"No plan: " {e}</p> }
    });
    let run = v.run.clone().map(|r| {
        let label = match r.state {
            RunState::Running => format!("Push {} running: {} of {} calls made", r.id, r.done(), r.steps.len()),
            RunState::Succeeded => format!("Push {} succeeded: {} calls made, read back and matching", r.id, r.done()),
            RunState::Failed => format!("Push {} failed", r.id),
        };
        let current = r
            .steps
            .iter()
            .find(|s| s.state == StepState::Running)
            .map(|s| format!("Now: {} {}", s.operation, s.summary));
        view! {
            <section class="push-run" data-testid="push-run">
                <p class="push-status" role="status"><strong>{label}</strong></p>
                <progress max=r.steps.len().max(1) value=r.done()></progress>
                {current.map(|c| view! { <p class="muted">{c}</p> })}
                {r.error.clone().map(|e| view! { <p class="notice notice-error" role="alert">{e}</p> })}
                {r.replan_note.clone().map(|n| view! { <p class="notice" data-testid="replan-note">{n}</p> })}
                <p class="muted small">"Started by " {r.started_by.clone()} " " <crate::components::when::When at=r.started_at.clone()/></p>
                <StepTable steps=r.steps.clone()/>
            </section>
        }
    });
    view! {
        // Without JavaScript the page reloads itself while a push goes on.
        <RefreshWithoutJs active=running seconds=2/>
        {nothing}
        {run}
        {plan_error}
        {plan}
        {v.may_push.then(|| view! {
            <ActionForm action=push attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button class="button button-primary" type="submit">"Push to AWS"</button>
            </ActionForm>
        })}
        {v.may_roll_back.then(|| view! {
            <ActionForm action=roll_back attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button class="button" type="submit">"Roll back (a reverse change set, reviewed)"</button>
            </ActionForm>
        })}
    }
}

#[component]
fn StepTable(steps: Vec<StepView>) -> impl IntoView {
    let rows = steps
        .into_iter()
        .map(|s| {
            let detail = s
                .error
                .clone()
                .or_else(|| s.aws_request_id.clone().map(|r| format!("request {r}")))
                .unwrap_or_default();
            let (row_class, badge_class) = (
                format!("step step-{}", s.state.as_str()),
                format!("badge step-state-{}", s.state.as_str()),
            );
            view! {
                <tr class=row_class>
                    <td>{s.seq + 1}</td>
                    <td><code>{s.operation}</code></td>
                    <td>{s.summary}</td>
                    <td class="target">{target_label(&s.target)}</td>
                    <td><span class=badge_class>{s.state.as_str()}</span></td>
                    <td class="small">{detail}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="steps">
                <thead><tr><th scope="col">"#"</th><th scope="col">"Call"</th><th scope="col">"What"</th>
                    <th scope="col">"Target"</th><th scope="col">"State"</th><th scope="col">"Outcome"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// Where a step's call goes, for people: an account/region, IAM Identity Center or Entra ID.
fn target_label(target: &str) -> String {
    match target {
        crate::domain::identity_center::TARGET => "IAM Identity Center".into(),
        crate::domain::saml::TARGET => "Entra ID".into(),
        account_region => account_region.into(),
    }
}
