//! The owners section of an API's page: who owns the API (directory groups named for it or for a
//! tag it carries, whose members must approve change sets that change who may call it), and for
//! admins the form to set or clear them.

use leptos::prelude::*;

use super::forms::{field_error, outcome_notice, typed_or};
use crate::{
    components::loaded::error_view,
    form::FormOutcome,
    owners::{AccessLimitView, ApiOwnerView, ApiOwners as Owners, SetApiAccessLimit, SetApiOwner},
};

#[component]
pub fn ApiOwners(
    api_id: String,
    is_admin: bool,
    owners: Result<Owners, crate::error::AppError>,
) -> impl IntoView {
    let set = ServerAction::<SetApiOwner>::new();
    let owners = match owners {
        Ok(o) => o,
        Err(e) => return view! { <h2>"Owners"</h2> {error_view(&e)} }.into_any(),
    };
    // A change reloads the page (the form's redirect), so the page's own read is current.
    let list = view! { <OwnerList owners=owners.owners.clone()/> };
    let form =
        is_admin.then(|| view! { <OwnerForm api_id=api_id.clone() tags=owners.tags.clone() set/> });
    let longest = view! { <Longest api_id is_admin first=owners.longest.clone()/> };
    view! {
        <h2>"Owners"</h2>
        {list}
        {form}
        {move || set.value().get().map(|r| {
            let o = FormOutcome::of(&r);
            // What is wrong is said next to its field; the notice says what went through.
            o.went_through().then(|| outcome_notice(&o))
        })}
        {longest}
    }
    .into_any()
}

/// The longest access the API allows, and for admins the form to set or clear it.
#[component]
fn Longest(api_id: String, is_admin: bool, first: Option<AccessLimitView>) -> impl IntoView {
    let set = ServerAction::<SetApiAccessLimit>::new();
    let shown = match first {
            Some(l) => view! {
                <p data-testid="api-longest">"Access added to this API lasts "<strong>{l.label}</strong>" at most: a change set that gives access to it (a grant on it, or someone bound to a role that may call it) must end by then, and requests offer no longer. Set by " {l.set_by} ", " <crate::components::when::When at=l.set_at/> "."</p>
            }.into_any(),
            None => view! {
                <p class="muted" data-testid="api-longest">"No longest access: access to this API may be permanent. An admin can set a limit (such as 8 hours for a production API); access given before it is not shortened."</p>
            }.into_any(),
    };
    let err = move |f: &'static str| move || field_error(&set.value().get(), f);
    let amount = typed_or(&set, "amount", String::new());
    let unit = typed_or(&set, "unit", "hours".into());
    let units = ["hours", "days"]
        .map(|u| {
            let selected = u == unit;
            view! { <option value=u selected=selected>{u}</option> }
        })
        .into_iter()
        .collect_view();
    let form = is_admin.then(|| view! {
        <ActionForm action=set attr:data-testid="longest-form" attr:class="inline-fields">
            <input type="hidden" name="api_id" value=api_id/>
            <label for="longest-amount">"Longest access (empty: no limit)"</label>
            <input id="longest-amount" name="amount" value=amount size="5" inputmode="numeric" placeholder="8"
                aria-describedby="longest-amount-error"/>
            <label for="longest-unit" class="visually-hidden">"Unit"</label>
            <select id="longest-unit" name="unit">{units}</select>
            <button class="button" type="submit">"Set longest access"</button>
            <p class="field-error" id="longest-amount-error">{err("amount")}</p>
        </ActionForm>
    });
    view! {
        <h2>"Longest access"</h2>
        {shown}
        {form}
        {move || set.value().get().map(|r| {
            let o = FormOutcome::of(&r);
            o.went_through().then(|| outcome_notice(&o))
        })}
    }
}

#[component]
fn OwnerList(owners: Vec<ApiOwnerView>) -> impl IntoView {
    if owners.is_empty() {
        return view! {
            <p class="muted" data-testid="api-owner">"No owners: the usual approvals are enough for change sets touching this API. An admin can name a directory group whose members must also approve, for this API or for every API with one of its tags."</p>
        }.into_any();
    }
    let lines = owners
        .into_iter()
        .map(|o| {
            let named_for = match &o.tag {
                Some(tag) => format!(" (for every API tagged {tag})"),
                None => " (for this API)".into(),
            };
            view! {
                <li><a href=format!("/groups/{}/{}", o.group_source, o.group_id)><strong>{o.group_name.clone()}</strong></a>
                    {named_for} <span class="muted">" — set by " {o.set_by.clone()} ", "
                    <crate::components::when::When at=o.set_at.clone()/></span></li>
            }
        })
        .collect_view();
    view! {
        <div data-testid="api-owner">
            <p>"Owned by the members of these groups: a change set that changes who may call this API needs one of them to approve it, besides the usual approvals."</p>
            <ul>{lines}</ul>
        </div>
    }
    .into_any()
}

#[component]
fn OwnerForm(api_id: String, tags: Vec<String>, set: ServerAction<SetApiOwner>) -> impl IntoView {
    let err = move |f: &'static str| move || field_error(&set.value().get(), f);
    let typed = typed_or(&set, "group", String::new());
    let chosen = typed_or(&set, "scope", "api".into());
    let scopes = std::iter::once(("api".to_string(), "This API".to_string()))
        .chain(
            tags.into_iter()
                .map(|t| (format!("tag:{t}"), format!("Every API tagged {t}"))),
        )
        .map(|(value, label)| {
            let selected = value == chosen;
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view();
    view! {
        <ActionForm action=set attr:data-testid="owner-form">
            <input type="hidden" name="api_id" value=api_id/>
            <label for="owner-scope">"Owners of"</label>
            <select id="owner-scope" name="scope" aria-describedby="owner-scope-error">{scopes}</select>
            <p class="field-error" id="owner-scope-error">{err("scope")}</p>
            <label for="owner-group">"Owner group (exact name or object id; empty: no owners)"</label>
            <input id="owner-group" name="group" value=typed size="40" placeholder="Orders team"
                aria-describedby="owner-group-error"/>
            <p class="field-error" id="owner-group-error">{err("group")}</p>
            <div class="actions"><button class="button" type="submit">"Set owners"</button></div>
        </ActionForm>
    }
}
