//! The IAM policy a REST API authorizer answers with. API Gateway may cache it for the token and
//! apply it to the caller's next requests, so it names every catalogued route of the stage the
//! caller may call, and denies the routes those ARNs would reach by IAM's `*` (which matches `/`)
//! without a grant. Where that cannot be exact, the policy names the request's ARN alone.

use serde_json::{json, Value};

use crate::{
    bundle::{Compiled, CompiledApi},
    decide::{grant_covers, held_grants, Decision, Membership},
    route::{arn_part, iam_matches},
};

/// Past this many ARNs the policy names the request alone (API Gateway bounds the size of an
/// authorizer's answer).
pub const MAX_ARNS: usize = 100;

pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// `arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/{verb}/{path}`.
pub fn method_arn(
    api: &CompiledApi,
    api_id: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> String {
    let verb = if method == "ANY" { "*" } else { method };
    format!(
        "arn:{}:execute-api:{}:{}:{api_id}/{stage}/{verb}/{}",
        partition(&api.region),
        api.region,
        api.account,
        arn_part(path)
    )
}

/// What the policy allows and denies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

impl Policy {
    fn only(arn: &str, allowed: bool) -> Policy {
        let one = vec![arn.to_string()];
        if allowed {
            Policy {
                allow: one,
                deny: vec![],
            }
        } else {
            Policy {
                allow: vec![],
                deny: one,
            }
        }
    }

    /// How IAM decides `arn` under this policy: an explicit deny wins, then an allow.
    pub fn allows(&self, arn: &str) -> bool {
        !self.deny.iter().any(|d| iam_matches(d, arn))
            && self.allow.iter().any(|a| iam_matches(a, arn))
    }

    pub fn document(&self) -> Value {
        let statement = |effect: &str, arns: &[String]| json!({"Effect": effect, "Action": "execute-api:Invoke", "Resource": arns});
        let mut statements = Vec::new();
        if !self.allow.is_empty() {
            statements.push(statement("Allow", &self.allow));
        }
        if !self.deny.is_empty() {
            statements.push(statement("Deny", &self.deny));
        }
        json!({"Version": "2012-10-17", "Statement": statements})
    }
}

/// The policy for a caller on `stage` of `api_id`, given the decision for the request whose
/// method ARN is `request_arn`. It always decides that request as `decision` does.
pub fn rest_policy(
    bundle: &Compiled,
    membership: &Membership,
    api_id: &str,
    stage: &str,
    request_arn: &str,
    decision: &Decision,
) -> Policy {
    let allowed = decision.is_allowed();
    let Some(api) = bundle.apis.get(api_id) else {
        return Policy::only(request_arn, allowed);
    };
    if api.routes.is_empty() {
        return Policy::only(request_arn, allowed);
    }
    let held = held_grants(bundle, membership, api);
    let mut allow_routes = Vec::new();
    let mut refused_routes = Vec::new();
    for route in &api.routes {
        let arn = method_arn(api, api_id, stage, &route.method, &route.path);
        let covered = held
            .iter()
            .any(|g| grant_covers(g, stage, &route.method, Some(&route.template), &route.path));
        if covered {
            allow_routes.push(arn);
        } else {
            refused_routes.push(arn);
        }
    }
    let deny: Vec<String> = refused_routes
        .into_iter()
        .filter(|r| allow_routes.iter().any(|a| iam_matches(a, r)))
        .collect();
    let overlaps = deny
        .iter()
        .any(|d| allow_routes.iter().any(|a| iam_matches(d, a)));
    let policy = Policy {
        allow: allow_routes,
        deny,
    };
    let too_big = policy.allow.len() + policy.deny.len() > MAX_ARNS;
    if policy.allow.is_empty() || overlaps || too_big || policy.allows(request_arn) != allowed {
        return Policy::only(request_arn, allowed);
    }
    policy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        bundle::{tests::sample, BundleGrant},
        decide::{decide, RequestPath, RouteRequest},
    };

    const BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod";

    fn policy_for(groups: &[&str], method: &str, path: &str) -> (Decision, Policy) {
        let mut b = sample();
        b.apis[0].routes = vec![
            ("GET".into(), "/orders/{id}".into()),
            ("GET".into(), "/orders/{id}/items".into()),
            ("GET".into(), "/orders/export".into()),
            ("POST".into(), "/orders".into()),
        ];
        b.apis[0].grants.push(BundleGrant {
            role: 0,
            stage: "prod".into(),
            method: "POST".into(),
            path: "/orders".into(),
        });
        let bundle = b.compile().unwrap();
        let who: Vec<String> = groups.iter().map(|s| s.to_string()).collect();
        let m = Membership::of(&bundle, &who);
        let req = RouteRequest {
            api_id: "a1b2c3d4e5",
            stage: "prod",
            method,
            path: RequestPath::Concrete(path),
        };
        let d = decide(&bundle, &m, who.len(), &req);
        let arn = format!("{BASE}/{method}{path}");
        let p = rest_policy(&bundle, &m, "a1b2c3d4e5", "prod", &arn, &d);
        (d, p)
    }

    #[test]
    fn the_policy_names_every_granted_route_and_denies_what_its_wildcards_overreach() {
        let (d, p) = policy_for(&["g-orders"], "GET", "/orders/42");
        assert!(d.is_allowed());
        assert_eq!(
            p.allow,
            vec![
                format!("{BASE}/GET/orders/*"),
                format!("{BASE}/GET/orders/export"),
                format!("{BASE}/POST/orders")
            ]
        );
        // `GET/orders/*` would reach /orders/{id}/items too: denied.
        assert_eq!(p.deny, vec![format!("{BASE}/GET/orders/*/items")]);
        assert!(p.allows(&format!("{BASE}/GET/orders/42")));
        assert!(!p.allows(&format!("{BASE}/GET/orders/42/items")));
        assert!(!p.allows(&format!("{BASE}/DELETE/orders/42")));
        let doc = p.document();
        assert_eq!(doc["Statement"][0]["Effect"], "Allow");
        assert_eq!(doc["Statement"][1]["Effect"], "Deny");
    }

    #[test]
    fn a_refused_request_is_refused_by_its_policy() {
        let (d, p) = policy_for(&["g-orders"], "GET", "/orders/42/items");
        assert!(!d.is_allowed());
        assert!(!p.allows(&format!("{BASE}/GET/orders/42/items")));
        assert_eq!(p.deny, vec![format!("{BASE}/GET/orders/*/items")]);
        let (d, p) = policy_for(&["g-finance"], "GET", "/orders/42");
        assert!(!d.is_allowed());
        assert_eq!(
            p,
            Policy {
                allow: vec![],
                deny: vec![format!("{BASE}/GET/orders/42")]
            }
        );
    }
}
