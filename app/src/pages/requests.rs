//! `/requests`: anyone signed in asks for a role for themselves, for a bounded time, and
//! follows what became of their requests. Reviewers see them in their queue, marked.

use leptos::prelude::*;
use leptos_meta::Title;

use super::forms::{field_error, outcome_notice, ticked, typed_or};
use crate::{
    components::{loaded::error_view, state::StateBadge},
    form::FormOutcome,
    mappings::types::{MyRequest, RequestOptions, RequestableRole, RequestableRoute},
    requests::{
        get_request_options, ConfirmRequest, CreateRequest, CreateRouteRequest, WithdrawRequest,
    },
};

#[component]
pub fn RequestsPage() -> impl IntoView {
    let create = ServerAction::<CreateRequest>::new();
    let create_routes = ServerAction::<CreateRouteRequest>::new();
    let withdraw = ServerAction::<WithdrawRequest>::new();
    let confirm = ServerAction::<ConfirmRequest>::new();
    let options = Resource::new(
        move || {
            (
                create.version().get(),
                create_routes.version().get(),
                withdraw.version().get(),
                confirm.version().get(),
            )
        },
        |_| get_request_options(),
    );
    view! {
        <Title text="Request access"/>
        <h1>"Request access"</h1>
        <p class="lede">"Ask for a role, or for the routes you need, for yourself and for a bounded time. A reviewer decides; once it is approved and pushed to AWS you may call the role's routes until the end you chose, when Gatehouse takes the access back by itself."</p>
        {move || withdraw.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
        {move || confirm.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(o) => view! { <Requests o create create_routes withdraw confirm/> }.into_any(),
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Requests(
    o: RequestOptions,
    create: ServerAction<CreateRequest>,
    create_routes: ServerAction<CreateRouteRequest>,
    withdraw: ServerAction<WithdrawRequest>,
    confirm: ServerAction<ConfirmRequest>,
) -> impl IntoView {
    view! {
        {(!o.in_directory).then(|| view! {
            <p class="notice notice-warning" role="status">"You are not in the directory Gatehouse reads, so a request cannot name you yet. Ask a Gatehouse admin to check the directory sync."</p>
        })}
        <h2>"Your requests"</h2>
        {if o.mine.is_empty() {
            view! { <p class="empty-state" data-testid="no-requests">"You have not asked for anything yet. Choose a role below and say why you need it."</p> }.into_any()
        } else {
            view! { <MyRequests mine=o.mine withdraw confirm/> }.into_any()
        }}
        <NewRequest roles=o.roles.clone() durations=o.durations.clone() create/>
        <RouteRequest routes=o.routes durations=o.durations create=create_routes/>
        <RoleTable roles=o.roles/>
    }
}

#[component]
fn MyRequests(
    mine: Vec<MyRequest>,
    withdraw: ServerAction<WithdrawRequest>,
    confirm: ServerAction<ConfirmRequest>,
) -> impl IntoView {
    let rows = mine
        .into_iter()
        .map(|r| {
            let waiting = r.state == "submitted";
            let label = format!("Withdraw request {}", r.id);
            let confirm_label = format!("Confirm request {} again", r.id);
            let stale = r.stale;
            view! {
                <tr data-request=r.id>
                    <td class="num">{r.id}</td>
                    <td>{r.title.clone()}<br/><span class="muted small">{format!("asked {}", r.asked_at)}</span></td>
                    <td><StateBadge state=r.state.clone()/></td>
                    <td data-testid="request-outcome">{r.outcome.clone()}
                        {r.reviews.into_iter().map(|w| view! { <br/><span class="muted small">{w}</span> }).collect_view()}
                    </td>
                    <td class="nowrap">{if r.ends_at.is_empty() { "—".to_string() } else { format!("{} UTC", r.ends_at) }}</td>
                    <td>{stale.then(|| view! {
                        <ActionForm action=confirm attr:class="inline-form">
                            <input type="hidden" name="id" value=r.id/>
                            <button type="submit" class="button button-small button-primary" aria-label=confirm_label>"Confirm again"</button>
                        </ActionForm>
                    })}
                    {waiting.then(|| view! {
                        <ActionForm action=withdraw attr:class="inline-form">
                            <input type="hidden" name="id" value=r.id/>
                            <button type="submit" class="button button-small" aria-label=label>"Withdraw"</button>
                        </ActionForm>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="my-requests">
                <thead><tr><th class="num">"#"</th><th>"Request"</th><th>"State"</th><th>"Where it stands"</th><th>"Ends"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn NewRequest(
    roles: Vec<RequestableRole>,
    durations: Vec<(u32, String)>,
    create: ServerAction<CreateRequest>,
) -> impl IntoView {
    let err = move |f: &'static str| move || field_error(&create.value().get(), f);
    let role = typed_or(&create, "role_arn", String::new());
    let hours = typed_or(&create, "hours", "8".into());
    let why = typed_or(&create, "justification", String::new());
    let none = roles.iter().all(|r| r.held);
    let role_options = roles
        .into_iter()
        .filter(|r| !r.held)
        .map(|r| {
            let selected = r.arn == role;
            let label = format!(
                "{} — {} route{}",
                r.name,
                r.routes.len(),
                if r.routes.len() == 1 { "" } else { "s" }
            );
            view! { <option value=r.arn selected=selected>{label}</option> }
        })
        .collect_view();
    let duration_options = duration_options(durations, &hours);
    view! {
        <h2>"Ask for a role"</h2>
        {if none {
            view! { <p class="empty-state" data-testid="nothing-to-request">"There is nothing to ask for: no role may call an API route yet, or you hold every one that does."</p> }.into_any()
        } else {
            view! {
                <ActionForm action=create attr:class="form-grid" attr:data-testid="request-form">
                    <label for="request-role">"Role"</label>
                    <div>
                        <select id="request-role" name="role_arn" aria-describedby="request-role-error">
                            <option value="">"Choose a role…"</option>
                            {role_options}
                        </select>
                        <p class="field-error" id="request-role-error">{err("role_arn")}</p>
                    </div>
                    <label for="request-hours">"For"</label>
                    <div>
                        <select id="request-hours" name="hours" aria-describedby="request-hours-error">{duration_options}</select>
                        <p class="field-error" id="request-hours-error">{err("hours")}</p>
                    </div>
                    <label for="request-why">"Why you need it"</label>
                    <div>
                        <textarea id="request-why" name="justification" rows="3" maxlength="4000" placeholder="On call for payments this week: INC-2041 needs the refunds API" aria-describedby="request-why-error">{why}</textarea>
                        <p class="field-error" id="request-why-error">{err("justification")}</p>
                    </div>
                    <div></div>
                    <div><button class="button button-primary" type="submit">"Ask for access"</button></div>
                </ActionForm>
            }.into_any()
        }}
        {move || create.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
    }
}

/// What each role gives, so a person picks by the routes they need.
#[component]
fn RoleTable(roles: Vec<RequestableRole>) -> impl IntoView {
    (!roles.is_empty()).then(|| {
        let rows = roles
            .into_iter()
            .map(|r| {
                view! {
                    <tr>
                        <td>{r.name.clone()}{r.held.then(|| view! { " " <span class="badge badge-ok">"you hold it"</span> })}
                            {r.longest.clone().map(|l| view! { <br/><span class="muted small">{format!("{l} at most")}</span> })}</td>
                        <td><ul class="plain">{r.routes.into_iter().map(|x| view! { <li><code>{x}</code></li> }).collect_view()}</ul></td>
                        <td data-testid="request-how">{if r.held { "You hold it until its end." } else { "Ask for it above." }}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h2>"What each role may call"</h2>
            <div class="table-wrap">
                <table data-testid="requestable-roles">
                    <thead><tr><th>"Role"</th><th>"Routes"</th><th>"For you"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    })
}

/// Ask for routes: tick what you need; Gatehouse finds the roles that give it.
#[component]
fn RouteRequest(
    routes: Vec<RequestableRoute>,
    durations: Vec<(u32, String)>,
    create: ServerAction<CreateRouteRequest>,
) -> impl IntoView {
    let err = move |f: &'static str| move || field_error(&create.value().get(), f);
    // A refused form keeps its boxes ticked (with or without JavaScript).
    let ticked = ticked(&create, "routes");
    let hours = typed_or(&create, "hours", "8".into());
    let why = typed_or(&create, "justification", String::new());
    let open: Vec<RequestableRoute> = routes.into_iter().filter(|r| !r.held).collect();
    if open.is_empty() {
        return ().into_any();
    }
    let rows = open
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let id = format!("route-{i}");
            let checked = ticked.contains(&r.key);
            let label = format!("{} {}", r.method, r.path);
            view! {
                <tr>
                    <td><input type="checkbox" id=id.clone() name=format!("routes[r{i}]") value=r.key checked=checked/></td>
                    <td><label for=id><code>{label}</code></label></td>
                    <td>{r.api}</td>
                    <td>{r.stage}</td>
                    <td class="muted small">{r.via.join(", ")}</td>
                </tr>
            }
        })
        .collect_view();
    let duration_options = duration_options(durations, &hours);
    view! {
        <h2>"Ask for routes"</h2>
        <p class="muted">"Tick the routes you need: Gatehouse asks for the fewest roles that give them, and tells the reviewer what else those roles allow."</p>
        <ActionForm action=create attr:data-testid="route-request-form">
            <fieldset class="plain" aria-describedby="route-request-routes-error">
                <legend class="visually-hidden">"Routes"</legend>
                <div class="table-wrap">
                    <table data-testid="requestable-routes">
                        <thead><tr><th><span class="visually-hidden">"Ask"</span></th><th>"Route"</th><th>"API"</th><th>"Stage"</th><th>"Given by"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <p class="field-error" id="route-request-routes-error">{err("routes")}</p>
            </fieldset>
            <div class="form-grid">
                <label for="route-request-hours">"For"</label>
                <div>
                    <select id="route-request-hours" name="hours" aria-describedby="route-request-hours-error">{duration_options}</select>
                    <p class="field-error" id="route-request-hours-error">{err("hours")}</p>
                </div>
                <label for="route-request-why">"Why you need them"</label>
                <div>
                    <textarea id="route-request-why" name="justification" rows="3" maxlength="4000" placeholder="Release 4.2 needs to create orders from the batch job" aria-describedby="route-request-why-error">{why}</textarea>
                    <p class="field-error" id="route-request-why-error">{err("justification")}</p>
                </div>
                <div></div>
                <div><button class="button button-primary" type="submit">"Ask for these routes"</button></div>
            </div>
        </ActionForm>
        {move || create.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
    }
    .into_any()
}

/// The durations a request may last, the chosen one selected.
fn duration_options(durations: Vec<(u32, String)>, chosen: &str) -> impl IntoView {
    durations
        .into_iter()
        .map(|(h, label)| {
            let selected = h.to_string() == chosen;
            view! { <option value=h.to_string() selected=selected>{label}</option> }
        })
        .collect_view()
}
