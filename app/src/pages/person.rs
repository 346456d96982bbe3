//! People: find a person by name or email, then see their access — the groups they are in
//! (with the nesting that brings them in), the roles those groups use, and every route they may
//! call with the chain of links that allows it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{
    layout::Guarded,
    loaded::{error_view, loaded, NotFound},
    search::{urlencode, SearchBar, SearchResults},
};
use crate::error::AppError;
use crate::person::{explain_access, get_person_access, search_people, ExplainView, PersonView};
use crate::roles::Page;
use crate::tryit::TryRoute;

#[component]
pub fn PeoplePage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let hits = Resource::new(search, search_people);
    view! {
        <Title text="People"/>
        <Guarded page=Page::Groups>
            <p class="breadcrumb"><a href="/groups">"Groups"</a> " / "</p>
            <h1>"People"</h1>
            <p class="lead">"Who can call what, person by person: their groups, the roles those groups use and each route with the links that allow it."</p>
            <SearchBar id="person-search" label="Search people by name or email" value=search()/>
            <SearchResults id="person-search">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match hits.await {
                            Ok(_) if search().trim().is_empty() => view! {
                                <p class="empty-state" data-testid="people-start">"Type part of a name or an email address to find a person (people come from the last directory sync)."</p>
                            }.into_any(),
                            Ok(list) if list.is_empty() => view! {
                                <p class="empty-state" data-testid="people-none">"Nobody's name or email contains “" {search()} "”."</p>
                            }.into_any(),
                            Ok(list) => {
                                let rows = list.into_iter().map(|p| view! {
                                    <tr><td><a href=format!("/people/{}/{}", p.source, p.oid)>{p.name}</a></td>
                                        <td>{p.username.unwrap_or_default()}</td><td>{p.source}</td></tr>
                                }).collect_view();
                                view! {
                                    <div class="table-wrap"><table data-testid="people-table">
                                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Directory"</th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table></div>
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

#[component]
pub fn PersonPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("source").unwrap_or_default(),
            p.get("oid").unwrap_or_default(),
        )
    };
    // "Can they call …?" and "as of": GET forms, so the question is in the URL and works
    // without JS.
    let query = use_query_map();
    let at = move || query.read().get("at").unwrap_or_default();
    let person = Resource::new(
        move || (key(), at()),
        |((source, oid), at)| get_person_access(source, oid, at),
    );
    let ask = move || {
        let q = query.read();
        let field = |name: &str| q.get(name).unwrap_or_default();
        (!field("api").is_empty()).then(|| TryRoute {
            api_id: field("api"),
            stage: field("stage"),
            method: field("method"),
            path: field("path"),
        })
    };
    let answer = Resource::new(
        move || (key(), ask()),
        |((source, oid), ask)| async move {
            match ask {
                Some(route) => Some(explain_access(source, oid, route).await),
                None => None,
            }
        },
    );
    view! {
        <Guarded page=Page::Groups>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(
                        person.await,
                        NotFound { title: "No such person", back_href: "/people", back_label: "Find a person" },
                        |p| view! { <Person p typed_at=at()/> }.into_any(),
                    )
                })}
            </Suspense>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let asked = ask();
                    let answer = answer.await;
                    view! { <Explain asked answer/> }
                })}
            </Suspense>
        </Guarded>
    }
}

/// The "as of" form, and the downloads of that moment's access with their manifest.
fn as_of_form(p: &PersonView, typed_at: &str) -> impl IntoView {
    let typed_at = typed_at.trim().to_string();
    let here = format!("/people/{}/{}", p.source, p.oid);
    let query = format!(
        "source={}&oid={}&at={}",
        urlencode(&p.source),
        urlencode(&p.oid),
        urlencode(&typed_at)
    );
    let downloads = (!typed_at.is_empty() && p.at_error.is_none()).then(|| {
        view! {
            <p class="small" data-testid="person-exports">"Download this as "
                <a href=format!("/api/reports/person-access.csv?{query}") download="">"CSV"</a> " or "
                <a href=format!("/api/reports/person-access.jsonl?{query}") download="">"JSON Lines"</a>
                ", with its manifest (" <a href=format!("/api/reports/person-access.manifest.json?{query}")>"CSV"</a> ", "
                <a href=format!("/api/reports/person-access.manifest.json?{query}&format=jsonl")>"JSON Lines"</a>
                "): rows, bytes and the SHA-256 of the file."</p>
        }
    });
    let now_link = (!typed_at.is_empty()).then(|| view! { " " <a href=here.clone()>"Now"</a> });
    view! {
        <form method="get" action=here class="inline-form" data-testid="as-of-form">
            <label for="at">"Access as of (end of day, UTC)"</label> " "
            <input id="at" name="at" type="date" value=typed_at.clone()
                aria-invalid=p.at_error.is_some().then_some("true") aria-describedby="at-error"/> " "
            <button class="button" type="submit">"Show"</button>
            <p class="field-error" id="at-error" role="alert">{p.at_error.clone()}</p>
            {now_link}
        </form>
        {downloads}
    }
}

#[component]
fn Person(p: PersonView, typed_at: String) -> impl IntoView {
    let title = p.name.clone();
    view! {
        <Title text=title.clone()/>
        <p class="breadcrumb"><a href="/people">"People"</a> " / "</p>
        <h1>{title}
            {p.at.is_some().then(|| view! { " " <span class="badge badge-muted" data-testid="as-of-badge">{format!("as of {}", typed_at.trim())}</span> })}</h1>
        <dl class="facts">
            <div><dt>"Email"</dt><dd>{p.username.clone().unwrap_or_else(|| "—".into())}</dd></div>
            <div><dt>"Directory"</dt><dd>{p.source.clone()}</dd></div>
            <div><dt>"Object id"</dt><dd><code>{p.oid.clone()}</code></dd></div>
        </dl>
        {as_of_form(&p, &typed_at)}
        {p.at_error.is_none().then(|| view! { <PersonAccess p=p.clone()/> })}
    }
}

/// A person's groups, roles and routes (now, or as of the moment asked).
#[component]
fn PersonAccess(p: PersonView) -> impl IntoView {
    let groups = p
        .groups
        .iter()
        .map(|g| {
            let how = if g.path.len() == 1 {
                "direct member".to_string()
            } else {
                format!("through {}", g.path[..g.path.len() - 1].join(" ⊂ "))
            };
            view! { <li><a href=g.href.clone()>{g.name.clone()}</a> " " <span class="muted small">{how}</span></li> }
        })
        .collect_view();
    let roles = p
        .roles
        .iter()
        .map(|r| {
            view! {
                <li><a href=crate::catalog::types::role_page_href(&r.name, "")><code class="ident">{r.name.clone()}</code></a>
                    <span class="muted small">" — " {r.through.clone()} ", through " {r.broker.clone()}</span></li>
            }
        })
        .collect_view();
    let count = p.routes.len();
    let routes = p
        .routes
        .iter()
        .map(|r| {
            let chain = r.chain.join(" → ");
            view! {
                <tr class:open=r.open>
                    <td class="nowrap"><a href=format!("/apis/{}", r.api_id)>{r.api_name.clone()}</a></td>
                    <td class="nowrap">{if r.stage == "*" { "every stage".to_string() } else { r.stage.clone() }}</td>
                    <td class="nowrap"><code>{r.method.clone()} " " {r.path.clone()}</code></td>
                    <td>{r.open.then(|| view! { <span class="badge badge-error">"open to anyone"</span> " " })}
                        <span class="small" data-testid="route-chain">{chain}</span></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2>"Groups"</h2>
        {if p.groups.is_empty() {
            view! { <p class="empty-state">{if p.at.is_some() { "In no group then." } else { "In no group (as of the last directory sync)." }}</p> }.into_any()
        } else {
            view! { <ul class="plain" data-testid="person-groups">{groups}</ul> }.into_any()
        }}
        <h2>"Roles"</h2>
        {if p.roles.is_empty() {
            view! { <p class="empty-state" data-testid="person-no-roles">"None of these groups is bound to a role: this person may call no route through Gatehouse."</p> }.into_any()
        } else {
            view! { <ul class="plain" data-testid="person-roles">{roles}</ul> }.into_any()
        }}
        {(!p.outside.is_empty()).then(|| view! {
            <section class="card" data-testid="person-outside">
                <h2 class="h3">"Allowed outside Gatehouse"</h2>
                <p class="muted small">"AWS lets their roles call these through policies Gatehouse does not own, and no approved mapping explains them (from the last drift check)."</p>
                <ul>{p.outside.iter().map(|l| view! { <li><span class="badge badge-warn">"not approved"</span> " " {l.clone()}</li> }).collect_view()}</ul>
            </section>
        })}
        <h2>"Routes they may call"</h2>
        <p class="muted">{format!("{count} {} from the approved mappings, each with the links that allow it.", if count == 1 { "route" } else { "routes" })}</p>
        {(count > 0).then(|| view! {
            <div class="table-wrap"><table data-testid="person-routes">
                <thead><tr><th scope="col">"API"</th><th scope="col">"Stage"</th><th scope="col">"Route"</th><th scope="col">"Why"</th></tr></thead>
                <tbody>{routes}</tbody>
            </table></div>
        })}
    }
}

/// The "Can they call …?" form and its answer.
#[component]
fn Explain(
    asked: Option<TryRoute>,
    answer: Option<Result<ExplainView, AppError>>,
) -> impl IntoView {
    let asked = asked.unwrap_or(TryRoute {
        api_id: String::new(),
        stage: "prod".into(),
        method: "GET".into(),
        path: String::new(),
    });
    let verbs = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        .into_iter()
        .map(|v| view! { <option value=v selected=asked.method == v>{v}</option> })
        .collect_view();
    let (field_error, outcome) = match answer {
        Some(Err(AppError::Invalid { field, message })) => (Some((field, message)), None),
        Some(Err(e)) => (None, Some(view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }.into_any())),
        Some(Ok(e)) => (None, Some(view! {
            <div class="card" data-testid="explain-outcome" data-allowed=e.allowed.to_string()>
                <p><strong>{if e.allowed { "Allowed" } else { "Refused" }}</strong> ": " <span data-testid="explain-reason">{e.decided_by.clone()}</span></p>
                {(!e.chain.is_empty()).then(|| view! { <ol class="chain">{e.chain.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ol> })}
            </div>
        }.into_any())),
        None => (None, None),
    };
    let error_for = move |name: &str| {
        field_error
            .as_ref()
            .filter(|(f, _)| {
                f == name || f.ends_with(&format!("[{name}]")) || f == &format!("route.{name}")
            })
            .map(|(_, m)| view! { <p class="field-error" role="alert">{m.clone()}</p> })
    };
    view! {
        <h2 id="explain">"Can they call …?"</h2>
        <form method="get" action="#explain" class="filters-form" data-testid="explain-form">
            <div class="filter-field">
                <label for="explain-api">"API id"</label>
                <input id="explain-api" name="api" value=asked.api_id.clone() required/>
                {error_for("api_id")}
            </div>
            <div class="filter-field">
                <label for="explain-stage">"Stage"</label>
                <input id="explain-stage" name="stage" value=asked.stage.clone()/>
                {error_for("stage")}
            </div>
            <div class="filter-field">
                <label for="explain-method">"Method"</label>
                <select id="explain-method" name="method">{verbs}</select>
            </div>
            <div class="filter-field">
                <label for="explain-path">"Path"</label>
                <input id="explain-path" name="path" value=asked.path.clone() placeholder="/orders/42"/>
                {error_for("path")}
            </div>
            <div class="actions"><button class="button button-primary" type="submit">"Explain"</button></div>
        </form>
        {outcome}
    }
}
