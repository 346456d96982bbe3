//! The change set page's push section: the plan before pushing (every AWS call, as last read
//! from AWS with its age, read again in the background), the push's progress live (the page is
//! fetched again while it runs: `components::live`), each call's outcome, and "roll back" once
//! pushed.

use leptos::prelude::*;

use crate::error::AppError;

use crate::components::loaded::error_view;

use super::forms::outcome_notice;
use crate::components::live::KeepFresh;
use crate::mappings::types::FormOutcome;
use crate::push::{
    get_push_view, PushChangeSet, PushView, ReadPlanAgain, RollBackChangeSet, RunState, RunView,
    StepState, StepView,
};

/// The change set page's push actions: push, roll back, read the plan again.
#[derive(Clone, Copy)]
pub struct PushActions {
    pub push: ServerAction<PushChangeSet>,
    pub roll_back: ServerAction<RollBackChangeSet>,
    pub read_plan: ServerAction<ReadPlanAgain>,
}

impl PushActions {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        PushActions {
            push: ServerAction::new(),
            roll_back: ServerAction::new(),
            read_plan: ServerAction::new(),
        }
    }
}

/// The latest push view of change set `id`. Made at page level, as every resource of a page.
pub fn push_view_resource(
    id: impl Fn() -> i64 + Send + Sync + 'static,
    actions: PushActions,
) -> Resource<Result<PushView, AppError>> {
    Resource::new(
        move || {
            (
                id(),
                actions.push.version().get(),
                actions.roll_back.version().get(),
                actions.read_plan.version().get(),
            )
        },
        |(id, ..)| get_push_view(id),
    )
}

#[component]
pub fn PushPanel(
    id: i64,
    view_res: Resource<Result<PushView, AppError>>,
    actions: PushActions,
) -> impl IntoView {
    let PushActions {
        push,
        roll_back,
        read_plan,
    } = actions;
    view! {
        <h2 id="push">"Push to AWS"</h2>
        <Suspense fallback=|| view! { <p class="muted">"Loading the push…"</p> }>
            {move || Suspend::new(async move {
                match view_res.await {
                    Ok(v) => view! { <Panel id v actions/> }.into_any(),
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
        {move || push.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
        // Only a refusal is said here: the plan's age below says it is being read.
        {move || read_plan.value().get().map(|r| FormOutcome::of(&r)).filter(|o| !o.went_through()).map(|o| outcome_notice(&o))}
        {move || roll_back.value().get().map(|r| {
            let o = FormOutcome::of(&r);
            view! {
                {outcome_notice(&o)}
                {o.change_set.map(|d| view! { <p><a href=format!("/change-sets/{d}")>"Open your draft change set " {d}</a></p> })}
            }
        })}
    }
}

/// When the plan shown was read from AWS, and whether it is being read again.
#[component]
fn PlanAge(v: PushView, read_plan: ServerAction<ReadPlanAgain>, id: i64) -> impl IntoView {
    let read_at = v.plan_read_at.clone();
    let status = match (&read_at, v.plan_reading) {
        (None, _) => view! {
            <p class="muted" role="status" data-testid="plan-reading">
                <span class="spinner" aria-hidden="true"></span>
                " Reading AWS for the plan: every call the push will make shows here in a moment."
            </p>
        }
        .into_any(),
        (Some(at), reading) => view! {
            <p class="muted small" role="status" data-testid="plan-age">
                "Plan read from AWS " <crate::components::when::When at=at.clone()/>
                {if reading { ". Reading AWS again…" } else { ". The push reads AWS again before its first call." }}
            </p>
        }
        .into_any(),
    };
    let again = (read_at.is_some() && !v.plan_reading).then(|| {
        view! {
            <ActionForm action=read_plan attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button class="button button-small" type="submit" data-testid="read-plan-again">"Read AWS again"</button>
            </ActionForm>
        }
    });
    view! { {status} {again} }
}

#[component]
fn Panel(id: i64, v: PushView, actions: PushActions) -> impl IntoView {
    let PushActions {
        push,
        roll_back,
        read_plan,
    } = actions;
    let running = v.run.as_ref().is_some_and(RunView::running);
    let has_plan = v.plan.is_some() || v.plan_error.is_some() || v.plan_reading;
    let nothing = (v.run.is_none() && !has_plan).then(|| {
        view! {
            <p class="muted" data-testid="push-none">"Not pushed yet. An admin sees here every AWS call the push will make, then pushes it; its progress shows here."</p>
        }
    });
    let age = (v.may_push && has_plan).then(|| view! { <PlanAge v=v.clone() read_plan id/> });
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
        // The page follows a push, or AWS being read, while it goes on.
        <KeepFresh active=running || v.plan_reading seconds=2/>
        {nothing}
        {run}
        {age}
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
