//! Roles: the IAM roles synced from every target, and one role's trust policy and tags.

use leptos::prelude::*;

use crate::components::loaded::{error_view, loaded, NotFound};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::catalog::{
    get_role, list_roles,
    types::{RoleDetail, RoleSummary},
};
use crate::components::{
    empty::NotSyncedYet,
    layout::Guarded,
    search::{keep_size, list_base, Ident, Pager, SearchBar, SearchResults},
};
use crate::me::use_me;
use crate::roles::{Page, Role};

#[component]
pub fn RolesPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let roles = Resource::new(
        move || (search(), param("after"), param("before"), param("size")),
        |(q, after, before, size)| list_roles(q, after, before, size),
    );
    let me = use_me();
    view! {
        <Title text="Roles"/>
        <Guarded page=Page::Roles>
            <h1>"Roles"</h1>
            <p class="lead">"IAM roles in every target. Gatehouse changes only the ones tagged "
                <code>"gatehouse:managed=true"</code> "."</p>
            <SearchBar id="role-search" label="Search by name, ARN or description" value=search() keep=keep_size(param("size"))/>
            <SearchResults id="role-search">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let is_admin = me.await.ok().flatten().is_some_and(|u| u.has(Role::Admin));
                        match roles.await {
                            Ok(list) if list.items.is_empty() && search().is_empty() => view! { <NotSyncedYet is_admin title="No role synced yet" about="Gatehouse lists the IAM roles of each AWS target once an admin has synced them." button="Sync IAM roles now" command="gatehouse sync roles"/> }.into_any(),
                            Ok(list) if list.items.is_empty() => view! {
                                <p class="empty-state" data-testid="no-match">
                                    "No role matches “" {search()} "”. " <a href="/roles">"Show all roles"</a>
                                </p>
                            }.into_any(),
                            Ok(list) => {
                                let base = list_base("/roles", &search(), &param("size"));
                                view! {
                                    <RoleTable roles=list.items total=list.total/>
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

fn role_href(r: &RoleSummary) -> String {
    crate::catalog::types::role_page_href(&r.role_name, &r.target)
}

fn managed_badge(managed: bool) -> impl IntoView {
    if managed {
        view! { <span class="badge badge-ok">"managed"</span> }.into_any()
    } else {
        view! { <span class="badge badge-muted">"not managed"</span> }.into_any()
    }
}

#[component]
fn RoleTable(roles: Vec<RoleSummary>, total: i64) -> impl IntoView {
    let count = roles.len() as i64;
    let rows = roles
        .into_iter()
        .map(|r| {
            let href = role_href(&r);
            let trusted = if r.trusted.is_empty() { "—".to_string() } else { r.trusted.join(", ") };
            view! {
                <tr class:gone=r.gone>
                    <td><a class="nowrap" href=href>{r.role_name.clone()}</a>
                        {r.gone.then(|| view! { " " <span class="badge badge-muted">"gone from AWS"</span> })}
                        <div class="muted small">{r.description.clone().unwrap_or_default()}</div></td>
                    <td>{managed_badge(r.managed)}</td>
                    <td><Ident value=r.arn.clone()/></td>
                    <td class="nowrap">{r.target.clone()}</td>
                    <td class="small">{trusted}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted" data-testid="role-count">{if count == total {
            format!("{count} role{}", if count == 1 { "" } else { "s" })
        } else {
            format!("{count} of {total} roles")
        }}</p>
        <div class="table-wrap">
            <table data-testid="role-table">
                <thead><tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Gatehouse"</th>
                    <th scope="col">"ARN"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col">"Trusted principals"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn RolePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let target = move || query.read().get("target").unwrap_or_default();
    let role = Resource::new(move || (target(), name()), |(t, n)| get_role(t, n));
    view! {
        <Guarded page=Page::Roles>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let not_found = NotFound { title: "Role not found", back_href: "/roles", back_label: "All roles" };
                    loaded(role.await, not_found, |detail| view! { <RoleDetailView detail/> }.into_any())
                })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn RoleDetailView(detail: RoleDetail) -> impl IntoView {
    let r = detail.summary;
    let tags = if detail.tags.is_empty() {
        view! { <p class="muted">"No tags."</p> }.into_any()
    } else {
        let rows = detail
            .tags
            .into_iter()
            .map(|(k, v)| view! { <tr><td><code>{k}</code></td><td><code>{v}</code></td></tr> })
            .collect_view();
        view! {
            <div class="table-wrap"><table data-testid="tag-table">
                <thead><tr><th scope="col">"Key"</th><th scope="col">"Value"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
        }
        .into_any()
    };
    view! {
        <Title text=r.role_name.clone()/>
        <p class="breadcrumb"><a href="/roles">"Roles"</a> " / "</p>
        <h1>{r.role_name.clone()} " " {managed_badge(r.managed)}
            {r.gone.then(|| view! { " " <span class="badge badge-muted">"gone from AWS"</span> })}</h1>
        <p>{r.description.clone().unwrap_or_default()}</p>
        <dl class="facts">
            <div><dt>"ARN"</dt><dd><Ident value=r.arn.clone() max=80/></dd></div>
            <div><dt>"Role id"</dt><dd><code>{detail.role_id.clone()}</code></dd></div>
            <div><dt>"Path"</dt><dd><code>{r.path.clone()}</code></dd></div>
            <div><dt>"Target"</dt><dd>{r.target.clone()}</dd></div>
            <div><dt>"First seen"</dt><dd><crate::components::when::When at=detail.first_seen_at.clone()/></dd></div>
            <div><dt>"Last synced"</dt><dd><crate::components::when::When at=r.last_synced_at.clone()/></dd></div>
        </dl>
        {(!r.managed).then(|| view! {
            <p class="notice" data-testid="unmanaged-note">"Gatehouse will not change this role: it lacks the tag "
                <code>"gatehouse:managed=true"</code> "."</p>
        })}
        <RoleMappingsView m=detail.gatehouse managed=r.managed/>
        <h2>"Trust policy"</h2>
        {match detail.trust_policy {
            Some(policy) => view! { <pre class="json" tabindex="0" data-testid="trust-policy">{policy}</pre> }.into_any(),
            None => view! { <p class="muted">"IAM returned no trust policy that could be read."</p> }.into_any(),
        }}
        <h2>"Tags"</h2>
        {tags}
    }
}

/// "What does this role allow?": the groups that use it, the routes it may call, the policy
/// Gatehouse generates for it, and drift found on it.
#[component]
fn RoleMappingsView(m: crate::catalog::types::RoleMappings, managed: bool) -> impl IntoView {
    let groups = if m.groups.is_empty() {
        view! { <p class="muted">"No group is bound to this role in the approved mappings."</p> }
            .into_any()
    } else {
        view! {
            <p class="muted small" data-testid="role-broker">
                "Members of these groups use the role through " {m.broker.clone()} "."
            </p>
            <ul class="plain spaced" data-testid="role-groups">
                {m.groups.into_iter().zip(m.group_people.into_iter().chain(std::iter::repeat(None)))
                    .map(|((name, href), people)| {
                        let people = people.map(|n| format!(" ({n} {})", if n == 1 { "person" } else { "people" }));
                        view! { <li><a href=href>{name}</a><span class="muted">{people}</span></li> }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let routes = if m.routes.is_empty() {
        view! { <p class="muted">"No route is granted to this role. Grants are added from a group's page or an API's matrix."</p> }.into_any()
    } else {
        view! {
            <ul class="plain spaced" data-testid="role-routes">
                {m.routes.into_iter().map(|r| view! { <li><code>{r}</code></li> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let policy = match (m.policy_error, m.policy.is_empty()) {
        (Some(e), _) => view! { <p class="notice notice-error" role="alert">{e}</p> }.into_any(),
        (None, true) => {
            view! { <p class="muted">"Gatehouse generates no policy for this role."</p> }.into_any()
        }
        (None, false) => view! {
            <p class="muted small">{m.policy_summary}</p>
            <pre class="json" tabindex="0" data-testid="generated-policy">{m.policy}</pre>
        }
        .into_any(),
    };
    let drift = match (m.drift_checked_at, m.drift.is_empty()) {
        (None, _) => view! { <p class="muted">"No drift check has run yet. " <a href="/drift">"Check for drift"</a></p> }.into_any(),
        (Some(at), true) => view! {
            <p data-testid="role-drift"><span class="text-ok">"No drift on this role"</span>
                <span class="muted small">" at the check " <crate::components::when::When at=at/> "."</span></p>
        }
        .into_any(),
        (Some(at), false) => view! {
            <p class="muted small">"Found by the check " <crate::components::when::When at=at/> ". " <a href="/drift">"Revert or adopt on the drift page"</a></p>
            <ul class="drift-items" data-testid="role-drift">
                {m.drift.into_iter().map(|d| view! {
                    <li class="card">
                        <strong class="text-bad">{d.kind}</strong>
                        <crate::components::two_sides::TwoSides desired=d.desired actual=d.actual/>
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any(),
    };
    view! {
        <section data-testid="role-mappings">
            {m.enforcement_notice.clone().map(|n| view! {
                <p class="notice notice-info" role="status" data-testid="enforcement-notice">
                    {crate::pages::change_sets::capitalised(&n)} "."
                </p>
            })}
            <h2>"Who can use it"</h2>
            {groups}
            <h2>"May call"</h2>
            {routes}
            <h2>"Policy Gatehouse generates"</h2>
            {if managed {
                view! { <p class="muted small" data-testid="pushed-as">{m.pushed_as.clone()}</p> }.into_any()
            } else {
                view! { <p class="muted small">"Not pushed: the role is not managed by Gatehouse."</p> }.into_any()
            }}
            {policy}
            <h2>"Drift"</h2>
            {drift}
        </section>
    }
}
