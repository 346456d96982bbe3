//! The Identity Center calls of a plan. Account assignments and provisioning are asynchronous in
//! AWS: each call polls its status until AWS says it succeeded or failed.

use std::time::Duration;

use aws_sdk_ssoadmin::{
    error::ProvideErrorMetadata,
    types::{
        AccountAssignmentOperationStatus, PermissionSetProvisioningStatus, PrincipalType,
        ProvisionTargetType, StatusValues, Tag, TargetType,
    },
};

use super::IdentityCenter;
use crate::backend::{
    catalog::iam::MANAGED_TAG,
    push::calls::{failed, request_id, CallError},
};
use crate::domain::plan::Call;

/// How long an assignment or a provisioning may stay in progress before the step fails.
const POLL_ATTEMPTS: u32 = 40;
const POLL_FIRST_PAUSE: Duration = Duration::from_millis(100);
const POLL_MAX_PAUSE: Duration = Duration::from_secs(3);

impl IdentityCenter {
    /// Makes one Identity Center call of a plan; safe to make again after a crash.
    pub async fn make(&self, call: &Call) -> Result<Option<String>, CallError> {
        let sso = &self.clients.ssoadmin;
        let instance = self.instance_arn.as_str();
        self.limit.acquire().await;
        match call {
            Call::CreatePermissionSet { name } => {
                if self.arn_of(name, true).await.is_ok() {
                    // Made by an earlier attempt of this step.
                    return Ok(None);
                }
                let out = sso
                    .create_permission_set()
                    .instance_arn(instance)
                    .name(name)
                    .description("Managed by Gatehouse")
                    // AWS's default, said explicitly (moto answers a number otherwise).
                    .session_duration("PT1H")
                    .tags(
                        Tag::builder()
                            .key(MANAGED_TAG.0)
                            .value(MANAGED_TAG.1)
                            .build()
                            .expect("key and value are set"),
                    )
                    .send()
                    .await
                    .map_err(|e| failed("CreatePermissionSet", e))?;
                if let Some(arn) = out.permission_set().and_then(|p| p.permission_set_arn()) {
                    self.names
                        .lock()
                        .await
                        .insert(arn.to_string(), name.clone());
                }
                Ok(request_id(&out))
            }
            Call::PutPermissionSetPolicy {
                permission_set,
                document,
            } => {
                let arn = self.arn_of(permission_set, false).await?;
                sso.put_inline_policy_to_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(arn)
                    .inline_policy(document)
                    .send()
                    .await
                    .map(|o| request_id(&o))
                    .map_err(|e| failed("PutInlinePolicyToPermissionSet", e))
            }
            Call::DeletePermissionSetPolicy { permission_set } => {
                let arn = self.arn_of(permission_set, false).await?;
                match sso
                    .delete_inline_policy_from_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(arn)
                    .send()
                    .await
                {
                    Ok(o) => Ok(request_id(&o)),
                    Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
                    Err(e) => Err(failed("DeleteInlinePolicyFromPermissionSet", e)),
                }
            }
            Call::ProvisionPermissionSet {
                permission_set,
                account,
            } => {
                let arn = self.arn_of(permission_set, false).await?;
                let out = sso
                    .provision_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(arn)
                    .target_type(ProvisionTargetType::AwsAccount)
                    .target_id(account)
                    .send()
                    .await
                    .map_err(|e| failed("ProvisionPermissionSet", e))?;
                let first = Progress::from(out.permission_set_provisioning_status());
                let request = first.request.clone();
                self.poll("ProvisionPermissionSet", first, |id| async move {
                    let out = sso
                        .describe_permission_set_provisioning_status()
                        .instance_arn(instance)
                        .provision_permission_set_request_id(id)
                        .send()
                        .await
                        .map_err(|e| failed("DescribePermissionSetProvisioningStatus", e))?;
                    Ok(Progress::from(out.permission_set_provisioning_status()))
                })
                .await?;
                Ok(request)
            }
            Call::CreateAccountAssignment {
                permission_set,
                account,
                principal,
                ..
            } => {
                let arn = self.arn_of(permission_set, false).await?;
                let out = sso
                    .create_account_assignment()
                    .instance_arn(instance)
                    .target_id(account)
                    .target_type(TargetType::AwsAccount)
                    .permission_set_arn(arn)
                    .principal_type(PrincipalType::from(principal.kind.as_str()))
                    .principal_id(&principal.id)
                    .send()
                    .await
                    .map_err(|e| failed("CreateAccountAssignment", e))?;
                let first = Progress::from(out.account_assignment_creation_status());
                let request = first.request.clone();
                self.poll("CreateAccountAssignment", first, |id| async move {
                    let out = sso
                        .describe_account_assignment_creation_status()
                        .instance_arn(instance)
                        .account_assignment_creation_request_id(id)
                        .send()
                        .await
                        .map_err(|e| failed("DescribeAccountAssignmentCreationStatus", e))?;
                    Ok(Progress::from(out.account_assignment_creation_status()))
                })
                .await?;
                Ok(request)
            }
            Call::DeleteAccountAssignment {
                permission_set,
                account,
                principal,
                ..
            } => {
                let arn = self.arn_of(permission_set, false).await?;
                let out = match sso
                    .delete_account_assignment()
                    .instance_arn(instance)
                    .target_id(account)
                    .target_type(TargetType::AwsAccount)
                    .permission_set_arn(arn)
                    .principal_type(PrincipalType::from(principal.kind.as_str()))
                    .principal_id(&principal.id)
                    .send()
                    .await
                {
                    Ok(out) => out,
                    // Removed by an earlier attempt of this step.
                    Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
                    Err(e) => return Err(failed("DeleteAccountAssignment", e)),
                };
                let first = Progress::from(out.account_assignment_deletion_status());
                let request = first.request.clone();
                self.poll("DeleteAccountAssignment", first, |id| async move {
                    let out = sso
                        .describe_account_assignment_deletion_status()
                        .instance_arn(instance)
                        .account_assignment_deletion_request_id(id)
                        .send()
                        .await
                        .map_err(|e| failed("DescribeAccountAssignmentDeletionStatus", e))?;
                    Ok(Progress::from(out.account_assignment_deletion_status()))
                })
                .await?;
                Ok(request)
            }
            other => Err(CallError {
                message: format!("{} is not an Identity Center call", other.operation()),
                request_id: None,
            }),
        }
    }

    /// Asks for an asynchronous request's status until AWS says it succeeded (or failed),
    /// pausing longer each time.
    async fn poll<F, Fut>(&self, op: &str, first: Progress, describe: F) -> Result<(), CallError>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<Progress, CallError>>,
    {
        let request = first.request.clone();
        let mut now = first;
        let mut pause = POLL_FIRST_PAUSE;
        for _ in 0..POLL_ATTEMPTS {
            match now.status {
                Some(StatusValues::Succeeded) => return Ok(()),
                Some(StatusValues::Failed) => {
                    return Err(CallError {
                        message: format!(
                            "{op}: AWS reports it failed: {}",
                            now.reason.as_deref().unwrap_or("no reason given")
                        ),
                        request_id: request,
                    })
                }
                _ => {}
            }
            let Some(id) = &request else {
                return Err(CallError {
                    message: format!("{op}: AWS answered no request id to follow"),
                    request_id: None,
                });
            };
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX_PAUSE);
            self.limit.acquire().await;
            now = describe(id.clone()).await?;
        }
        Err(CallError {
            message: format!("{op}: still in progress after {POLL_ATTEMPTS} status checks; the push can be run again"),
            request_id: request,
        })
    }
}

/// Where an asynchronous Identity Center request stands, as AWS answers it.
struct Progress {
    status: Option<StatusValues>,
    reason: Option<String>,
    request: Option<String>,
}

impl From<Option<&AccountAssignmentOperationStatus>> for Progress {
    fn from(s: Option<&AccountAssignmentOperationStatus>) -> Self {
        Progress {
            status: s.and_then(|s| s.status()).cloned(),
            reason: s.and_then(|s| s.failure_reason()).map(String::from),
            request: s.and_then(|s| s.request_id()).map(String::from),
        }
    }
}

impl From<Option<&PermissionSetProvisioningStatus>> for Progress {
    fn from(s: Option<&PermissionSetProvisioningStatus>) -> Self {
        Progress {
            status: s.and_then(|s| s.status()).cloned(),
            reason: s.and_then(|s| s.failure_reason()).map(String::from),
            request: s.and_then(|s| s.request_id()).map(String::from),
        }
    }
}
