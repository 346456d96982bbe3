//! `/notifications` (admins): who hears of what (webhooks, Slack, Teams), and every delivery
//! with its status and last error, re-sendable.

use leptos::prelude::*;
use leptos_meta::Title;

use super::forms::{field_error, outcome_notice, typed_or};
use crate::{
    components::{layout::Guarded, loaded::error_view},
    domain::webhook::EVENTS,
    form::FormOutcome,
    roles::Page,
    webhooks::{
        list_notifications, DeliveryView, EnableReceiver, NotificationsView, ReplaceSecret,
        ResendDelivery, Subscribe, SubscriptionView,
    },
};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let subscribe = ServerAction::<Subscribe>::new();
    let enable = ServerAction::<EnableReceiver>::new();
    let resend = ServerAction::<ResendDelivery>::new();
    let replace = ServerAction::<ReplaceSecret>::new();
    let list = Resource::new(
        move || {
            (
                subscribe.version().get(),
                enable.version().get(),
                resend.version().get(),
                replace.version().get(),
            )
        },
        |_| list_notifications(),
    );
    view! {
        <Title text="Notifications"/>
        <Guarded page=Page::Sync>
            <h1>"Notifications"</h1>
            <p class="lede">"Receivers hear of reviews waiting, approvals, pushes, failures, drift and exports. Each message is kept until its receiver takes it: a receiver that is down gets everything when it is back, and a change set's messages arrive in order."</p>
            {move || enable.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
            {move || resend.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
            {move || replace.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(v) => view! { <Notifications v enable resend replace/> }.into_any(),
                        Err(e) => error_view(&e),
                    }
                })}
            </Suspense>
            <NewReceiver subscribe/>
        </Guarded>
    }
}

#[component]
fn Notifications(
    v: NotificationsView,
    enable: ServerAction<EnableReceiver>,
    resend: ServerAction<ResendDelivery>,
    replace: ServerAction<ReplaceSecret>,
) -> impl IntoView {
    view! {
        <h2>"Receivers"</h2>
        {if v.subscriptions.is_empty() {
            view! { <p class="empty-state" data-testid="no-receivers">"No receiver yet. Add one below: a Slack channel for reviewers, a Teams channel for the platform team, or your own endpoint."</p> }.into_any()
        } else {
            view! { <Receivers list=v.subscriptions enable replace/> }.into_any()
        }}
        <h2>"Deliveries"</h2>
        {if v.deliveries.is_empty() {
            view! { <p class="empty-state">"Nothing sent yet: deliveries show here as events happen."</p> }.into_any()
        } else {
            view! { <Deliveries list=v.deliveries resend/> }.into_any()
        }}
    }
}

#[component]
fn Receivers(
    list: Vec<SubscriptionView>,
    enable: ServerAction<EnableReceiver>,
    replace: ServerAction<ReplaceSecret>,
) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|s| {
            let label = format!("{} receiver {}", if s.enabled { "Turn off" } else { "Turn on" }, s.name);
            view! {
                <tr data-receiver=s.id class:inactive=!s.enabled>
                    <td>{s.name.clone()}<br/><span class="muted small">{s.kind.clone()}</span></td>
                    <td><code class="wrap">{s.url.clone()}</code>
                        {(s.kind == "generic").then(|| view! {
                            <details><summary class="small">"Signing secret"</summary><code class="wrap" data-testid="receiver-secret">{s.secret.clone()}</code>
                                <ActionForm action=replace attr:class="inline-form">
                                    <input type="hidden" name="id" value=s.id/>
                                    <button type="submit" class="button button-small" aria-label=format!("New secret for receiver {}", s.name)>"New secret"</button>
                                </ActionForm>
                            </details>
                        })}
                    </td>
                    <td>{s.events.join(", ")}</td>
                    <td>{if s.api_ids.is_empty() { "every API".to_string() } else { s.api_ids.join(", ") }}</td>
                    <td data-testid="receiver-counts">{format!("{} delivered, {} waiting", s.delivered, s.waiting)}</td>
                    <td>
                        <ActionForm action=enable attr:class="inline-form">
                            <input type="hidden" name="id" value=s.id/>
                            <input type="hidden" name="enabled" value=(!s.enabled).to_string()/>
                            <button type="submit" class="button button-small" aria-label=label>{if s.enabled { "Turn off" } else { "Turn on" }}</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="receiver-table">
                <thead><tr><th>"Receiver"</th><th>"Address"</th><th>"Events"</th><th>"APIs"</th><th>"Sent"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn Deliveries(list: Vec<DeliveryView>, resend: ServerAction<ResendDelivery>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|d| {
            let label = format!("Send delivery {} again", d.id);
            let failing = !d.delivered && d.attempts > 0;
            view! {
                <tr data-delivery=d.id class:failed=failing>
                    <td>{d.id}</td>
                    <td>{d.receiver.clone()}</td>
                    <td><code>{d.event.clone()}</code>
                        {d.change_set.map(|id| view! { " " <a href=format!("/change-sets/{id}")>{format!("change set {id}")}</a> })}</td>
                    <td>{d.created_at.clone()}</td>
                    <td data-testid="delivery-status">{d.status.clone()}
                        {d.last_error.clone().map(|e| view! { <br/><span class="small error-text">{e}</span> })}</td>
                    <td>
                        <ActionForm action=resend attr:class="inline-form">
                            <input type="hidden" name="id" value=d.id/>
                            <button type="submit" class="button button-small" aria-label=label>"Send again"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table data-testid="delivery-table">
                <thead><tr><th>"#"</th><th>"Receiver"</th><th>"Event"</th><th>"Made"</th><th>"Status"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn NewReceiver(subscribe: ServerAction<Subscribe>) -> impl IntoView {
    let err = move |f: &'static str| move || field_error(&subscribe.value().get(), f);
    let name = typed_or(&subscribe, "name", String::new());
    let url = typed_or(&subscribe, "url", String::new());
    let apis = typed_or(&subscribe, "apis", String::new());
    let kind = typed_or(&subscribe, "kind", "generic".into());
    let kinds = [
        ("generic", "Generic JSON (signed with HMAC-SHA256)"),
        ("slack", "Slack incoming webhook"),
        ("teams", "Microsoft Teams workflow"),
    ]
    .into_iter()
    .map(|(k, label)| view! { <option value=k selected=kind == k>{label}</option> })
    .collect_view();
    let events = EVENTS
        .iter()
        .map(|(e, _, what)| {
            let id = format!("event-{e}");
            let label_for = id.clone();
            view! {
                <label class="check" for=label_for>
                    <input type="checkbox" id=id name=format!("event_{e}") value="on" checked=matches!(*e, "submitted" | "approved" | "push_failed" | "drift_found")/>
                    <code>{*e}</code>" — "{*what}
                </label>
            }
        })
        .collect_view();
    view! {
        <h2>"Add a receiver"</h2>
        <ActionForm action=subscribe attr:data-testid="receiver-form">
            <label for="receiver-name">"Name"</label>
            <input id="receiver-name" name="name" value=name maxlength="80" placeholder="#payments-reviews" aria-describedby="receiver-name-error"/>
            <p class="field-error" id="receiver-name-error">{err("name")}</p>
            <label for="receiver-kind">"Kind"</label>
            <select id="receiver-kind" name="kind">{kinds}</select>
            <p class="field-error" id="receiver-kind-error">{err("kind")}</p>
            <label for="receiver-url">"Address"</label>
            <input id="receiver-url" name="url" value=url size="60" placeholder="https://hooks.slack.com/services/…" aria-describedby="receiver-url-error"/>
            <p class="field-error" id="receiver-url-error">{err("url")}</p>
            <fieldset class="checks stacked" aria-describedby="receiver-events-error">
                <legend>"Events"</legend>
                {events}
            </fieldset>
            <p class="field-error" id="receiver-events-error">{err("events")}</p>
            <label for="receiver-apis">"Only change sets touching these APIs (ids; empty: every API)"</label>
            <input id="receiver-apis" name="apis" value=apis placeholder="a1b2c3d4e5, f6g7h8i9j0" aria-describedby="receiver-apis-error"/>
            <p class="field-error" id="receiver-apis-error">{err("apis")}</p>
            <div class="actions"><button class="button button-primary" type="submit">"Add receiver"</button></div>
        </ActionForm>
        {move || subscribe.value().get().map(|r| outcome_notice(&FormOutcome::of(&r)))}
    }
}
