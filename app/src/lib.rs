//! Gatehouse's pages, components and server functions. Built twice: with `ssr` into the server,
//! with `hydrate` into the browser's WASM bundle (which must never see the server's crates).
#![recursion_limit = "256"]

#[cfg(feature = "ssr")]
pub mod access;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod callers;
pub mod campaigns;
pub mod catalog;
pub mod codec;
pub mod components;
pub mod domain;
pub mod error;
pub mod form;
pub mod history;
pub mod mappings;
pub mod me;
pub mod owners;
pub mod pages;
pub mod people;
pub mod person;
pub mod push;
pub mod requests;
pub mod roles;
pub mod tokens;
pub mod tryit;
pub mod webhooks;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::components::layout::Header;
use crate::pages::*;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                // The site's stylesheet by its hashed name when the build made one.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Inline scripts (hydration, resource data) carry the per-response nonce Leptos generates.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use http::{header::CONTENT_SECURITY_POLICY, HeaderValue};
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self' http: https:; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    );
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(&policy),
    ) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    me::provide_me();
    view! {
        <Link rel="icon" href="/favicon.ico"/>
        <Title formatter=|title: String| {
            if title.is_empty() { "Gatehouse".to_string() } else { format!("{title} · Gatehouse") }
        }/>
        <Router>
            // rel="external": the browser, not the router, follows it (and moves the focus).
            <a class="skip-link" href="#main" rel="external">"Skip to content"</a>
            <Header/>
            <main id="main" class="page" tabindex="-1">
                // Async: the whole page is rendered before it is sent, so it works without
                // JavaScript and nothing moves when it hydrates.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/apis") view=ApisPage ssr=SsrMode::Async/>
                    <Route path=path!("/apis/:id") view=ApiPage ssr=SsrMode::Async/>
                    <Route path=path!("/apis/:id/matrix") view=ApiMatrixPage ssr=SsrMode::Async/>
                    <Route path=path!("/apis/:id/callers") view=CallersPage ssr=SsrMode::Async/>
                    <Route path=path!("/groups") view=GroupsPage ssr=SsrMode::Async/>
                    <Route path=path!("/groups/:source/:id") view=GroupPage ssr=SsrMode::Async/>
                    <Route path=path!("/people") view=PeoplePage ssr=SsrMode::Async/>
                    <Route path=path!("/people/:source/:oid") view=PersonPage ssr=SsrMode::Async/>
                    <Route path=path!("/roles") view=RolesPage ssr=SsrMode::Async/>
                    <Route path=path!("/roles/:name") view=RolePage ssr=SsrMode::Async/>
                    <Route path=path!("/mappings") view=MappingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/change-sets") view=ChangeSetsPage ssr=SsrMode::Async/>
                    <Route path=path!("/change-sets/:id") view=ChangeSetPage ssr=SsrMode::Async/>
                    <Route path=path!("/reviews") view=ReviewsPage ssr=SsrMode::Async/>
                    <Route path=path!("/history") view=HistoryPage ssr=SsrMode::Async/>
                    <Route path=path!("/history/access") view=AccessReportPage ssr=SsrMode::Async/>
                    <Route path=path!("/campaigns") view=CampaignsPage ssr=SsrMode::Async/>
                    <Route path=path!("/campaigns/:id") view=CampaignPage ssr=SsrMode::Async/>
                    <Route path=path!("/sync") view=SyncPage ssr=SsrMode::Async/>
                    <Route path=path!("/drift") view=DriftPage ssr=SsrMode::Async/>
                    <Route path=path!("/try") view=TryCallPage ssr=SsrMode::Async/>
                    <Route path=path!("/tokens") view=TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/requests") view=RequestsPage ssr=SsrMode::Async/>
                    <Route path=path!("/notifications") view=NotificationsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Runs once per page in the browser, before its islands hydrate (`#[island]` components: the
/// only code the wasm carries).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    components::layout::focus_search_on_slash();
    // Leptos's script hydrates the islands right after this returns, each in a microtask; a
    // timer fires after them all. Lets tests (and people debugging) see that the page is live.
    set_timeout(
        || {
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        },
        std::time::Duration::ZERO,
    );
}
