//! The authorizer's settings, from its environment.

use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::token::TokenSettings;

#[derive(Clone, Debug)]
pub struct Config {
    pub token: TokenSettings,
    /// `None`: found through the issuer's discovery document.
    pub jwks_uri: Option<String>,
    pub bucket: String,
    pub key: String,
    pub refresh: Duration,
    pub max_staleness: Duration,
    pub simple_http_response: bool,
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// `s3://bucket/key` → (bucket, key).
pub fn s3_location(text: &str) -> Result<(String, String), String> {
    let rest = text
        .trim()
        .strip_prefix("s3://")
        .ok_or_else(|| format!("`{text}` is not s3://BUCKET/KEY"))?;
    match rest.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
            Ok((bucket.into(), key.into()))
        }
        _ => Err(format!("`{text}` is not s3://BUCKET/KEY")),
    }
}

impl Config {
    /// Reads `GATEHOUSE_AUTHZ_*` through `get`, naming each missing or bad setting.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let required = |name: &str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| format!("{name} is required"))
        };
        let seconds = |name: &str, default: u64| -> Result<u64, String> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{name}: `{v}` is not a number of seconds")),
            }
        };
        let algorithms = get("GATEHOUSE_AUTHZ_ALGORITHMS")
            .map(|v| list(&v))
            .unwrap_or_else(|| vec!["RS256".into()])
            .iter()
            .map(|a| match a.as_str() {
                "RS256" => Ok(Algorithm::RS256),
                "RS384" => Ok(Algorithm::RS384),
                "RS512" => Ok(Algorithm::RS512),
                "PS256" => Ok(Algorithm::PS256),
                "ES256" => Ok(Algorithm::ES256),
                other => Err(format!(
                    "GATEHOUSE_AUTHZ_ALGORITHMS: `{other}` is not accepted (asymmetric algorithms only: RS256, RS384, RS512, PS256, ES256)"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (bucket, key) = s3_location(&required("GATEHOUSE_AUTHZ_BUNDLE")?)
            .map_err(|e| format!("GATEHOUSE_AUTHZ_BUNDLE: {e}"))?;
        let simple_http_response = match get("GATEHOUSE_AUTHZ_HTTP_RESPONSE")
            .as_deref()
            .map(str::trim)
        {
            None | Some("simple") => true,
            Some("policy") => false,
            Some(other) => {
                return Err(format!(
                    "GATEHOUSE_AUTHZ_HTTP_RESPONSE: `{other}` is neither simple nor policy"
                ))
            }
        };
        Ok(Config {
            token: TokenSettings {
                issuer: required("GATEHOUSE_AUTHZ_ISSUER")?,
                tenants: list(&required("GATEHOUSE_AUTHZ_TENANTS")?),
                audiences: list(&required("GATEHOUSE_AUTHZ_AUDIENCES")?),
                algorithms,
                leeway: seconds("GATEHOUSE_AUTHZ_LEEWAY_SECONDS", 60)?,
                use_app_roles: matches!(
                    get("GATEHOUSE_AUTHZ_USE_APP_ROLES").as_deref(),
                    Some("true" | "1")
                ),
            },
            jwks_uri: get("GATEHOUSE_AUTHZ_JWKS_URI").filter(|v| !v.trim().is_empty()),
            bucket,
            key,
            refresh: Duration::from_secs(seconds("GATEHOUSE_AUTHZ_REFRESH_SECONDS", 30)?),
            max_staleness: Duration::from_secs(seconds(
                "GATEHOUSE_AUTHZ_MAX_STALENESS_SECONDS",
                300,
            )?),
            simple_http_response,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_and_each_bad_one_named() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let ok = Config::from_lookup(env(&[
            (
                "GATEHOUSE_AUTHZ_ISSUER",
                "https://login.microsoftonline.com/{tenantid}/v2.0",
            ),
            ("GATEHOUSE_AUTHZ_TENANTS", "t1, t2"),
            ("GATEHOUSE_AUTHZ_AUDIENCES", "api://orders"),
            (
                "GATEHOUSE_AUTHZ_BUNDLE",
                "s3://gatehouse/access-bundle.json.gz",
            ),
        ]))
        .unwrap();
        assert_eq!(ok.token.tenants, vec!["t1", "t2"]);
        assert_eq!(
            (ok.bucket.as_str(), ok.key.as_str()),
            ("gatehouse", "access-bundle.json.gz")
        );
        assert_eq!(ok.token.algorithms, vec![Algorithm::RS256]);
        let err =
            Config::from_lookup(env(&[("GATEHOUSE_AUTHZ_BUNDLE", "gatehouse/x")])).unwrap_err();
        assert!(err.contains("s3://BUCKET/KEY"), "{err}");
        let err = Config::from_lookup(env(&[
            ("GATEHOUSE_AUTHZ_BUNDLE", "s3://b/k"),
            ("GATEHOUSE_AUTHZ_ALGORITHMS", "HS256"),
        ]))
        .unwrap_err();
        assert!(err.contains("HS256"), "{err}");
        let err = Config::from_lookup(env(&[("GATEHOUSE_AUTHZ_BUNDLE", "s3://b/k")])).unwrap_err();
        assert_eq!(err, "GATEHOUSE_AUTHZ_ISSUER is required");
    }
}
