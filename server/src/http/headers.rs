//! Security headers on every response. Pages rendered by Leptos get a CSP with that response's
//! nonce (Leptos puts it on its inline scripts); everything else gets a strict default.

use std::sync::{Arc, Mutex};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

use crate::state::AppState;

/// Forms post to Gatehouse only; sign-out's redirect goes on to the provider, so its origin too.
fn form_action(state: &AppState) -> String {
    let provider = url::Url::parse(state.settings.oidc.issuer.as_str())
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    format!("form-action 'self' {provider}")
}

fn default_csp(form_action: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         {form_action}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ))
    .ok()
}

/// Where the Leptos render of this request leaves its nonce (see `router`'s context), so the
/// page's CSP is set here, on the response itself. (Set through Leptos's `ResponseOptions` from
/// the shell, the header was now and then missing, and the browser then refused the page's
/// inline scripts and never hydrated it.)
#[derive(Clone, Default)]
pub struct NonceSlot(pub Arc<Mutex<Option<String>>>);

fn page_csp(nonce: &str, form_action: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; {form_action}; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ))
    .ok()
}

pub async fn security_headers(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let is_asset = app::backend::page::is_site_file(&path);
    let slot = NonceSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut response = next.run(req).await;
    let nonce = slot.0.lock().ok().and_then(|n| n.clone());
    let headers = response.headers_mut();
    let form_action = form_action(&state);
    match nonce.as_deref().and_then(|n| page_csp(n, &form_action)) {
        Some(csp) => {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        // Not rendered through the routes (the not-found fallback sets its own from the shell).
        None => {
            if let Some(csp) = default_csp(&form_action) {
                headers
                    .entry(header::CONTENT_SECURITY_POLICY)
                    .or_insert(csp);
            }
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !is_asset {
        // Pages show who may call what: never keep them in a shared cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else if super::assets::is_content_hashed(&path) {
        // A new build gives a changed file a new name: this one never changes.
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    } else {
        // The site's files keep their names across deploys: a browser asks again each time
        // (a 304 when unchanged), so it never runs an old wasm against a new server.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    if state.settings.secure_cookies() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}
