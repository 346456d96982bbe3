//! "Who can call this route?": one method of an API, what API Gateway says decides it, and the
//! people the approved mappings let call it (a count, then a page by name, each with the chain
//! that allows it), now or as of the end of a date. Plain links and a GET form: it works
//! without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::callers::{get_callers, CallersView};
use crate::components::{
    layout::Guarded,
    loaded::{loaded, NotFound},
    search::urlencode,
};
use crate::domain::method_access::DecidedBy;
use crate::domain::route_key::route_key;
use crate::roles::Page;

const NOT_FOUND: NotFound = NotFound {
    title: "Method not found",
    back_href: "/apis",
    back_label: "All APIs",
};

#[component]
pub fn CallersPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let api_id = move || params.read().get("id").unwrap_or_default();
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    let args = move || (api_id(), q("route"), q("at"), q("page"));
    let view = Resource::new(args, |(api, route, at, page)| {
        get_callers(api, route, at, page)
    });
    view! {
        <Title text="Who can call this route"/>
        <Guarded page=Page::Apis>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let typed_at = q("at");
                    loaded(view.await, NOT_FOUND, move |v| view! { <Callers v typed_at/> }.into_any())
                })}
            </Suspense>
        </Guarded>
    }
}

/// What the method's authorization means for the list below it.
fn decided_note(v: &CallersView) -> impl IntoView {
    let (class, text) = match &v.decided_by {
        DecidedBy::Iam => ("notice", "API Gateway checks IAM: the people below may call it with their role's credentials, and nobody else through Gatehouse's mappings.".to_string()),
        DecidedBy::Gatehouse => ("notice", "Gatehouse's Lambda authorizer decides from the groups in the caller's access token: the people below may call it.".to_string()),
        DecidedBy::Anyone => ("notice notice-error", "Authorization NONE: open to anyone who can reach it. The mappings below change nothing until the method requires IAM or Gatehouse's authorizer.".to_string()),
        DecidedBy::Outside(what) => ("notice notice-warning", format!("Decided outside Gatehouse, by {what}: the people below are what was approved, not what is enforced.")),
    };
    view! { <p class=class role="note" data-testid="decided" data-decided=v.decided_by.key()>{text}</p> }
}

#[component]
fn Callers(v: CallersView, typed_at: String) -> impl IntoView {
    let route = route_key(&v.http_method, &v.path);
    let base = format!(
        "/apis/{}/callers?route={}{}",
        v.api_id,
        urlencode(&route),
        if typed_at.trim().is_empty() {
            String::new()
        } else {
            format!("&at={}", urlencode(typed_at.trim()))
        }
    );
    let page_link = |p: usize| format!("{base}&page={}", p + 1);
    let prev = (v.page > 0).then(|| page_link(v.page - 1));
    let next = (v.page + 1 < v.pages()).then(|| page_link(v.page + 1));
    let when = match typed_at.trim() {
        "" => "now".to_string(),
        t => format!("as of the end of {t} (UTC)"),
    };
    let count = match v.total {
        0 => format!("Nobody may call it {when}"),
        1 => format!("1 person may call it {when}"),
        n => format!("{n} people may call it {when}"),
    };
    let start = v.page * v.page_size;
    let shown = (v.total > v.page_size).then(|| {
        format!(
            " · {}–{} by name",
            start + 1,
            (start + v.people.len()).max(start + 1)
        )
    });
    let groups = match v.groups.as_slice() {
        [] => "No approved mapping covers this method.".to_string(),
        [one] => format!("Through the group {one}."),
        many => format!("Through the groups {}.", many.join(", ")),
    };
    let rows = v
        .people
        .iter()
        .map(|p| {
            let chains = p
                .chains
                .iter()
                .map(|c| view! { <li>{c.clone()}</li> })
                .collect_view();
            view! {
                <tr>
                    <td><a href=p.href.clone()>{p.name.clone()}</a></td>
                    <td>{p.username.clone().unwrap_or_default()}</td>
                    <td><ul class="chain" data-testid="caller-chain">{chains}</ul></td>
                </tr>
            }
        })
        .collect_view();
    let empty = v.people.is_empty();
    view! {
        <p class="breadcrumb"><a href="/apis">"APIs"</a> " / "
            <a href=format!("/apis/{}", v.api_id)>{v.api_name.clone()}</a> " / "</p>
        <h1>"Who can call " <code>{route.clone()}</code></h1>
        <dl class="facts">
            <div><dt>"API"</dt><dd>{v.api_name.clone()} " " <code>{v.api_id.clone()}</code></dd></div>
            <div><dt>"Authorization (as last synced)"</dt><dd><span class="badge">{v.authorization_type.clone()}</span></dd></div>
        </dl>
        {decided_note(&v)}
        <form method="get" action=format!("/apis/{}/callers", v.api_id) class="inline-form">
            <input type="hidden" name="route" value=route.clone()/>
            <label for="at">"As of (end of day, UTC)"</label> " "
            <input id="at" name="at" type="date" value=typed_at.clone()
                aria-invalid=v.at_error.is_some().then_some("true") aria-describedby="at-error"/> " "
            <button class="button" type="submit">"Show"</button>
            <p class="field-error" id="at-error" role="alert">{v.at_error.clone()}</p>
            {(!typed_at.trim().is_empty()).then(|| view! { " " <a href=format!("/apis/{}/callers?route={}", v.api_id, urlencode(&route))>"Now"</a> })}
        </form>
        {v.at_error.is_none().then(|| view! {
        <p><strong data-testid="caller-count">{count}</strong>{shown} <span class="muted">" " {groups}</span></p>
        })}
        {if v.at_error.is_some() {
            ().into_any()
        } else if empty {
            view! { <p class="empty-state" data-testid="no-callers">"To let people call it, grant the route to a group's role from the API's matrix; it applies once the change set is approved."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap"><table data-testid="caller-table">
                    <thead><tr><th scope="col">"Person"</th><th scope="col">"Email"</th><th scope="col">"Why they may call it"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table></div>
            }.into_any()
        }}
        {(prev.is_some() || next.is_some()).then(|| view! {
            <nav class="pager" aria-label="Pages">
                {match prev { Some(h) => view! { <a class="button" rel="prev" href=h>"← Previous"</a> }.into_any(), None => view! { <span class="button" aria-disabled="true">"← Previous"</span> }.into_any() }}
                <span class="muted">{format!("Page {} of {}", v.page + 1, v.pages())}</span>
                {match next { Some(h) => view! { <a class="button" rel="next" href=h>"Next →"</a> }.into_any(), None => view! { <span class="button" aria-disabled="true">"Next →"</span> }.into_any() }}
            </nav>
        })}
    }
}
