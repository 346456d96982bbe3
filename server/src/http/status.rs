//! Server functions answer every error with 500 (Leptos's default); the body is the typed
//! [`AppError`], so its status is put back here: a refusal is a 401/403, bad input a 400, a
//! missing thing a 404, and only Gatehouse's own failures stay 500.

use app::error::AppError;
use axum::{body::Body, extract::Request, http::StatusCode, middleware::Next, response::Response};

/// Error bodies are a few hundred bytes; anything larger is left as it is.
const LIMIT: usize = 64 * 1024;

pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_server_fn =
        path.starts_with("/api/") && !path.starts_with("/api/v1/") && req.method() == "POST";
    let response = next.run(req).await;
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
