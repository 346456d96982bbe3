//! IAM's evaluation of identity policies for one request (`execute-api:Invoke` on a method ARN),
//! as AWS documents it: an explicit `Deny` that matches wins; else a matching `Allow` allows; else
//! the request is implicitly denied. `Action`/`NotAction` and `Resource`/`NotResource` with IAM's
//! wildcards (`*` any run of characters, `/` included; `?` one character; actions compared
//! without case). A statement with a `Condition` is not applied (Gatehouse cannot know the
//! request's context): it is reported, so "allowed" never rests on a condition. No IO.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::exact::iam_matches;

/// A statement that decided, or could have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRef {
    /// The policy it is in (a name people know: `gatehouse-invoke`, a managed policy's ARN).
    pub policy: String,
    /// Its `Sid`, or its position (`#2`) when it has none.
    pub sid: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// A matching `Allow` and no matching `Deny`.
    Allowed(StatementRef),
    /// A matching `Deny`: it wins over any `Allow`.
    Denied(StatementRef),
    /// No statement matches.
    ImplicitlyDenied,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub verdict: Verdict,
    /// Statements that would match but for their `Condition` (not applied).
    pub conditional: Vec<StatementRef>,
}

impl Evaluation {
    pub fn allowed(&self) -> bool {
        matches!(self.verdict, Verdict::Allowed(_))
    }
}

/// The strings of a policy element that may be one string or a list.
fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(all) => all.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn action_matches(pattern: &str, action: &str) -> bool {
    iam_matches(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

/// Whether the statement's action and resource elements match the request.
fn statement_matches(st: &Value, action: &str, resource: &str) -> bool {
    let action_ok = match (st.get("Action"), st.get("NotAction")) {
        (Some(a), _) => strings(a).iter().any(|p| action_matches(p, action)),
        (None, Some(n)) => !strings(n).iter().any(|p| action_matches(p, action)),
        (None, None) => false,
    };
    let resource_ok = match (st.get("Resource"), st.get("NotResource")) {
        (Some(r), _) => strings(r).iter().any(|p| iam_matches(p, resource)),
        (None, Some(n)) => !strings(n).iter().any(|p| iam_matches(p, resource)),
        (None, None) => false,
    };
    action_ok && resource_ok
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(all)) => all.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// Evaluates `action` on `resource` against every policy in `policies` (name, document).
pub fn evaluate(policies: &[(String, Value)], action: &str, resource: &str) -> Evaluation {
    let mut allow = None;
    let mut conditional = Vec::new();
    for (name, doc) in policies {
        for (i, st) in statements(doc).into_iter().enumerate() {
            if !statement_matches(st, action, resource) {
                continue;
            }
            let at = StatementRef {
                policy: name.clone(),
                sid: st
                    .get("Sid")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .unwrap_or_else(|| format!("#{}", i + 1)),
            };
            if st.get("Condition").is_some() {
                conditional.push(at);
                continue;
            }
            match st.get("Effect").and_then(Value::as_str) {
                Some("Deny") => {
                    return Evaluation {
                        verdict: Verdict::Denied(at),
                        conditional,
                    }
                }
                Some("Allow") if allow.is_none() => allow = Some(at),
                _ => {}
            }
        }
    }
    Evaluation {
        verdict: allow.map_or(Verdict::ImplicitlyDenied, Verdict::Allowed),
        conditional,
    }
}

/// What decides whether a caller may call a method, by its authorization type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reach {
    /// `NONE`: anyone who can reach the API.
    Anyone,
    /// `AWS_IAM`: the caller's identity policies, evaluated.
    Iam(Evaluation),
    /// `CUSTOM`, `JWT`, `COGNITO_USER_POOLS`: an authorizer (named by the type).
    Authorizer(String),
}

/// The method's reach; `iam` is evaluated only for `AWS_IAM`.
pub fn reach(authorization_type: &str, iam: impl FnOnce() -> Evaluation) -> Reach {
    match authorization_type {
        "NONE" => Reach::Anyone,
        "AWS_IAM" => Reach::Iam(iam()),
        other => Reach::Authorizer(other.to_string()),
    }
}

/// A catalogued route a role may call through a policy that is not Gatehouse's, and no approved
/// grant of the role covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideRoute {
    /// `GET /orders in prod`, and the API.
    pub route: String,
    pub api_id: String,
    pub by: StatementRef,
}

/// The routes of `catalog` that `outside` (the role's policies that are not Gatehouse's) allow
/// and none of `grants` (the role's approved grants) covers.
pub fn outside_access(
    grants: &[&super::grant::Grant],
    outside: &[(String, Value)],
    catalog: &super::exact::RouteCatalog,
) -> Vec<OutsideRoute> {
    if outside.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for (api, routes) in catalog {
        for r in super::exact::requests(api, routes) {
            if grants.iter().any(|g| super::exact::grant_covers(g, &r)) {
                continue;
            }
            if let Verdict::Allowed(by) = evaluate(outside, "execute-api:Invoke", &r.arn()).verdict
            {
                found.push(OutsideRoute {
                    route: r.describe(),
                    api_id: api.api_id.as_str().to_string(),
                    by,
                });
            }
        }
    }
    found
}

#[cfg(test)]
#[path = "iam_eval_tests.rs"]
mod tests;
