//! Exact policies. IAM's `*` matches any characters, `/` included, so the grant
//! `GET /orders/{orderId}` (ARN `…/GET/orders/*`) would also let the role call
//! `GET /orders/{orderId}/items`. Here the catalogued routes a role's `Allow` patterns reach
//! without a grant get explicit `Deny` patterns, so that over the catalog the policy allows
//! exactly the granted routes — checked by evaluating the policy the way IAM does.
//!
//! A route stands for its requests: each `{parameter}` is a value without `/` (a greedy
//! `{proxy+}` one with), and a method `ANY` is every HTTP verb, as the request ARN names it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{
    grant::{ApiRef, Grant},
    names::HttpMethod,
    route_key::{ApiKind, DEFAULT_ROUTE},
};

/// What the catalog holds of one API: its stages and its methods (`path`, `http_method`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoutes {
    pub stages: Vec<String>,
    pub methods: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "ApiKind::is_rest")]
    pub kind: ApiKind,
}

/// The catalogued routes of the APIs grants name.
pub type RouteCatalog = BTreeMap<ApiRef, ApiRoutes>;

/// The verbs a request ARN can name.
const VERBS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];
/// A parameter's value in a sample request: `@` is not allowed in a path segment, so it never
/// equals a static segment.
const VALUE: &str = "@value";

/// IAM's ARN matching (`*` any run of characters, `/` included; `?` one character): the
/// authorizer's, so the policies Gatehouse writes and the authorizer's are judged alike.
pub use authorizer::route::iam_matches;

/// One request a catalogued route serves.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    pub api: ApiRef,
    pub stage: String,
    pub verb: String,
    /// The catalogued path (`/orders/{orderId}`).
    pub path: String,
    /// The method as catalogued (`GET`, or `ANY`).
    pub method: String,
}

impl Request {
    fn prefix(&self) -> String {
        format!(
            "arn:{}:execute-api:{}:{}:{}/{}/{}/",
            self.api.region.partition().as_str(),
            self.api.region.as_str(),
            self.api.account.as_str(),
            self.api.api_id.as_str(),
            self.stage,
            self.verb
        )
    }

    /// The ARN API Gateway asks IAM about for this request.
    /// An HTTP API's `$default` route is invoked as `api/stage/$default`, without a verb.
    fn default_route_arn(&self) -> Option<String> {
        (self.path == DEFAULT_ROUTE).then(|| {
            format!(
                "arn:{}:execute-api:{}:{}:{}/{}/{DEFAULT_ROUTE}",
                self.api.region.partition().as_str(),
                self.api.region.as_str(),
                self.api.account.as_str(),
                self.api.api_id.as_str(),
                self.stage,
            )
        })
    }

    pub fn arn(&self) -> String {
        if let Some(arn) = self.default_route_arn() {
            return arn;
        }
        let path: Vec<&str> = self.path[1..]
            .split('/')
            .map(|s| match s {
                s if s.starts_with('{') && s.ends_with("+}") => "@value/@deeper",
                s if s.starts_with('{') => VALUE,
                s => s,
            })
            .collect();
        format!("{}{}", self.prefix(), path.join("/"))
    }

    /// A pattern naming this route's requests (parameters as `*`) in this stage and verb.
    pub fn pattern(&self) -> String {
        if let Some(arn) = self.default_route_arn() {
            return arn;
        }
        let path: Vec<&str> = self.path[1..]
            .split('/')
            .map(|s| if s.starts_with('{') { "*" } else { s })
            .collect();
        format!("{}{}", self.prefix(), path.join("/"))
    }

    pub fn describe(&self) -> String {
        format!("{} {} in {}", self.verb, self.path, self.stage)
    }
}

/// Every request the catalog's routes of `api` serve.
pub fn requests(api: &ApiRef, routes: &ApiRoutes) -> Vec<Request> {
    let mut out = Vec::new();
    for stage in &routes.stages {
        for (path, method) in &routes.methods {
            let verbs: Vec<&str> = if path == DEFAULT_ROUTE {
                vec!["ANY"] // one request ARN, whatever the verb
            } else if method == "ANY" {
                VERBS.to_vec()
            } else {
                vec![method.as_str()]
            };
            out.extend(verbs.into_iter().map(|verb| Request {
                api: api.clone(),
                stage: stage.clone(),
                verb: verb.into(),
                path: path.clone(),
                method: method.clone(),
            }));
        }
    }
    out
}

/// Whether a grant covers a request: Gatehouse's meaning of a grant, which the generated policy
/// must match exactly.
pub fn grant_covers(g: &Grant, r: &Request) -> bool {
    g.api == r.api
        && (g.stage.as_str() == "*" || g.stage.as_str() == r.stage)
        && (g.method == HttpMethod::Any || g.method.as_str() == r.verb)
        && g.path.covers(&r.path)
}

/// The catalogued routes a role may not be given without also giving it another, ungranted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("IAM cannot tell {granted} from {denied} (a path parameter's `*` reaches across `/`): granting one without the other cannot be made exact; grant both, or neither")]
pub struct NotExact {
    pub granted: String,
    pub denied: String,
}

/// The `Deny` patterns that make `grants`' allow patterns exact over `catalog`, sorted.
pub fn exact_denies(grants: &[&Grant], catalog: &RouteCatalog) -> Result<Vec<String>, NotExact> {
    let allows: BTreeSet<String> = grants.iter().map(|g| g.invoke_arn()).collect();
    let apis: BTreeSet<&ApiRef> = grants.iter().map(|g| &g.api).collect();
    let all: Vec<Request> = apis
        .into_iter()
        .filter_map(|api| catalog.get(api).map(|routes| requests(api, routes)))
        .flatten()
        .collect();
    let (granted, ungranted): (Vec<&Request>, Vec<&Request>) = all
        .iter()
        .partition(|r| grants.iter().any(|g| grant_covers(g, r)));
    let mut denies: BTreeMap<String, &Request> = BTreeMap::new();
    for r in ungranted {
        let arn = r.arn();
        if allows.iter().any(|a| iam_matches(a, &arn)) {
            denies.insert(r.pattern(), r);
        }
    }
    for g in granted {
        let arn = g.arn();
        if let Some((_, denied)) = denies.iter().find(|(d, _)| iam_matches(d, &arn)) {
            return Err(NotExact {
                granted: g.describe(),
                denied: denied.describe(),
            });
        }
    }
    Ok(denies.into_keys().collect())
}

/// Whether a policy of `allows` and `denies` lets IAM allow `arn` (an explicit deny wins).
pub fn allows(allow: &[String], deny: &[String], arn: &str) -> bool {
    allow.iter().any(|a| iam_matches(a, arn)) && !deny.iter().any(|d| iam_matches(d, arn))
}

#[cfg(test)]
mod tests;
