//! Empty states: what a list would hold and how it gets filled; for a catalog page before its
//! first sync, how an admin fills it (others are told whom to ask).

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

/// An empty list's title and what to do; `children` add a link or a further line.
#[component]
pub fn EmptyState(
    title: &'static str,
    #[prop(into)] text: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <section class="empty-state" data-testid="empty-state">
            <h2>{title}</h2>
            <p>{text} {children.map(|c| c())}</p>
        </section>
    }
}
