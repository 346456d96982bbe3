//! Groups: the directory groups (search by name, mail or id; keyset pages), and one group with
//! its transitive members.

use leptos::prelude::*;

use crate::error::AppError;

use crate::components::loaded::{error_view, loaded, NotFound};
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::catalog::{
    get_group, list_groups,
    types::{GroupDetail, GroupSummary, MemberRow, Page as ListPage},
};
use crate::components::{
    empty::NotSyncedYet,
    layout::Guarded,
    search::{urlencode, Ident, Pager, SearchBar, SearchResults},
};
use crate::mappings::{get_group_mappings, types::GroupMappings, BindRole, GrantRoute};
use crate::me::use_me;
use crate::roles::{Page, Role};

#[component]
pub fn GroupsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let search = move || param("q");
    let groups = Resource::new(
        move || (search(), param("after"), param("before")),
        |(q, after, before)| list_groups(q, after, before),
    );
    let me = use_me();
    view! {
        <Title text="Groups"/>
        <Guarded page=Page::Groups>
            <h1>"Groups"</h1>
            <SearchBar id="group-search" label="Search by name, mail or object id" value=search()/>
            <SearchResults id="group-search">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let is_admin = me.await.ok().flatten().is_some_and(|u| u.has(Role::Admin));
                        match groups.await {
                            Ok(page) if page.total == 0 && search().is_empty() => view! { <NotSyncedYet is_admin title="No group synced yet" about="Gatehouse lists the directory's groups (Entra ID, Active Directory or a file) once an admin has synced them." button="Sync groups now" command="gatehouse sync groups"/> }.into_any(),
                            Ok(page) if page.total == 0 => view! {
                                <p class="empty-state" data-testid="no-match">
                                    "No group matches “" {search()} "”. " <a href="/groups">"Show all groups"</a>
                                </p>
                            }.into_any(),
                            Ok(page) => view! { <GroupTable page search=search()/> }.into_any(),
                            Err(e) => error_view(&e),
                        }
                    })}
                </Suspense>
            </SearchResults>
        </Guarded>
    }
}

fn group_href(g: &GroupSummary) -> String {
    format!(
        "/groups/{}/{}",
        urlencode(&g.source),
        urlencode(&g.object_id)
    )
}

#[component]
fn GroupTable(page: ListPage<GroupSummary>, search: String) -> impl IntoView {
    let shown = page.items.len();
    let rows = page
        .items
        .into_iter()
        .map(|g| {
            let href = group_href(&g);
            let deleted = g.deleted_at.clone();
            let gone = deleted.is_some();
            view! {
                <tr class:gone=gone>
                    <td><a href=href>{g.display_name.clone()}</a>
                        {deleted.map(|at| view! { " " <span class="badge badge-muted" title=format!("deleted {at}")>"deleted"</span> })}
                        <div class="muted small">{g.description.clone().unwrap_or_default()}</div></td>
                    <td>{g.mail.clone().unwrap_or_default()}</td>
                    <td><Ident value=g.object_id.clone()/></td>
                    <td>{g.source.clone()}</td>
                    <td>{match g.security_enabled {
                        Some(true) => "security",
                        Some(false) => "distribution",
                        None => "—",
                    }}</td>
                </tr>
            }
        })
        .collect_view();
    let base = format!("/groups?q={}", urlencode(&search));
    view! {
        <p class="muted" data-testid="group-count">
            {format!("{} group{}", page.total, if page.total == 1 { "" } else { "s" })}
            {(page.total > shown as i64).then(|| format!(", {shown} on this page"))}
        </p>
        <div class="table-wrap">
            <table data-testid="group-table">
                <thead><tr>
                    <th scope="col" aria-sort="ascending">"Name"</th>
                    <th scope="col">"Mail"</th>
                    <th scope="col">"Object id"</th>
                    <th scope="col">"Source"</th>
                    <th scope="col">"Kind"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <Pager base prev=page.prev next=page.next/>
    }
}

#[component]
pub fn GroupPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let source = move || params.read().get("source").unwrap_or_default();
    let id = move || params.read().get("id").unwrap_or_default();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let bind = ServerAction::<BindRole>::new();
    let grant = ServerAction::<GrantRoute>::new();
    // One resource for the group and its mappings: a nested one would hydrate out of step.
    let group = Resource::new(
        move || {
            (
                source(),
                id(),
                param("after"),
                param("before"),
                param("role"),
                bind.version().get(),
                grant.version().get(),
            )
        },
        |(source, id, after, before, role, ..)| async move {
            let detail = get_group(source.clone(), id.clone(), after, before).await?;
            let mappings = get_group_mappings(source, id, role).await?;
            Ok::<_, AppError>((detail, mappings))
        },
    );
    view! {
        <Guarded page=Page::Groups>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let not_found = NotFound { title: "Group not found", back_href: "/groups", back_label: "All groups" };
                    loaded(group.await, not_found, |(detail, mappings)| view! { <GroupDetailView detail mappings bind grant/> }.into_any())
                })}
            </Suspense>
        </Guarded>
    }
}

#[component]
fn GroupDetailView(
    detail: GroupDetail,
    mappings: GroupMappings,
    bind: ServerAction<BindRole>,
    grant: ServerAction<GrantRoute>,
) -> impl IntoView {
    let g = detail.summary;
    let base = group_href(&g);
    view! {
        <Title text=g.display_name.clone()/>
        <p class="breadcrumb"><a href="/groups">"Groups"</a> " / "</p>
        <h1>{g.display_name.clone()}
            {g.deleted_at.is_some().then(|| view! { " " <span class="badge badge-muted">"deleted"</span> })}</h1>
        <p>{g.description.clone().unwrap_or_default()}</p>
        <dl class="facts">
            <div><dt>"Object id"</dt><dd><Ident value=g.object_id.clone() max=60/></dd></div>
            <div><dt>"Source"</dt><dd>{g.source.clone()}</dd></div>
            <div><dt>"Mail"</dt><dd>{g.mail.clone().unwrap_or_else(|| "—".into())}</dd></div>
            <div><dt>"Last synced"</dt><dd><crate::components::when::When at=g.last_synced_at.clone()/></dd></div>
            {g.deleted_at.clone().map(|at| view! { <div><dt>"Deleted from the directory"</dt><dd>{at}</dd></div> })}
        </dl>
        <h2>"Roles"</h2>
        <super::group_roles::GroupRoles source=g.source.clone() id=g.object_id.clone() m=mappings bind grant/>
        <h2>"Members"</h2>
        {detail.members_as_of.clone().map(|at| view! {
            <p class="muted" data-testid="members-as-of">
                "As of the last directory sync, " <crate::components::when::When at/>
                {match detail.nested_groups {
                    0 => String::from("; no nested groups."),
                    1 => String::from("; 1 nested group."),
                    n => format!("; {n} nested groups."),
                }}
            </p>
        })}
        {match detail.members {
            Ok(page) => view! { <MemberTable page base/> }.into_any(),
            Err(e) => view! { <p class="notice notice-error" role="alert" data-testid="members-error">{e.to_string()}</p> }.into_any(),
        }}
    }
}

/// How a person comes to be in the group: directly, as their primary group, or through nested
/// groups (outermost first).
fn membership_path(m: &MemberRow) -> String {
    match (m.via.is_empty(), m.primary_group) {
        (true, true) => "Direct (primary group)".into(),
        (true, false) => "Direct".into(),
        (false, primary) => format!(
            "via {}{}",
            m.via.join(" → "),
            if primary { " (primary group)" } else { "" }
        ),
    }
}

#[component]
fn MemberTable(page: ListPage<MemberRow>, base: String) -> impl IntoView {
    // `base` is the group's page, `/groups/SOURCE/ID`: its people are in the same directory.
    let source = base.split('/').nth(2).unwrap_or_default().to_string();
    if page.total == 0 {
        return view! { <p class="empty-state" data-testid="no-members">"This group has no members, directly, through nested groups or as a primary group. Members added in the directory since show after the next sync."</p> }.into_any();
    }
    let rows = page
        .items
        .into_iter()
        .map(|m| {
            let path = membership_path(&m);
            view! {
                <tr>
                    <td><a href=format!("/people/{source}/{}", m.id)>{m.display_name}</a></td>
                    <td>{m.user_principal_name.unwrap_or_default()}</td>
                    <td data-testid="member-path">{path}</td>
                    <td><Ident value=m.id/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted" data-testid="member-count">
            {format!("{} member{} (direct and through nested groups)", page.total, if page.total == 1 { "" } else { "s" })}
        </p>
        <div class="table-wrap">
            <table data-testid="member-table">
                <thead><tr>
                    <th scope="col" aria-sort="ascending">"Name"</th>
                    <th scope="col">"User principal name"</th>
                    <th scope="col">"Membership"</th>
                    <th scope="col">"Object id"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <Pager base prev=page.prev next=page.next/>
    }
    .into_any()
}
