//! Approved but not yet pushed: the state AWS should hold now (the approved state without the
//! change sets still waiting for their push), and which planned calls belong to those change
//! sets rather than to drift. A drift check compares AWS with the pushed state, so a change that
//! only waits for its push is "pending push", never drift. No IO.

use std::collections::BTreeSet;

use super::{
    call::Call,
    desired::{ChangeItem, DesiredState, ItemConflict},
};

/// The approved state as it was before `pending` (change sets approved after the last push of
/// each, oldest first) were applied: their items undone, newest first.
pub fn pushed_state(
    desired: &DesiredState,
    pending: &[Vec<ChangeItem>],
) -> Result<DesiredState, ItemConflict> {
    let mut state = desired.clone();
    for items in pending.iter().rev() {
        let undo: Vec<ChangeItem> = items.iter().rev().map(ChangeItem::opposite).collect();
        state = state.apply(&undo)?;
    }
    Ok(state)
}

/// What a call changes in AWS, without its payload: two plans that would both write the same
/// thing (a role's inline policy, a method's authorization) give the same key.
pub fn call_key(call: &Call) -> String {
    match call {
        Call::CreateRole { role_name, .. } => format!("role {role_name}"),
        Call::PutRolePolicy {
            role_name,
            policy_name,
            ..
        }
        | Call::DeleteRolePolicy {
            role_name,
            policy_name,
        } => format!("role {role_name} policy {policy_name}"),
        Call::UpdateAssumeRolePolicy { role_name, .. } => format!("role {role_name} trust"),
        Call::UpdateMethodAuthorization {
            api_id,
            resource_id,
            http_method,
            ..
        }
        | Call::AttachAuthorizer {
            api_id,
            resource_id,
            http_method,
            ..
        } => format!("api {api_id} method {resource_id} {http_method}"),
        Call::UpdateRoute {
            api_id, route_id, ..
        } => format!("api {api_id} route {route_id}"),
        Call::CreateAuthorizer { api_id, .. } | Call::UpdateAuthorizer { api_id, .. } => {
            format!("api {api_id} authorizer")
        }
        Call::UpdateResourcePolicy { api_id, .. } => format!("api {api_id} resource policy"),
        Call::CreateDeployment { api_id, stage, .. } => format!("api {api_id} stage {stage}"),
        Call::CreatePermissionSet { name } => format!("permission set {name}"),
        Call::PutPermissionSetPolicy { permission_set, .. }
        | Call::DeletePermissionSetPolicy { permission_set } => {
            format!("permission set {permission_set} policy")
        }
        Call::ProvisionPermissionSet {
            permission_set,
            account,
        } => format!("permission set {permission_set} provisioned in {account}"),
        Call::CreateAccountAssignment {
            permission_set,
            account,
            principal,
            ..
        }
        | Call::DeleteAccountAssignment {
            permission_set,
            account,
            principal,
            ..
        } => format!(
            "permission set {permission_set} in {account} for {}",
            principal.id
        ),
        Call::CreateAppRole { value, .. } => format!("app role {value}"),
        Call::AssignAppRole {
            value, group_id, ..
        } => format!("app role {value} for {group_id}"),
        Call::RemoveAppRoleAssignment {
            value,
            principal_id,
            ..
        } => format!("app role {value} for {principal_id}"),
        Call::PublishAccessBundle { .. } => "access bundle".into(),
    }
}

/// The calls of the approved state's plan that the pushed state's plan does not make: what the
/// pending change sets will do when pushed. (A call both plans make is drift: AWS differs from
/// what was last pushed.)
pub fn pending_calls<'a>(approved_plan: &'a [Call], pushed_plan: &[Call]) -> Vec<&'a Call> {
    let drifted: BTreeSet<String> = pushed_plan.iter().map(call_key).collect();
    approved_plan
        .iter()
        .filter(|c| !drifted.contains(&call_key(c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grant::{Grant, GrantInput};

    fn grant(method: &str) -> Grant {
        Grant::parse(&GrantInput {
            role_arn: "arn:aws:iam::123456789012:role/readers".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: method.into(),
            path: "/orders".into(),
        })
        .unwrap()
    }

    #[test]
    fn the_pushed_state_is_the_approved_one_without_the_pending_change_sets() {
        let pushed = DesiredState::default()
            .apply(&[ChangeItem::AddGrant(grant("GET"))])
            .unwrap();
        // Pending, oldest first: add POST; then remove GET and add DELETE.
        let pending = vec![
            vec![ChangeItem::AddGrant(grant("POST"))],
            vec![
                ChangeItem::RemoveGrant(grant("GET")),
                ChangeItem::AddGrant(grant("DELETE")),
            ],
        ];
        let approved = pending
            .iter()
            .fold(pushed.clone(), |s, items| s.apply(items).unwrap());
        assert_eq!(pushed_state(&approved, &pending).unwrap(), pushed);
        assert_eq!(pushed_state(&approved, &[]).unwrap(), approved);
        // Items the approved state does not hold cannot be undone: an error, not a guess.
        let stray = vec![vec![ChangeItem::AddGrant(grant("PUT"))]];
        assert!(pushed_state(&approved, &stray).is_err());
    }

    #[test]
    fn calls_both_plans_make_are_drift_and_the_others_pending() {
        let put = |doc: &str| Call::PutRolePolicy {
            role_name: "readers".into(),
            policy_name: "gatehouse-invoke".into(),
            document: doc.into(),
        };
        let create = Call::CreateRole {
            role_name: "writers".into(),
            path: "/".into(),
            trust_policy: "{}".into(),
        };
        // The pushed plan restores the policy edited by hand; the approved plan writes the
        // pending version of it (same key: drift, whatever the document) and creates a role.
        let approved = vec![put("{\"v\":2}"), create.clone()];
        let pushed = vec![put("{\"v\":1}")];
        assert_eq!(pending_calls(&approved, &pushed), vec![&create]);
        assert_eq!(pending_calls(&approved, &[]).len(), 2);
        assert_eq!(
            call_key(&put("a")),
            call_key(&Call::DeleteRolePolicy {
                role_name: "readers".into(),
                policy_name: "gatehouse-invoke".into(),
            })
        );
    }
}
