//! A group's roles on its page: what is bound now, what the viewer's draft changes, and (for
//! admins) forms to bind a role and grant a route, each landing in the admin's draft.

use leptos::prelude::*;
use leptos_router::components::Form;

use crate::error::AppError;

use super::forms::{field_error, outcome_notice, typed_or};
use crate::domain::names::HttpMethod;
use crate::mappings::{
    types::{FormOutcome, GroupMappings},
    BindRole, GrantRoute,
};
use crate::me::use_me;
use crate::roles::Role;

/// The usual methods first; `*` (any) last, so it is never picked by accident.
const METHOD_CHOICES: [HttpMethod; 8] = [
    HttpMethod::Get,
    HttpMethod::Post,
    HttpMethod::Put,
    HttpMethod::Patch,
    HttpMethod::Delete,
    HttpMethod::Head,
    HttpMethod::Options,
    HttpMethod::Any,
];

fn notice(o: Option<Result<FormOutcome, AppError>>) -> Option<AnyView> {
    o.map(|r| {
        let o = FormOutcome::of(&r);
        view! {
            {outcome_notice(&o)}
            {o.change_set.map(|id| view! { <p><a href=format!("/change-sets/{id}")>"Open your draft change set " {id}</a></p> })}
        }
        .into_any()
    })
}

/// What the bind form's role list holds, and how to narrow it.
fn role_choice_count(shown: usize, total: i64, search: &str) -> String {
    let matching = if search.is_empty() {
        String::new()
    } else {
        format!(" matching “{search}”")
    };
    match (shown, total) {
        (0, _) if search.is_empty() => {
            "No Gatehouse-managed role yet: sync IAM roles first.".into()
        }
        (0, _) => format!("No managed role{matching}. Try part of its name."),
        (n, t) if n as i64 >= t => format!(
            "{t} managed role{}{matching}.",
            if t == 1 { "" } else { "s" }
        ),
        (n, t) => {
            format!("The first {n} of {t} managed roles{matching}: find one to narrow the list.")
        }
    }
}

#[component]
pub fn GroupRoles(
    source: String,
    id: String,
    m: GroupMappings,
    bind: ServerAction<BindRole>,
    grant: ServerAction<GrantRoute>,
) -> impl IntoView {
    let me = use_me();
    let is_admin = move || {
        me.get()
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|u| u.has(Role::Admin))
    };
    let bound = if m.bound.is_empty() {
        view! { <p class="muted" data-testid="group-roles">"No IAM role is bound to this group."</p> }.into_any()
    } else {
        view! {
            <ul class="bound" data-testid="group-roles">
                {m.bound.iter().map(|b| view! {
                    <li><code class="ident">{b.arn.clone()}</code>
                        <ul class="plain small">{b.routes.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul></li>
                }).collect_view()}
            </ul>
        }.into_any()
    };
    let pending = if m.pending.is_empty() {
        view! { <div hidden></div> }.into_any()
    } else {
        let href = m
            .draft
            .map(|d| format!("/change-sets/{d}"))
            .unwrap_or_default();
        let label = m
            .draft
            .map(|d| format!("change set {d}"))
            .unwrap_or_default();
        let changes = m.pending.join("; ");
        view! {
            <div class="notice notice-warning" role="status">
                <p>"In your draft " <a href=href>{label}</a></p>
                <p>{changes}</p>
            </div>
        }
        .into_any()
    };
    let role_options = m.roles.iter().map(|r| view! { <option value=r.arn.clone()>{format!("{} ({})", r.name, r.target)}</option> }).collect_view();
    let role_count = role_choice_count(m.roles.len(), m.roles_total, &m.role_search);
    let no_role_found = m.roles.is_empty();
    // What a refused grant had chosen comes back chosen.
    let typed = |field: &str| typed_or(&grant, field, String::new());
    let (typed_role, typed_target, typed_api, typed_method) = (
        typed("role_arn"),
        typed("target"),
        typed("api_id"),
        typed("method"),
    );
    // A route is granted to one of the group's own roles (bound, or bound in the draft).
    let no_grant_role = m.grant_roles.is_empty();
    let role_options2 = m
        .grant_roles
        .iter()
        .map(|r| view! { <option value=r.arn.clone() selected=typed_role == r.arn>{format!("{} ({})", r.name, r.target)}</option> })
        .collect_view();
    let api_options = m.apis.iter().map(|a| view! { <option value=a.api_id.clone() selected=typed_api == a.api_id>{format!("{} ({})", a.name, a.api_id)}</option> }).collect_view();
    // The path hints start as the first API's (all there is without JavaScript); with it,
    // they follow the API chosen (`PathHintsFollowApi`): a page does not ship every API's tree.
    let target_options = {
        let mut t: Vec<String> = m.apis.iter().map(|a| a.target.clone()).collect();
        t.sort();
        t.dedup();
        t.into_iter()
            .map(|t| view! { <option value=t.clone() selected=typed_target == t>{t.clone()}</option> })
            .collect_view()
    };
    let paths = m
        .first_api_paths
        .iter()
        .map(|p| view! { <option value=p.clone()></option> })
        .collect_view();
    let (stage, path) = (
        typed_or(&grant, "stage", String::new()),
        typed_or(&grant, "path", String::new()),
    );
    let forms = view! {
        <div class="cards cards-wide" class:hidden=move || !is_admin()>
            <section class="card">
                <h3>"Bind a role"</h3>
                // Roles are found on the server: a plain GET form, so it works without JavaScript.
                <Form method="GET" action="" attr:class="form role-search" attr:role="search" attr:data-testid="role-search">
                    <label for="role-search">"Find a role by name or ARN"</label>
                    <div class="searchbar-row">
                        <input id="role-search" type="search" name="role" value=m.role_search.clone() autocomplete="off" placeholder="payments"/>
                        <button class="button" type="submit">"Find"</button>
                    </div>
                    <p class="muted small" data-testid="role-count">{role_count}</p>
                </Form>
                <ActionForm action=bind attr:class="form" attr:data-testid="bind-form">
                    <input type="hidden" name="source" value=source.clone()/>
                    <input type="hidden" name="group_id" value=id.clone()/>
                    <input type="hidden" name="remove" value="false"/>
                    <label for="bind-role">"Role (Gatehouse-managed)"</label>
                    <select id="bind-role" name="role_arn" aria-describedby="bind-role-error" disabled=no_role_found>{role_options}</select>
                    <p class="field-error" id="bind-role-error">{move || field_error(&bind.value().get(), "role_arn")}</p>
                    <button class="button button-primary" type="submit">"Add to my change set"</button>
                </ActionForm>
                {move || notice(bind.value().get())}
            </section>
            <section class="card">
                <h3>"Grant a route to a role"</h3>
                <ActionForm action=grant attr:class="form" attr:data-testid="grant-form">
                    <input type="hidden" name="remove" value="false"/>
                    <label for="grant-role">"Role"</label>
                    <select id="grant-role" name="role_arn" aria-describedby="grant-role-error">{role_options2}</select>
                    {no_grant_role.then(|| view! { <p class="muted small" data-testid="grant-needs-role">"Bind a role to this group first: routes are granted to the group's roles."</p> })}
                    <p class="field-error" id="grant-role-error">{move || field_error(&grant.value().get(), "role_arn")}</p>
                    <label for="grant-target">"Target"</label>
                    <select id="grant-target" name="target" aria-describedby="grant-target-error">{target_options}</select>
                    <p class="field-error" id="grant-target-error">{move || field_error(&grant.value().get(), "account").or_else(|| field_error(&grant.value().get(), "region"))}</p>
                    <label for="grant-api">"API"</label>
                    <select id="grant-api" name="api_id" aria-describedby="grant-api-error">{api_options}</select>
                    <PathHintsFollowApi/>
                    <p class="field-error" id="grant-api-error">{move || field_error(&grant.value().get(), "api_id")}</p>
                    <label for="grant-stage">"Stage (or * for every stage)"</label>
                    <input id="grant-stage" name="stage" value=stage required placeholder="prod" aria-describedby="grant-stage-error"/>
                    <p class="field-error" id="grant-stage-error">{move || field_error(&grant.value().get(), "stage")}</p>
                    <label for="grant-method">"Method"</label>
                    <select id="grant-method" name="method" aria-describedby="grant-method-error">
                        {METHOD_CHOICES.iter().map(|m| view! { <option value=m.as_str() selected=typed_method == m.as_str()>{if *m == HttpMethod::Any { "* (any)".to_string() } else { m.as_str().to_string() }}</option> }).collect_view()}
                    </select>
                    <p class="field-error" id="grant-method-error">{move || field_error(&grant.value().get(), "method")}</p>
                    <label for="grant-path">"Resource path (/orders, /orders/{id}, /orders/*)"</label>
                    <input id="grant-path" name="path" value=path list="grant-paths" autocomplete="off" aria-describedby="grant-path-error"/>
                    <datalist id="grant-paths">{paths}</datalist>
                    <p class="field-error" id="grant-path-error">{move || field_error(&grant.value().get(), "path")}</p>
                    <button class="button button-primary" type="submit" disabled=no_grant_role>"Add to my change set"</button>
                </ActionForm>
                {move || notice(grant.value().get())}
            </section>
        </div>
    };
    view! { {bound} {pending} {forms} }
}

#[cfg(test)]
mod tests {
    use super::role_choice_count;

    #[test]
    fn the_role_count_says_how_to_narrow_a_long_list() {
        assert_eq!(role_choice_count(3, 3, ""), "3 managed roles.");
        assert_eq!(
            role_choice_count(1, 1, "pay"),
            "1 managed role matching “pay”."
        );
        assert_eq!(
            role_choice_count(25, 500, ""),
            "The first 25 of 500 managed roles: find one to narrow the list."
        );
        assert!(role_choice_count(0, 0, "zzz").starts_with("No managed role matching “zzz”"));
        assert!(role_choice_count(0, 0, "").contains("sync IAM roles"));
    }
}

/// Makes the grant form's path hints (`#grant-paths`) those of the API chosen in `#grant-api`,
/// asked for when the choice changes (and at once when the page came back with another API
/// chosen). An island with no view of its own: the form is the server's.
#[island]
fn PathHintsFollowApi() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        // Only the last API chosen sets the hints: lookups may answer out of order.
        let chosen = StoredValue::new(String::new());
        let look_up = move |api: String| {
            chosen.set_value(api.clone());
            leptos::task::spawn_local(async move {
                // A failed lookup leaves no hints; the path is still checked when submitted.
                let paths = crate::mappings::get_api_paths(api.clone())
                    .await
                    .unwrap_or_default();
                let Some(list) = document().get_element_by_id("grant-paths") else {
                    return;
                };
                if chosen.get_value() != api {
                    return;
                }
                list.replace_children_with_node_0();
                for path in paths {
                    if let Ok(option) = document().create_element("option") {
                        let _ = option.set_attribute("value", &path);
                        let _ = list.append_child(&option);
                    }
                }
            });
        };
        let select = document()
            .get_element_by_id("grant-api")
            .and_then(|s| s.dyn_into::<web_sys::HtmlSelectElement>().ok());
        if let Some(select) = select.filter(|s| s.selected_index() > 0) {
            look_up(select.value());
        }
        let handle = window_event_listener(leptos::ev::change, move |ev| {
            let target = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
                .filter(|s| s.id() == "grant-api");
            if let Some(select) = target {
                look_up(select.value());
            }
        });
        on_cleanup(move || handle.remove());
    }
}
