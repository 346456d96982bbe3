//! History: every audited action, newest first, filtered by time, actor, action, change set or
//! what it mentions (the filter lives in the URL, so a view can be shared), each event's details
//! on demand, and exports (CSV, JSON Lines) with a manifest that proves them unaltered.

use leptos::prelude::*;

use crate::components::loaded::error_view;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::forms::outcome_notice;
use super::history_export::{export_status_resource, ExportNotice};
use crate::components::layout::Guarded;
use crate::history::{get_history, CreateAuditExport, HistoryFilter, HistoryPage};
use crate::mappings::types::FormOutcome;
use crate::roles::Page;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        HistoryFilter {
            from: get("from"),
            to: get("to"),
            actor: get("actor"),
            action: get("action"),
            change_set: get("change_set"),
            mentions: get("mentions"),
            campaign: get("campaign"),
        }
    };
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
            .filter(|b| *b > 0)
    };
    let export = export_status_resource(move || {
        query
            .read()
            .get("export")
            .and_then(|e| e.parse::<i64>().ok())
    });
    let page = Resource::new(move || (filter(), before()), |(f, b)| get_history(f, b));
    let export_action = ServerAction::<CreateAuditExport>::new();
    view! {
        <Title text="History"/>
        <Guarded page=Page::History>
            <h1>"History"</h1>
            <p class="lead">"Every sign-in, edit, review, push and export, in order. Each event is chained to the one before by its hash, so an export can be checked offline."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let f = filter();
                    Suspend::new(async move {
                        match page.await {
                            Ok(p) => view! { <History f p export export_action/> }.into_any(),
                            Err(e) => error_view(&e),
                        }
                    })
                }}
            </Suspense>
        </Guarded>
    }
}

fn error_for(p: &HistoryPage, field: &str) -> Option<String> {
    p.errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, e)| e.clone())
}

#[component]
fn History(
    f: HistoryFilter,
    p: HistoryPage,
    export: super::history_export::StatusResource,
    export_action: ServerAction<CreateAuditExport>,
) -> impl IntoView {
    let field = |id: &'static str, label: &'static str, value: String, hint: &'static str| {
        let error = error_for(&p, id);
        view! {
            <div class="filter-field">
                <label for=format!("h-{id}")>{label}</label>
                <input id=format!("h-{id}") name=id value=value placeholder=hint aria-invalid=error.is_some().to_string() aria-describedby=format!("h-{id}-error")/>
                <p class="field-error" id=format!("h-{id}-error")>{error.clone()}</p>
            </div>
        }
    };
    let query = f.query();
    let link = |before: Option<i64>| {
        let mut q = query.clone();
        if let Some(b) = before.filter(|b| *b > 0) {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&format!("before={b}"));
        }
        if q.is_empty() {
            "/history".to_string()
        } else {
            format!("/history?{q}")
        }
    };
    let rows = p
        .events
        .iter()
        .map(|e| {
            let subject = e.subject.clone().map(|s| match s.strip_prefix("change_set:") {
                Some(id) => view! { <a href=format!("/change-sets/{id}")>{s.clone()}</a> }.into_any(),
                None => view! { <span>{s.clone()}</span> }.into_any(),
            });
            view! {
                <tr>
                    <td class="num">{e.seq}</td>
                    <td class="nowrap">{e.occurred_at.clone()}</td>
                    <td>{e.actor.clone()}</td>
                    <td class="nowrap"><code class="action">{e.action.clone()}</code></td>
                    <td>{subject}</td>
                    <td><details><summary>"Details"</summary><pre class="json" tabindex="0">{e.details.clone()}</pre>
                        <p class="muted small">"hash " <code>{e.hash.clone()}</code></p></details></td>
                </tr>
            }
        })
        .collect_view();
    let empty = p.events.is_empty() && p.errors.is_empty();
    let has_filter = !query.is_empty();
    let hidden = |name: &'static str, value: String| view! { <input type="hidden" name=format!("filter[{name}]") value=value/> };
    view! {
        <form method="get" action="/history" class="filters-form" data-testid="history-filters">
            {field("from", "From (UTC)", f.from.clone(), "2026-10-01")}
            {field("to", "To (UTC)", f.to.clone(), "2026-12-31")}
            {field("actor", "Actor", f.actor.clone(), "name or e-mail")}
            {field("action", "Action", f.action.clone(), "change_set, push.call…")}
            {field("change_set", "Change set", f.change_set.clone(), "12")}
            {field("mentions", "Mentions", f.mentions.clone(), "group, role or API")}
            {(!f.campaign.is_empty()).then(|| view! { <input type="hidden" name="campaign" value=f.campaign.clone()/> })}
            <div class="actions">
                <button class="button button-primary" type="submit">"Filter"</button>
                {has_filter.then(|| view! { <a class="button" href="/history">"Clear"</a> })}
            </div>
        </form>
        {(!f.campaign.is_empty()).then(|| view! {
            <p class="notice" data-testid="campaign-filter">"Showing review campaign " {f.campaign.clone()} "'s events: its start, every decision, its close and the change set it wrote. "
                <a href=format!("/campaigns/{}", f.campaign)>"Back to the campaign"</a></p>
        })}
        <ExportNotice status=export/>
        <p class="small"><a href="/history/access">"Access as of a date"</a> " · "
            <a href="/history?action=change_set.applied">"Every change applied"</a> " · "
            <a href="/campaigns">"Review campaigns"</a></p>
        <ActionForm action=export_action attr:class="inline-form export-form">
            {hidden("from", f.from.clone())}
            {hidden("to", f.to.clone())}
            {hidden("actor", f.actor.clone())}
            {hidden("action", f.action.clone())}
            {hidden("change_set", f.change_set.clone())}
            {hidden("mentions", f.mentions.clone())}
            {hidden("campaign", f.campaign.clone())}
            <span>"Export what this filter shows: "</span>
            <button class="button" type="submit" name="format" value="csv">"CSV"</button>
            " "
            <button class="button" type="submit" name="format" value="jsonl">"JSON Lines"</button>
        </ActionForm>
        {move || export_action.value().get().and_then(|r| {
            let o = FormOutcome::of(&r);
            (o.refused.is_some() || !o.errors.is_empty()).then(|| outcome_notice(&o))
        })}
        {if empty {
            view! {
                <p class="empty-state" data-testid="empty-state">{if has_filter {
                    "No event matches this filter. Widen the time range or clear a field."
                } else {
                    "Nothing has been recorded yet."
                }}</p>
            }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table data-testid="history-table">
                        <thead><tr><th scope="col">"#"</th><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th>
                            <th scope="col">"Action"</th><th scope="col">"Subject"</th><th scope="col">"Details"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <nav class="pager" aria-label="Pages">
            {p.newer.map(|n| view! { <a class="button" href=link(Some(n)) rel="prev">"← Newer"</a> })}
            {p.older.map(|o| view! { <a class="button" href=link(Some(o)) rel="next">"Older →"</a> })}
        </nav>
    }
}
