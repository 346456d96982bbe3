//! APIs: the REST APIs synced from API Gateway, and one API's stages and resource tree.

use leptos::prelude::*;

use crate::components::loaded::{error_view, loaded, NotFound};
use crate::domain::route_key::ApiKind;
use leptos_meta::Title;
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
};

use crate::catalog::{
    get_api, list_apis,
    types::{ApiDetail, ApiSort, ApiSummary, MethodRow, ResourceRow},
};
use crate::components::{
    empty::NotSyncedYet,
    layout::Guarded,
    search::{keep_size, list_url, urlencode, Pager, SearchBar, SearchResults},
};
use crate::me::use_me;
use crate::roles::{Page, Role};

#[component]
pub fn ApisPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let sort = move || ApiSort::parse(&param("sort"));
    // The order and the page are in the query: the server sorts and pages.
    let apis = Resource::new(
        move || {
            (
                search(),
                sort(),
                param("after"),
                param("before"),
                param("size"),
            )
        },
        |(q, s, after, before, size)| list_apis(q, s.key().to_string(), after, before, size),
    );
    let me = use_me();
    let keep = move || {
        let mut keep = vec![("sort".to_string(), sort().key().to_string())];
        keep.extend(keep_size(param("size")));
        keep
    };

    view! {
        <Title text="APIs"/>
        <Guarded page=Page::Apis>
            <h1>"APIs"</h1>
            <p class="lead">"The REST APIs synced from API Gateway. " <a href="/try">"Try a call"</a> ": would the authorizer let a person call a route, and why?"</p>
            <SearchBar id="api-search" label="Search by name, id or description"
                value=search() keep=keep()/>
            <SearchResults id="api-search">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let is_admin = me.await.ok().flatten().is_some_and(|u| u.has(Role::Admin));
                        match apis.await {
                            Ok(list) if list.items.is_empty() && search().is_empty() => view! { <NotSyncedYet is_admin title="No API synced yet" about="Gatehouse lists the REST APIs of API Gateway once an admin has synced the catalog." button="Sync APIs now" command="gatehouse sync apis"/> }.into_any(),
                            Ok(list) if list.items.is_empty() => view! {
                                <p class="empty-state" data-testid="no-match">
                                    "No API matches “" {search()} "”. " <a href="/apis">"Show all APIs"</a>
                                </p>
                            }.into_any(),
                            Ok(list) => {
                                let (q, size) = (search(), param("size"));
                                let base = list_url("/apis", &[("q", &q), ("sort", sort().key()), ("size", &size)]);
                                view! {
                                    <ApiTable apis=list.items total=list.total search=q size sort=sort()/>
                                    <Pager base prev=list.prev next=list.next/>
                                }.into_any()
                            }
                            Err(e) => error_view(&e),
                        }
                    })}
                </Suspense>
            </SearchResults>
        </Guarded>
    }
}

/// "3 APIs", or "50 of 120 APIs" when the list goes on over other pages.
fn api_count(shown: usize, total: i64) -> String {
    let noun = if total == 1 { "API" } else { "APIs" };
    if shown as i64 == total {
        format!("{total} {noun}")
    } else {
        format!("{shown} of {total} {noun}")
    }
}

#[component]
fn ApiTable(
    apis: Vec<ApiSummary>,
    total: i64,
    search: String,
    size: String,
    sort: ApiSort,
) -> impl IntoView {
    let count = api_count(apis.len(), total);
    // A new order starts from its first page, with the search and page size kept.
    let header = move |label: &'static str, key: ApiSort| {
        let href = list_url(
            "/apis",
            &[("q", &search), ("sort", key.key()), ("size", &size)],
        );
        let current = (key == sort).then_some(if key == ApiSort::Name {
            "ascending"
        } else {
            "descending"
        });
        view! { <th scope="col" aria-sort=current><a href=href>{label}</a></th> }
    };
    let rows = apis
        .into_iter()
        .map(|api| {
            let href = format!("/apis/{}", api.api_id);
            view! {
                <tr class:gone=api.gone>
                    <td><A href=href>{api.name.clone()}</A>
                        {(api.kind == ApiKind::Http).then(|| view! { " " <span class="badge badge-kind">"HTTP API"</span> })}
                        {api.gone.then(|| view! { " " <span class="badge badge-muted">"gone from AWS"</span> })}
                        <div class="muted small">{api.description.clone().unwrap_or_default()}</div></td>
                    <td><code>{api.api_id.clone()}</code></td>
                    <td class="nowrap">{api.target.clone()}</td>
                    <td class="num">{api.stages}</td>
                    <td class="num">{api.methods}</td>
                    <td class="num">{api.non_iam_methods}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted" data-testid="api-count">{count}</p>
        <div class="table-wrap">
            <table data-testid="api-table">
                <thead><tr>
                    {header("Name", ApiSort::Name)}
                    <th scope="col">"API id"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col" class="num">"Stages"</th>
                    {header("Methods", ApiSort::Methods)}
                    {header("Not IAM-authorized", ApiSort::NonIam)}
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

pub const API_NOT_FOUND: NotFound = NotFound {
    title: "API not found",
    back_href: "/apis",
    back_label: "All APIs",
};

#[component]
pub fn ApiPage() -> impl IntoView {
    let params = use_params_map();
    let api_id = move || params.read().get("id").unwrap_or_default();
    let api = Resource::new(api_id, get_api);
    // Read beside the API (not in a Suspense of its own inside the page: that one would not
    // hydrate).
    let owners = Resource::new(api_id, crate::owners::get_api_owners);
    let me = use_me();
    view! {
        <Guarded page=Page::Apis>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let is_admin = me.await.ok().flatten().is_some_and(|u| u.has(Role::Admin));
                    let owners = owners.await;
                    loaded(api.await, API_NOT_FOUND, |detail| view! { <ApiDetailView detail is_admin owners/> }.into_any())
                })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn ApiDetailView(
    detail: ApiDetail,
    is_admin: bool,
    owners: Result<crate::owners::ApiOwners, crate::error::AppError>,
) -> impl IntoView {
    let s = detail.summary;
    let stages = detail
        .stages
        .into_iter()
        .map(|st| {
            view! {
                <tr><td>{st.name}</td><td><code>{st.deployment_id.unwrap_or_default()}</code></td>
                    <td>{st.last_updated_at.unwrap_or_else(|| "—".into())}</td></tr>
            }
        })
        .collect_view();
    // Admins grant a method to a group from here: the matrix's editor, with the route picked.
    let grant_base = is_admin.then(|| format!("/apis/{}/matrix", s.api_id));
    let tree = detail
        .resources
        .into_iter()
        .map(|r| resource_view(r, &s.api_id, grant_base.clone()))
        .collect_view();
    view! {
        <Title text=s.name.clone()/>
        <p class="breadcrumb"><a href="/apis">"APIs"</a> " / "</p>
        <h1>{s.name.clone()}
            {s.gone.then(|| view! { " " <span class="badge badge-muted">"gone from AWS"</span> })}</h1>
        <dl class="facts">
            <div><dt>"Kind"</dt><dd data-testid="api-kind">{s.kind.label()}</dd></div>
            <div><dt>"API id"</dt><dd><code>{s.api_id.clone()}</code></dd></div>
            <div><dt>"Target"</dt><dd>{s.target.clone()}</dd></div>
            <div><dt>"Endpoint"</dt><dd>{detail.endpoint_types.join(", ")}</dd></div>
            <div><dt>"Methods"</dt><dd>{s.methods} " (" {s.non_iam_methods} " not IAM-authorized)"</dd></div>
            <div><dt>"Last synced"</dt><dd><crate::components::when::When at=s.last_synced_at.clone()/></dd></div>
        </dl>
        <p>{s.description.clone().unwrap_or_default()}</p>
        <super::api_owners::ApiOwners api_id=s.api_id.clone() is_admin owners/>
        <h2>"Stages"</h2>
        <div class="table-wrap">
            <table data-testid="stage-table">
                <thead><tr><th scope="col">"Stage"</th><th scope="col">"Deployment"</th><th scope="col">"Last updated (UTC)"</th></tr></thead>
                <tbody>{stages}</tbody>
            </table>
        </div>
        <p><a href=format!("/apis/{}/matrix", s.api_id) data-testid="matrix-link">"Who can call what: the matrix of groups × routes"</a></p>
        <h2>"Resources and methods"</h2>
        <ul class="resource-tree" data-testid="resource-tree">{tree}</ul>
    }
}

fn resource_view(resource: ResourceRow, api_id: &str, grant_base: Option<String>) -> impl IntoView {
    // Classes, not inline styles: the CSP allows no inline style.
    let indent = format!("depth-{}", resource.depth().min(8));
    let path = resource.path.clone();
    let methods = resource
        .methods
        .into_iter()
        .map(|m| {
            let grant = grant_base.as_ref().map(|base| {
                format!(
                    "{base}?c={}#editor",
                    urlencode(&format!("{} {}", m.http_method, path))
                )
            });
            let label = format!("Grant {} {} to a group", m.http_method, path);
            let who = format!(
                "/apis/{}/callers?route={}",
                api_id,
                urlencode(&crate::domain::route_key::route_key(&m.http_method, &path))
            );
            method_view(m, who, grant.map(|href| (href, label)))
        })
        .collect_view();
    view! {
        <li class=indent>
            <code class="path" title=resource.path.clone()>{resource.path.clone()}</code>
            <ul class="methods">{methods}</ul>
        </li>
    }
}

/// `grant`: the link (and its accessible name) that grants the method to a group, for admins.
/// `who`: the method's "who can call it" page.
fn method_view(method: MethodRow, who: String, grant: Option<(String, String)>) -> impl IntoView {
    use crate::domain::method_access::{sentence, DecidedBy};
    let decided = method.decided_by.clone();
    let (ok, open) = match decided {
        DecidedBy::Iam | DecidedBy::Gatehouse => (true, false),
        DecidedBy::Anyone => (false, true),
        DecidedBy::Outside(_) => (false, false),
    };
    let badge_title = method
        .authorizer
        .as_ref()
        .map(|a| format!("authorizer {} ({})", a.name, a.kind))
        .unwrap_or_default();
    let line = sentence(&decided, &method.callers, method.callers_more);
    view! {
        <li class="method">
            <span class="verb">{method.http_method}</span>
            <span class="badge" class:badge-ok=ok class:badge-error=open class:badge-warn=!ok && !open title=badge_title>{method.authorization_type}</span>
            {method.api_key_required.then(|| view! { <span class="badge badge-muted">"API key"</span> })}
            <span class="callers small" data-testid="callers" data-decided=decided.key()>{line}</span>
            <a class="small" href=who data-testid="who-can-call">"Who can call it?"</a>
            {grant.map(|(href, label)| view! { <a class="small" href=href aria-label=label data-testid="grant-method">"Grant…"</a> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_count_says_when_the_list_goes_on() {
        assert_eq!(super::api_count(3, 3), "3 APIs");
        assert_eq!(super::api_count(1, 1), "1 API");
        assert_eq!(super::api_count(50, 120), "50 of 120 APIs");
    }
}
