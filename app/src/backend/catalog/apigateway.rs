//! Reads REST APIs, stages, resources and methods from API Gateway, page by page, within quotas.

use std::collections::BTreeMap;

use anyhow::Context;
use serde::Serialize;

use super::rate_limit::ApiGatewayLimits;
pub use crate::domain::route_key::ApiKind;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FetchedApi {
    pub api_id: String,
    pub name: String,
    pub description: Option<String>,
    pub endpoint_types: Vec<String>,
    pub tags: BTreeMap<String, String>,
    /// Left out of a REST API's snapshot, so snapshots synced before HTTP APIs existed still
    /// compare equal.
    #[serde(skip_serializing_if = "ApiKind::is_rest")]
    pub kind: ApiKind,
    pub stages: Vec<FetchedStage>,
    pub resources: Vec<FetchedResource>,
    /// The API's authorizers (kept in the synced snapshot; methods name them by id).
    pub authorizers: Vec<crate::domain::method_access::AuthorizerInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FetchedStage {
    pub name: String,
    pub deployment_id: Option<String>,
    pub last_updated_epoch: Option<i64>,
    /// HTTP APIs: the stage deploys every change by itself (no CreateDeployment needed).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto_deploy: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FetchedResource {
    pub resource_id: String,
    pub parent_id: Option<String>,
    pub path: String,
    pub methods: Vec<FetchedMethod>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FetchedMethod {
    pub http_method: String,
    pub authorization_type: String,
    pub authorizer_id: Option<String>,
    pub api_key_required: bool,
}

const PAGE: i32 = 500;

pub async fn fetch_all(
    gw: &aws_sdk_apigateway::Client,
    limits: &ApiGatewayLimits,
) -> anyhow::Result<Vec<FetchedApi>> {
    let mut apis = Vec::new();
    let mut position = None;
    loop {
        limits.all.acquire().await;
        let page = gw
            .get_rest_apis()
            .limit(PAGE)
            .set_position(position.take())
            .send()
            .await
            .context("GetRestApis")?;
        for api in page.items() {
            let api_id = api.id().context("a REST API without an id")?.to_string();
            let stages = fetch_stages(gw, limits, &api_id).await?;
            let resources = fetch_resources(gw, limits, &api_id).await?;
            let authorizers = fetch_authorizers(gw, limits, &api_id).await?;
            apis.push(FetchedApi {
                name: api.name().unwrap_or(&api_id).to_string(),
                description: api.description().map(String::from),
                endpoint_types: api
                    .endpoint_configuration()
                    .map(|c| c.types().iter().map(|t| t.as_str().to_string()).collect())
                    .unwrap_or_default(),
                tags: api
                    .tags()
                    .map(|t| t.clone().into_iter().collect())
                    .unwrap_or_default(),
                api_id,
                kind: ApiKind::Rest,
                stages,
                resources,
                authorizers,
            });
        }
        match page.position() {
            Some(p) if !p.is_empty() && !page.items().is_empty() => position = Some(p.to_string()),
            _ => break,
        }
    }
    apis.sort_by(|a, b| a.api_id.cmp(&b.api_id));
    Ok(apis)
}

pub async fn fetch_authorizers(
    gw: &aws_sdk_apigateway::Client,
    limits: &ApiGatewayLimits,
    api_id: &str,
) -> anyhow::Result<Vec<crate::domain::method_access::AuthorizerInfo>> {
    let mut authorizers = Vec::new();
    let mut position = None;
    loop {
        limits.all.acquire().await;
        let page = gw
            .get_authorizers()
            .rest_api_id(api_id)
            .limit(PAGE)
            .set_position(position.take())
            .send()
            .await
            .with_context(|| format!("GetAuthorizers {api_id}"))?;
        authorizers.extend(page.items().iter().map(|a| {
            crate::domain::method_access::AuthorizerInfo {
                id: a.id().unwrap_or_default().to_string(),
                name: a.name().unwrap_or_default().to_string(),
                kind: a
                    .r#type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                uri: a.authorizer_uri().map(String::from),
                ttl_seconds: a
                    .authorizer_result_ttl_in_seconds()
                    .and_then(|s| u32::try_from(s).ok()),
            }
        }));
        match page.position() {
            Some(p) if !p.is_empty() && !page.items().is_empty() => position = Some(p.to_string()),
            _ => break,
        }
    }
    authorizers.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(authorizers)
}

pub async fn fetch_stages(
    gw: &aws_sdk_apigateway::Client,
    limits: &ApiGatewayLimits,
    api_id: &str,
) -> anyhow::Result<Vec<FetchedStage>> {
    limits.all.acquire().await;
    let out = gw
        .get_stages()
        .rest_api_id(api_id)
        .send()
        .await
        .with_context(|| format!("GetStages {api_id}"))?;
    let mut stages: Vec<FetchedStage> = out
        .item()
        .iter()
        .map(|s| FetchedStage {
            name: s.stage_name().unwrap_or_default().to_string(),
            deployment_id: s.deployment_id().map(String::from),
            last_updated_epoch: s.last_updated_date().map(|d| d.secs()),
            auto_deploy: false,
        })
        .collect();
    stages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stages)
}

pub async fn fetch_resources(
    gw: &aws_sdk_apigateway::Client,
    limits: &ApiGatewayLimits,
    api_id: &str,
) -> anyhow::Result<Vec<FetchedResource>> {
    let mut resources = Vec::new();
    let mut position = None;
    loop {
        limits.get_resources.acquire().await;
        limits.all.acquire().await;
        // `embed=methods` brings each resource's methods in the same call.
        let page = gw
            .get_resources()
            .rest_api_id(api_id)
            .limit(PAGE)
            .embed("methods")
            .set_position(position.take())
            .send()
            .await
            .with_context(|| format!("GetResources {api_id}"))?;
        for r in page.items() {
            let mut methods: Vec<FetchedMethod> = r
                .resource_methods()
                .map(|m| {
                    m.iter()
                        .map(|(verb, method)| FetchedMethod {
                            http_method: method.http_method().unwrap_or(verb).to_string(),
                            authorization_type: method
                                .authorization_type()
                                .unwrap_or("NONE")
                                .to_string(),
                            authorizer_id: method.authorizer_id().map(String::from),
                            api_key_required: method.api_key_required().unwrap_or(false),
                        })
                        .collect()
                })
                .unwrap_or_default();
            methods.sort_by(|a, b| a.http_method.cmp(&b.http_method));
            resources.push(FetchedResource {
                resource_id: r.id().context("a resource without an id")?.to_string(),
                parent_id: r.parent_id().map(String::from),
                path: r.path().unwrap_or("/").to_string(),
                methods,
            });
        }
        match page.position() {
            Some(p) if !p.is_empty() && !page.items().is_empty() => position = Some(p.to_string()),
            _ => break,
        }
    }
    resources.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(resources)
}
