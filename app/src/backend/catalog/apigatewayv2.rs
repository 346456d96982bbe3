//! Reads HTTP APIs (API Gateway v2) — stages, routes, authorizers — into the same shape as REST
//! APIs: each route path is a resource (keyed by the path: HTTP APIs have no resource ids) and
//! each route a method on it. WebSocket APIs are not catalogued (they have no HTTP routes).

use std::collections::BTreeMap;

use anyhow::Context;

use super::{
    apigateway::{FetchedApi, FetchedMethod, FetchedResource, FetchedStage},
    rate_limit::ApiGatewayLimits,
};
use crate::domain::{
    method_access::AuthorizerInfo,
    route_key::{route_key_parts, ApiKind, DEFAULT_ROUTE},
};

const PAGE: &str = "500";

pub async fn fetch_all(
    gw: &aws_sdk_apigatewayv2::Client,
    limits: &ApiGatewayLimits,
) -> anyhow::Result<Vec<FetchedApi>> {
    let mut apis = Vec::new();
    let mut token = None;
    loop {
        limits.all.acquire().await;
        let page = gw
            .get_apis()
            .max_results(PAGE)
            .set_next_token(token.take())
            .send()
            .await
            .context("GetApis")?;
        for api in page.items() {
            if api.protocol_type().map(|p| p.as_str()) != Some("HTTP") {
                continue;
            }
            let api_id = api
                .api_id()
                .context("an HTTP API without an id")?
                .to_string();
            apis.push(FetchedApi {
                name: api.name().unwrap_or(&api_id).to_string(),
                description: api.description().map(String::from),
                endpoint_types: vec!["REGIONAL".into()],
                tags: api
                    .tags()
                    .map(|t| t.clone().into_iter().collect())
                    .unwrap_or_default(),
                kind: ApiKind::Http,
                stages: fetch_stages(gw, limits, &api_id).await?,
                resources: resources_of(&fetch_routes(gw, limits, &api_id).await?),
                authorizers: fetch_authorizers(gw, limits, &api_id).await?,
                api_id,
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    apis.sort_by(|a, b| a.api_id.cmp(&b.api_id));
    Ok(apis)
}

pub async fn fetch_stages(
    gw: &aws_sdk_apigatewayv2::Client,
    limits: &ApiGatewayLimits,
    api_id: &str,
) -> anyhow::Result<Vec<FetchedStage>> {
    let mut stages = Vec::new();
    let mut token = None;
    loop {
        limits.all.acquire().await;
        let page = gw
            .get_stages()
            .api_id(api_id)
            .max_results(PAGE)
            .set_next_token(token.take())
            .send()
            .await
            .with_context(|| format!("GetStages {api_id}"))?;
        stages.extend(page.items().iter().map(|s| FetchedStage {
            name: s.stage_name().unwrap_or_default().to_string(),
            deployment_id: s.deployment_id().map(String::from),
            last_updated_epoch: s.last_updated_date().map(|d| d.secs()),
            auto_deploy: s.auto_deploy().unwrap_or(false),
        }));
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    stages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stages)
}

/// One route: its id (what UpdateRoute names) and the method it is catalogued as.
pub struct FetchedRoute {
    pub route_id: String,
    pub path: String,
    pub method: FetchedMethod,
}

/// The routes grouped by path, each path a resource keyed by the path.
pub fn resources_of(routes: &[FetchedRoute]) -> Vec<FetchedResource> {
    let mut by_path: BTreeMap<&str, Vec<FetchedMethod>> = BTreeMap::new();
    for r in routes {
        by_path.entry(&r.path).or_default().push(r.method.clone());
    }
    by_path
        .into_iter()
        .map(|(path, mut methods)| {
            methods.sort_by(|a, b| a.http_method.cmp(&b.http_method));
            FetchedResource {
                resource_id: path.to_string(),
                parent_id: None,
                path: path.to_string(),
                methods,
            }
        })
        .collect()
}

pub async fn fetch_routes(
    gw: &aws_sdk_apigatewayv2::Client,
    limits: &ApiGatewayLimits,
    api_id: &str,
) -> anyhow::Result<Vec<FetchedRoute>> {
    let mut routes = Vec::new();
    let mut token = None;
    loop {
        limits.all.acquire().await;
        let page = gw
            .get_routes()
            .api_id(api_id)
            .max_results(PAGE)
            .set_next_token(token.take())
            .send()
            .await
            .with_context(|| format!("GetRoutes {api_id}"))?;
        for r in page.items() {
            let key = r.route_key().unwrap_or(DEFAULT_ROUTE);
            let Some((verb, path)) = route_key_parts(key) else {
                // A key API Gateway would not accept for an HTTP API: nothing to catalogue.
                continue;
            };
            routes.push(FetchedRoute {
                route_id: r.route_id().context("a route without an id")?.to_string(),
                path: path.to_string(),
                method: FetchedMethod {
                    http_method: verb.to_string(),
                    authorization_type: r
                        .authorization_type()
                        .map(|t| t.as_str())
                        .unwrap_or("NONE")
                        .to_string(),
                    authorizer_id: r.authorizer_id().map(String::from),
                    api_key_required: r.api_key_required().unwrap_or(false),
                },
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    routes.sort_by(|a, b| (&a.path, &a.method.http_method).cmp(&(&b.path, &b.method.http_method)));
    Ok(routes)
}

pub async fn fetch_authorizers(
    gw: &aws_sdk_apigatewayv2::Client,
    limits: &ApiGatewayLimits,
    api_id: &str,
) -> anyhow::Result<Vec<AuthorizerInfo>> {
    let mut authorizers = Vec::new();
    let mut token = None;
    loop {
        limits.all.acquire().await;
        let page = gw
            .get_authorizers()
            .api_id(api_id)
            .max_results(PAGE)
            .set_next_token(token.take())
            .send()
            .await
            .with_context(|| format!("GetAuthorizers {api_id}"))?;
        authorizers.extend(page.items().iter().map(|a| {
            AuthorizerInfo {
                id: a.authorizer_id().unwrap_or_default().to_string(),
                name: a.name().unwrap_or_default().to_string(),
                kind: a
                    .authorizer_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                uri: a.authorizer_uri().map(String::from),
                ttl_seconds: a
                    .authorizer_result_ttl_in_seconds()
                    .and_then(|s| u32::try_from(s).ok()),
            }
        }));
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    authorizers.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(authorizers)
}
