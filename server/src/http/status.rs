//! Server functions answer every error with 500 (Leptos's default); the body is the typed
//! [`AppError`], so its status is put back here: a refusal is a 401/403, bad input a 400, a
//! missing thing a 404, and only Gatehouse's own failures stay 500.
//!
//! Every form is a plain HTML post (pages are rendered on the server; see the README's
//! Architecture), answered with a redirect back to its page. Leptos puts a failure's outcome in
//! that address (`__path`, `__err`); a form that went through is given the same treatment here,
//! so its page can say what was done ("Added to your draft change set 12"). An address keeps
//! only the newest outcome: Leptos adds a failure's to the page's address as it was.

use app::{error::AppError, form::FormOutcome};
use axum::{
    body::Body,
    extract::Request,
    http::{
        header::{ACCEPT, LOCATION, REFERER},
        HeaderValue, StatusCode,
    },
    middleware::Next,
    response::Response,
};
use leptos::server_fn::error::ServerFnUrlError;

/// Error bodies and form outcomes are a few hundred bytes; anything larger is left as it is.
const LIMIT: usize = 64 * 1024;

pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let is_server_fn =
        path.starts_with("/api/") && !path.starts_with("/api/v1/") && req.method() == "POST";
    let form_post = is_server_fn
        && req
            .headers()
            .get(ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    let referer = req
        .headers()
        .get(REFERER)
        .and_then(|r| r.to_str().ok())
        .map(String::from);
    let response = next.run(req).await;
    if form_post && response.status() == StatusCode::FOUND {
        return carry_outcome_back(response, &path, referer).await;
    }
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, LIMIT).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The redirect of a form post: back to its page (`referer`) with the outcome of a form that went
/// through, or with only the newest outcome of one that did not. A function that sent the
/// browser elsewhere (a new campaign's page) keeps its choice.
async fn carry_outcome_back(response: Response, path: &str, referer: Option<String>) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, LIMIT).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let location = parts
        .headers
        .get(LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(String::from)
        .unwrap_or_default();
    let back_to_the_page = referer
        .as_deref()
        .is_some_and(|r| without_outcomes(r) == without_outcomes(&location));
    let outcome = serde_json::from_slice::<FormOutcome>(&bytes).ok();
    let new_location = match (outcome, back_to_the_page) {
        (Some(outcome), true) if outcome.went_through() => {
            let page = without_outcomes(&location);
            ServerFnUrlError::new(path, AppError::form(outcome))
                .to_url(&page)
                .ok()
                .map(|url| url.to_string())
        }
        _ => newest_outcome_only(&location),
    };
    if let Some(value) = new_location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        parts.headers.insert(LOCATION, value);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `address` without the form outcomes Leptos carries in it (`__path`, `__err`).
fn without_outcomes(address: &str) -> String {
    let mut page = address.to_string();
    ServerFnUrlError::<AppError>::strip_error_info(&mut page);
    page
}

/// `location` with only its last `__path`/`__err` pair, or `None` when it has at most one.
fn newest_outcome_only(location: &str) -> Option<String> {
    let (page, query) = location.split_once('?')?;
    let params: Vec<&str> = query.split('&').collect();
    let carried = |p: &&str| p.starts_with("__path=") || p.starts_with("__err=");
    if params.iter().filter(|p| p.starts_with("__err=")).count() < 2 {
        return None;
    }
    let mut kept: Vec<&str> = params.iter().copied().filter(|p| !carried(p)).collect();
    let last_path = params.iter().rev().find(|p| p.starts_with("__path="));
    let last_err = params.iter().rev().find(|p| p.starts_with("__err="));
    kept.extend(last_path.into_iter().chain(last_err).copied());
    Some(format!("{page}?{}", kept.join("&")))
}

#[cfg(test)]
mod tests {
    use super::{newest_outcome_only, without_outcomes};

    #[test]
    fn a_page_address_keeps_only_the_newest_form_outcome() {
        assert_eq!(
            newest_outcome_only(
                "http://h/groups?q=a&__path=%2Fapi%2Fx&__err=OLD&__path=%2Fapi%2Fy&__err=NEW"
            )
            .as_deref(),
            Some("http://h/groups?q=a&__path=%2Fapi%2Fy&__err=NEW")
        );
        // One outcome, or none: nothing to change.
        assert_eq!(
            newest_outcome_only("http://h/groups?q=a&__path=p&__err=E"),
            None
        );
        assert_eq!(newest_outcome_only("http://h/groups"), None);
    }

    #[test]
    fn a_page_is_the_same_page_whatever_outcome_its_address_carries() {
        assert_eq!(
            without_outcomes("http://h/groups/a/b?role=x&__path=%2Fapi%2Fy&__err=E"),
            without_outcomes("http://h/groups/a/b?role=x")
        );
    }
}
