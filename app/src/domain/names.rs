//! The small values mappings are made of, each parsed once with a specific error: HTTP methods,
//! stage names, resource paths, API ids, accounts, regions, partitions and role ARNs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value was refused, worded for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

/// An HTTP method of API Gateway, or `*` for every method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HttpMethod {
    Any,
    Delete,
    Get,
    Head,
    Options,
    Patch,
    Post,
    Put,
}

impl HttpMethod {
    pub const ALL: [HttpMethod; 8] = [
        HttpMethod::Any,
        HttpMethod::Delete,
        HttpMethod::Get,
        HttpMethod::Head,
        HttpMethod::Options,
        HttpMethod::Patch,
        HttpMethod::Post,
        HttpMethod::Put,
    ];

    pub fn parse(text: &str) -> Result<HttpMethod, Invalid> {
        let method = match text.trim() {
            "*" | "ANY" => HttpMethod::Any,
            "DELETE" => HttpMethod::Delete,
            "GET" => HttpMethod::Get,
            "HEAD" => HttpMethod::Head,
            "OPTIONS" => HttpMethod::Options,
            "PATCH" => HttpMethod::Patch,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            other => {
                return Err(invalid(format!(
                    "`{other}` is not an HTTP method: use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or * (any)"
                )))
            }
        };
        Ok(method)
    }

    /// As an invoke ARN writes it (`*` for any).
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Any => "*",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
        }
    }

    /// Whether a grant of `self` lets a caller use `other` (`*` covers every method; API
    /// Gateway's own `ANY` method is covered by `*` only).
    pub fn covers(self, other: &str) -> bool {
        self == HttpMethod::Any || self.as_str() == other
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stage name as API Gateway allows it (letters, digits, `-`, `_`; at most 128), or `*`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StageName(String);

impl StageName {
    pub fn parse(text: &str) -> Result<StageName, Invalid> {
        let t = text.trim();
        if t == "*" {
            return Ok(StageName(t.into()));
        }
        if t.is_empty() {
            return Err(invalid("a stage name is required (or * for every stage)"));
        }
        if t.len() > 128 {
            return Err(invalid("a stage name has at most 128 characters"));
        }
        if let Some(c) = t
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(invalid(format!(
                "a stage name has only letters, digits, - and _ (not `{c}`)"
            )));
        }
        Ok(StageName(t.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A resource path: `/`, `/orders/{orderId}`, a subtree `/orders/*`, or an HTTP API's
/// `$default` route (which only a grant on `$default` itself covers).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourcePath(String);

fn valid_segment(segment: &str) -> bool {
    if let Some(inner) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        let name = inner.strip_suffix('+').unwrap_or(inner);
        return !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    }
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | ':' | '@'))
}

impl ResourcePath {
    pub fn parse(text: &str) -> Result<ResourcePath, Invalid> {
        let t = text.trim();
        if t == crate::domain::route_key::DEFAULT_ROUTE {
            return Ok(ResourcePath(t.into()));
        }
        if !t.starts_with('/') {
            return Err(invalid(format!(
                "a resource path starts with / or is an HTTP API's $default route (got `{t}`)"
            )));
        }
        if t == "/" || t == "/*" {
            return Ok(ResourcePath(t.into()));
        }
        let body = t.strip_suffix("/*").unwrap_or(t);
        if body.ends_with('/') {
            return Err(invalid(
                "a resource path does not end with / (use /* for a subtree)",
            ));
        }
        for segment in body[1..].split('/') {
            if segment.is_empty() {
                return Err(invalid("a resource path has no empty segments (//)"));
            }
            if segment.contains('*') {
                return Err(invalid("* is allowed only as the last segment, as /*"));
            }
            if !valid_segment(segment) {
                return Err(invalid(format!(
                    "`{segment}` is not a path segment: letters, digits, - _ . ~ or a {{parameter}}"
                )));
            }
        }
        if t.len() > 1024 {
            return Err(invalid("a resource path has at most 1024 characters"));
        }
        Ok(ResourcePath(t.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_subtree(&self) -> bool {
        self.0.ends_with("/*")
    }

    /// An HTTP API's `$default` route.
    pub fn is_default_route(&self) -> bool {
        self.0 == crate::domain::route_key::DEFAULT_ROUTE
    }

    /// The path as an invoke ARN writes it: without the leading `/`, path parameters as `*`.
    pub fn arn_part(&self) -> String {
        self.0[1..]
            .split('/')
            .map(|s| if s.starts_with('{') { "*" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Whether a grant on `self` covers the API's resource `path` (`{id}` matches any segment).
    pub fn covers(&self, path: &str) -> bool {
        // `$default` is no path: only a grant on it covers it (its ARN is `stage/$default`,
        // which no path pattern reaches).
        let default = crate::domain::route_key::DEFAULT_ROUTE;
        if self.0 == default || path == default {
            return self.0 == path;
        }
        let (base, subtree) = match self.0.strip_suffix("/*") {
            Some(base) => (base, true),
            None => (self.0.as_str(), false),
        };
        let mine: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
        let theirs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // A grant's parameter covers any segment; a grant's literal segment covers only that
        // segment (not a parameter, which serves other values too).
        let fits = |a: &str, b: &str| a == b || a.starts_with('{');
        if subtree {
            theirs.len() > mine.len() && mine.iter().zip(&theirs).all(|(a, b)| fits(a, b))
        } else {
            mine.len() == theirs.len() && mine.iter().zip(&theirs).all(|(a, b)| fits(a, b))
        }
    }
}

/// An API Gateway REST API id (10 lowercase letters and digits).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApiId(String);

impl ApiId {
    pub fn parse(text: &str) -> Result<ApiId, Invalid> {
        let t = text.trim();
        if t.len() == 10
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            Ok(ApiId(t.into()))
        } else {
            Err(invalid(format!(
                "`{t}` is not an API id (10 lowercase letters and digits)"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(text: &str) -> Result<AccountId, Invalid> {
        let t = text.trim();
        if t.len() == 12 && t.chars().all(|c| c.is_ascii_digit()) {
            Ok(AccountId(t.into()))
        } else {
            Err(invalid(format!(
                "`{t}` is not an AWS account id (12 digits)"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Partition {
    Aws,
    AwsCn,
    AwsUsGov,
}

impl Partition {
    pub fn parse(text: &str) -> Result<Partition, Invalid> {
        match text {
            "aws" => Ok(Partition::Aws),
            "aws-cn" => Ok(Partition::AwsCn),
            "aws-us-gov" => Ok(Partition::AwsUsGov),
            other => Err(invalid(format!(
                "`{other}` is not a partition: aws, aws-cn or aws-us-gov"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Region(String);

impl Region {
    pub fn parse(text: &str) -> Result<Region, Invalid> {
        let t = text.trim();
        let parts: Vec<&str> = t.split('-').collect();
        let ok = parts.len() >= 3
            && parts.iter().all(|p| !p.is_empty())
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && parts
                .last()
                .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
        if ok {
            Ok(Region(t.into()))
        } else {
            Err(invalid(format!("`{t}` is not a region such as eu-west-1")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The partition a region belongs to.
    pub fn partition(&self) -> Partition {
        if self.0.starts_with("cn-") {
            Partition::AwsCn
        } else if self.0.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else {
            Partition::Aws
        }
    }
}

/// `arn:{partition}:iam::{account}:role/{path}{name}`
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RoleArn {
    pub partition: Partition,
    pub account: AccountId,
    /// With its path: `service/orders-readers`.
    pub name_with_path: String,
}

impl RoleArn {
    pub fn parse(text: &str) -> Result<RoleArn, Invalid> {
        let t = text.trim();
        let parts: Vec<&str> = t.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" {
            return Err(invalid(format!(
                "`{t}` is not an ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            )));
        }
        let partition = Partition::parse(parts[1])?;
        if parts[2] != "iam" || !parts[3].is_empty() {
            return Err(invalid(format!("`{t}` is not an IAM role ARN")));
        }
        let account = AccountId::parse(parts[4])?;
        let name_with_path = parts[5]
            .strip_prefix("role/")
            .ok_or_else(|| invalid(format!("`{t}` names no role (…:role/NAME)")))?;
        let name = name_with_path.rsplit('/').next().unwrap_or("");
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
        if !name_ok {
            return Err(invalid(format!("`{name}` is not an IAM role name")));
        }
        Ok(RoleArn {
            partition,
            account,
            name_with_path: name_with_path.to_string(),
        })
    }

    pub fn name(&self) -> &str {
        self.name_with_path.rsplit('/').next().unwrap_or("")
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:iam::{}:role/{}",
            self.partition.as_str(),
            self.account.as_str(),
            self.name_with_path
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_stages_say_what_is_wrong() {
        assert_eq!(HttpMethod::parse("GET"), Ok(HttpMethod::Get));
        assert_eq!(HttpMethod::parse("*"), Ok(HttpMethod::Any));
        assert!(HttpMethod::parse("FETCH")
            .unwrap_err()
            .0
            .contains("`FETCH` is not an HTTP method"));
        assert!(StageName::parse("prod").is_ok());
        assert!(StageName::parse("*").is_ok());
        assert!(StageName::parse("pr od").unwrap_err().0.contains("not ` `"));
        assert!(StageName::parse("").is_err());
    }

    #[test]
    fn paths_start_with_a_slash_and_wildcards_end_them() {
        for good in [
            "/",
            "/*",
            "/orders",
            "/orders/{orderId}/items",
            "/orders/*",
            "/{proxy+}",
        ] {
            assert!(ResourcePath::parse(good).is_ok(), "{good}");
        }
        let err = |p: &str| ResourcePath::parse(p).unwrap_err().0;
        assert!(err("orders").contains("starts with /"));
        assert!(err("/orders/").contains("does not end with /"));
        assert!(err("/a//b").contains("empty segments"));
        assert!(err("/a/*/b").contains("last segment"));
        assert!(err("/a b").contains("not a path segment"));
    }

    #[test]
    fn paths_cover_the_routes_they_name() {
        let p = |s: &str| ResourcePath::parse(s).unwrap();
        assert!(p("/orders/{id}").covers("/orders/{orderId}"));
        assert!(p("/orders/*").covers("/orders/{orderId}/items"));
        assert!(!p("/orders/*").covers("/orders"));
        assert!(!p("/orders").covers("/orders/{orderId}"));
        assert!(p("/*").covers("/health"));
        assert!(p("$default").covers("$default"));
        assert!(!p("/*").covers("$default"));
        assert!(!p("$default").covers("/orders"));
        assert!(ResourcePath::parse("$defaults").is_err());
        assert_eq!(p("/orders/{orderId}/items").arn_part(), "orders/*/items");
    }

    #[test]
    fn role_arns_parse_in_every_partition() {
        let arn =
            RoleArn::parse("arn:aws-us-gov:iam::123456789012:role/service/orders-readers").unwrap();
        assert_eq!(arn.partition, Partition::AwsUsGov);
        assert_eq!(arn.name(), "orders-readers");
        assert_eq!(
            arn.to_string(),
            "arn:aws-us-gov:iam::123456789012:role/service/orders-readers"
        );
        assert!(RoleArn::parse("arn:aws-mars:iam::123456789012:role/x")
            .unwrap_err()
            .0
            .contains("partition"));
        assert!(RoleArn::parse("arn:aws:iam::12345:role/x")
            .unwrap_err()
            .0
            .contains("12 digits"));
        assert!(RoleArn::parse("arn:aws:iam::123456789012:user/x")
            .unwrap_err()
            .0
            .contains("names no role"));
        assert_eq!(
            Region::parse("cn-north-1").unwrap().partition(),
            Partition::AwsCn
        );
        assert!(Region::parse("moon").is_err());
    }
}
