//! The IAM policy Gatehouse itself needs, with no IO: every AWS SDK operation the code calls,
//! the IAM action it needs, and a document that grants exactly those, scoped where IAM allows.
//! Writes to roles are limited to roles carrying Gatehouse's managed tag, and, with a
//! permissions boundary configured, a role can only be made or given a policy with that
//! boundary attached, so Gatehouse cannot mint a role more powerful than the boundary.

use serde_json::{json, Value};

/// One SDK operation the code calls: the SDK (crate suffix), the operation as the SDK's method
/// names it, and the IAM action it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdkCall {
    pub sdk: &'static str,
    pub operation: &'static str,
    pub action: &'static str,
}

const fn call(sdk: &'static str, operation: &'static str, action: &'static str) -> SdkCall {
    SdkCall {
        sdk,
        operation,
        action,
    }
}

/// Every AWS SDK operation Gatehouse's server and commands call (the demo's seeding aside).
/// `server/tests/aws_policy.rs` checks the code calls no other.
pub const CALLS: &[SdkCall] = &[
    // IAM: reading roles (catalog, plan, drift).
    call("iam", "list_roles", "iam:ListRoles"),
    call("iam", "list_role_tags", "iam:ListRoleTags"),
    call("iam", "get_role", "iam:GetRole"),
    call("iam", "get_role_policy", "iam:GetRolePolicy"),
    call("iam", "list_role_policies", "iam:ListRolePolicies"),
    call(
        "iam",
        "list_attached_role_policies",
        "iam:ListAttachedRolePolicies",
    ),
    call("iam", "get_policy", "iam:GetPolicy"),
    call("iam", "get_policy_version", "iam:GetPolicyVersion"),
    // IAM: writing the roles Gatehouse manages.
    call("iam", "create_role", "iam:CreateRole"),
    call("iam", "put_role_policy", "iam:PutRolePolicy"),
    call("iam", "delete_role_policy", "iam:DeleteRolePolicy"),
    call(
        "iam",
        "update_assume_role_policy",
        "iam:UpdateAssumeRolePolicy",
    ),
    // API Gateway (REST APIs): IAM names its actions by HTTP verb.
    call("apigateway", "get_rest_apis", "apigateway:GET"),
    call("apigateway", "get_rest_api", "apigateway:GET"),
    call("apigateway", "get_resources", "apigateway:GET"),
    call("apigateway", "get_stages", "apigateway:GET"),
    call("apigateway", "get_authorizers", "apigateway:GET"),
    call("apigateway", "get_deployments", "apigateway:GET"),
    call("apigateway", "update_rest_api", "apigateway:PATCH"),
    call("apigateway", "update_method", "apigateway:PATCH"),
    call("apigateway", "update_authorizer", "apigateway:PATCH"),
    call("apigateway", "create_authorizer", "apigateway:POST"),
    call("apigateway", "create_deployment", "apigateway:POST"),
    // API Gateway (HTTP APIs).
    call("apigatewayv2", "get_apis", "apigateway:GET"),
    call("apigatewayv2", "get_api", "apigateway:GET"),
    call("apigatewayv2", "get_routes", "apigateway:GET"),
    call("apigatewayv2", "get_stages", "apigateway:GET"),
    call("apigatewayv2", "get_authorizers", "apigateway:GET"),
    call("apigatewayv2", "get_deployments", "apigateway:GET"),
    call("apigatewayv2", "update_route", "apigateway:PATCH"),
    call("apigatewayv2", "update_authorizer", "apigateway:PATCH"),
    call("apigatewayv2", "create_authorizer", "apigateway:POST"),
    call("apigatewayv2", "create_deployment", "apigateway:POST"),
    // IAM Identity Center (identity-center enforcement).
    call("ssoadmin", "list_instances", "sso:ListInstances"),
    call("ssoadmin", "list_permission_sets", "sso:ListPermissionSets"),
    call(
        "ssoadmin",
        "describe_permission_set",
        "sso:DescribePermissionSet",
    ),
    call(
        "ssoadmin",
        "list_tags_for_resource",
        "sso:ListTagsForResource",
    ),
    call(
        "ssoadmin",
        "create_permission_set",
        "sso:CreatePermissionSet",
    ),
    call(
        "ssoadmin",
        "get_inline_policy_for_permission_set",
        "sso:GetInlinePolicyForPermissionSet",
    ),
    call(
        "ssoadmin",
        "put_inline_policy_to_permission_set",
        "sso:PutInlinePolicyToPermissionSet",
    ),
    call(
        "ssoadmin",
        "delete_inline_policy_from_permission_set",
        "sso:DeleteInlinePolicyFromPermissionSet",
    ),
    call(
        "ssoadmin",
        "provision_permission_set",
        "sso:ProvisionPermissionSet",
    ),
    call(
        "ssoadmin",
        "describe_permission_set_provisioning_status",
        "sso:DescribePermissionSetProvisioningStatus",
    ),
    call(
        "ssoadmin",
        "list_account_assignments",
        "sso:ListAccountAssignments",
    ),
    call(
        "ssoadmin",
        "create_account_assignment",
        "sso:CreateAccountAssignment",
    ),
    call(
        "ssoadmin",
        "delete_account_assignment",
        "sso:DeleteAccountAssignment",
    ),
    call(
        "ssoadmin",
        "describe_account_assignment_creation_status",
        "sso:DescribeAccountAssignmentCreationStatus",
    ),
    call(
        "ssoadmin",
        "describe_account_assignment_deletion_status",
        "sso:DescribeAccountAssignmentDeletionStatus",
    ),
    call("identitystore", "list_groups", "identitystore:ListGroups"),
    // An access request's person, found by user name.
    call("identitystore", "get_user_id", "identitystore:GetUserId"),
    // Token mode: the access bundle in S3 (HeadObject is authorised as GetObject).
    call("s3", "put_object", "s3:PutObject"),
    call("s3", "head_object", "s3:GetObject"),
    call("s3", "head_bucket", "s3:ListBucket"),
];

/// Operations only the local demo's set-up calls (never a server or a push).
pub const DEMO_ONLY: &[(&str, &str)] = &[("s3", "create_bucket")];

/// What the document is made for.
#[derive(Clone, Debug, Default)]
pub struct PolicyInput {
    /// The accounts Gatehouse writes to (`*` when none is configured).
    pub accounts: Vec<String>,
    /// The roles Gatehouse assumes in other accounts (STS), if any.
    pub assumed_roles: Vec<String>,
    /// The permissions boundary's policy name, required on every role Gatehouse makes.
    pub boundary: Option<String>,
    /// Token mode: the access bundle's bucket and key.
    pub bundle: Option<(String, String)>,
    /// Identity Center enforcement is configured.
    pub identity_center: bool,
}

fn actions(filter: impl Fn(&SdkCall) -> bool) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = CALLS
        .iter()
        .filter(|c| filter(c))
        .map(|c| c.action)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

const ROLE_WRITES: [&str; 4] = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy",
];

/// The managed tag's key and value, as IAM conditions name them.
pub const MANAGED_TAG: (&str, &str) = ("gatehouse:managed", "true");

/// The boundary's ARN in `account`.
pub fn boundary_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy/{name}")
}

/// Gatehouse's own policy document.
pub fn document(input: &PolicyInput) -> Value {
    let accounts: Vec<String> = if input.accounts.is_empty() {
        vec!["*".into()]
    } else {
        input.accounts.clone()
    };
    let roles: Vec<String> = accounts
        .iter()
        .map(|a| format!("arn:aws:iam::{a}:role/*"))
        .collect();
    let mut statements = vec![json!({
        "Sid": "ReadRolesAndPolicies",
        "Effect": "Allow",
        "Action": actions(|c| c.action.starts_with("iam:") && !ROLE_WRITES.contains(&c.action)),
        "Resource": "*",
    })];
    let boundary = input.boundary.as_ref().map(|name| {
        accounts
            .iter()
            .map(|a| boundary_arn(a, name))
            .collect::<Vec<_>>()
    });
    let mut create = json!({
        "Sid": "CreateManagedRoles",
        "Effect": "Allow",
        "Action": ["iam:CreateRole", "iam:TagRole"],
        "Resource": roles,
        "Condition": {"StringEquals": {format!("aws:RequestTag/{}", MANAGED_TAG.0): MANAGED_TAG.1}},
    });
    let mut write = json!({
        "Sid": "WriteManagedRolesOnly",
        "Effect": "Allow",
        "Action": ["iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy"],
        "Resource": roles,
        "Condition": {"StringEquals": {format!("aws:ResourceTag/{}", MANAGED_TAG.0): MANAGED_TAG.1}},
    });
    if let Some(boundary) = &boundary {
        create["Condition"]["StringEquals"]["iam:PermissionsBoundary"] = json!(boundary);
        write["Condition"]["StringEquals"]["iam:PermissionsBoundary"] = json!(boundary);
    }
    statements.push(create);
    statements.push(write);
    if let Some(boundary) = &boundary {
        // Neither the boundary nor its attachment may be changed by Gatehouse.
        statements.push(json!({
            "Sid": "KeepTheBoundary",
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary",
                       "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                       "iam:SetDefaultPolicyVersion"],
            "Resource": boundary.iter().cloned().chain(roles.iter().cloned()).collect::<Vec<_>>(),
        }));
    }
    statements.push(json!({
        "Sid": "ReadApis",
        "Effect": "Allow",
        "Action": ["apigateway:GET"],
        "Resource": ["arn:aws:apigateway:*::/restapis", "arn:aws:apigateway:*::/restapis/*",
                     "arn:aws:apigateway:*::/apis", "arn:aws:apigateway:*::/apis/*"],
    }));
    statements.push(json!({
        "Sid": "PolicyAuthorizersAndDeployments",
        "Effect": "Allow",
        "Action": ["apigateway:PATCH", "apigateway:POST"],
        "Resource": ["arn:aws:apigateway:*::/restapis/*", "arn:aws:apigateway:*::/apis/*"],
    }));
    if input.identity_center {
        statements.push(json!({
            "Sid": "IdentityCenterAssignments",
            "Effect": "Allow",
            "Action": actions(|c| c.sdk == "ssoadmin" || c.sdk == "identitystore"),
            "Resource": "*",
        }));
    }
    if let Some((bucket, key)) = &input.bundle {
        statements.push(json!({
            "Sid": "AccessBundle",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": format!("arn:aws:s3:::{bucket}/{key}"),
        }));
        statements.push(json!({
            "Sid": "AccessBundleBucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": format!("arn:aws:s3:::{bucket}"),
        }));
    }
    if !input.assumed_roles.is_empty() {
        statements.push(json!({
            "Sid": "AssumeTargetRoles",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Resource": input.assumed_roles,
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The boundary the roles Gatehouse makes carry: they may call APIs, nothing else.
pub fn boundary_document() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "InvokeApisOnly",
            "Effect": "Allow",
            "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:*:*:*",
        }],
    })
}

/// Every IAM action a statement of `doc` allows.
pub fn allowed_actions(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for st in doc["Statement"].as_array().into_iter().flatten() {
        if st["Effect"] != "Allow" {
            continue;
        }
        match &st["Action"] {
            Value::String(a) => out.push(a.clone()),
            Value::Array(all) => {
                out.extend(all.iter().filter_map(|a| a.as_str().map(String::from)))
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> PolicyInput {
        PolicyInput {
            accounts: vec!["123456789012".into()],
            assumed_roles: vec!["arn:aws:iam::210987654321:role/gatehouse-target".into()],
            boundary: Some("gatehouse-invoke-only".into()),
            bundle: Some(("gatehouse-bundles".into(), "access.json".into())),
            identity_center: true,
        }
    }

    #[test]
    fn every_call_needs_an_action_the_document_allows() {
        let allowed = allowed_actions(&document(&full()));
        for c in CALLS {
            assert!(
                allowed.iter().any(|a| a == c.action),
                "{}::{} needs {}",
                c.sdk,
                c.operation,
                c.action
            );
        }
    }

    #[test]
    fn role_writes_require_the_tag_and_the_boundary() {
        let doc = document(&full());
        let statements = doc["Statement"].as_array().unwrap();
        let create = statements
            .iter()
            .find(|s| s["Sid"] == "CreateManagedRoles")
            .unwrap();
        assert_eq!(
            create["Condition"]["StringEquals"]["iam:PermissionsBoundary"],
            json!(["arn:aws:iam::123456789012:policy/gatehouse-invoke-only"])
        );
        assert_eq!(
            create["Condition"]["StringEquals"]["aws:RequestTag/gatehouse:managed"],
            "true"
        );
        let write = statements
            .iter()
            .find(|s| s["Sid"] == "WriteManagedRolesOnly")
            .unwrap();
        assert_eq!(
            write["Condition"]["StringEquals"]["aws:ResourceTag/gatehouse:managed"],
            "true"
        );
        assert!(statements.iter().any(|s| s["Effect"] == "Deny"
            && s["Action"]
                .as_array()
                .unwrap()
                .contains(&json!("iam:DeleteRolePermissionsBoundary"))));
        // No statement allows a write to every resource.
        for s in statements {
            if s["Effect"] == "Allow" && s["Resource"] == "*" {
                let actions = s["Action"].as_array().unwrap();
                assert!(
                    actions
                        .iter()
                        .all(|a| !ROLE_WRITES.contains(&a.as_str().unwrap())),
                    "{s}"
                );
            }
        }
    }

    #[test]
    fn without_identity_center_or_a_bundle_their_actions_are_left_out() {
        let doc = document(&PolicyInput::default());
        let allowed = allowed_actions(&doc);
        assert!(!allowed
            .iter()
            .any(|a| a.starts_with("sso:") || a.starts_with("s3:")));
        assert!(!doc.to_string().contains("PermissionsBoundary"));
    }
}
