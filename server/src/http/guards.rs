//! Request guards that run before any route: state-changing requests must come from our own
//! origin, and pages need a signed-in person whose roles allow them.

use app::roles::{CurrentUser, Page};
use axum::{
    extract::{Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use url::Url;

use crate::{http::page::plain_page, state::AppState};

/// Refuses POST/PUT/PATCH/DELETE whose `Origin` (or, without it, `Referer`) is not ours.
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // The REST API ignores cookies (a bearer token or nothing), so no other site can make a
    // browser send one of its requests with someone's credentials.
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || req.uri().path().starts_with("/api/v1/")
    {
        return next.run(req).await;
    }
    if request_origin(&req).as_ref() == Some(&state.settings.base_url.origin()) {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "refused a cross-origin state-changing request");
        plain_page(
            StatusCode::FORBIDDEN,
            "Refused",
            "<h1>Refused</h1><p>This request did not come from a Gatehouse page, so nothing was changed.</p>",
        )
    }
}

/// The `Origin` when the browser sent one (`null` included: an opaque origin is not ours, whatever
/// the `Referer` says), else the `Referer`'s.
fn request_origin(req: &Request) -> Option<url::Origin> {
    let origin_of = |name| {
        req.headers().get(name).map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| Url::parse(v).ok())
                .map(|u| u.origin())
        })
    };
    match origin_of(header::ORIGIN) {
        Some(origin) => origin,
        None => origin_of(header::REFERER).flatten(),
    }
}

/// Paths served without a signed-in person. Server functions check roles themselves.
fn is_public(path: &str) -> bool {
    path.starts_with("/auth/")
        || path.starts_with("/api/")
        || app::backend::page::is_site_file(path)
        || app::backend::page::is_probe(path)
}

/// Pages: nobody signed in → sign in and come back; signed in without the page's role → the
/// app renders an explanation and the response is 403.
pub async fn page_access(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if is_public(&path) || !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let Some(user) = req.extensions().get::<CurrentUser>().cloned() else {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let login = format!("/auth/login?next={}", urlencode(target));
        return Redirect::to(&login).into_response();
    };
    let mut response = next.run(req).await;
    if let Some(page) = Page::for_path(&path) {
        if !user.may_view(page) && response.status().is_success() {
            *response.status_mut() = StatusCode::FORBIDDEN;
        }
    }
    response
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
