//! Entra ID access tokens: the header read first (algorithm pinned, key id), the signature
//! checked with the tenant's key, then issuer, tenant, audience and lifetime checked against the
//! settings at a given time, and the caller read off the claims.

use std::collections::HashSet;

use base64_url::decode as b64;
pub use jsonwebtoken::Algorithm;
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// The expected issuer; `{tenantid}` stands for the token's tenant
    /// (`https://login.microsoftonline.com/{tenantid}/v2.0`).
    pub issuer: String,
    /// Tenants whose people may call (`tid`).
    pub tenants: Vec<String>,
    /// Accepted audiences (the API's application id URI or client id).
    pub audiences: Vec<String>,
    /// Accepted signing algorithms (RS256 unless configured).
    pub algorithms: Vec<Algorithm>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway: u64,
    /// Read the caller's groups from app roles (`roles`) as well, and accept a token whose
    /// groups overflowed.
    pub use_app_roles: bool,
}

/// Who is calling, from a valid token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub oid: String,
    /// The sign-in name (`upn`, else `preferred_username`).
    pub username: Option<String>,
    pub name: Option<String>,
    pub tenant: String,
    /// Group ids (and app role values when configured) to look up in the bundle.
    pub principals: Vec<String>,
}

impl Caller {
    /// The token's principals and the caller's own object id: an access request binds one
    /// person, and the bundle lists their object id where it lists groups (Entra object ids
    /// are unique across users and groups).
    pub fn principals_and_self(&self) -> Vec<String> {
        let mut all = self.principals.clone();
        all.push(self.oid.clone());
        all
    }

    /// How logs and refusals name the caller.
    pub fn label(&self) -> &str {
        self.username.as_deref().unwrap_or(&self.oid)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("no bearer token was sent")]
    Missing,
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    #[error("the token's algorithm {0} is not accepted (only {1})")]
    Algorithm(String, String),
    #[error("the token names no signing key (kid)")]
    NoKeyId,
    #[error("the token's signing key {0} is not one of the issuer's")]
    UnknownKey(String),
    #[error("the token's signature is not valid")]
    Signature,
    #[error("the token's issuer {0} is not the expected one")]
    Issuer(String),
    #[error("the token is from tenant {0}, which is not allowed")]
    Tenant(String),
    #[error("the token is for audience {0}, not this API")]
    Audience(String),
    #[error("the token expired at {exp} (now {now}, {leeway} s allowed)")]
    Expired { exp: u64, now: u64, leeway: u64 },
    #[error("the token is not valid before {0}")]
    NotYetValid(u64),
    #[error("the token lacks the {0} claim")]
    MissingClaim(&'static str),
    #[error("the token's groups overflowed (the person is in too many groups to list): assign app roles to groups and set GATEHOUSE_AUTHZ_USE_APP_ROLES")]
    Overage,
    #[error("the issuer's keys could not be read: {0}")]
    Keys(String),
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// The algorithm and key id of a token, refusing what is not a JWT or not an accepted algorithm
/// (`none`, or HS256 signed with the public key, among others) before any key is looked at.
pub fn header(token: &str, settings: &TokenSettings) -> Result<(Algorithm, String), TokenRefusal> {
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenRefusal::Malformed("a JWT has three parts".into()));
    };
    let bytes =
        b64(head).map_err(|_| TokenRefusal::Malformed("the header is not base64url".into()))?;
    let header: Header = serde_json::from_slice(&bytes)
        .map_err(|_| TokenRefusal::Malformed("the header is not JSON with alg".into()))?;
    let accepted = || {
        settings
            .algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let alg = settings
        .algorithms
        .iter()
        .copied()
        .find(|a| format!("{a:?}") == header.alg)
        .ok_or_else(|| TokenRefusal::Algorithm(header.alg.clone(), accepted()))?;
    let kid = header.kid.ok_or(TokenRefusal::NoKeyId)?;
    Ok((alg, kid))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<Audience>,
    exp: Option<u64>,
    nbf: Option<u64>,
    tid: Option<String>,
    oid: Option<String>,
    upn: Option<String>,
    preferred_username: Option<String>,
    name: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    _claim_names: Option<Value>,
    hasgroups: Option<bool>,
}

/// Checks the token's signature with `key` and its claims at time `now` (seconds since 1970).
pub fn verify(
    token: &str,
    alg: Algorithm,
    key: &DecodingKey,
    settings: &TokenSettings,
    now: u64,
) -> Result<Caller, TokenRefusal> {
    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    // Lifetime, issuer and audience are checked below, with reasons and the given time.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenRefusal::Signature,
            _ => TokenRefusal::Malformed(e.to_string()),
        })?
        .claims;
    let tid = claims.tid.ok_or(TokenRefusal::MissingClaim("tid"))?;
    let iss = claims.iss.ok_or(TokenRefusal::MissingClaim("iss"))?;
    if !settings
        .tenants
        .iter()
        .any(|t| t.eq_ignore_ascii_case(&tid))
    {
        return Err(TokenRefusal::Tenant(tid));
    }
    if iss != settings.issuer.replace("{tenantid}", &tid) {
        return Err(TokenRefusal::Issuer(iss));
    }
    let audiences = match claims.aud {
        Some(Audience::One(a)) => vec![a],
        Some(Audience::Many(list)) => list,
        None => return Err(TokenRefusal::MissingClaim("aud")),
    };
    if !audiences.iter().any(|a| settings.audiences.contains(a)) {
        return Err(TokenRefusal::Audience(audiences.join(", ")));
    }
    let exp = claims.exp.ok_or(TokenRefusal::MissingClaim("exp"))?;
    if now > exp + settings.leeway {
        return Err(TokenRefusal::Expired {
            exp,
            now,
            leeway: settings.leeway,
        });
    }
    if let Some(nbf) = claims.nbf {
        if nbf > now + settings.leeway {
            return Err(TokenRefusal::NotYetValid(nbf));
        }
    }
    let overflowed = claims.hasgroups == Some(true)
        || claims
            ._claim_names
            .as_ref()
            .is_some_and(|names| names.get("groups").is_some());
    if overflowed && !settings.use_app_roles {
        return Err(TokenRefusal::Overage);
    }
    let oid = claims.oid.ok_or(TokenRefusal::MissingClaim("oid"))?;
    let mut principals = claims.groups;
    if settings.use_app_roles {
        principals.extend(claims.roles);
    }
    Ok(Caller {
        oid,
        username: claims.upn.or(claims.preferred_username),
        name: claims.name,
        tenant: tid,
        principals,
    })
}

/// `Bearer <token>` → the token.
pub fn bearer(header_value: &str) -> Result<&str, TokenRefusal> {
    let value = header_value.trim();
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .unwrap_or(value)
        .trim();
    if token.is_empty() {
        return Err(TokenRefusal::Missing);
    }
    Ok(token)
}

mod base64_url {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

    pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
        URL_SAFE_NO_PAD.decode(text.trim_end_matches('='))
    }
}
