//! Reads what AWS holds for the roles and APIs a push concerns, into the planner's terms.

use std::collections::BTreeMap;

use crate::domain::{
    grant::ApiRef,
    plan::{ApiActual, MethodActual, RoleActual, POLICY_PREFIX},
};
use anyhow::Context;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata};

use super::PushTarget;
use crate::backend::catalog::{apigateway, apigatewayv2, iam};
use crate::domain::route_key::ApiKind;

/// A role's existence, its managed tag and Gatehouse's inline policies.
pub async fn read_role(
    target: &PushTarget,
    role_name: &str,
    with_trust: bool,
    with_outside: bool,
) -> anyhow::Result<RoleActual> {
    let client = &target.clients.iam;
    target.limits.all.acquire().await;
    // GetRole answers the role's tags too (all of them: a role has at most 50), so no
    // ListRoleTags is needed.
    let (managed, trust) = match client.get_role().role_name(role_name).send().await {
        Ok(out) => (
            out.role().is_some_and(|r| {
                r.tags()
                    .iter()
                    .any(|t| (t.key(), t.value()) == iam::MANAGED_TAG)
            }),
            out.role()
                .and_then(|r| r.assume_role_policy_document())
                .filter(|_| with_trust)
                .and_then(iam::decode_policy),
        ),
        Err(e) if e.code() == Some("NoSuchEntity") => return Ok(RoleActual::default()),
        Err(e) => anyhow::bail!("GetRole {role_name}: {}", DisplayErrorContext(&e)),
    };
    let mut inline = BTreeMap::new();
    let mut outside = Vec::new();
    let mut marker = None;
    loop {
        target.limits.all.acquire().await;
        let page = client
            .list_role_policies()
            .role_name(role_name)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("ListRolePolicies {role_name}: {}", DisplayErrorContext(&e))
            })?;
        for name in page.policy_names() {
            if !name.starts_with(POLICY_PREFIX) && !with_outside {
                continue; // not Gatehouse's: never touched (read only by drift checks)
            }
            target.limits.all.acquire().await;
            let policy = client
                .get_role_policy()
                .role_name(role_name)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "GetRolePolicy {role_name} {name}: {}",
                        DisplayErrorContext(&e)
                    )
                })?;
            let document = iam::decode_policy(policy.policy_document())
                .with_context(|| format!("the policy {name} of role {role_name} is not JSON"))?;
            if name.starts_with(POLICY_PREFIX) {
                inline.insert(name.to_string(), document);
            } else {
                outside.push((format!("inline policy {name}"), document));
            }
        }
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    if with_outside {
        outside.extend(attached_policies(target, role_name).await?);
    }
    Ok(RoleActual {
        exists: true,
        managed,
        inline,
        trust,
        outside,
    })
}

/// The documents (default versions) of the managed policies attached to a role, by ARN.
async fn attached_policies(
    target: &PushTarget,
    role_name: &str,
) -> anyhow::Result<Vec<(String, serde_json::Value)>> {
    let client = &target.clients.iam;
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        target.limits.all.acquire().await;
        let page = client
            .list_attached_role_policies()
            .role_name(role_name)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "ListAttachedRolePolicies {role_name}: {}",
                    DisplayErrorContext(&e)
                )
            })?;
        for attached in page.attached_policies() {
            let Some(arn) = attached.policy_arn() else {
                continue;
            };
            target.limits.all.acquire().await;
            let policy = client
                .get_policy()
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("GetPolicy {arn}: {}", DisplayErrorContext(&e)))?;
            let Some(version) = policy.policy().and_then(|p| p.default_version_id()) else {
                continue;
            };
            target.limits.all.acquire().await;
            let got = client
                .get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("GetPolicyVersion {arn}: {}", DisplayErrorContext(&e))
                })?;
            if let Some(document) = got
                .policy_version()
                .and_then(|v| v.document())
                .and_then(iam::decode_policy)
            {
                out.push((format!("managed policy {arn}"), document));
            }
        }
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

/// An API's stages and methods with their authorization types.
pub async fn read_api(
    target: &PushTarget,
    api: &ApiRef,
    kind: ApiKind,
) -> anyhow::Result<ApiActual> {
    if kind == ApiKind::Http {
        return read_http_api(target, api).await;
    }
    let id = api.api_id.as_str();
    target.limits.all.acquire().await;
    let rest_api = target
        .clients
        .apigateway
        .get_rest_api()
        .rest_api_id(id)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GetRestApi {id}: {}", DisplayErrorContext(&e)))?;
    let policy = rest_api.policy().map(parse_resource_policy).transpose()?;
    let stages =
        apigateway::fetch_stages(&target.clients.apigateway, &target.read_limits, id).await?;
    let resources =
        apigateway::fetch_resources(&target.clients.apigateway, &target.read_limits, id).await?;
    let made = deployment_times(target, id).await?;
    let authorizers =
        apigateway::fetch_authorizers(&target.clients.apigateway, &target.read_limits, id).await?;
    Ok(ApiActual {
        api: api.clone(),
        kind,
        auto_deploy: Default::default(),
        name: rest_api.name().unwrap_or_default().to_string(),
        authorizers,
        deployed_at: stages
            .iter()
            .filter_map(|s| {
                let at = made.get(s.deployment_id.as_deref()?)?;
                Some((s.name.clone(), *at))
            })
            .collect(),
        changed_at: None,
        stages: stages.into_iter().map(|s| s.name).collect(),
        policy,
        methods: resources
            .into_iter()
            .flat_map(|r| {
                let (resource_id, path) = (r.resource_id, r.path);
                r.methods.into_iter().map(move |m| MethodActual {
                    resource_id: resource_id.clone(),
                    path: path.clone(),
                    http_method: m.http_method,
                    authorization_type: m.authorization_type,
                    authorizer_id: m.authorizer_id,
                })
            })
            .collect(),
    })
}

/// An HTTP API's stages and routes: each route a method whose `resource_id` is the route's id.
async fn read_http_api(target: &PushTarget, api: &ApiRef) -> anyhow::Result<ApiActual> {
    let id = api.api_id.as_str();
    let gw = &target.clients.apigatewayv2;
    target.limits.all.acquire().await;
    let found = gw
        .get_api()
        .api_id(id)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("GetApi {id}: {}", DisplayErrorContext(&e)))?;
    let stages = apigatewayv2::fetch_stages(gw, &target.read_limits, id).await?;
    let routes = apigatewayv2::fetch_routes(gw, &target.read_limits, id).await?;
    let authorizers = apigatewayv2::fetch_authorizers(gw, &target.read_limits, id).await?;
    // Only stages that wait for a deployment need their deployments' times.
    let made = if stages.iter().any(|s| !s.auto_deploy) {
        http_deployment_times(target, id).await?
    } else {
        BTreeMap::new()
    };
    Ok(ApiActual {
        api: api.clone(),
        kind: ApiKind::Http,
        name: found.name().unwrap_or_default().to_string(),
        authorizers,
        deployed_at: stages
            .iter()
            .filter_map(|s| {
                let at = made.get(s.deployment_id.as_deref()?)?;
                Some((s.name.clone(), *at))
            })
            .collect(),
        auto_deploy: stages
            .iter()
            .filter(|s| s.auto_deploy)
            .map(|s| s.name.clone())
            .collect(),
        changed_at: None,
        stages: stages.into_iter().map(|s| s.name).collect(),
        policy: None,
        methods: routes
            .into_iter()
            .map(|r| MethodActual {
                resource_id: r.route_id,
                path: r.path,
                http_method: r.method.http_method,
                authorization_type: r.method.authorization_type,
                authorizer_id: r.method.authorizer_id,
            })
            .collect(),
    })
}

async fn http_deployment_times(
    target: &PushTarget,
    id: &str,
) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut made = BTreeMap::new();
    let mut token = None;
    loop {
        target.limits.all.acquire().await;
        let page = target
            .clients
            .apigatewayv2
            .get_deployments()
            .api_id(id)
            .max_results("500")
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("GetDeployments {id}: {}", DisplayErrorContext(&e)))?;
        for d in page.items() {
            if let (Some(did), Some(at)) = (d.deployment_id(), d.created_date()) {
                made.insert(did.to_string(), at.secs());
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(made)
}

/// When each of the API's deployments was made (epoch seconds), page by page.
async fn deployment_times(target: &PushTarget, id: &str) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut made = BTreeMap::new();
    let mut position = None;
    loop {
        target.limits.all.acquire().await;
        let page = target
            .clients
            .apigateway
            .get_deployments()
            .rest_api_id(id)
            .limit(500)
            .set_position(position.take())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("GetDeployments {id}: {}", DisplayErrorContext(&e)))?;
        for d in page.items() {
            if let (Some(did), Some(at)) = (d.id(), d.created_date()) {
                made.insert(did.to_string(), at.secs());
            }
        }
        match page.position() {
            Some(p) if !page.items().is_empty() => position = Some(p.to_string()),
            _ => break,
        }
    }
    Ok(made)
}

/// API Gateway hands the resource policy back as a string, its quotes backslash-escaped.
pub(super) fn parse_resource_policy(text: &str) -> anyhow::Result<serde_json::Value> {
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&text.replace("\\\"", "\"")))
        .with_context(|| format!("the resource policy is not JSON: {text}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_escaped_resource_policy_is_read() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let escaped = plain.replace('"', "\\\"");
        assert_eq!(
            super::parse_resource_policy(plain).unwrap(),
            super::parse_resource_policy(&escaped).unwrap()
        );
    }
}
