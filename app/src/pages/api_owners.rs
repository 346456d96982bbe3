//! The owners section of an API's page: who owns the API (a directory group whose members must
//! approve change sets that change who may call it), and for admins the form to set or clear it.

use leptos::prelude::*;

use super::change_sets::{field_error, outcome_notice, typed_or};
use crate::{
    components::loaded::error_view,
    form::FormOutcome,
    owners::{get_api_owner, SetApiOwner},
};

#[component]
pub fn ApiOwners(api_id: String, is_admin: bool) -> impl IntoView {
    let set = ServerAction::<SetApiOwner>::new();
    let id = api_id.clone();
    let owner = Resource::new(
        move || set.version().get(),
        move |_| get_api_owner(id.clone()),
    );
    let err = move || field_error(&set.value().get(), "group");
    let typed = typed_or(&set, "group", String::new());
    let form = is_admin.then(|| {
        view! {
            <ActionForm action=set attr:class="inline-form" attr:data-testid="owner-form">
                <input type="hidden" name="api_id" value=api_id.clone()/>
                <label for="owner-group">"Owner group (exact name or object id; empty: no owners)"</label>
                <input id="owner-group" name="group" value=typed size="40" placeholder="Orders team"
                    aria-describedby="owner-group-error"/>
                <button class="button" type="submit">"Set owners"</button>
                <p class="field-error" id="owner-group-error">{err}</p>
            </ActionForm>
            {move || set.value().get().map(|r| {
                let o = FormOutcome::of(&r);
                // The field says what is wrong; the notice only what went through.
                o.went_through().then(|| outcome_notice(&o))
            })}
        }
    });
    view! {
        <h2>"Owners"</h2>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match owner.await {
                    Ok(Some(o)) => view! {
                        <p data-testid="api-owner">"Owned by the members of "
                            <a href=format!("/groups/{}/{}", o.group_source, o.group_id)><strong>{o.group_name.clone()}</strong></a>
                            ": a change set that changes who may call this API needs one of them to approve it, besides the usual approvals. "
                            <span class="muted">"Set by " {o.set_by.clone()} ", "
                                <crate::components::when::When at=o.set_at.clone()/> "."</span></p>
                    }.into_any(),
                    Ok(None) => view! {
                        <p class="muted" data-testid="api-owner">"No owners: the usual approvals are enough for change sets touching this API. An admin can name a directory group whose members must also approve."</p>
                    }.into_any(),
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
        {form}
    }
}
