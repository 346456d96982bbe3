//! The app shell: header with navigation and the signed-in person, and the page guard.

use leptos::prelude::*;

use crate::me::use_me;
use crate::roles::{CurrentUser, Page};

#[component]
pub fn Header() -> impl IntoView {
    let me = use_me();
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <svg class="brand-mark" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
                    <path fill="currentColor" d="M3 21V8l9-5 9 5v13h-5v-7a4 4 0 0 0-8 0v7z"/>
                </svg>
                "Gatehouse"
            </a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        // Without a role, the navigation holds only "Request access".
                        Ok(Some(user)) => {
                            view! { <Navigation user=user.clone()/> <UserMenu user/> }.into_any()
                        }
                        _ => ().into_any(),
                    }
                })}
            </Suspense>
        </header>
    }
}

#[component]
fn Navigation(user: CurrentUser) -> impl IntoView {
    // The current page by what the path belongs to (a person's page belongs with Groups, "Try a
    // call" with APIs), not only by the link's prefix.
    let location = leptos_router::hooks::use_location();
    // Asking for access is a section of its own only for people without a role; the others
    // find it beside their name (the navigation stays one line).
    let has_role = user.has_any_role();
    let links = Page::ALL
        .into_iter()
        .filter(|page| user.may_view(*page) && (*page != Page::Requests || !has_role))
        .map(|page| {
            let current = move || {
                let path = location.pathname.get();
                // The tokens page is Home's for access, not one of the sections.
                (path != "/tokens" && Page::for_path(&path) == Some(page)).then_some("page")
            };
            view! { <li><a href=page.path() aria-current=current>{page.title()}</a></li> }
        })
        .collect_view();
    view! {
        <nav class="mainnav" aria-label="Main">
            <ul>{links}</ul>
        </nav>
    }
}

#[component]
fn UserMenu(user: CurrentUser) -> impl IntoView {
    let roles = if user.roles.is_empty() {
        "no Gatehouse role".to_string()
    } else {
        user.roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <div class="usermenu">
            <span class="user" title=user.username.clone()>
                <span class="user-name" data-testid="user-name">{user.display_name.clone()}</span>
                <span class="user-roles" data-testid="user-roles">{roles}</span>
            </span>
            {user.has_any_role().then(|| view! {
                <a class="button button-quiet" href="/requests" data-testid="requests-link">"Request access"</a>
                <a class="button button-quiet" href="/tokens" data-testid="tokens-link">"API tokens"</a>
            })}
            <SignOutButton/>
        </div>
    }
}

/// A plain form POST, so signing out works with JavaScript off too.
#[component]
pub fn SignOutButton() -> impl IntoView {
    view! {
        <form method="post" action="/auth/logout" class="signout">
            <button type="submit" class="button button-quiet">"Sign out"</button>
        </form>
    }
}

/// Draws `children` only for people whose roles allow `page`. The server refuses the request
/// itself (403, or a redirect to sign-in); this only decides what the browser shows.
#[component]
pub fn Guarded(page: Page, children: ChildrenFn) -> impl IntoView {
    let me = use_me();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match me.await {
                        Ok(Some(user)) if user.may_view(page) => children().into_any(),
                        Ok(Some(user)) if !user.has_any_role() => view! { <NoAccess user/> }.into_any(),
                        Ok(Some(_)) => view! { <Forbidden page/> }.into_any(),
                        Ok(None) => view! { <SignInPrompt/> }.into_any(),
                        Err(_) => view! {
                            <div class="notice notice-error" role="alert">
                                "Gatehouse could not load your session. Reload the page to try again."
                            </div>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
pub fn NoAccess(user: CurrentUser) -> impl IntoView {
    let why = if user.groups_unknown {
        "), but you are in too many groups for your sign-in token to list them, and this \
         Gatehouse is not set up to read them from Microsoft Graph, so it cannot see whether one \
         of them lets you in. Tell your Gatehouse administrator (the server's log names the \
         settings to add)."
    } else {
        "), but you are not in any group that Gatehouse lets in."
    };
    view! {
        <section class="empty-state" data-testid="no-access">
            <h1>"No access"</h1>
            <p>
                "You are signed in as " <strong>{user.display_name}</strong>
                " (" <code>{user.username}</code> {why}
            </p>
            <p>
                "Gatehouse is for the admins who edit API access, the reviewers who approve it and "
                "the auditors who check it. If you need one of those roles, ask your directory "
                "administrator to add you to the matching group, then sign in again."
            </p>
            <p>
                "Need to call an API yourself? "
                <a href="/requests" data-testid="request-access-link">"Request access"</a>
                " to a role for a bounded time; a reviewer decides."
            </p>
            <SignOutButton/>
        </section>
    }
}

#[component]
fn Forbidden(page: Page) -> impl IntoView {
    let needed = page
        .allowed_roles()
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join(" or ");
    view! {
        <section class="empty-state" data-testid="forbidden">
            <h1>{page.title()}</h1>
            <p>"This page is for people with the " <strong>{needed}</strong> " role."</p>
            <p><a href="/">"Back to the home page"</a></p>
        </section>
    }
}

#[component]
fn SignInPrompt() -> impl IntoView {
    view! {
        <section class="empty-state">
            <h1>"Sign in"</h1>
            <p>"Your session has ended."</p>
            <p><a class="button button-primary" href="/auth/login" rel="external">"Sign in"</a></p>
        </section>
    }
}

/// `/` anywhere but in a text field focuses the page's search box. Set up once per page by
/// [`crate::hydrate`] (the page itself is rendered on the server only).
#[cfg(feature = "hydrate")]
pub fn focus_search_on_slash() {
    use leptos::wasm_bindgen::JsCast;
    let handle = window_event_listener(leptos::ev::keydown, |e| {
        let typing = e
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if e.key() != "/" || typing || e.ctrl_key() || e.meta_key() || e.alt_key() {
            return;
        }
        let search = document()
            .query_selector("input[type=search]")
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlElement>().ok());
        if let Some(input) = search {
            e.prevent_default();
            let _ = input.focus();
        }
    });
    // For as long as the page lives.
    std::mem::forget(handle);
}
