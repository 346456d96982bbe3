//! Drift items of the calls that enforce bindings: a SAML role's trust policy, Identity Center
//! permission sets and account assignments, and Entra app role assignments.

use crate::domain::{
    desired::{ChangeItem, DesiredState, RepushTarget},
    drift::{adopt_role, policy_arns},
    grant::{Binding, GroupRef},
    plan::Call,
    saml::ENTRA_SOURCE,
};

use super::{parse, pretty, DriftItem};
use crate::backend::push::Actual;

/// The item a binding-enforcing call of the plan stands for (`None`: another item says it).
pub(super) fn item(call: &Call, desired: &DesiredState, actual: &Actual) -> Option<DriftItem> {
    let role_of = |name: &str| actual.roles.keys().find(|r| r.name() == name).cloned();
    let permission_set_of = |name: &str| {
        actual
            .identity_center
            .permission_sets
            .keys()
            .find(|r| r.name() == name)
            .cloned()
    };
    let fix = call.summary();
    Some(match call {
        Call::UpdateAssumeRolePolicy {
            role_name,
            document,
        } => {
            let role = role_of(role_name)?;
            DriftItem {
                subject: role.to_string(),
                kind: "trust policy changed outside Gatehouse".into(),
                desired: pretty(&parse(document)),
                actual: actual.roles[&role]
                    .trust
                    .as_ref()
                    .map(pretty)
                    .unwrap_or_else(|| "none".into()),
                fix: fix.clone(),
                // Who may assume the role is Gatehouse's to say in SAML mode.
                adopt: Vec::new(),
                revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
            }
        }
        Call::CreatePermissionSet { name } => {
            let role = permission_set_of(name)?;
            DriftItem {
                subject: role.to_string(),
                kind: "permission set deleted".into(),
                desired: format!("permission set {name}, with Gatehouse's policy and assignments"),
                actual: "no such permission set".into(),
                fix: fix.clone(),
                adopt: adopt_role(desired, &role, None).0,
                revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
            }
        }
        Call::PutPermissionSetPolicy {
            permission_set,
            document,
        } => {
            let role = permission_set_of(permission_set)?;
            let have = actual.identity_center.permission_sets[&role]
                .inline
                .as_ref();
            if !actual.identity_center.permission_sets[&role].exists {
                return None; // the permission set's own item says it
            }
            DriftItem {
                subject: role.to_string(),
                kind: if have.is_some() {
                    "permission set policy edited outside Gatehouse"
                } else {
                    "permission set policy missing"
                }
                .into(),
                desired: pretty(&parse(document)),
                actual: have.map(pretty).unwrap_or_else(|| "none".into()),
                fix: fix.clone(),
                adopt: adopt_role(desired, &role, Some(&policy_arns(have))).0,
                revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
            }
        }
        Call::DeletePermissionSetPolicy { permission_set } => {
            let role = permission_set_of(permission_set)?;
            let have = actual.identity_center.permission_sets[&role]
                .inline
                .as_ref();
            DriftItem {
                subject: role.to_string(),
                kind: "permission set policy added outside Gatehouse".into(),
                desired: "none".into(),
                actual: have.map(pretty).unwrap_or_default(),
                fix: fix.clone(),
                adopt: adopt_role(desired, &role, Some(&policy_arns(have))).0,
                revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
            }
        }
        // Follows from the policy's item.
        Call::ProvisionPermissionSet { .. } => return None,
        Call::CreateAccountAssignment {
            permission_set,
            principal_name,
            account,
            ..
        } => {
            let role = permission_set_of(permission_set)?;
            if !actual.identity_center.permission_sets[&role].exists {
                return None;
            }
            let group = actual
                .identity_center
                .groups
                .iter()
                .find(|(_, m)| m.name() == principal_name)
                .map(|(g, _)| g.clone());
            DriftItem {
                subject: role.to_string(),
                kind: "account assignment removed outside Gatehouse".into(),
                desired: format!("group {principal_name} assigned in account {account}"),
                actual: "not assigned".into(),
                fix: fix.clone(),
                adopt: group
                    .map(|group| {
                        vec![ChangeItem::RemoveBinding(Binding {
                            group,
                            role: role.clone(),
                        })]
                    })
                    .unwrap_or_default(),
                revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
            }
        }
        Call::DeleteAccountAssignment {
            permission_set,
            principal,
            principal_name,
            account,
        } => {
            let role = permission_set_of(permission_set)?;
            let group = actual.store_groups.get(&principal.id).cloned();
            DriftItem {
                subject: role.to_string(),
                kind: "account assignment added outside Gatehouse".into(),
                desired: "not assigned".into(),
                actual: format!(
                    "{} {principal_name} assigned in account {account}",
                    principal.kind.to_lowercase()
                ),
                fix: fix.clone(),
                adopt: group
                    .map(|group| {
                        vec![ChangeItem::AddBinding(Binding {
                            group,
                            role: role.clone(),
                        })]
                    })
                    .unwrap_or_default(),
                revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
            }
        }
        // The assignment's item says it.
        Call::CreateAppRole { .. } => return None,
        Call::AssignAppRole {
            value,
            group_id,
            group_name,
        } => {
            let role = actual.saml.role_of_value(value).cloned()?;
            DriftItem {
                subject: role.to_string(),
                kind: "app role assignment removed outside Gatehouse".into(),
                desired: format!("group {group_name} assigned the app role {value} in Entra ID"),
                actual: "not assigned".into(),
                fix: fix.clone(),
                adopt: vec![ChangeItem::RemoveBinding(Binding {
                    // The binding's own principal: a group, or the one person of a request.
                    group: actual
                        .saml
                        .group_names
                        .keys()
                        .find(|g| g.object_id == *group_id)
                        .cloned()
                        .unwrap_or_else(|| GroupRef::group(ENTRA_SOURCE, group_id)),
                    role: role.clone(),
                })],
                revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
            }
        }
        Call::RemoveAppRoleAssignment {
            value,
            principal_id,
            principal_name,
            assignment_id,
        } => {
            let role = actual.saml.role_of_value(value).cloned()?;
            let kind = actual
                .saml
                .assignments
                .iter()
                .find(|a| &a.id == assignment_id)
                .map(|a| a.principal_type.clone())
                .unwrap_or_default();
            DriftItem {
                subject: role.to_string(),
                kind: "app role assignment added outside Gatehouse".into(),
                desired: "not assigned".into(),
                actual: format!(
                    "{} {principal_name} assigned the app role {value} in Entra ID",
                    kind.to_lowercase()
                ),
                fix: fix.clone(),
                adopt: if kind == "Group" {
                    vec![ChangeItem::AddBinding(Binding {
                        group: GroupRef::group(ENTRA_SOURCE, principal_id),
                        role: role.clone(),
                    })]
                } else {
                    Vec::new()
                },
                revert: Some(ChangeItem::Repush(RepushTarget::Role(role))),
            }
        }
        _ => return None,
    })
}
