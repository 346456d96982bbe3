//! The calls a push plan is made of: one per write to AWS (IAM, API Gateway, IAM Identity
//! Center) or to Entra ID, each with everything needed to make it again after a restart, and the
//! line people read for it.

use serde::{Deserialize, Serialize};

use super::route_key::ApiKind;

/// One AWS call, with everything needed to make it again after a restart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op")]
pub enum Call {
    CreateRole {
        role_name: String,
        path: String,
        trust_policy: String,
    },
    PutRolePolicy {
        role_name: String,
        policy_name: String,
        document: String,
    },
    DeleteRolePolicy {
        role_name: String,
        policy_name: String,
    },
    /// Sets a method's authorization type to `AWS_IAM`.
    UpdateMethodAuthorization {
        api_id: String,
        resource_id: String,
        path: String,
        http_method: String,
        from: String,
    },
    /// Token mode: Gatehouse's Lambda authorizer on an API, reading the `Authorization` header:
    /// `TOKEN` on a REST API, `REQUEST` with payload 2.0 and simple responses on an HTTP API.
    CreateAuthorizer {
        api_id: String,
        name: String,
        uri: String,
        identity_source: String,
        ttl_seconds: u32,
        /// REST API (the default, left out of stored steps) or HTTP API.
        #[serde(default, skip_serializing_if = "ApiKind::is_rest")]
        kind: ApiKind,
    },
    /// Token mode: Gatehouse's authorizer brought back to the function and cache it should have.
    UpdateAuthorizer {
        api_id: String,
        authorizer_id: String,
        name: String,
        uri: String,
        ttl_seconds: u32,
        /// What it had, for people.
        from: String,
        /// What changes, for people ("answers cached 60 s (was 300 s)").
        changes: Vec<String>,
        /// REST API (the default, left out of stored steps) or HTTP API.
        #[serde(default, skip_serializing_if = "ApiKind::is_rest")]
        kind: ApiKind,
    },
    /// Token mode: a granted method set to `CUSTOM` with Gatehouse's authorizer (found by name
    /// when the call is made: a step planned before the authorizer existed cannot know its id).
    AttachAuthorizer {
        api_id: String,
        resource_id: String,
        path: String,
        http_method: String,
        from: String,
        authorizer_name: String,
    },
    /// Replaces the REST API's resource policy: Gatehouse's statements (`Sid` starting with
    /// `Gatehouse`; one per set of routes, naming every role allowed them) as desired, everyone
    /// else's as found.
    UpdateResourcePolicy {
        api_id: String,
        policy: String,
    },
    CreateDeployment {
        api_id: String,
        stage: String,
        /// REST API (the default, left out of stored steps) or HTTP API.
        #[serde(default, skip_serializing_if = "ApiKind::is_rest")]
        kind: ApiKind,
    },
    /// An HTTP API route's authorization: `AWS_IAM`, or (token mode) `CUSTOM` with Gatehouse's
    /// authorizer, found by name when the call is made.
    UpdateRoute {
        api_id: String,
        route_id: String,
        route_key: String,
        authorization_type: String,
        authorizer_name: Option<String>,
        from: String,
    },
    /// SAML mode: the role's trust policy, as Gatehouse keeps it.
    UpdateAssumeRolePolicy {
        role_name: String,
        document: String,
    },
    /// Identity Center mode: a permission set tagged `gatehouse:managed=true`.
    CreatePermissionSet {
        name: String,
    },
    PutPermissionSetPolicy {
        permission_set: String,
        document: String,
    },
    DeletePermissionSetPolicy {
        permission_set: String,
    },
    /// Brings the roles Identity Center made from a permission set in `account` up to date with
    /// its policy (AWS does not do it by itself after a policy change).
    ProvisionPermissionSet {
        permission_set: String,
        account: String,
    },
    CreateAccountAssignment {
        permission_set: String,
        account: String,
        principal: Principal,
        /// The principal's name, for people.
        principal_name: String,
        /// Found by display name, not by the Entra object id SCIM sets as external id.
        matched_by_name: bool,
    },
    DeleteAccountAssignment {
        permission_set: String,
        account: String,
        principal: Principal,
        principal_name: String,
    },
    /// SAML mode, in Entra ID: an app role of the enterprise application for AWS whose value is
    /// `role ARN,SAML provider ARN`.
    CreateAppRole {
        value: String,
        display_name: String,
    },
    /// SAML mode: the group is assigned the app role (`POST …/appRoleAssignedTo`).
    AssignAppRole {
        value: String,
        group_id: String,
        group_name: String,
    },
    RemoveAppRoleAssignment {
        assignment_id: String,
        value: String,
        principal_id: String,
        principal_name: String,
    },
    /// Token mode: the access bundle the Lambda authorizer reads, written to S3 (gzip'd JSON,
    /// its content hash and version as object metadata).
    PublishAccessBundle {
        bucket: String,
        key: String,
        version: u64,
        content_sha256: String,
        groups: usize,
        grants: usize,
    },
}

/// Who an Identity Center account assignment is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Principal {
    /// `GROUP` or `USER`, as Identity Center names them.
    pub kind: String,
    /// The identity store's id of the group or user.
    pub id: String,
}

impl Principal {
    pub fn group(id: &str) -> Principal {
        Principal {
            kind: "GROUP".into(),
            id: id.into(),
        }
    }

    pub fn user(id: &str) -> Principal {
        Principal {
            kind: "USER".into(),
            id: id.into(),
        }
    }
}

impl Call {
    /// The AWS operation's name.
    pub fn operation(&self) -> &'static str {
        match self {
            Call::CreateRole { .. } => "CreateRole",
            Call::PutRolePolicy { .. } => "PutRolePolicy",
            Call::DeleteRolePolicy { .. } => "DeleteRolePolicy",
            Call::UpdateMethodAuthorization { .. } | Call::AttachAuthorizer { .. } => {
                "UpdateMethod"
            }
            Call::CreateAuthorizer { .. } => "CreateAuthorizer",
            Call::UpdateAuthorizer { .. } => "UpdateAuthorizer",
            Call::UpdateResourcePolicy { .. } => "UpdateRestApi",
            Call::CreateDeployment { .. } => "CreateDeployment",
            Call::UpdateRoute { .. } => "UpdateRoute",
            Call::UpdateAssumeRolePolicy { .. } => "UpdateAssumeRolePolicy",
            Call::CreatePermissionSet { .. } => "CreatePermissionSet",
            Call::PutPermissionSetPolicy { .. } => "PutInlinePolicyToPermissionSet",
            Call::DeletePermissionSetPolicy { .. } => "DeleteInlinePolicyFromPermissionSet",
            Call::ProvisionPermissionSet { .. } => "ProvisionPermissionSet",
            Call::CreateAccountAssignment { .. } => "CreateAccountAssignment",
            Call::DeleteAccountAssignment { .. } => "DeleteAccountAssignment",
            Call::CreateAppRole { .. } => "UpdateServicePrincipal",
            Call::AssignAppRole { .. } => "CreateAppRoleAssignment",
            Call::RemoveAppRoleAssignment { .. } => "DeleteAppRoleAssignment",
            Call::PublishAccessBundle { .. } => "PutObject",
        }
    }

    /// Whether the call is a directory write in Entra ID (Microsoft Graph).
    pub fn is_entra(&self) -> bool {
        matches!(
            self,
            Call::CreateAppRole { .. }
                | Call::AssignAppRole { .. }
                | Call::RemoveAppRoleAssignment { .. }
        )
    }

    /// Whether the call changes how API Gateway authorizes methods (the catalog shows it).
    pub fn changes_methods(&self) -> bool {
        matches!(
            self,
            Call::UpdateMethodAuthorization { .. }
                | Call::AttachAuthorizer { .. }
                | Call::UpdateRoute { .. }
                | Call::CreateAuthorizer { .. }
                | Call::UpdateAuthorizer { .. }
        )
    }

    /// Whether the call writes the authorizer's access bundle to S3.
    pub fn is_access_bundle(&self) -> bool {
        matches!(self, Call::PublishAccessBundle { .. })
    }

    /// Whether the call goes to IAM Identity Center (else to the step's account).
    pub fn is_identity_center(&self) -> bool {
        matches!(
            self,
            Call::CreatePermissionSet { .. }
                | Call::PutPermissionSetPolicy { .. }
                | Call::DeletePermissionSetPolicy { .. }
                | Call::ProvisionPermissionSet { .. }
                | Call::CreateAccountAssignment { .. }
                | Call::DeleteAccountAssignment { .. }
        )
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        match self {
            Call::CreateRole {
                role_name, path, ..
            } => format!("create role {path}{role_name}, tagged gatehouse:managed=true"),
            Call::PutRolePolicy {
                role_name,
                policy_name,
                document,
            } => format!(
                "put inline policy {policy_name} on role {role_name} ({} characters)",
                document.chars().filter(|c| !c.is_whitespace()).count()
            ),
            Call::DeleteRolePolicy {
                role_name,
                policy_name,
            } => format!("delete inline policy {policy_name} from role {role_name}"),
            Call::UpdateMethodAuthorization {
                api_id,
                path,
                http_method,
                from,
                ..
            } => format!("set {http_method} {path} of API {api_id} to AWS_IAM (was {from})"),
            Call::CreateAuthorizer {
                api_id,
                name,
                uri,
                ttl_seconds,
                kind,
                ..
            } => format!(
                "create authorizer {name} on {} {api_id}: {} from the Authorization header, function {}, answers cached {ttl_seconds} s",
                api_word(*kind),
                match kind {
                    ApiKind::Rest => "TOKEN",
                    ApiKind::Http => "REQUEST (payload 2.0, simple responses)",
                },
                function_of(uri)
            ),
            Call::UpdateAuthorizer {
                api_id,
                name,
                changes,
                kind,
                ..
            } => format!(
                "set authorizer {name} of {} {api_id}: {}",
                api_word(*kind),
                changes.join("; ")
            ),
            Call::UpdateRoute {
                api_id,
                route_key,
                authorization_type,
                authorizer_name,
                from,
                ..
            } => match authorizer_name {
                Some(name) => format!(
                    "set route {route_key} of HTTP API {api_id} to {authorization_type} with authorizer {name} (was {from})"
                ),
                None => format!(
                    "set route {route_key} of HTTP API {api_id} to {authorization_type} (was {from})"
                ),
            },
            Call::AttachAuthorizer {
                api_id,
                path,
                http_method,
                from,
                authorizer_name,
                ..
            } => format!(
                "set {http_method} {path} of API {api_id} to CUSTOM with authorizer {authorizer_name} (was {from})"
            ),
            Call::UpdateResourcePolicy { api_id, policy } => format!(
                "set the resource policy of API {api_id} ({} characters)",
                policy.chars().filter(|c| !c.is_whitespace()).count()
            ),
            Call::CreateDeployment {
                api_id,
                stage,
                kind,
            } => format!("deploy {} {api_id} to stage {stage}", api_word(*kind)),
            Call::UpdateAssumeRolePolicy { role_name, .. } => format!(
                "set the trust policy of role {role_name}: only the SAML provider may assume it"
            ),
            Call::CreatePermissionSet { name } => {
                format!("create permission set {name}, tagged gatehouse:managed=true")
            }
            Call::PutPermissionSetPolicy {
                permission_set,
                document,
            } => format!(
                "put the inline policy of permission set {permission_set} ({} characters)",
                document.chars().filter(|c| !c.is_whitespace()).count()
            ),
            Call::DeletePermissionSetPolicy { permission_set } => {
                format!("delete the inline policy of permission set {permission_set}")
            }
            Call::ProvisionPermissionSet {
                permission_set,
                account,
            } => format!("provision permission set {permission_set} to account {account}"),
            Call::CreateAccountAssignment {
                permission_set,
                account,
                principal,
                principal_name,
                matched_by_name,
            } => {
                let mut line = format!(
                    "assign {} {principal_name} to permission set {permission_set} in account {account}",
                    principal.kind.to_lowercase()
                );
                if *matched_by_name {
                    line.push_str(
                        " (warning: matched by display name; no identity-store group has the Entra object id as external id: check SCIM provisioning)",
                    );
                }
                line
            }
            Call::CreateAppRole {
                value,
                display_name,
            } => format!(
                "add app role {display_name} ({value}) to the Entra enterprise application for AWS"
            ),
            Call::AssignAppRole {
                value, group_name, ..
            } => format!(
                "assign group {group_name} the app role {} in Entra ID",
                value.split(',').next().unwrap_or(value)
            ),
            Call::RemoveAppRoleAssignment {
                value,
                principal_name,
                ..
            } => format!(
                "remove the assignment of {principal_name} to the app role {} in Entra ID",
                value.split(',').next().unwrap_or(value)
            ),
            Call::PublishAccessBundle {
                bucket,
                key,
                version,
                content_sha256,
                groups,
                grants,
            } => format!(
                "publish access bundle version {version} ({grants} grants for {groups} groups; sha256 {}…) to s3://{bucket}/{key}",
                &content_sha256[..content_sha256.len().min(12)]
            ),
            Call::DeleteAccountAssignment {
                permission_set,
                account,
                principal,
                principal_name,
            } => format!(
                "remove the assignment of {} {principal_name} to permission set {permission_set} in account {account}",
                principal.kind.to_lowercase()
            ),
        }
    }
}

/// "API" for a REST API (as every earlier step reads), "HTTP API" for an HTTP API.
fn api_word(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::Rest => "API",
        ApiKind::Http => "HTTP API",
    }
}

/// The function an authorizer URI invokes (`…/functions/ARN/invocations` → ARN), or the text.
pub fn function_of(uri: &str) -> &str {
    uri.split_once("/functions/")
        .map(|(_, rest)| rest.split("/invocations").next().unwrap_or(rest))
        .unwrap_or(uri)
}

/// A call and the account/region (`ACCOUNT/REGION`) it goes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub target: String,
    pub call: Call,
}
