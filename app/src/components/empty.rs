//! The empty state of a catalog page before its first sync: what will be here, and how an admin
//! fills it (others are told whom to ask).

use leptos::prelude::*;

#[component]
pub fn NotSyncedYet(
    is_admin: bool,
    title: &'static str,
    about: &'static str,
    button: &'static str,
    command: &'static str,
) -> impl IntoView {
    let next = if is_admin {
        view! {
            <p>"Open " <a href="/sync">"Sync"</a> " and choose “" {button} "”, or run "
                <code>{command}</code> "."</p>
        }
        .into_any()
    } else {
        view! { <p class="muted">"Ask a Gatehouse admin to run the first sync."</p> }.into_any()
    };
    view! {
        <section class="empty-state" data-testid="empty-state">
            <h2>{title}</h2>
            <p>{about}</p>
            {next}
        </section>
    }
}
