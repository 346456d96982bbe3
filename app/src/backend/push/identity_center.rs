//! IAM Identity Center: reads the permission sets, assignments and identity-store groups a push
//! concerns into the planner's terms, and makes the Identity Center calls of a plan. Account
//! assignments and provisioning are asynchronous in AWS: each call polls its status until AWS
//! says it succeeded or failed.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::Duration,
};

use aws_sdk_ssoadmin::{
    error::{DisplayErrorContext, ProvideErrorMetadata},
    types::{PrincipalType, ProvisionTargetType, StatusValues, Tag, TargetType},
};
use tokio::sync::Mutex;

use super::calls::{failed, request_id, CallError};
use crate::backend::{
    aws::{self, AwsClients},
    catalog::{iam::MANAGED_TAG, rate_limit::RateLimiter},
    config::{AwsSettings, PushSettings},
};
use crate::domain::{
    grant::GroupRef,
    identity_center::{GroupMatch, IdentityCenterActual, PermissionSetActual},
    names::RoleArn,
    plan::{Call, Principal},
};

/// How long an assignment or a provisioning may stay in progress before the step fails.
const POLL_ATTEMPTS: u32 = 40;
const POLL_FIRST_PAUSE: Duration = Duration::from_millis(100);
const POLL_MAX_PAUSE: Duration = Duration::from_secs(3);

pub struct IdentityCenter {
    pub instance_arn: String,
    pub identity_store_id: String,
    clients: AwsClients,
    /// Identity Center's quotas are per account; one pace for every call Gatehouse makes there.
    limit: RateLimiter,
    /// Permission set names by ARN (a permission set's name never changes).
    names: Mutex<HashMap<String, String>>,
}

/// A permission set's name and ARN.
struct Found {
    arn: String,
}

impl IdentityCenter {
    /// The configured instance, or the only one Identity Center answers.
    pub async fn connect(
        aws_settings: &AwsSettings,
        push: &PushSettings,
    ) -> anyhow::Result<IdentityCenter> {
        let clients = aws::clients_in(aws_settings, push.identity_center_region.as_deref()).await;
        let out = clients
            .ssoadmin
            .list_instances()
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("ListInstances: {}", DisplayErrorContext(&e)))?;
        let instances = out.instances();
        let chosen = match &push.identity_center_instance {
            Some(arn) => instances
                .iter()
                .find(|i| i.instance_arn() == Some(arn.as_str()))
                .ok_or_else(|| anyhow::anyhow!("Identity Center has no instance {arn}"))?,
            None => match instances {
                [one] => one,
                [] => anyhow::bail!(
                    "IAM Identity Center has no instance in this region: enable it, or set GATEHOUSE_IDENTITY_CENTER_REGION"
                ),
                _ => anyhow::bail!(
                    "IAM Identity Center has {} instances: name one in GATEHOUSE_IDENTITY_CENTER_INSTANCE_ARN",
                    instances.len()
                ),
            },
        };
        Ok(IdentityCenter {
            instance_arn: chosen.instance_arn().unwrap_or_default().to_string(),
            identity_store_id: chosen.identity_store_id().unwrap_or_default().to_string(),
            clients,
            limit: RateLimiter::per_second(push.calls_per_second),
            names: Mutex::new(HashMap::new()),
        })
    }

    /// Every permission set of the instance, by name.
    async fn permission_sets(&self) -> anyhow::Result<BTreeMap<String, Found>> {
        let sso = &self.clients.ssoadmin;
        let mut arns = Vec::new();
        let mut token = None;
        loop {
            self.limit.acquire().await;
            let page = sso
                .list_permission_sets()
                .instance_arn(&self.instance_arn)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("ListPermissionSets: {}", DisplayErrorContext(&e)))?;
            arns.extend(page.permission_sets().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        let mut names = self.names.lock().await;
        let mut by_name = BTreeMap::new();
        for arn in arns {
            if !names.contains_key(&arn) {
                self.limit.acquire().await;
                let out = sso
                    .describe_permission_set()
                    .instance_arn(&self.instance_arn)
                    .permission_set_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("DescribePermissionSet {arn}: {}", DisplayErrorContext(&e))
                    })?;
                let name = out
                    .permission_set()
                    .and_then(|p| p.name())
                    .unwrap_or_default();
                names.insert(arn.clone(), name.to_string());
            }
            by_name.insert(names[&arn].clone(), Found { arn });
        }
        Ok(by_name)
    }

    async fn arn_of(&self, name: &str) -> Result<String, CallError> {
        let all = self.permission_sets().await.map_err(|e| CallError {
            message: format!("{e:#}"),
            request_id: None,
        })?;
        all.get(name)
            .map(|f| f.arn.clone())
            .ok_or_else(|| CallError {
                message: format!("permission set {name} does not exist"),
                request_id: None,
            })
    }

    async fn read_one(&self, role: &RoleArn, arn: &str) -> anyhow::Result<PermissionSetActual> {
        let sso = &self.clients.ssoadmin;
        self.limit.acquire().await;
        let tags = sso
            .list_tags_for_resource()
            .instance_arn(&self.instance_arn)
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("ListTagsForResource {arn}: {}", DisplayErrorContext(&e))
            })?;
        let managed = tags
            .tags()
            .iter()
            .any(|t| (t.key(), t.value()) == MANAGED_TAG);
        self.limit.acquire().await;
        let policy = sso
            .get_inline_policy_for_permission_set()
            .instance_arn(&self.instance_arn)
            .permission_set_arn(arn)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "GetInlinePolicyForPermissionSet {arn}: {}",
                    DisplayErrorContext(&e)
                )
            })?;
        let inline = match policy.inline_policy().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(serde_json::from_str(text).map_err(|e| {
                anyhow::anyhow!("the inline policy of permission set {arn} is not JSON: {e}")
            })?),
        };
        let mut assignments = BTreeSet::new();
        let mut token = None;
        loop {
            self.limit.acquire().await;
            let page = sso
                .list_account_assignments()
                .instance_arn(&self.instance_arn)
                .account_id(role.account.as_str())
                .permission_set_arn(arn)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("ListAccountAssignments {arn}: {}", DisplayErrorContext(&e))
                })?;
            for a in page.account_assignments() {
                if let (Some(kind), Some(id)) = (a.principal_type(), a.principal_id()) {
                    assignments.insert(Principal {
                        kind: kind.as_str().to_string(),
                        id: id.to_string(),
                    });
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(PermissionSetActual {
            exists: true,
            managed,
            inline,
            assignments,
        })
    }

    /// The permission sets of `roles` and how each of `groups` (with its directory name) is
    /// found in the identity store. Answers also the external id of every identity-store group
    /// that has one, by group id.
    pub async fn read(
        &self,
        roles: &[RoleArn],
        groups: &BTreeMap<GroupRef, String>,
    ) -> anyhow::Result<(IdentityCenterActual, BTreeMap<String, String>)> {
        let all = self.permission_sets().await?;
        let mut actual = IdentityCenterActual::default();
        for role in roles {
            let ps = match all.get(role.name()) {
                Some(found) => self.read_one(role, &found.arn).await?,
                None => PermissionSetActual::default(),
            };
            actual.permission_sets.insert(role.clone(), ps);
        }
        let store = self.store_groups().await?;
        let mut external = BTreeMap::new();
        for g in &store {
            actual.names.insert(g.id.clone(), g.name.clone());
            if let Some(x) = g.external_ids.first() {
                external.insert(g.id.clone(), x.clone());
            }
        }
        for (group, name) in groups {
            let by_external = store
                .iter()
                .find(|g| g.external_ids.iter().any(|x| x == &group.object_id));
            let by_name = || store.iter().find(|g| &g.name == name);
            let found = match (by_external, by_name()) {
                (Some(g), _) => GroupMatch::ExternalId {
                    id: g.id.clone(),
                    name: name.clone(),
                },
                (None, Some(g)) => GroupMatch::DisplayName {
                    id: g.id.clone(),
                    name: name.clone(),
                },
                (None, None) => GroupMatch::Missing { name: name.clone() },
            };
            actual.groups.insert(group.clone(), found);
        }
        Ok((actual, external))
    }

    /// Every group of the identity store (SCIM keeps it to the groups in the provisioning
    /// scope, so this stays a few hundred to a few thousand).
    async fn store_groups(&self) -> anyhow::Result<Vec<StoreGroup>> {
        let mut groups = Vec::new();
        let mut token = None;
        loop {
            self.limit.acquire().await;
            let page = self
                .clients
                .identitystore
                .list_groups()
                .identity_store_id(&self.identity_store_id)
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("identity store ListGroups: {}", DisplayErrorContext(&e))
                })?;
            for g in page.groups() {
                groups.push(StoreGroup {
                    id: g.group_id().to_string(),
                    name: g.display_name().unwrap_or_default().to_string(),
                    external_ids: g
                        .external_ids()
                        .iter()
                        .map(|x| x.id().to_string())
                        .collect(),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(groups)
    }

    /// Makes one Identity Center call of a plan; safe to make again after a crash.
    pub async fn make(&self, call: &Call) -> Result<Option<String>, CallError> {
        let sso = &self.clients.ssoadmin;
        let instance = self.instance_arn.as_str();
        self.limit.acquire().await;
        match call {
            Call::CreatePermissionSet { name } => {
                if let Ok(arn) = self.arn_of(name).await {
                    let _ = arn; // made by an earlier attempt of this step
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
                let arn = self.arn_of(permission_set).await?;
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
                let arn = self.arn_of(permission_set).await?;
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
                let arn = self.arn_of(permission_set).await?;
                let out = sso
                    .provision_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(arn)
                    .target_type(ProvisionTargetType::AwsAccount)
                    .target_id(account)
                    .send()
                    .await
                    .map_err(|e| failed("ProvisionPermissionSet", e))?;
                let status = out.permission_set_provisioning_status();
                let first = (
                    status.and_then(|s| s.status()).cloned(),
                    status.and_then(|s| s.failure_reason()).map(String::from),
                );
                let request = status.and_then(|s| s.request_id()).map(String::from);
                self.poll(
                    "ProvisionPermissionSet",
                    first,
                    request.as_deref(),
                    |id| async move {
                        let out = sso
                            .describe_permission_set_provisioning_status()
                            .instance_arn(instance)
                            .provision_permission_set_request_id(id)
                            .send()
                            .await
                            .map_err(|e| failed("DescribePermissionSetProvisioningStatus", e))?;
                        let s = out.permission_set_provisioning_status();
                        Ok((
                            s.and_then(|s| s.status()).cloned(),
                            s.and_then(|s| s.failure_reason()).map(String::from),
                        ))
                    },
                )
                .await?;
                Ok(request)
            }
            Call::CreateAccountAssignment {
                permission_set,
                account,
                principal,
                ..
            } => {
                let arn = self.arn_of(permission_set).await?;
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
                let status = out.account_assignment_creation_status();
                let first = (
                    status.and_then(|s| s.status()).cloned(),
                    status.and_then(|s| s.failure_reason()).map(String::from),
                );
                let request = status.and_then(|s| s.request_id()).map(String::from);
                self.poll(
                    "CreateAccountAssignment",
                    first,
                    request.as_deref(),
                    |id| async move {
                        let out = sso
                            .describe_account_assignment_creation_status()
                            .instance_arn(instance)
                            .account_assignment_creation_request_id(id)
                            .send()
                            .await
                            .map_err(|e| failed("DescribeAccountAssignmentCreationStatus", e))?;
                        let s = out.account_assignment_creation_status();
                        Ok((
                            s.and_then(|s| s.status()).cloned(),
                            s.and_then(|s| s.failure_reason()).map(String::from),
                        ))
                    },
                )
                .await?;
                Ok(request)
            }
            Call::DeleteAccountAssignment {
                permission_set,
                account,
                principal,
                ..
            } => {
                let arn = self.arn_of(permission_set).await?;
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
                let status = out.account_assignment_deletion_status();
                let first = (
                    status.and_then(|s| s.status()).cloned(),
                    status.and_then(|s| s.failure_reason()).map(String::from),
                );
                let request = status.and_then(|s| s.request_id()).map(String::from);
                self.poll(
                    "DeleteAccountAssignment",
                    first,
                    request.as_deref(),
                    |id| async move {
                        let out = sso
                            .describe_account_assignment_deletion_status()
                            .instance_arn(instance)
                            .account_assignment_deletion_request_id(id)
                            .send()
                            .await
                            .map_err(|e| failed("DescribeAccountAssignmentDeletionStatus", e))?;
                        let s = out.account_assignment_deletion_status();
                        Ok((
                            s.and_then(|s| s.status()).cloned(),
                            s.and_then(|s| s.failure_reason()).map(String::from),
                        ))
                    },
                )
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
    async fn poll<F, Fut>(
        &self,
        op: &str,
        first: (Option<StatusValues>, Option<String>),
        request: Option<&str>,
        describe: F,
    ) -> Result<(), CallError>
    where
        F: Fn(String) -> Fut,
        Fut:
            std::future::Future<Output = Result<(Option<StatusValues>, Option<String>), CallError>>,
    {
        let (mut status, mut reason) = first;
        let mut pause = POLL_FIRST_PAUSE;
        for _ in 0..POLL_ATTEMPTS {
            match status {
                Some(StatusValues::Succeeded) => return Ok(()),
                Some(StatusValues::Failed) => {
                    return Err(CallError {
                        message: format!(
                            "{op}: AWS reports it failed: {}",
                            reason.as_deref().unwrap_or("no reason given")
                        ),
                        request_id: request.map(String::from),
                    })
                }
                _ => {}
            }
            let Some(id) = request else {
                return Err(CallError {
                    message: format!("{op}: AWS answered no request id to follow"),
                    request_id: None,
                });
            };
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX_PAUSE);
            self.limit.acquire().await;
            (status, reason) = describe(id.to_string()).await?;
        }
        Err(CallError {
            message: format!("{op}: still in progress after {POLL_ATTEMPTS} status checks; the push can be run again"),
            request_id: request.map(String::from),
        })
    }
}

struct StoreGroup {
    id: String,
    name: String,
    external_ids: Vec<String>,
}
