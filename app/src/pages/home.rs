use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::layout::Guarded;
use crate::me::use_me;
use crate::roles::{Page, Role};

/// "What needs me?" — for now, what each of the person's roles lets them do and where to start.
#[component]
pub fn HomePage() -> impl IntoView {
    let me = use_me();
    view! {
        <Title text="Home"/>
        <Guarded page=Page::Home>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let user = me.await.ok().flatten();
                    let name = user.as_ref().map(|u| u.display_name.clone()).unwrap_or_default();
                    let roles = user.map(|u| u.roles).unwrap_or_default();
                    view! {
                        <h1>"Welcome, " {name}</h1>
                        <p class="lead">
                            "Gatehouse keeps who may call which API reviewed, pushed and auditable."
                        </p>
                        <ul class="cards">
                            {roles.into_iter().map(role_card).collect_view()}
                        </ul>
                    }
                })}
            </Suspense>
        </Guarded>
    }
}

fn role_card(role: Role) -> impl IntoView {
    let (title, text, href, link) = match role {
        Role::Admin => (
            "As an admin",
            "Browse APIs and directory groups, draft change sets that map groups to IAM roles and \
             routes, and push approved change sets to AWS.",
            Page::ChangeSets.path(),
            "Go to change sets",
        ),
        Role::Reviewer => (
            "As a reviewer",
            "Approve or reject change sets drafted by other people. You can never approve your own.",
            Page::Reviews.path(),
            "Go to the review queue",
        ),
        Role::Auditor => (
            "As an auditor",
            "Filter the full history of access changes and export it with a manifest that proves \
             nothing was altered.",
            Page::History.path(),
            "Go to the history",
        ),
    };
    view! {
        <li class="card" data-testid=format!("role-card-{}", role.label())>
            <h2>{title}</h2>
            <p>{text}</p>
            <a href=href>{link}</a>
        </li>
    }
}
