//! Who is calling the REST API: a bearer token, looked up by its hash, then held to the one
//! authorisation table (`app::access::REST`) for the route it matched. Every request made with a
//! token is recorded with its answer's status.

use app::{
    access::{rest_endpoint, TokenRule},
    backend::tokens::{self, Refusal, TokenCaller},
    domain::api_token::looks_like_secret,
};
use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::problem::Problem;
use crate::{http::observe::REQUEST_ID, state::AppState};

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized(detail: impl Into<String>) -> Response {
    let mut response = Problem::new("unauthorized", detail).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"gatehouse\""),
    );
    response
}

/// The REST API's gate (a route layer: it sees the pattern the request matched).
pub async fn authorize(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    // An endpoint missing from the table is refused to everyone.
    let Some(endpoint) = matched.and_then(|m| rest_endpoint(&method, m.as_str())) else {
        return Problem::new("not-found", format!("the REST API has no {method} {path}"))
            .into_response();
    };
    if endpoint.rule == TokenRule::Public {
        return next.run(req).await;
    }
    let Some(secret) = bearer(&req) else {
        return unauthorized("send a token: `Authorization: Bearer gth_…` (make one on /tokens)");
    };
    if !looks_like_secret(secret) {
        return unauthorized("that is not a Gatehouse token (they start with `gth_`)");
    }
    let caller = match tokens::authenticate(&state.pool, secret).await {
        Ok(c) => c,
        Err(Refusal::Database(e)) => return Problem::from(e).into_response(),
        Err(refusal) => return unauthorized(refusal.to_string()),
    };
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = match endpoint.rule {
        TokenRule::Never(reason) => Problem::new("forbidden", reason).into_response(),
        TokenRule::Scope(scope) if !caller.may(scope) => Problem::new(
            "forbidden",
            format!(
                "this token does not hold the `{}` scope ({}); it holds: {}",
                scope.as_str(),
                scope.describe(),
                scopes(&caller)
            ),
        )
        .into_response(),
        _ => {
            req.extensions_mut().insert(caller.clone());
            next.run(req).await
        }
    };
    if let Err(e) = tokens::record_use(
        &state.pool,
        caller.id,
        &method,
        &path,
        response.status().as_u16(),
        request_id.as_deref(),
    )
    .await
    {
        tracing::error!(error = %e, token = caller.id, "could not record a token's use");
    }
    response
}

fn scopes(caller: &TokenCaller) -> String {
    caller
        .scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
