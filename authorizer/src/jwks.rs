//! The issuer's signing keys (JWKS), cached by key id. A token signed with a key not in the
//! cache makes one refetch (at most once per `min_refresh`), so a key rotation is picked up at
//! once and a stream of made-up key ids cannot hammer the issuer.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use jsonwebtoken::{jwk::JwkSet, DecodingKey};
use tokio::sync::{Mutex, RwLock};

use crate::token::TokenRefusal;

pub struct Jwks {
    uri: String,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, Arc<DecodingKey>>>,
    fetched_at: Mutex<Option<Instant>>,
    min_refresh: Duration,
}

impl Jwks {
    pub fn new(uri: String, min_refresh: Duration) -> Jwks {
        Jwks {
            uri,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("an HTTP client"),
            keys: RwLock::new(HashMap::new()),
            fetched_at: Mutex::new(None),
            min_refresh,
        }
    }

    /// The JWKS address an issuer's discovery document names.
    pub async fn discover(issuer: &str) -> Result<String, String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc: serde_json::Value = reqwest::get(&url)
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("{url}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        doc["jwks_uri"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("{url} names no jwks_uri"))
    }

    pub async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, TokenRefusal> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        let mut fetched_at = self.fetched_at.lock().await;
        // Another request may have refetched while this one waited.
        if let Some(key) = self.keys.read().await.get(kid) {
            return Ok(key.clone());
        }
        if fetched_at.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return Err(TokenRefusal::UnknownKey(kid.into()));
        }
        let set: JwkSet = self
            .http
            .get(&self.uri)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| TokenRefusal::Keys(e.to_string()))?
            .json()
            .await
            .map_err(|e| TokenRefusal::Keys(e.to_string()))?;
        *fetched_at = Some(Instant::now());
        let keys: HashMap<String, Arc<DecodingKey>> = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                DecodingKey::from_jwk(jwk).ok().map(|k| (kid, Arc::new(k)))
            })
            .collect();
        let found = keys.get(kid).cloned();
        *self.keys.write().await = keys;
        found.ok_or_else(|| TokenRefusal::UnknownKey(kid.into()))
    }
}
