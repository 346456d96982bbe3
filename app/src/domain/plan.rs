//! The push plan: every AWS call needed to bring the roles and APIs a change set touches to the
//! desired state, computed from what AWS holds now. No IO: the server reads AWS into
//! [`RoleActual`] and [`ApiActual`] and executes the [`Step`]s.
//!
//! Only what Gatehouse manages is touched: roles tagged `gatehouse:managed=true` (or created by
//! it), inline policies named `gatehouse-*`, and (when enforcing) a granted method's
//! authorization type. An empty plan means AWS already matches.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{
    attach::{self, AuthorizerSpec},
    desired::DesiredState,
    grant::{ApiRef, Grant},
    method_access::AuthorizerInfo,
    names::RoleArn,
    policy::{role_policy, RolePolicy, DEFAULT_MANAGED_PER_ROLE},
    route_key::{route_key, ApiKind},
};

/// Prefix of the inline policies Gatehouse owns on a role.
pub const POLICY_PREFIX: &str = "gatehouse-";

pub use super::call::{Call, Principal, Step};

/// A role as AWS holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleActual {
    pub exists: bool,
    pub managed: bool,
    /// Gatehouse's inline policies (`gatehouse-*`) by name, parsed.
    pub inline: BTreeMap<String, serde_json::Value>,
    /// The trust policy, parsed (read only where Gatehouse keeps it: SAML mode).
    pub trust: Option<serde_json::Value>,
    /// Policies that are not Gatehouse's (other inline policies by name, attached managed
    /// policies by ARN), read only by drift checks: never planned, never written.
    pub outside: Vec<(String, serde_json::Value)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodActual {
    /// The resource's id; for an HTTP API, the route's id (what UpdateRoute names).
    pub resource_id: String,
    pub path: String,
    pub http_method: String,
    pub authorization_type: String,
    /// The authorizer of a `CUSTOM` or `COGNITO_USER_POOLS` method.
    pub authorizer_id: Option<String>,
}

/// An API as AWS holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiActual {
    pub api: ApiRef,
    pub kind: ApiKind,
    /// The API's name in API Gateway.
    pub name: String,
    pub authorizers: Vec<AuthorizerInfo>,
    pub stages: Vec<String>,
    pub methods: Vec<MethodActual>,
    /// The resource policy, parsed (`None`: the API has none).
    pub policy: Option<serde_json::Value>,
    /// When each stage's deployment was made (epoch seconds, as API Gateway gives it).
    pub deployed_at: BTreeMap<String, i64>,
    /// HTTP API stages that deploy every change by themselves (never given a deployment).
    pub auto_deploy: BTreeSet<String>,
    /// When Gatehouse last started a call that changed the API's resource policy or a method
    /// (epoch seconds, from its push records). A stage deployed before it serves the policy of
    /// its deployment, not the approved one.
    pub changed_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PlanError {
    #[error("role {0} exists but is not managed by Gatehouse (no gatehouse:managed=true tag); Gatehouse will not change it")]
    Unmanaged(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("the policy of role {0} needs managed policies (too large for inline); pushing managed policies is not supported yet: split its grants across roles")]
    NeedsManagedPolicies(String),
    #[error("API {0} was not found in AWS")]
    NoSuchApi(String),
    #[error("the resource policy of API {api} would need {size} characters; API Gateway allows {RESOURCE_POLICY_LIMIT}")]
    ResourcePolicyTooLarge { api: String, size: usize },
    #[error("permission set {0} exists but is not managed by Gatehouse (no gatehouse:managed=true tag); Gatehouse will not change it")]
    UnmanagedPermissionSet(String),
    #[error("role name {0} cannot be a permission set name (at most 32 letters, digits and +=,.@-_): rename the role")]
    PermissionSetName(String),
    #[error("group {group} comes from the {directory} directory; SAML app role assignments are made in Entra ID, so bind an Entra ID group (directory `graph`) to {role}")]
    NotAnEntraGroup {
        group: String,
        directory: String,
        role: String,
    },
    #[error("SAML mode needs the Entra enterprise application for AWS: set GATEHOUSE_SAML_SERVICE_PRINCIPAL_ID and the GATEHOUSE_GRAPH_… credentials")]
    NoEnterpriseApplication,
    #[error("API {api} has an authorizer named `gatehouse` that does not invoke Gatehouse's authorizer function (it calls {uri}): rename that authorizer, or set GATEHOUSE_AUTHORIZER_FUNCTION to the function it calls")]
    AuthorizerNameTaken { api: String, uri: String },
    #[error("group {group} is not in the IAM Identity Center identity store, so it cannot be assigned to {role}: provision it from Entra ID (add it to the AWS IAM Identity Center enterprise application's provisioning scope and wait for the next SCIM cycle, or use Provision on demand), then push again")]
    GroupNotProvisioned { group: String, role: String },
    #[error("{person} is not in the IAM Identity Center identity store (no user has their user principal name as user name), so their access request cannot be assigned to {role}: provision them from Entra ID (add them to the AWS IAM Identity Center enterprise application's provisioning scope, or use Provision on demand), then push again")]
    PersonNotProvisioned { person: String, role: String },
}

/// API Gateway's limit on a resource policy.
pub const RESOURCE_POLICY_LIMIT: usize = 8_192;
/// Gatehouse's statements in a resource policy.
pub const STATEMENT_PREFIX: &str = "Gatehouse";

/// What the plan needs besides AWS's state.
pub struct PlanSettings<'a> {
    /// Set each granted method's authorization type to `AWS_IAM`.
    pub enforce_iam: bool,
    /// Keep the REST APIs' resource policies allowing each role its granted routes.
    pub resource_policy: bool,
    /// The target (`ACCOUNT/REGION`) a role's IAM calls go through.
    pub role_target: &'a dyn Fn(&RoleArn) -> String,
    /// The trust policy of a role Gatehouse creates.
    pub trust_policy: &'a dyn Fn(&RoleArn) -> String,
    /// Whether Gatehouse keeps the role's trust policy (SAML mode): planned when it differs.
    pub keeps_trust: &'a dyn Fn(&RoleArn) -> bool,
    /// Who a resource policy names for the role: its ARN, or (Identity Center) the pattern of
    /// the roles Identity Center provisions from its permission set.
    pub principal: &'a dyn Fn(&RoleArn) -> String,
    /// Token mode: the authorizer an API is to have on its granted methods (`None`: the API is
    /// not in GATEHOUSE_ATTACH_AUTHORIZER's scope).
    pub attach: &'a dyn Fn(&ApiActual) -> Option<AuthorizerSpec>,
}

fn target_of(api: &ApiRef) -> String {
    format!("{}/{}", api.account.as_str(), api.region.as_str())
}

/// The steps for `roles` and `apis` (what a change set touches) under `desired`.
pub fn plan(
    desired: &DesiredState,
    roles: &BTreeMap<RoleArn, RoleActual>,
    apis: &[ApiActual],
    settings: &PlanSettings,
) -> Result<Vec<Step>, PlanError> {
    let mut steps = Vec::new();
    for (arn, actual) in roles {
        let grants = desired.grants_of(arn);
        let wanted = role_policy(
            arn.name(),
            &grants,
            &desired.catalog,
            DEFAULT_MANAGED_PER_ROLE,
        )
        .map_err(|e| PlanError::TooLarge(e.to_string()))?;
        let target = (settings.role_target)(arn);
        let role_name = arn.name().to_string();
        if actual.exists && !actual.managed {
            return Err(PlanError::Unmanaged(arn.to_string()));
        }
        let wanted_docs: BTreeMap<String, String> = match &wanted {
            RolePolicy::None => BTreeMap::new(),
            RolePolicy::Inline(d) => BTreeMap::from([(d.name.clone(), d.json.clone())]),
            RolePolicy::Managed(_) => return Err(PlanError::NeedsManagedPolicies(arn.to_string())),
        };
        let keeps_trust = (settings.keeps_trust)(arn);
        let bound = desired.bindings.iter().any(|b| &b.role == arn);
        if !actual.exists {
            // Under SAML a bound role is needed even before it has grants: its ARN is the app
            // role's value members of the group pick at sign-in.
            if wanted_docs.is_empty() && !(keeps_trust && bound) {
                continue;
            }
            let path = arn
                .name_with_path
                .rsplit_once('/')
                .map(|(p, _)| format!("/{p}/"))
                .unwrap_or_else(|| "/".into());
            steps.push(Step {
                target: target.clone(),
                call: Call::CreateRole {
                    role_name: role_name.clone(),
                    path,
                    trust_policy: (settings.trust_policy)(arn),
                },
            });
        }
        if actual.exists && keeps_trust {
            let wanted_trust = (settings.trust_policy)(arn);
            let same =
                serde_json::from_str::<serde_json::Value>(&wanted_trust).ok() == actual.trust;
            if !same {
                steps.push(Step {
                    target: target.clone(),
                    call: Call::UpdateAssumeRolePolicy {
                        role_name: role_name.clone(),
                        document: wanted_trust,
                    },
                });
            }
        }
        for (name, json) in &wanted_docs {
            let same = actual.inline.get(name).is_some_and(|have| {
                serde_json::from_str::<serde_json::Value>(json)
                    .ok()
                    .as_ref()
                    == Some(have)
            });
            if !same {
                steps.push(Step {
                    target: target.clone(),
                    call: Call::PutRolePolicy {
                        role_name: role_name.clone(),
                        policy_name: name.clone(),
                        document: json.clone(),
                    },
                });
            }
        }
        for name in actual.inline.keys() {
            if name.starts_with(POLICY_PREFIX) && !wanted_docs.contains_key(name) {
                steps.push(Step {
                    target: target.clone(),
                    call: Call::DeleteRolePolicy {
                        role_name: role_name.clone(),
                        policy_name: name.clone(),
                    },
                });
            }
        }
    }
    for api in apis {
        let mut stages = BTreeSet::new();
        if let Some(spec) = (settings.attach)(api) {
            steps.extend(attach::plan(desired, api, &spec, &mut stages)?);
        } else if settings.enforce_iam {
            steps.extend(enforce(desired, api, &mut stages));
        }
        // HTTP APIs have no resource policy (API Gateway does not support one for them).
        if settings.resource_policy && api.kind == ApiKind::Rest {
            steps.extend(resource_policy(
                desired,
                api,
                settings.principal,
                &mut stages,
            )?);
        }
        stages.extend(stale_stages(desired, api));
        steps.extend(
            stages
                .into_iter()
                .filter(|stage| !api.auto_deploy.contains(stage))
                .map(|stage| Step {
                    target: target_of(&api.api),
                    call: Call::CreateDeployment {
                        api_id: api.api.api_id.as_str().to_string(),
                        stage,
                        kind: api.kind,
                    },
                }),
        );
    }
    Ok(steps)
}

/// The stages the desired grants name whose deployment is older than Gatehouse's last change to
/// the API (a deployment made in the same second counts as after it: API Gateway keeps seconds).
fn stale_stages(desired: &DesiredState, api: &ApiActual) -> BTreeSet<String> {
    let Some(changed) = api.changed_at else {
        return BTreeSet::new();
    };
    desired
        .grants
        .iter()
        .filter(|g| g.api == api.api)
        .flat_map(|g| stages_of(g.stage.as_str(), api))
        .filter(|stage| api.deployed_at.get(stage).is_some_and(|at| *at < changed))
        .collect()
}

/// The stages a grant names, among the API's.
pub(crate) fn stages_of(stage: &str, api: &ApiActual) -> Vec<String> {
    match stage {
        "*" => api.stages.clone(),
        s if api.stages.iter().any(|have| have == s) => vec![s.to_string()],
        _ => Vec::new(),
    }
}

/// Gatehouse's statements of a resource policy, by `Sid`.
fn gatehouse_statements(policy: &Option<serde_json::Value>) -> BTreeMap<String, serde_json::Value> {
    policy
        .as_ref()
        .and_then(|p| p.get("Statement"))
        .and_then(|s| s.as_array())
        .map(|all| {
            all.iter()
                .filter_map(|st| {
                    let sid = st.get("Sid")?.as_str()?;
                    sid.starts_with(STATEMENT_PREFIX)
                        .then(|| (sid.to_string(), st.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The stage an invoke ARN names (`arn:…:api-id/stage/METHOD/path`).
fn arn_stage(arn: &str) -> Option<&str> {
    arn.rsplit(':').next()?.split('/').nth(1)
}

/// One `Allow` statement per role with grants on the API; other statements are kept as found.
/// Stages whose statements change are redeployed.
fn resource_policy(
    desired: &DesiredState,
    api: &ApiActual,
    principal_of: &dyn Fn(&RoleArn) -> String,
    stages: &mut BTreeSet<String>,
) -> Result<Option<Step>, PlanError> {
    let mut by_role: BTreeMap<&RoleArn, Vec<String>> = BTreeMap::new();
    for g in desired.grants.iter().filter(|g| g.api == api.api) {
        by_role.entry(&g.role).or_default().push(g.invoke_arn());
    }
    // Roles allowed the same routes share one statement (the policy's 8,192 characters go much
    // further that way), numbered in a stable order.
    let mut by_routes: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for (role, mut arns) in by_role {
        arns.sort();
        arns.dedup();
        by_routes.entry(arns).or_default().push(principal_of(role));
    }
    let wanted: BTreeMap<String, serde_json::Value> = by_routes
        .into_iter()
        .enumerate()
        .map(|(i, (arns, roles))| {
            let sid = format!("{STATEMENT_PREFIX}{}", i + 1);
            let principal = match roles.as_slice() {
                [one] => serde_json::json!(one),
                many => serde_json::json!(many),
            };
            // Roles Identity Center provisions carry a random suffix: they are named by
            // pattern, which only a condition on aws:PrincipalArn can hold.
            let statement = if roles.iter().any(|r| r.contains('*')) {
                serde_json::json!({
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "execute-api:Invoke",
                    "Resource": arns,
                    "Condition": {"ArnLike": {"aws:PrincipalArn": principal}},
                })
            } else {
                serde_json::json!({
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"AWS": principal},
                    "Action": "execute-api:Invoke",
                    "Resource": arns,
                })
            };
            (sid, statement)
        })
        .collect();
    let have = gatehouse_statements(&api.policy);
    if have == wanted {
        return Ok(None);
    }
    for sid in have.keys().chain(wanted.keys()) {
        if have.get(sid) == wanted.get(sid) {
            continue;
        }
        for st in [have.get(sid), wanted.get(sid)].into_iter().flatten() {
            let arns = st["Resource"].as_array().cloned().unwrap_or_default();
            for arn in arns.iter().filter_map(|a| a.as_str()) {
                stages.extend(
                    arn_stage(arn)
                        .map(|s| stages_of(s, api))
                        .unwrap_or_default(),
                );
            }
        }
    }
    let others: Vec<serde_json::Value> = api
        .policy
        .as_ref()
        .and_then(|p| p.get("Statement"))
        .and_then(|s| s.as_array())
        .map(|all| {
            all.iter()
                .filter(|st| {
                    !st.get("Sid")
                        .and_then(|s| s.as_str())
                        .is_some_and(|s| s.starts_with(STATEMENT_PREFIX))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let statements: Vec<serde_json::Value> =
        others.into_iter().chain(wanted.into_values()).collect();
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let size = policy.chars().filter(|c| !c.is_whitespace()).count();
    if size > RESOURCE_POLICY_LIMIT {
        return Err(PlanError::ResourcePolicyTooLarge {
            api: api.api.api_id.as_str().to_string(),
            size,
        });
    }
    Ok(Some(Step {
        target: target_of(&api.api),
        call: Call::UpdateResourcePolicy {
            api_id: api.api.api_id.as_str().to_string(),
            policy,
        },
    }))
}

/// `AWS_IAM` on every method a desired grant covers, then one deployment per stage those grants
/// name (a method change takes effect only when deployed). Methods no longer granted keep
/// `AWS_IAM`: loosening authorization is never automatic.
fn enforce(desired: &DesiredState, api: &ApiActual, stages: &mut BTreeSet<String>) -> Vec<Step> {
    let grants: Vec<&Grant> = desired.grants.iter().filter(|g| g.api == api.api).collect();
    let target = target_of(&api.api);
    let mut steps = Vec::new();
    for m in &api.methods {
        let covering: Vec<&&Grant> = grants
            .iter()
            .filter(|g| g.path.covers(&m.path) && g.method.covers(&m.http_method))
            .collect();
        if covering.is_empty() || m.authorization_type == "AWS_IAM" {
            continue;
        }
        let api_id = api.api.api_id.as_str().to_string();
        let call = match api.kind {
            ApiKind::Rest => Call::UpdateMethodAuthorization {
                api_id,
                resource_id: m.resource_id.clone(),
                path: m.path.clone(),
                http_method: m.http_method.clone(),
                from: m.authorization_type.clone(),
            },
            ApiKind::Http => Call::UpdateRoute {
                api_id,
                route_id: m.resource_id.clone(),
                route_key: route_key(&m.http_method, &m.path),
                authorization_type: "AWS_IAM".into(),
                authorizer_name: None,
                from: m.authorization_type.clone(),
            },
        };
        steps.push(Step {
            target: target.clone(),
            call,
        });
        for g in covering {
            stages.extend(stages_of(g.stage.as_str(), api));
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        desired::ChangeItem,
        grant::{Grant, GrantInput},
    };

    const ROLE: &str = "arn:aws:iam::123456789012:role/team/readers";

    fn grant(method: &str, path: &str, stage: &str) -> Grant {
        Grant::parse(&GrantInput {
            role_arn: ROLE.into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: stage.into(),
            method: method.into(),
            path: path.into(),
        })
        .unwrap()
    }

    fn state(grants: &[Grant]) -> DesiredState {
        let items: Vec<ChangeItem> = grants.iter().cloned().map(ChangeItem::AddGrant).collect();
        DesiredState::default().apply(&items).unwrap()
    }

    fn api() -> ApiActual {
        let method = |id: &str, path: &str, m: &str, auth: &str| MethodActual {
            resource_id: id.into(),
            path: path.into(),
            http_method: m.into(),
            authorization_type: auth.into(),
            authorizer_id: None,
        };
        ApiActual {
            api: grant("GET", "/", "prod").api,
            name: "orders".into(),
            authorizers: Vec::new(),
            stages: vec!["dev".into(), "prod".into()],
            methods: vec![
                method("r1", "/orders", "GET", "NONE"),
                method("r1", "/orders", "POST", "AWS_IAM"),
                method("r2", "/health", "GET", "NONE"),
            ],
            policy: None,
            deployed_at: BTreeMap::from([("dev".into(), 100), ("prod".into(), 100)]),
            changed_at: None,
            kind: ApiKind::Rest,
            auto_deploy: BTreeSet::new(),
        }
    }

    fn settings(enforce_iam: bool) -> PlanSettings<'static> {
        PlanSettings {
            enforce_iam,
            resource_policy: false,
            role_target: &|_| "123456789012/us-east-1".into(),
            trust_policy: &|_| "{}".into(),
            keeps_trust: &|_| false,
            principal: &|r| r.to_string(),
            attach: &|_| None,
        }
    }

    fn run(desired: &DesiredState, role: RoleActual) -> Result<Vec<Step>, PlanError> {
        let roles = BTreeMap::from([(RoleArn::parse(ROLE).unwrap(), role)]);
        plan(desired, &roles, &[api()], &settings(true))
    }

    fn ops(steps: &[Step]) -> Vec<&'static str> {
        steps.iter().map(|s| s.call.operation()).collect()
    }

    #[test]
    fn a_missing_role_is_created_given_its_policy_and_the_granted_method_enforced_and_deployed() {
        let desired = state(&[grant("GET", "/orders", "prod")]);
        let steps = run(&desired, RoleActual::default()).unwrap();
        assert_eq!(
            ops(&steps),
            [
                "CreateRole",
                "PutRolePolicy",
                "UpdateMethod",
                "CreateDeployment"
            ]
        );
        assert!(
            matches!(&steps[0].call, Call::CreateRole { path, role_name, .. } if path == "/team/" && role_name == "readers")
        );
        assert!(matches!(&steps[3].call, Call::CreateDeployment { stage, .. } if stage == "prod"));
    }

    /// The same API as an HTTP API: routes instead of methods, `prod` auto-deployed.
    fn http_api() -> ApiActual {
        let mut api = api();
        api.kind = ApiKind::Http;
        api.auto_deploy = BTreeSet::from(["prod".to_string()]);
        api.methods.push(MethodActual {
            resource_id: "rt9".into(),
            path: "$default".into(),
            http_method: "ANY".into(),
            authorization_type: "NONE".into(),
            authorizer_id: None,
        });
        api
    }

    #[test]
    fn an_http_api_gets_update_route_no_resource_policy_and_no_deployment_on_auto_deploy_stages() {
        let desired = state(&[grant("GET", "/orders", "*"), grant("*", "/*", "prod")]);
        let roles = BTreeMap::from([(RoleArn::parse(ROLE).unwrap(), RoleActual::default())]);
        let mut with_policy = settings(true);
        with_policy.resource_policy = true;
        let steps = plan(&desired, &roles, &[http_api()], &with_policy).unwrap();
        let api_steps: Vec<String> = steps[2..].iter().map(|s| s.call.summary()).collect();
        // `/*` covers /orders and /health but not `$default`; `dev` is deployed, `prod`
        // deploys itself; no UpdateRestApi (HTTP APIs have no resource policy).
        assert_eq!(
            api_steps,
            [
                "set route GET /orders of HTTP API a1b2c3d4e5 to AWS_IAM (was NONE)",
                "set route GET /health of HTTP API a1b2c3d4e5 to AWS_IAM (was NONE)",
                "deploy HTTP API a1b2c3d4e5 to stage dev",
            ]
        );
        let Call::UpdateRoute { route_id, .. } = &steps[2].call else {
            panic!("{steps:?}")
        };
        assert_eq!(route_id, "r1");
        // A grant on `$default` reaches that route, and only it.
        let desired = state(&[grant("*", "$default", "prod")]);
        let steps = plan(&desired, &roles, &[http_api()], &settings(true)).unwrap();
        let summaries: Vec<String> = steps.iter().map(|s| s.call.summary()).collect();
        assert_eq!(
            summaries.last().map(String::as_str),
            Some("set route $default of HTTP API a1b2c3d4e5 to AWS_IAM (was NONE)"),
            "{summaries:?}"
        );
    }

    #[test]
    fn when_aws_matches_the_plan_is_empty() {
        let desired = state(&[grant("POST", "/orders", "*")]);
        let first = run(&desired, RoleActual::default()).unwrap();
        let Call::PutRolePolicy {
            document,
            policy_name,
            ..
        } = &first[1].call
        else {
            panic!("{first:?}")
        };
        // AWS hands the document back with its keys in another order: still the same.
        let mut have: serde_json::Value = serde_json::from_str(document).unwrap();
        have.as_object_mut().unwrap().remove("Version");
        have["Version"] = "2012-10-17".into();
        let actual = RoleActual {
            exists: true,
            managed: true,
            inline: BTreeMap::from([(policy_name.clone(), have)]),
            ..Default::default()
        };
        assert_eq!(run(&desired, actual).unwrap(), vec![]);
    }

    #[test]
    fn stale_policies_are_replaced_or_deleted_and_others_left_alone() {
        let old = serde_json::json!({"Version": "2012-10-17", "Statement": []});
        let actual = RoleActual {
            exists: true,
            managed: true,
            inline: BTreeMap::from([
                ("gatehouse-invoke".to_string(), old.clone()),
                ("gatehouse-old".to_string(), old),
            ]),
            ..Default::default()
        };
        let steps = run(&state(&[grant("POST", "/orders", "prod")]), actual.clone()).unwrap();
        assert_eq!(ops(&steps), ["PutRolePolicy", "DeleteRolePolicy"]);
        // No grants left: Gatehouse's policies go, the role stays.
        let steps = run(&DesiredState::default(), actual).unwrap();
        assert_eq!(ops(&steps), ["DeleteRolePolicy", "DeleteRolePolicy"]);
    }

    #[test]
    fn an_unmanaged_role_is_never_touched() {
        let actual = RoleActual {
            exists: true,
            managed: false,
            ..Default::default()
        };
        let err = run(&state(&[grant("GET", "/orders", "prod")]), actual).unwrap_err();
        assert!(
            err.to_string().contains("not managed by Gatehouse"),
            "{err}"
        );
    }

    #[test]
    fn a_wildcard_grant_enforces_every_method_it_covers_and_deploys_every_stage_once() {
        let desired = state(&[grant("*", "/*", "*")]);
        let steps = run(&desired, RoleActual::default()).unwrap();
        assert_eq!(
            ops(&steps),
            [
                "CreateRole",
                "PutRolePolicy",
                "UpdateMethod",
                "UpdateMethod",
                "CreateDeployment",
                "CreateDeployment"
            ]
        );
        let roles = BTreeMap::from([(RoleArn::parse(ROLE).unwrap(), RoleActual::default())]);
        let steps = plan(&desired, &roles, &[api()], &settings(false)).unwrap();
        assert_eq!(ops(&steps), ["CreateRole", "PutRolePolicy"]);
    }

    #[test]
    fn the_resource_policy_gets_a_statement_per_role_keeps_others_and_redeploys_changed_stages() {
        let desired = state(&[grant("GET", "/orders", "prod")]);
        let foreign = serde_json::json!({"Sid": "VpcOnly", "Effect": "Deny", "Principal": "*",
            "Action": "execute-api:Invoke", "Resource": "execute-api:/*"});
        let mut actual = api();
        actual.methods.clear();
        actual.policy =
            Some(serde_json::json!({"Version": "2012-10-17", "Statement": [foreign.clone()]}));
        let mut with_policy = settings(false);
        with_policy.resource_policy = true;
        let existing = RoleActual {
            exists: true,
            managed: true,
            ..Default::default()
        };
        let roles = BTreeMap::from([(RoleArn::parse(ROLE).unwrap(), existing)]);
        let steps = plan(&desired, &roles, &[actual.clone()], &with_policy).unwrap();
        assert_eq!(
            ops(&steps),
            ["PutRolePolicy", "UpdateRestApi", "CreateDeployment"]
        );
        let Call::UpdateResourcePolicy { policy, .. } = &steps[1].call else {
            panic!()
        };
        let doc: serde_json::Value = serde_json::from_str(policy).unwrap();
        assert_eq!(
            doc["Statement"][0], foreign,
            "another's statement is kept as found"
        );
        assert_eq!(doc["Statement"][1]["Sid"], "Gatehouse1");
        assert_eq!(doc["Statement"][1]["Principal"]["AWS"], ROLE);
        assert!(matches!(&steps[2].call, Call::CreateDeployment { stage, .. } if stage == "prod"));
        // AWS now holds it: nothing to do for the API.
        actual.policy = Some(doc);
        let steps = plan(&desired, &roles, &[actual], &with_policy).unwrap();
        assert_eq!(ops(&steps), ["PutRolePolicy"]);
    }

    #[test]
    fn a_stage_deployed_before_the_last_change_is_deployed_again_and_only_that_one() {
        let desired = state(&[grant("GET", "/orders", "*")]);
        let mut actual = api();
        actual.methods.retain(|m| m.authorization_type == "AWS_IAM");
        let existing = RoleActual {
            exists: true,
            managed: true,
            ..Default::default()
        };
        let roles = BTreeMap::from([(RoleArn::parse(ROLE).unwrap(), existing)]);
        let deployments = |steps: &[Step]| -> Vec<String> {
            steps
                .iter()
                .filter_map(|s| match &s.call {
                    Call::CreateDeployment { stage, .. } => Some(stage.clone()),
                    _ => None,
                })
                .collect()
        };
        // Nothing recorded of Gatehouse changing the API: nothing to redeploy.
        let steps = plan(&desired, &roles, &[actual.clone()], &settings(true)).unwrap();
        assert_eq!(deployments(&steps), Vec::<String>::new());
        // Changed at 150: dev (deployed at 100) serves the old policy, prod (redeployed at 200)
        // does not; a deployment in the very second of the change counts as after it.
        actual.changed_at = Some(150);
        actual.deployed_at.insert("prod".into(), 200);
        let steps = plan(&desired, &roles, &[actual.clone()], &settings(true)).unwrap();
        assert_eq!(deployments(&steps), ["dev"]);
        actual.deployed_at.insert("dev".into(), 150);
        let steps = plan(&desired, &roles, &[actual.clone()], &settings(true)).unwrap();
        assert_eq!(deployments(&steps), Vec::<String>::new());
        // A stage no grant names is left as it is, however old.
        let desired = state(&[grant("GET", "/orders", "prod")]);
        actual.deployed_at.insert("dev".into(), 1);
        let steps = plan(&desired, &roles, &[actual], &settings(true)).unwrap();
        assert_eq!(deployments(&steps), Vec::<String>::new());
    }
}
