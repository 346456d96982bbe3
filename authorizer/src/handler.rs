//! The Lambda's work for one event: read the route and token off the event (REST TOKEN and
//! REQUEST authorizers, HTTP API payload 2.0), validate the token, decide from the bundle, and
//! answer in the event's format with a log line that names the caller and the reason.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{json, Value};

use crate::{
    decide::{decide, Decision, Membership, RequestPath, RouteRequest},
    jwks::Jwks,
    policy::rest_policy,
    source::BundleSource,
    token::{self, Caller, TokenRefusal, TokenSettings},
};

pub struct Authorizer {
    pub token: TokenSettings,
    pub keys: Jwks,
    pub source: BundleSource,
    /// HTTP APIs: answer with the simple response (`isAuthorized`) rather than a policy.
    pub simple_http_response: bool,
}

/// What one event was answered, and the line logged for it.
#[derive(Debug)]
pub struct Outcome {
    /// `Err("Unauthorized")`: no token at all; API Gateway answers 401.
    pub response: Result<Value, &'static str>,
    pub log: DecisionLog,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct DecisionLog {
    pub decision: &'static str,
    pub reason: String,
    pub username: Option<String>,
    pub oid: Option<String>,
    pub route: String,
    pub bundle_version: Option<u64>,
    pub group: Option<String>,
    pub role: Option<String>,
    pub grant: Option<String>,
}

impl DecisionLog {
    pub fn line(&self) -> String {
        serde_json::to_string(self).expect("a log line serialises")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Token,
    Request,
    HttpV2,
}

/// The route and token an event carries.
#[derive(Debug)]
struct Ask {
    shape: Shape,
    authorization: Option<String>,
    api_id: String,
    stage: String,
    method: String,
    template: Option<String>,
    concrete: String,
    /// The ARN the answer's policy must decide (method ARN, or route ARN for HTTP APIs).
    arn: String,
}

fn header(event: &Value, name: &str) -> Option<String> {
    event["headers"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str().map(String::from))
}

/// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{verb}/{path}` → api, stage, verb, path.
fn split_arn(arn: &str) -> Option<(String, String, String, String)> {
    let rest = arn.splitn(6, ':').nth(5)?;
    let mut parts = rest.splitn(4, '/');
    let (api, stage, verb) = (parts.next()?, parts.next()?, parts.next()?);
    let path = format!("/{}", parts.next().unwrap_or(""));
    Some((api.into(), stage.into(), verb.into(), path))
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(String::from)
}

fn parse(event: &Value) -> Result<Ask, String> {
    let bad = |what: &str| format!("not an API Gateway authorizer event: {what}");
    if event["version"] == "2.0" {
        let ctx = &event["requestContext"];
        let route_key = text(&event["routeKey"]).ok_or_else(|| bad("no routeKey"))?;
        // `$default` has no path in its key: it is its own template (only grants on it match).
        let template = match route_key.split_once(' ') {
            Some((_, path)) => Some(path.to_string()),
            None if route_key == crate::route::DEFAULT_ROUTE => Some(route_key.clone()),
            None => None,
        };
        let authorization = header(event, "authorization").or_else(|| {
            event["identitySource"]
                .as_array()
                .and_then(|a| a.first())
                .and_then(text)
        });
        return Ok(Ask {
            shape: Shape::HttpV2,
            authorization,
            api_id: text(&ctx["apiId"]).ok_or_else(|| bad("no apiId"))?,
            stage: text(&ctx["stage"]).ok_or_else(|| bad("no stage"))?,
            method: text(&ctx["http"]["method"]).ok_or_else(|| bad("no http.method"))?,
            template,
            concrete: text(&event["rawPath"]).unwrap_or_else(|| "/".into()),
            arn: text(&event["routeArn"]).unwrap_or_default(),
        });
    }
    let arn = text(&event["methodArn"]).ok_or_else(|| bad("no methodArn"))?;
    let (api_id, stage, verb, concrete) = split_arn(&arn).ok_or_else(|| bad("methodArn"))?;
    match event["type"].as_str() {
        Some("TOKEN") => Ok(Ask {
            shape: Shape::Token,
            authorization: text(&event["authorizationToken"]),
            api_id,
            stage,
            method: verb,
            template: None,
            concrete,
            arn,
        }),
        Some("REQUEST") => Ok(Ask {
            shape: Shape::Request,
            authorization: header(event, "authorization"),
            api_id,
            stage,
            method: text(&event["httpMethod"]).unwrap_or(verb),
            template: text(&event["resource"]),
            concrete: text(&event["path"]).unwrap_or(concrete),
            arn,
        }),
        _ => Err(bad("type is neither TOKEN nor REQUEST")),
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Authorizer {
    async fn caller(&self, authorization: Option<&str>, now: u64) -> Result<Caller, TokenRefusal> {
        let token = token::bearer(authorization.unwrap_or(""))?;
        let (alg, kid) = token::header(token, &self.token)?;
        let key = self.keys.key(&kid).await?;
        token::verify(token, alg, &key, &self.token, now)
    }

    /// Answers one event at time `now` (seconds since 1970).
    pub async fn handle(&self, event: &Value, now: u64) -> Result<Outcome, String> {
        let ask = parse(event)?;
        let route = format!(
            "{} {} on stage {} of API {}",
            ask.method,
            ask.template.as_deref().unwrap_or(&ask.concrete),
            ask.stage,
            ask.api_id
        );
        let mut log = DecisionLog {
            decision: "deny",
            route,
            ..Default::default()
        };
        let caller = match self.caller(ask.authorization.as_deref(), now).await {
            Ok(c) => c,
            Err(refusal) => {
                log.reason = refusal.to_string();
                let response = if refusal == TokenRefusal::Missing && ask.shape != Shape::HttpV2 {
                    Err("Unauthorized")
                } else {
                    Ok(self.answer(&ask, None, false, &log))
                };
                return Ok(Outcome { response, log });
            }
        };
        log.username = caller.username.clone();
        log.oid = Some(caller.oid.clone());
        let bundle = match self.source.current().await {
            Ok(b) => b,
            Err(e) => {
                log.reason = e.to_string();
                let response = Ok(self.answer(&ask, Some(&caller), false, &log));
                return Ok(Outcome { response, log });
            }
        };
        log.bundle_version = Some(bundle.version);
        let membership = Membership::of(&bundle, &caller.principals_and_self());
        let path = match &ask.template {
            Some(t) => RequestPath::Template(t),
            None => RequestPath::Concrete(&ask.concrete),
        };
        let request = RouteRequest {
            api_id: &ask.api_id,
            stage: &ask.stage,
            method: &ask.method,
            path,
        };
        let decision = decide(&bundle, &membership, caller.principals.len(), &request);
        match &decision {
            Decision::Allow(g) => {
                log.decision = "allow";
                log.reason = format!("{} may call it through group {}", caller.label(), g.group);
                log.group = Some(g.group.clone());
                log.role = Some(g.role.clone());
                log.grant = Some(g.grant.clone());
            }
            Decision::Deny(r) => log.reason = format!("{} may not: {r}", caller.label()),
        }
        let response = if ask.shape == Shape::HttpV2 && self.simple_http_response {
            self.answer(&ask, Some(&caller), decision.is_allowed(), &log)
        } else {
            let policy = rest_policy(
                &bundle,
                &membership,
                &ask.api_id,
                &ask.stage,
                &ask.arn,
                &decision,
            );
            with_policy(Some(&caller), policy.document(), &log)
        };
        Ok(Outcome {
            response: Ok(response),
            log,
        })
    }

    /// An answer that decides only this request.
    fn answer(
        &self,
        ask: &Ask,
        caller: Option<&Caller>,
        allowed: bool,
        log: &DecisionLog,
    ) -> Value {
        if ask.shape == Shape::HttpV2 && self.simple_http_response {
            return json!({"isAuthorized": allowed, "context": context(caller, log)});
        }
        let effect = if allowed { "Allow" } else { "Deny" };
        let document = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": effect, "Action": "execute-api:Invoke", "Resource": [ask.arn]}
        ]});
        with_policy(caller, document, log)
    }
}

fn context(caller: Option<&Caller>, log: &DecisionLog) -> Value {
    json!({
        "oid": caller.map(|c| c.oid.as_str()).unwrap_or(""),
        "username": caller.and_then(|c| c.username.as_deref()).unwrap_or(""),
        "name": caller.and_then(|c| c.name.as_deref()).unwrap_or(""),
        "bundleVersion": log.bundle_version.unwrap_or(0),
        "reason": log.reason,
    })
}

fn with_policy(caller: Option<&Caller>, document: Value, log: &DecisionLog) -> Value {
    json!({
        "principalId": caller.map(|c| c.oid.as_str()).unwrap_or("anonymous"),
        "policyDocument": document,
        "context": context(caller, log),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_of_each_shape_are_read() {
        let token = json!({"type": "TOKEN", "authorizationToken": "Bearer x",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/42"});
        let a = parse(&token).unwrap();
        assert_eq!(
            (
                a.shape,
                a.api_id.as_str(),
                a.stage.as_str(),
                a.method.as_str(),
                a.concrete.as_str()
            ),
            (Shape::Token, "a1b2c3d4e5", "prod", "GET", "/orders/42")
        );
        let request = json!({"type": "REQUEST", "resource": "/orders/{id}", "path": "/orders/42",
            "httpMethod": "GET", "headers": {"authorization": "Bearer y"},
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/orders/42"});
        let a = parse(&request).unwrap();
        assert_eq!(
            (a.template.as_deref(), a.authorization.as_deref()),
            (Some("/orders/{id}"), Some("Bearer y"))
        );
        let v2 = json!({"version": "2.0", "type": "REQUEST", "routeKey": "DELETE /payments/{id}",
            "rawPath": "/payments/7", "identitySource": ["Bearer z"],
            "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:h1/prod/DELETE/payments/7",
            "requestContext": {"apiId": "h1", "stage": "prod", "http": {"method": "DELETE"}}});
        let a = parse(&v2).unwrap();
        assert_eq!(
            (a.shape, a.template.as_deref(), a.authorization.as_deref()),
            (Shape::HttpV2, Some("/payments/{id}"), Some("Bearer z"))
        );
        let default = json!({"version": "2.0", "type": "REQUEST", "routeKey": "$default",
            "rawPath": "/anything/here", "identitySource": ["Bearer z"],
            "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:h1/prod/$default",
            "requestContext": {"apiId": "h1", "stage": "prod", "http": {"method": "PUT"}}});
        let a = parse(&default).unwrap();
        assert_eq!(
            (a.template.as_deref(), a.method.as_str()),
            (Some("$default"), "PUT")
        );
        assert!(parse(&json!({"type": "OTHER", "methodArn": "x"})).is_err());
        assert!(parse(&json!({})).unwrap_err().contains("methodArn"));
    }
}
