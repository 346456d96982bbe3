//! REST API tokens in Postgres: made (the secret shown once, only its SHA-256 kept), listed,
//! revoked, and looked up for each request, which is recorded.

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    backend::{
        audit::{self, Actor},
        session::SessionUser,
    },
    domain::api_token::{CheckedToken, Scope, TokenKind, SECRET_PREFIX},
    roles::Role,
    tokens::TokenView,
};

/// Service identities' ids are derived from their names in this namespace: every token of
/// `deploy-pipeline` drafts as the same author.
const SERVICE_NAMESPACE: Uuid = Uuid::from_u128(0x6761_7465_686f_7573_6500_0000_0000_0001);

pub fn service_oid(name: &str) -> Uuid {
    Uuid::new_v5(&SERVICE_NAMESPACE, format!("service:{name}").as_bytes())
}

pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A new secret: 32 random bytes, hex, after the recognisable prefix.
fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{SECRET_PREFIX}{}", hex::encode(bytes)))
}

/// The caller behind a request's token, once it is known to be good.
#[derive(Clone, Debug)]
pub struct TokenCaller {
    pub id: i64,
    pub kind: TokenKind,
    pub actor: Actor,
    /// The token's scopes that its person's roles still allow (all of them for a service).
    pub scopes: Vec<Scope>,
}

impl TokenCaller {
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Why a token was refused; said to the caller as is.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no such token (it may have been mistyped or deleted)")]
    Unknown,
    #[error("this token was revoked on {0}")]
    Revoked(String),
    #[error("this token expired on {0}")]
    Expired(String),
    #[error("this token's person no longer has a Gatehouse role, or an admin ended their access")]
    PersonGone,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

type TokenRow = (
    i64,
    String,
    Option<Uuid>,
    Uuid,
    String,
    Vec<String>,
    Option<OffsetDateTime>,
    OffsetDateTime,
    OffsetDateTime,
    Option<Vec<String>>,
    Option<OffsetDateTime>,
);

/// The token whose secret is `secret`, if it may be used now (its use is recorded by the
/// caller, with the answer's status: when it was last used is read from those records).
pub async fn authenticate(pool: &PgPool, secret: &str) -> Result<TokenCaller, Refusal> {
    let row: Option<TokenRow> = sqlx::query_as(
        "SELECT t.id, t.kind, t.subject_tid, t.subject_oid, t.subject_name, t.scopes,
                t.revoked_at, t.expires_at, t.created_at, u.roles, u.sessions_ended_at
         FROM api_tokens t
         LEFT JOIN users u ON t.kind = 'person' AND u.tid = t.subject_tid AND u.oid = t.subject_oid
         WHERE t.secret_sha256 = $1",
    )
    .bind(digest(secret))
    .fetch_optional(pool)
    .await?;
    let Some((id, kind, tid, oid, name, scopes, revoked, expires, created, roles, ended)) = row
    else {
        return Err(Refusal::Unknown);
    };
    let now = OffsetDateTime::now_utc();
    if let Some(at) = revoked {
        return Err(Refusal::Revoked(day(at)));
    }
    if expires <= now {
        return Err(Refusal::Expired(day(expires)));
    }
    let kind = TokenKind::parse(&kind).unwrap_or(TokenKind::Person);
    let mut scopes: Vec<Scope> = scopes.iter().filter_map(|s| Scope::parse(s)).collect();
    if kind == TokenKind::Person {
        // The person's roles as Gatehouse last saw them bound the token's scopes.
        let roles: Vec<Role> = roles
            .unwrap_or_default()
            .iter()
            .filter_map(|r| Role::ALL.into_iter().find(|x| x.label() == r))
            .collect();
        scopes.retain(|s| s.needs().iter().any(|r| roles.contains(r)));
        if scopes.is_empty() || ended.is_some_and(|e| e >= created) {
            return Err(Refusal::PersonGone);
        }
    }
    let actor = Actor {
        tid,
        oid: Some(oid),
        name: format!("{name} via token {id}"),
    };
    Ok(TokenCaller {
        id,
        kind,
        actor,
        scopes,
    })
}

fn day(at: OffsetDateTime) -> String {
    at.date().to_string()
}

/// Records one request made with token `id`.
pub async fn record_use(
    pool: &PgPool,
    id: i64,
    method: &str,
    path: &str,
    status: u16,
    request_id: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_token_uses (token_id, method, path, status, request_id)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(method)
    .bind(path)
    .bind(status as i16)
    .bind(request_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Makes a token for `maker` as checked; answers it and its secret (shown once).
pub async fn create(
    pool: &PgPool,
    maker: &SessionUser,
    token: &CheckedToken,
) -> anyhow::Result<(i64, String)> {
    let secret = new_secret()?;
    let (tid, oid, subject) = match (&token.kind, &token.service) {
        (TokenKind::Service, Some(service)) => {
            (None, service_oid(service), format!("service {service}"))
        }
        _ => (
            Some(maker.tid),
            maker.oid,
            format!("{} <{}>", maker.display_name, maker.username),
        ),
    };
    let scopes: Vec<&str> = token.scopes.iter().map(|s| s.as_str()).collect();
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_tokens (name, kind, subject_tid, subject_oid, subject_name, scopes,
                                 prefix, secret_sha256, created_by_oid, created_by_name, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(days => $11))
         RETURNING id",
    )
    .bind(&token.name)
    .bind(token.kind.as_str())
    .bind(tid)
    .bind(oid)
    .bind(&subject)
    .bind(&scopes)
    .bind(&secret[..SECRET_PREFIX.len() + 6])
    .bind(digest(&secret))
    .bind(maker.oid)
    .bind(maker.actor().name)
    .bind(token.days as i32)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &maker.actor(),
        audit::action::TOKEN_CREATED,
        Some(&format!("api_token:{id}")),
        serde_json::json!({
            "name": token.name, "kind": token.kind.as_str(), "acts_as": subject,
            "scopes": scopes, "days": token.days,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret))
}

#[derive(sqlx::FromRow)]
struct ListedToken {
    id: i64,
    name: String,
    kind: String,
    acts_as: String,
    scopes: Vec<String>,
    prefix: String,
    by: String,
    created: OffsetDateTime,
    expires: OffsetDateTime,
    revoked: Option<OffsetDateTime>,
    revoked_by: Option<String>,
    used: Option<OffsetDateTime>,
    uses: i64,
}

/// The tokens `viewer` may see: their own, and (admins) every service token.
pub async fn list(pool: &PgPool, viewer: &SessionUser) -> sqlx::Result<Vec<TokenView>> {
    let admin = viewer.roles.contains(&Role::Admin);
    let rows: Vec<ListedToken> = sqlx::query_as(
        "SELECT t.id, t.name, t.kind, t.subject_name AS acts_as, t.scopes, t.prefix,
                t.created_by_name AS by, t.created_at AS created, t.expires_at AS expires,
                t.revoked_at AS revoked, t.revoked_by, u.used, coalesce(u.uses, 0) AS uses
         FROM api_tokens t
         LEFT JOIN LATERAL (SELECT max(at) AS used, count(*) AS uses
                            FROM api_token_uses WHERE token_id = t.id) u ON true
         WHERE (t.kind = 'person' AND t.subject_oid = $1) OR (t.kind = 'service' AND $2)
         ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC
         LIMIT 500",
    )
    .bind(viewer.oid)
    .bind(admin)
    .fetch_all(pool)
    .await?;
    let now = OffsetDateTime::now_utc();
    Ok(rows
        .into_iter()
        .map(
            |ListedToken {
                 id,
                 name,
                 kind,
                 acts_as,
                 scopes,
                 prefix,
                 by,
                 created,
                 expires,
                 revoked,
                 revoked_by,
                 used,
                 uses,
             }| {
                let status = match (revoked, expires <= now) {
                    (Some(at), _) => format!(
                        "revoked {}{}",
                        day(at),
                        revoked_by.map(|b| format!(" by {b}")).unwrap_or_default()
                    ),
                    (None, true) => format!("expired {}", day(expires)),
                    (None, false) => "active".to_string(),
                };
                TokenView {
                    id,
                    name,
                    kind,
                    acts_as,
                    scopes,
                    prefix: format!("{prefix}…"),
                    created_by: by,
                    created_at: crate::backend::catalog::queries::utc(created),
                    expires_at: day(expires),
                    last_used_at: used.map(crate::backend::catalog::queries::utc),
                    uses,
                    active: revoked.is_none() && expires > now,
                    status,
                }
            },
        )
        .collect())
}

/// Revokes token `id` for `who` (its person, or an admin for a service token). Answers false
/// when there is no such token `who` may revoke, or it was revoked already.
pub async fn revoke(pool: &PgPool, who: &SessionUser, id: i64) -> sqlx::Result<bool> {
    let admin = who.roles.contains(&Role::Admin);
    let mut tx = pool.begin().await?;
    let revoked: Option<String> = sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = now(), revoked_by = $3
         WHERE id = $1 AND revoked_at IS NULL
           AND ((kind = 'person' AND subject_oid = $2) OR (kind = 'service' AND $4))
         RETURNING name",
    )
    .bind(id)
    .bind(who.oid)
    .bind(&who.display_name)
    .bind(admin)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(name) = revoked else {
        return Ok(false);
    };
    audit::record(
        &mut *tx,
        &who.actor(),
        audit::action::TOKEN_REVOKED,
        Some(&format!("api_token:{id}")),
        serde_json::json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
