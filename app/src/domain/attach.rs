//! Token mode's attachment: on the APIs configured for it, a push makes sure the API has
//! Gatehouse's Lambda authorizer (`CreateAuthorizer`/`UpdateAuthorizer`) and that every granted
//! method is `CUSTOM` with it (`UpdateMethod`; an HTTP API's routes by `UpdateRoute`), then
//! redeploys the stages concerned. No IO.
//!
//! Never loosened: a method no longer granted keeps Gatehouse's authorizer (the bundle then
//! refuses every token for it), and the authorizer is never deleted.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{
    call::{function_of, Call, Step},
    desired::DesiredState,
    grant::{ApiRef, Grant},
    method_access::AuthorizerInfo,
    plan::{ApiActual, PlanError},
    route_key::{route_key, ApiKind},
};

/// The name Gatehouse gives the authorizer it creates.
pub const AUTHORIZER_NAME: &str = "gatehouse";
/// Where API Gateway finds the token a `TOKEN` authorizer is given.
pub const IDENTITY_SOURCE: &str = "method.request.header.Authorization";
/// The same for an HTTP API's `REQUEST` authorizer.
pub const HTTP_IDENTITY_SOURCE: &str = "$request.header.Authorization";
/// API Gateway's longest authorizer result cache.
pub const MAX_TTL_SECONDS: u32 = 3_600;

/// Which APIs pushes attach Gatehouse's authorizer to: every API, those of some targets
/// (`ACCOUNT/REGION`), and those named by id or by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttachScope {
    all: bool,
    targets: BTreeSet<String>,
    apis: BTreeSet<String>,
}

impl AttachScope {
    /// A comma-separated list of `*`, `ACCOUNT/REGION`, API ids and API names.
    pub fn parse(text: &str) -> Result<AttachScope, String> {
        let mut scope = AttachScope::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                scope.all = true;
            } else if let Some((account, region)) = entry.split_once('/') {
                let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
                let region_ok = !region.is_empty()
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !(account_ok && region_ok) {
                    return Err(format!(
                        "`{entry}` is not a target (ACCOUNT/REGION, e.g. 123456789012/eu-west-1)"
                    ));
                }
                scope.targets.insert(entry.to_string());
            } else if entry.len() > 1024 || entry.chars().any(char::is_control) {
                return Err(format!("`{entry}` is not an API id or name"));
            } else {
                scope.apis.insert(entry.to_string());
            }
        }
        Ok(scope)
    }

    pub fn is_empty(&self) -> bool {
        !self.all && self.targets.is_empty() && self.apis.is_empty()
    }

    /// Whether the API (by reference and by its name in API Gateway) is in the scope.
    pub fn covers(&self, api: &ApiRef, name: &str) -> bool {
        self.all
            || self
                .targets
                .contains(&format!("{}/{}", api.account.as_str(), api.region.as_str()))
            || self.apis.contains(api.api_id.as_str())
            || (!name.is_empty() && self.apis.contains(name))
    }
}

/// The authorizer an API in the scope should have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizerSpec {
    /// The Lambda function's ARN.
    pub function_arn: String,
    /// Seconds API Gateway caches a token's answer (0: not cached).
    pub ttl_seconds: u32,
}

impl AuthorizerSpec {
    /// For the API's target: `function` is an ARN, or a name in the API's account and region.
    pub fn for_api(api: &ApiRef, function: &str, ttl_seconds: u32) -> AuthorizerSpec {
        let function_arn = if function.starts_with("arn:") {
            function.to_string()
        } else {
            format!(
                "arn:aws:lambda:{}:{}:function:{function}",
                api.region.as_str(),
                api.account.as_str()
            )
        };
        AuthorizerSpec {
            function_arn,
            ttl_seconds,
        }
    }

    /// The invocation URI API Gateway calls the function by.
    pub fn uri(&self, region: &str) -> String {
        let partition = self.function_arn.split(':').nth(1).unwrap_or("aws");
        format!(
            "arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{}/invocations",
            self.function_arn
        )
    }
}

/// Gatehouse's authorizer among the API's: one invoking the function (named `gatehouse` first).
fn find<'a>(authorizers: &'a [AuthorizerInfo], function: &str) -> Option<&'a AuthorizerInfo> {
    let mine = || authorizers.iter().filter(|a| a.is_gatehouse(function));
    mine()
        .find(|a| a.name == AUTHORIZER_NAME)
        .or_else(|| mine().next())
}

/// The steps that attach Gatehouse's authorizer to every method of `api` a desired grant
/// covers; the stages those grants name go into `stages` when anything changes.
pub fn plan(
    desired: &DesiredState,
    api: &ApiActual,
    spec: &AuthorizerSpec,
    stages: &mut BTreeSet<String>,
) -> Result<Vec<Step>, PlanError> {
    let grants: Vec<&Grant> = desired.grants.iter().filter(|g| g.api == api.api).collect();
    if grants.is_empty() {
        return Ok(Vec::new());
    }
    let target = format!("{}/{}", api.api.account.as_str(), api.api.region.as_str());
    let api_id = api.api.api_id.as_str().to_string();
    let uri = spec.uri(api.api.region.as_str());
    let mut steps = Vec::new();
    let mut touched: Vec<&Grant> = Vec::new();
    let existing = find(&api.authorizers, &spec.function_arn);
    match existing {
        None => {
            if let Some(other) = api.authorizers.iter().find(|a| a.name == AUTHORIZER_NAME) {
                return Err(PlanError::AuthorizerNameTaken {
                    api: api_id,
                    uri: other.uri.clone().unwrap_or_default(),
                });
            }
            steps.push(Step {
                target: target.clone(),
                call: Call::CreateAuthorizer {
                    api_id: api_id.clone(),
                    name: AUTHORIZER_NAME.into(),
                    uri: uri.clone(),
                    identity_source: match api.kind {
                        ApiKind::Rest => IDENTITY_SOURCE,
                        ApiKind::Http => HTTP_IDENTITY_SOURCE,
                    }
                    .into(),
                    ttl_seconds: spec.ttl_seconds,
                    kind: api.kind,
                },
            });
            touched.extend(grants.iter().copied());
        }
        Some(have) => {
            let had_function = have.uri.as_deref().map_or("none", function_of);
            let had_ttl = have
                .ttl_seconds
                .map_or_else(|| "for API Gateway's default".into(), |s| format!("{s} s"));
            let mut changes = Vec::new();
            if have.uri.as_deref() != Some(uri.as_str()) {
                changes.push(format!(
                    "function {} (was {had_function})",
                    spec.function_arn
                ));
            }
            if have.ttl_seconds != Some(spec.ttl_seconds) {
                changes.push(format!(
                    "answers cached {} s (was {had_ttl})",
                    spec.ttl_seconds
                ));
            }
            if !changes.is_empty() {
                steps.push(Step {
                    target: target.clone(),
                    call: Call::UpdateAuthorizer {
                        api_id: api_id.clone(),
                        authorizer_id: have.id.clone(),
                        name: have.name.clone(),
                        uri: uri.clone(),
                        ttl_seconds: spec.ttl_seconds,
                        from: format!("function {had_function}, answers cached {had_ttl}"),
                        changes,
                        kind: api.kind,
                    },
                });
                touched.extend(grants.iter().copied());
            }
        }
    }
    let name = existing.map_or(AUTHORIZER_NAME, |a| a.name.as_str());
    for m in &api.methods {
        let covering: Vec<&Grant> = grants
            .iter()
            .copied()
            .filter(|g| g.path.covers(&m.path) && g.method.covers(&m.http_method))
            .collect();
        let attached = m.authorization_type == "CUSTOM"
            && existing.is_some_and(|a| m.authorizer_id.as_deref() == Some(a.id.as_str()));
        if covering.is_empty() || attached {
            continue;
        }
        let from = match (m.authorization_type.as_str(), &m.authorizer_id) {
            (kind @ ("CUSTOM" | "COGNITO_USER_POOLS"), Some(id)) => {
                let named = api.authorizers.iter().find(|a| &a.id == id);
                format!(
                    "{kind} with authorizer {}",
                    named.map_or(id.as_str(), |a| a.name.as_str())
                )
            }
            (kind, _) => kind.to_string(),
        };
        let call = match api.kind {
            ApiKind::Rest => Call::AttachAuthorizer {
                api_id: api_id.clone(),
                resource_id: m.resource_id.clone(),
                path: m.path.clone(),
                http_method: m.http_method.clone(),
                from,
                authorizer_name: name.to_string(),
            },
            ApiKind::Http => Call::UpdateRoute {
                api_id: api_id.clone(),
                route_id: m.resource_id.clone(),
                route_key: route_key(&m.http_method, &m.path),
                authorization_type: "CUSTOM".into(),
                authorizer_name: Some(name.to_string()),
                from,
            },
        };
        steps.push(Step {
            target: target.clone(),
            call,
        });
        touched.extend(covering);
    }
    for g in touched {
        stages.extend(super::plan::stages_of(g.stage.as_str(), api));
    }
    Ok(steps)
}

#[cfg(test)]
#[path = "attach_tests.rs"]
mod tests;
