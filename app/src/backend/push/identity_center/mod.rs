//! IAM Identity Center: reads the permission sets, assignments and identity-store groups a push
//! concerns into the planner's terms (the calls of a plan are made in `calls`).

mod calls;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_ssoadmin::error::DisplayErrorContext;
use tokio::sync::Mutex;

use super::calls::CallError;
use crate::backend::{
    aws::{self, AwsClients},
    catalog::{iam::MANAGED_TAG, rate_limit::RateLimiter},
    config::{AwsSettings, PushSettings},
};
use crate::domain::{
    grant::GroupRef,
    identity_center::{GroupMatch, IdentityCenterActual, PermissionSetActual},
    names::RoleArn,
    plan::Principal,
};

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
        // A permission set deleted by hand (and perhaps made again under its name) is forgotten.
        names.retain(|arn, _| arns.contains(arn));
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

    /// The ARN of permission set `name`: from what this process has seen unless `fresh`
    /// (whether it exists at all is always asked afresh).
    async fn arn_of(&self, name: &str, fresh: bool) -> Result<String, CallError> {
        if !fresh {
            let seen = self.names.lock().await;
            if let Some((arn, _)) = seen.iter().find(|(_, n)| n.as_str() == name) {
                return Ok(arn.clone());
            }
        }
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
        people: &BTreeMap<GroupRef, (String, Option<String>)>,
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
        for (person, (name, user_name)) in people {
            let id = match user_name {
                Some(user_name) => self.user_id(user_name).await?,
                None => None,
            };
            if let Some(id) = &id {
                actual.names.insert(id.clone(), name.clone());
            }
            actual.users.insert(person.clone(), (name.clone(), id));
        }
        Ok((actual, external))
    }

    /// The identity-store user whose `userName` is `user_name`, if there is one.
    async fn user_id(&self, user_name: &str) -> anyhow::Result<Option<String>> {
        use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
        self.limit.acquire().await;
        let asked = self
            .clients
            .identitystore
            .get_user_id()
            .identity_store_id(&self.identity_store_id)
            .alternate_identifier(AlternateIdentifier::UniqueAttribute(
                UniqueAttribute::builder()
                    .attribute_path("userName")
                    .attribute_value(aws_smithy_types::Document::String(user_name.into()))
                    .build()?,
            ))
            .send()
            .await;
        match asked {
            Ok(found) => Ok(Some(found.user_id().to_string())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(anyhow::anyhow!(
                "identity store GetUserId {user_name}: {}",
                DisplayErrorContext(&e)
            )),
        }
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
}

struct StoreGroup {
    id: String,
    name: String,
    external_ids: Vec<String>,
}
