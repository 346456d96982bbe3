//! `Idempotency-Key` on creates: the first request with a key is made and its answer kept; the
//! same key with the same body answers that again (`Idempotent-Replayed: true`), with another
//! body it is refused, and while the first is still being made a second waits its turn by being
//! told so (409).

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::problem::Problem;

pub const HEADER: &str = "idempotency-key";

/// The request's key: absent, or 1–200 visible characters.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(v) = headers.get(HEADER) else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if (1..=200).contains(&k.trim().len()) => Ok(Some(k.trim().to_string())),
        _ => Err(Problem::invalid(vec![(
            "Idempotency-Key".into(),
            "1 to 200 visible characters (a UUID, say)".into(),
        )])),
    }
}

/// Runs `make` once per (token, key); later requests get its answer back.
pub async fn once<F, Fut>(pool: &PgPool, token: i64, key: &str, body: &[u8], make: F) -> Response
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let hash = Sha256::digest(body).to_vec();
    // Keys are kept a day, as payment APIs do: a retry comes within minutes, and the table
    // does not grow with every create a pipeline ever made.
    if let Err(e) = sqlx::query(
        "DELETE FROM api_idempotency WHERE token_id = $1 AND created_at < now() - interval '24 hours'",
    )
    .bind(token)
    .execute(pool)
    .await
    {
        return Problem::from(e).into_response();
    }
    // A placeholder (status 0) claims the key before the work starts. One left by a process
    // that stopped mid-request (older than any create takes) is taken over by the same request.
    let claimed = sqlx::query(
        "INSERT INTO api_idempotency (token_id, key, request_sha256, status, body)
         VALUES ($1, $2, $3, 0, 'null')
         ON CONFLICT (token_id, key) DO UPDATE SET created_at = now()
         WHERE api_idempotency.status = 0
           AND api_idempotency.request_sha256 = EXCLUDED.request_sha256
           AND api_idempotency.created_at < now() - interval '2 minutes'",
    )
    .bind(token)
    .bind(key)
    .bind(&hash)
    .execute(pool)
    .await;
    match claimed {
        Err(e) => return Problem::from(e).into_response(),
        Ok(r) if r.rows_affected() == 0 => return replay(pool, token, key, &hash).await,
        Ok(_) => {}
    }
    let response = make().await;
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let kept = if parts.status.is_success() {
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        sqlx::query(
            "UPDATE api_idempotency SET status = $3, body = $4 WHERE token_id = $1 AND key = $2",
        )
        .bind(token)
        .bind(key)
        .bind(parts.status.as_u16() as i16)
        .bind(json)
        .execute(pool)
        .await
    } else {
        // A failure is not kept: the same request may be sent again once it is fixed.
        sqlx::query("DELETE FROM api_idempotency WHERE token_id = $1 AND key = $2")
            .bind(token)
            .bind(key)
            .execute(pool)
            .await
    };
    if let Err(e) = kept {
        tracing::error!(error = %e, "could not keep an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn replay(pool: &PgPool, token: i64, key: &str, hash: &[u8]) -> Response {
    let row: Result<Option<(Vec<u8>, i16, serde_json::Value)>, _> = sqlx::query_as(
        "SELECT request_sha256, status, body FROM api_idempotency WHERE token_id = $1 AND key = $2",
    )
    .bind(token)
    .bind(key)
    .fetch_optional(pool)
    .await;
    match row {
        Err(e) => Problem::from(e).into_response(),
        Ok(None) => Problem::new(
            "conflict",
            "a request with this Idempotency-Key failed a moment ago: send it again",
        )
        .into_response(),
        Ok(Some((first, _, _))) if first != hash => Problem::invalid(vec![(
            "Idempotency-Key".into(),
            "already used for a different request body; use a new key for a new request".into(),
        )])
        .into_response(),
        Ok(Some((_, 0, _))) => Problem::new(
            "conflict",
            "a request with this Idempotency-Key is still being made: ask again in a moment",
        )
        .into_response(),
        Ok(Some((_, status, body))) => {
            let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
            let mut response = (status, axum::Json(body)).into_response();
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
    }
}
