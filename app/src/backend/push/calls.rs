//! Makes one planned AWS call. Every call is safe to make again (a step interrupted by a crash
//! is repeated): puts and deletes converge, a role that already exists counts as created when it
//! carries Gatehouse's tag, and a second deployment of the same state is harmless.

use crate::domain::plan::Call;
use aws_sdk_apigateway::types::{AuthorizerType, Op, PatchOperation};
use aws_sdk_iam::{
    error::{ProvideErrorMetadata, SdkError},
    operation::RequestId,
    types::Tag,
};

use super::PushTarget;
use crate::backend::catalog::iam::MANAGED_TAG;

/// A call's outcome: AWS's request id, or why it failed (with AWS's error code).
pub struct CallError {
    pub message: String,
    pub request_id: Option<String>,
}

pub(super) fn request_id(x: &impl RequestId) -> Option<String> {
    x.request_id().map(String::from)
}

pub(super) fn failed<E>(
    op: &str,
    e: SdkError<E, aws_sdk_iam::config::http::HttpResponse>,
) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let request_id = request_id(&e);
    let message = match (e.code(), e.message()) {
        (Some(code), Some(msg)) => format!("{op}: {code}: {msg}"),
        (Some(code), None) => format!("{op}: {code}"),
        _ => format!("{op}: {}", aws_sdk_iam::error::DisplayErrorContext(&e)),
    };
    CallError {
        message,
        request_id,
    }
}

/// Authorizer ids found by name during one push run. An `UpdateMethod` step names Gatehouse's
/// authorizer (it may have been planned before the authorizer existed); looking the id up once
/// per run, not once per method, spares API Gateway's quota of calls per second.
#[derive(Default)]
pub struct FoundAuthorizers(std::collections::HashMap<(String, String, String), String>);

impl FoundAuthorizers {
    fn key(target: &PushTarget, api_id: &str, name: &str) -> (String, String, String) {
        (target.name.clone(), api_id.to_string(), name.to_string())
    }

    pub(super) fn get(&self, target: &PushTarget, api_id: &str, name: &str) -> Option<String> {
        self.0.get(&Self::key(target, api_id, name)).cloned()
    }

    pub(super) fn remember(&mut self, target: &PushTarget, api_id: &str, name: &str, id: &str) {
        self.0
            .insert(Self::key(target, api_id, name), id.to_string());
    }

    pub(super) fn forget(&mut self, target: &PushTarget, api_id: &str, name: &str) {
        self.0.remove(&Self::key(target, api_id, name));
    }
}

pub async fn make(
    target: &PushTarget,
    call: &Call,
    found: &mut FoundAuthorizers,
) -> Result<Option<String>, CallError> {
    target.limits.all.acquire().await;
    if super::http_calls::is_http(call) {
        return super::http_calls::make(target, call, found).await;
    }
    let iam = &target.clients.iam;
    let gw = &target.clients.apigateway;
    match call {
        Call::CreateRole {
            role_name,
            path,
            trust_policy,
        } => {
            let sent = iam
                .create_role()
                .role_name(role_name)
                .path(path)
                .assume_role_policy_document(trust_policy)
                .description("Managed by Gatehouse")
                // Gatehouse's own policy requires it: no role it makes can do more.
                .set_permissions_boundary(target.boundary.clone())
                .tags(
                    Tag::builder()
                        .key(MANAGED_TAG.0)
                        .value(MANAGED_TAG.1)
                        .build()
                        .expect("key and value are set"),
                )
                .send()
                .await;
            match sent {
                Ok(out) => Ok(request_id(&out)),
                // Made by an earlier attempt of this step — or by someone else since the plan:
                // only a role carrying Gatehouse's tag and the planned trust policy is ours.
                Err(e) if e.code() == Some("EntityAlreadyExists") => {
                    existing_is_ours(target, role_name, trust_policy).await
                }
                Err(e) => Err(failed("CreateRole", e)),
            }
        }
        Call::PutRolePolicy {
            role_name,
            policy_name,
            document,
        } => iam
            .put_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map(|o| request_id(&o))
            .map_err(|e| failed("PutRolePolicy", e)),
        Call::DeleteRolePolicy {
            role_name,
            policy_name,
        } => match iam
            .delete_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .send()
            .await
        {
            Ok(o) => Ok(request_id(&o)),
            Err(e) if e.code() == Some("NoSuchEntity") => Ok(None),
            Err(e) => Err(failed("DeleteRolePolicy", e)),
        },
        Call::UpdateMethodAuthorization {
            api_id,
            resource_id,
            http_method,
            ..
        } => gw
            .update_method()
            .rest_api_id(api_id)
            .resource_id(resource_id)
            .http_method(http_method)
            .patch_operations(replace("/authorizationType", "AWS_IAM"))
            .send()
            .await
            .map(|o| request_id(&o))
            .map_err(|e| failed("UpdateMethod", e)),
        Call::CreateAuthorizer {
            api_id,
            name,
            uri,
            identity_source,
            ttl_seconds,
            ..
        } => {
            if let Some(have) = authorizer_named(target, api_id, name).await? {
                return made_before(&have, uri, &format!("API {api_id}"));
            }
            target.limits.all.acquire().await;
            let made = gw
                .create_authorizer()
                .rest_api_id(api_id)
                .name(name)
                .r#type(AuthorizerType::Token)
                .authorizer_uri(uri)
                .identity_source(identity_source)
                .authorizer_result_ttl_in_seconds(*ttl_seconds as i32)
                .send()
                .await
                .map_err(|e| failed("CreateAuthorizer", e))?;
            if let Some(id) = made.id() {
                found
                    .0
                    .insert(FoundAuthorizers::key(target, api_id, name), id.to_string());
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
            .rest_api_id(api_id)
            .authorizer_id(authorizer_id)
            .patch_operations(replace("/authorizerUri", uri))
            .patch_operations(replace(
                "/authorizerResultTtlInSeconds",
                &ttl_seconds.to_string(),
            ))
            .send()
            .await
            .map(|o| request_id(&o))
            .map_err(|e| failed("UpdateAuthorizer", e)),
        Call::AttachAuthorizer {
            api_id,
            resource_id,
            http_method,
            authorizer_name,
            ..
        } => {
            let key = FoundAuthorizers::key(target, api_id, authorizer_name);
            let id = match found.0.get(&key) {
                Some(id) => id.clone(),
                None => {
                    let Some(authorizer) =
                        authorizer_named(target, api_id, authorizer_name).await?
                    else {
                        return Err(CallError {
                            message: format!(
                                "UpdateMethod: API {api_id} has no authorizer named {authorizer_name} (deleted since the plan?): push again"
                            ),
                            request_id: None,
                        });
                    };
                    found.0.insert(key.clone(), authorizer.id.clone());
                    authorizer.id
                }
            };
            target.limits.all.acquire().await;
            // Both in one request: API Gateway refuses CUSTOM without a valid authorizer.
            let sent = gw
                .update_method()
                .rest_api_id(api_id)
                .resource_id(resource_id)
                .http_method(http_method)
                .patch_operations(replace("/authorizationType", "CUSTOM"))
                .patch_operations(replace("/authorizerId", &id))
                .send()
                .await;
            if sent.is_err() {
                // The id may be stale (the authorizer replaced meanwhile): found again next time.
                found.0.remove(&key);
            }
            sent.map(|o| request_id(&o))
                .map_err(|e| failed("UpdateMethod", e))
        }
        Call::UpdateResourcePolicy { api_id, policy } => {
            // Merged into what the API holds now, not what it held when the plan was made.
            let current = gw
                .get_rest_api()
                .rest_api_id(api_id)
                .send()
                .await
                .map_err(|e| failed("GetRestApi", e))?;
            let current = match current.policy() {
                Some(text) => {
                    Some(
                        super::aws_state::parse_resource_policy(text).map_err(|e| CallError {
                            message: format!("GetRestApi: {e:#}"),
                            request_id: None,
                        })?,
                    )
                }
                None => None,
            };
            let planned: serde_json::Value =
                serde_json::from_str(policy).map_err(|e| CallError {
                    message: format!("the planned resource policy is not JSON: {e}"),
                    request_id: None,
                })?;
            let document = crate::domain::resource_policy::merge(current.as_ref(), &planned);
            gw.update_rest_api()
                .rest_api_id(api_id)
                .patch_operations(
                    PatchOperation::builder()
                        .op(Op::Replace)
                        .path("/policy")
                        .value(document)
                        .build(),
                )
                .send()
                .await
                .map(|o| request_id(&o))
                .map_err(|e| failed("UpdateRestApi", e))
        }
        Call::UpdateAssumeRolePolicy {
            role_name,
            document,
        } => iam
            .update_assume_role_policy()
            .role_name(role_name)
            .policy_document(document)
            .send()
            .await
            .map(|o| request_id(&o))
            .map_err(|e| failed("UpdateAssumeRolePolicy", e)),
        ic if ic.is_identity_center() || ic.is_entra() => Err(CallError {
            message: format!(
                "{} goes to IAM Identity Center or Entra ID, not to an account's IAM",
                ic.operation()
            ),
            request_id: None,
        }),
        Call::CreateDeployment { api_id, stage, .. } => {
            target.limits.deployments.acquire().await;
            gw.create_deployment()
                .rest_api_id(api_id)
                .stage_name(stage)
                .description("Gatehouse push")
                .send()
                .await
                .map(|o| request_id(&o))
                .map_err(|e| failed("CreateDeployment", e))
        }
        _ => unreachable!("Identity Center, Entra and HTTP API calls are answered above"),
    }
}

fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

/// `CreateAuthorizer` found an authorizer of its name already: made by an earlier attempt of
/// this step when it calls the same function (done), else someone else's (refused).
pub(super) fn made_before(
    have: &crate::domain::method_access::AuthorizerInfo,
    uri: &str,
    api: &str,
) -> Result<Option<String>, CallError> {
    if have.uri.as_deref() == Some(uri) {
        return Ok(None);
    }
    Err(CallError {
        message: format!(
            "CreateAuthorizer: {api} got an authorizer named {} calling {} since the plan was made; Gatehouse will not replace it",
            have.name,
            have.uri.as_deref().unwrap_or("no function")
        ),
        request_id: None,
    })
}

/// The API's authorizer named `name`, read now.
async fn authorizer_named(
    target: &PushTarget,
    api_id: &str,
    name: &str,
) -> Result<Option<crate::domain::method_access::AuthorizerInfo>, CallError> {
    let all = crate::backend::catalog::apigateway::fetch_authorizers(
        &target.clients.apigateway,
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

/// After `CreateRole` answered "already exists": the role counts as created only when it is
/// tagged `gatehouse:managed=true` and trusts exactly whom the plan said; otherwise the push
/// stops here and nothing is written to the role.
async fn existing_is_ours(
    target: &PushTarget,
    role_name: &str,
    trust_policy: &str,
) -> Result<Option<String>, CallError> {
    let found = target
        .clients
        .iam
        .get_role()
        .role_name(role_name)
        .send()
        .await
        .map_err(|e| failed("GetRole", e))?;
    let role = found.role();
    let managed =
        role.is_some_and(|r| r.tags().iter().any(|t| (t.key(), t.value()) == MANAGED_TAG));
    let trust = role
        .and_then(|r| r.assume_role_policy_document())
        .and_then(crate::backend::catalog::iam::decode_policy);
    let wanted = serde_json::from_str::<serde_json::Value>(trust_policy).ok();
    if managed && trust == wanted {
        return Ok(None);
    }
    let why = if managed {
        "another trust policy than the planned one"
    } else {
        "no gatehouse:managed=true tag"
    };
    Err(CallError {
        message: format!(
            "CreateRole: role {role_name} was created by someone else after the plan ({why}); Gatehouse wrote nothing to it. Rename the role in the mappings, or tag it and align its trust policy if it should be Gatehouse's, then push again"
        ),
        request_id: request_id(&found),
    })
}
