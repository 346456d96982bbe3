//! The two kinds of API Gateway API, and HTTP API route keys (`GET /orders/{id}`, `ANY /x`,
//! `$default`) read as the (method, path) pairs the catalog and grants use for both kinds.

use serde::{Deserialize, Serialize};

/// The route an HTTP API sends every request no other route matches. It is catalogued as path
/// `$default` with method `ANY`; its invoke ARN names no method (`api/stage/$default`).
pub const DEFAULT_ROUTE: &str = "$default";

/// REST API (API Gateway v1) or HTTP API (v2).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum ApiKind {
    #[default]
    Rest,
    Http,
}

impl ApiKind {
    /// As the catalog stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKind::Rest => "REST",
            ApiKind::Http => "HTTP",
        }
    }

    pub fn parse(text: &str) -> ApiKind {
        if text == "HTTP" {
            ApiKind::Http
        } else {
            ApiKind::Rest
        }
    }

    /// How pages name it.
    pub fn label(self) -> &'static str {
        match self {
            ApiKind::Rest => "REST API",
            ApiKind::Http => "HTTP API",
        }
    }

    pub fn is_rest(&self) -> bool {
        *self == ApiKind::Rest
    }
}

/// `GET /orders/{id}` → `("GET", "/orders/{id}")`; `$default` → `("ANY", "$default")`; a key
/// that is neither (a WebSocket route such as `$connect`) → `None`.
pub fn route_key_parts(key: &str) -> Option<(&str, &str)> {
    if key == DEFAULT_ROUTE {
        return Some(("ANY", DEFAULT_ROUTE));
    }
    let (verb, path) = key.split_once(' ')?;
    (path.starts_with('/') && !verb.is_empty() && verb.chars().all(|c| c.is_ascii_uppercase()))
        .then_some((verb, path))
}

/// The route key of a catalogued (method, path) pair: the inverse of [`route_key_parts`].
pub fn route_key(method: &str, path: &str) -> String {
    if path == DEFAULT_ROUTE {
        DEFAULT_ROUTE.to_string()
    } else {
        format!("{method} {path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_read_as_method_and_path_and_back() {
        assert_eq!(
            route_key_parts("GET /orders/{id}"),
            Some(("GET", "/orders/{id}"))
        );
        assert_eq!(route_key_parts("ANY /{proxy+}"), Some(("ANY", "/{proxy+}")));
        assert_eq!(route_key_parts("$default"), Some(("ANY", "$default")));
        assert_eq!(route_key_parts("$connect"), None);
        assert_eq!(route_key_parts("GET orders"), None);
        assert_eq!(route_key_parts("get /orders"), None);
        for key in ["GET /orders/{id}", "ANY /", "$default"] {
            let (m, p) = route_key_parts(key).unwrap();
            assert_eq!(route_key(m, p), key);
        }
    }

    #[test]
    fn kinds_round_trip_through_the_catalog_text() {
        for kind in [ApiKind::Rest, ApiKind::Http] {
            assert_eq!(ApiKind::parse(kind.as_str()), kind);
        }
        assert_eq!(ApiKind::parse("anything else"), ApiKind::Rest);
    }
}
