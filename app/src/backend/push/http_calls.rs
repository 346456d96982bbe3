//! Makes one planned call to an HTTP API (API Gateway v2): Gatehouse's `REQUEST` authorizer
//! (payload 2.0, simple responses), a route's authorization, a deployment. Each is safe to make
//! again, like the REST calls beside it.

use aws_sdk_apigatewayv2::types::{AuthorizationType, AuthorizerType};

use super::{
    calls::{failed, made_before, request_id, CallError, FoundAuthorizers},
    PushTarget,
};
use crate::domain::{method_access::AuthorizerInfo, plan::Call};

/// Whether `call` goes to API Gateway v2.
pub fn is_http(call: &Call) -> bool {
    use crate::domain::route_key::ApiKind::Http;
    matches!(
        call,
        Call::CreateAuthorizer { kind: Http, .. }
            | Call::UpdateAuthorizer { kind: Http, .. }
            | Call::CreateDeployment { kind: Http, .. }
            | Call::UpdateRoute { .. }
    )
}

pub async fn make(
    target: &PushTarget,
    call: &Call,
    found: &mut FoundAuthorizers,
) -> Result<Option<String>, CallError> {
    let gw = &target.clients.apigatewayv2;
    match call {
        Call::CreateAuthorizer {
            api_id,
            name,
            uri,
            identity_source,
            ttl_seconds,
            ..
        } => {
            if let Some(have) = authorizer_named(target, api_id, name).await? {
                return made_before(&have, uri, &format!("HTTP API {api_id}"));
            }
            target.limits.all.acquire().await;
            let made = gw
                .create_authorizer()
                .api_id(api_id)
                .name(name)
                .authorizer_type(AuthorizerType::Request)
                .authorizer_uri(uri)
                .identity_source(identity_source)
                .authorizer_payload_format_version("2.0")
                .enable_simple_responses(true)
                .authorizer_result_ttl_in_seconds(*ttl_seconds as i32)
                .send()
                .await
                .map_err(|e| failed("CreateAuthorizer", e))?;
            if let Some(id) = made.authorizer_id() {
                found.remember(target, api_id, name, id);
            }
            Ok(request_id(&made))
        }
        Call::UpdateAuthorizer {
            api_id,
            authorizer_id,
            uri,
            ttl_seconds,
            ..
        } => gw
            .update_authorizer()
            .api_id(api_id)
            .authorizer_id(authorizer_id)
            .authorizer_uri(uri)
            .authorizer_result_ttl_in_seconds(*ttl_seconds as i32)
            .send()
            .await
            .map(|o| request_id(&o))
            .map_err(|e| failed("UpdateAuthorizer", e)),
        Call::UpdateRoute {
            api_id,
            route_id,
            authorization_type,
            authorizer_name,
            ..
        } => {
            let mut update = gw.update_route().api_id(api_id).route_id(route_id);
            let mut remembered = None;
            match authorizer_name {
                Some(name) => {
                    let id = match found.get(target, api_id, name) {
                        Some(id) => id,
                        None => {
                            let Some(authorizer) = authorizer_named(target, api_id, name).await?
                            else {
                                return Err(CallError {
                                    message: format!(
                                        "UpdateRoute: HTTP API {api_id} has no authorizer named {name} (deleted since the plan?): push again"
                                    ),
                                    request_id: None,
                                });
                            };
                            found.remember(target, api_id, name, &authorizer.id);
                            authorizer.id
                        }
                    };
                    remembered = Some(name);
                    update = update
                        .authorization_type(AuthorizationType::Custom)
                        .authorizer_id(id);
                }
                None => {
                    update = update
                        .authorization_type(AuthorizationType::from(authorization_type.as_str()));
                }
            }
            target.limits.all.acquire().await;
            let sent = update.send().await;
            if let (Err(_), Some(name)) = (&sent, remembered) {
                // The id may be stale (the authorizer replaced meanwhile): found again next time.
                found.forget(target, api_id, name);
            }
            sent.map(|o| request_id(&o))
                .map_err(|e| failed("UpdateRoute", e))
        }
        Call::CreateDeployment { api_id, stage, .. } => {
            target.limits.deployments.acquire().await;
            gw.create_deployment()
                .api_id(api_id)
                .stage_name(stage)
                .description("Gatehouse push")
                .send()
                .await
                .map(|o| request_id(&o))
                .map_err(|e| failed("CreateDeployment", e))
        }
        other => Err(CallError {
            message: format!("{} is not an HTTP API call", other.operation()),
            request_id: None,
        }),
    }
}

/// The HTTP API's authorizer named `name`, read now.
async fn authorizer_named(
    target: &PushTarget,
    api_id: &str,
    name: &str,
) -> Result<Option<AuthorizerInfo>, CallError> {
    let all = crate::backend::catalog::apigatewayv2::fetch_authorizers(
        &target.clients.apigatewayv2,
        &target.read_limits,
        api_id,
    )
    .await
    .map_err(|e| CallError {
        message: format!("{e:#}"),
        request_id: None,
    })?;
    Ok(all.into_iter().find(|a| a.name == name))
}
