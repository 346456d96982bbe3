//! The Identity Center part of a push plan: a Gatehouse role is a permission set (its grants
//! are the permission set's inline policy) and a binding G → R is an account assignment of G's
//! identity-store group to R in R's account. No IO: the server reads Identity Center into
//! [`IdentityCenterActual`] and executes the steps.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    desired::DesiredState,
    grant::GroupRef,
    names::RoleArn,
    plan::{Call, PlanError, Principal, Step},
    policy::{role_policy, RolePolicy, DEFAULT_MANAGED_PER_ROLE},
};

/// The step target of Identity Center calls (the instance is one per organisation).
pub const TARGET: &str = "identity-center";
/// Identity Center's limit on a permission set's name.
pub const NAME_LIMIT: usize = 32;

/// A permission set as Identity Center holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PermissionSetActual {
    pub exists: bool,
    pub managed: bool,
    /// The inline policy, parsed (`None`: it has none).
    pub inline: Option<serde_json::Value>,
    /// Its account assignments in the role's account.
    pub assignments: BTreeSet<Principal>,
}

/// How a directory group was found in the identity store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupMatch {
    /// By external id: the Entra object id SCIM provisioning sets.
    ExternalId {
        id: String,
        name: String,
    },
    /// By display name only (a group made by hand, or SCIM not mapping the object id).
    DisplayName {
        id: String,
        name: String,
    },
    Missing {
        name: String,
    },
}

impl GroupMatch {
    pub fn name(&self) -> &str {
        match self {
            GroupMatch::ExternalId { name, .. }
            | GroupMatch::DisplayName { name, .. }
            | GroupMatch::Missing { name } => name,
        }
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            GroupMatch::ExternalId { id, .. } | GroupMatch::DisplayName { id, .. } => Some(id),
            GroupMatch::Missing { .. } => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdentityCenterActual {
    /// The permission sets of the roles in scope, by role.
    pub permission_sets: BTreeMap<RoleArn, PermissionSetActual>,
    /// The desired bindings' groups, as found in the identity store.
    pub groups: BTreeMap<GroupRef, GroupMatch>,
    /// The people bound directly (access requests): their name, and their identity-store user
    /// id when one has their user name (the user principal name SCIM provisions as `userName`).
    pub users: BTreeMap<GroupRef, (String, Option<String>)>,
    /// Names of identity-store principals met in assignments, by id.
    pub names: BTreeMap<String, String>,
}

impl IdentityCenterActual {
    /// The directory group an identity-store group stands for, when it is one of the desired
    /// bindings' (for adopting an assignment made by hand).
    pub fn group_of(&self, principal_id: &str) -> Option<&GroupRef> {
        self.groups
            .iter()
            .find(|(_, m)| m.id() == Some(principal_id))
            .map(|(g, _)| g)
    }
}

/// Whether Identity Center accepts `name` as a permission set's name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= NAME_LIMIT
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
}

/// The pattern of the IAM roles Identity Center provisions from permission set `name` in
/// `account` (`AWSReservedSSO_<name>_<random>`), for resource policies.
pub fn provisioned_role_pattern(partition: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_{name}_*")
}

/// The steps that bring the permission sets in `actual` (and their assignments) to `desired`.
pub fn plan(desired: &DesiredState, actual: &IdentityCenterActual) -> Result<Vec<Step>, PlanError> {
    let mut steps = Vec::new();
    let step = |call| Step {
        target: TARGET.into(),
        call,
    };
    for (role, ps) in &actual.permission_sets {
        let name = role.name().to_string();
        if !valid_name(&name) {
            return Err(PlanError::PermissionSetName(name));
        }
        if ps.exists && !ps.managed {
            return Err(PlanError::UnmanagedPermissionSet(name));
        }
        let grants = desired.grants_of(role);
        let wanted = match role_policy(&name, &grants, &desired.catalog, DEFAULT_MANAGED_PER_ROLE)
            .map_err(|e| PlanError::TooLarge(e.to_string()))?
        {
            RolePolicy::None => None,
            RolePolicy::Inline(d) => Some(d.json),
            RolePolicy::Managed(_) => {
                return Err(PlanError::NeedsManagedPolicies(role.to_string()))
            }
        };
        let mut wanted_principals: BTreeMap<Principal, (String, bool)> = BTreeMap::new();
        for binding in desired.bindings.iter().filter(|b| &b.role == role) {
            if binding.group.is_person() {
                match actual.users.get(&binding.group) {
                    Some((name, Some(id))) => {
                        wanted_principals.insert(Principal::user(id), (name.clone(), false));
                        continue;
                    }
                    found => {
                        return Err(PlanError::PersonNotProvisioned {
                            person: found
                                .map(|(name, _)| name.clone())
                                .unwrap_or_else(|| binding.group.object_id.clone()),
                            role: role.name().into(),
                        })
                    }
                }
            }
            let found = actual.groups.get(&binding.group);
            let (id, name, by_name) = match found {
                Some(GroupMatch::ExternalId { id, name }) => (id, name, false),
                Some(GroupMatch::DisplayName { id, name }) => (id, name, true),
                Some(GroupMatch::Missing { name }) => {
                    return Err(PlanError::GroupNotProvisioned {
                        group: name.clone(),
                        role: role.name().into(),
                    })
                }
                None => {
                    return Err(PlanError::GroupNotProvisioned {
                        group: binding.group.object_id.clone(),
                        role: role.name().into(),
                    })
                }
            };
            wanted_principals.insert(Principal::group(id), (name.clone(), by_name));
        }
        if !ps.exists {
            if wanted.is_none() && wanted_principals.is_empty() {
                continue;
            }
            steps.push(step(Call::CreatePermissionSet { name: name.clone() }));
        }
        let same_policy = match (&wanted, &ps.inline) {
            (None, None) => true,
            (Some(json), Some(have)) => {
                serde_json::from_str::<serde_json::Value>(json)
                    .ok()
                    .as_ref()
                    == Some(have)
            }
            _ => false,
        };
        if !same_policy {
            steps.push(step(match &wanted {
                Some(document) => Call::PutPermissionSetPolicy {
                    permission_set: name.clone(),
                    document: document.clone(),
                },
                None => Call::DeletePermissionSetPolicy {
                    permission_set: name.clone(),
                },
            }));
            // New assignments provision the permission set themselves; the roles of kept ones
            // only get the new policy when it is provisioned again.
            if ps
                .assignments
                .iter()
                .any(|p| wanted_principals.contains_key(p))
            {
                steps.push(step(Call::ProvisionPermissionSet {
                    permission_set: name.clone(),
                    account: role.account.as_str().into(),
                }));
            }
        }
        for (principal, (principal_name, matched_by_name)) in &wanted_principals {
            if !ps.assignments.contains(principal) {
                steps.push(step(Call::CreateAccountAssignment {
                    permission_set: name.clone(),
                    account: role.account.as_str().into(),
                    principal: principal.clone(),
                    principal_name: principal_name.clone(),
                    matched_by_name: *matched_by_name,
                }));
            }
        }
        for principal in ps
            .assignments
            .iter()
            .filter(|p| !wanted_principals.contains_key(*p))
        {
            steps.push(step(Call::DeleteAccountAssignment {
                permission_set: name.clone(),
                account: role.account.as_str().into(),
                principal: principal.clone(),
                principal_name: actual
                    .names
                    .get(&principal.id)
                    .cloned()
                    .unwrap_or_else(|| principal.id.clone()),
            }));
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        desired::ChangeItem,
        grant::{Binding, Grant, GrantInput},
    };

    const ROLE: &str = "arn:aws:iam::123456789012:role/orders-readers";

    fn role() -> RoleArn {
        RoleArn::parse(ROLE).unwrap()
    }

    fn group(id: &str) -> GroupRef {
        GroupRef::group("graph", id)
    }

    fn binding(id: &str) -> ChangeItem {
        ChangeItem::AddBinding(Binding {
            group: group(id),
            role: role(),
        })
    }

    fn grant() -> ChangeItem {
        ChangeItem::AddGrant(
            Grant::parse(&GrantInput {
                role_arn: ROLE.into(),
                account: "123456789012".into(),
                region: "us-east-1".into(),
                api_id: "a1b2c3d4e5".into(),
                stage: "prod".into(),
                method: "GET".into(),
                path: "/orders".into(),
            })
            .unwrap(),
        )
    }

    fn actual(ps: PermissionSetActual, groups: &[(&str, GroupMatch)]) -> IdentityCenterActual {
        IdentityCenterActual {
            permission_sets: BTreeMap::from([(role(), ps)]),
            groups: groups
                .iter()
                .map(|(id, m)| (group(id), m.clone()))
                .collect(),
            users: BTreeMap::new(),
            names: BTreeMap::new(),
        }
    }

    fn ops(steps: &[Step]) -> Vec<&'static str> {
        steps.iter().map(|s| s.call.operation()).collect()
    }

    fn found(id: &str) -> GroupMatch {
        GroupMatch::ExternalId {
            id: format!("ids-{id}"),
            name: format!("Team {id}"),
        }
    }

    #[test]
    fn a_change_set_with_only_a_binding_plans_the_permission_set_and_the_assignment() {
        let desired = DesiredState::default().apply(&[binding("g1")]).unwrap();
        let steps = plan(
            &desired,
            &actual(PermissionSetActual::default(), &[("g1", found("g1"))]),
        )
        .unwrap();
        assert_eq!(
            ops(&steps),
            ["CreatePermissionSet", "CreateAccountAssignment"]
        );
        assert!(steps.iter().all(|s| s.target == TARGET));
        assert_eq!(
            steps[1].call.summary(),
            "assign group Team g1 to permission set orders-readers in account 123456789012"
        );
    }

    #[test]
    fn when_identity_center_matches_nothing_is_planned_and_a_policy_change_is_provisioned() {
        let desired = DesiredState::default()
            .apply(&[binding("g1"), grant()])
            .unwrap();
        let first = plan(
            &desired,
            &actual(PermissionSetActual::default(), &[("g1", found("g1"))]),
        )
        .unwrap();
        assert_eq!(
            ops(&first),
            [
                "CreatePermissionSet",
                "PutInlinePolicyToPermissionSet",
                "CreateAccountAssignment"
            ]
        );
        let Call::PutPermissionSetPolicy { document, .. } = &first[1].call else {
            panic!()
        };
        let mut done = PermissionSetActual {
            exists: true,
            managed: true,
            inline: Some(serde_json::from_str(document).unwrap()),
            assignments: BTreeSet::from([Principal::group("ids-g1")]),
        };
        let groups = [("g1", found("g1"))];
        assert_eq!(
            plan(&desired, &actual(done.clone(), &groups)).unwrap(),
            vec![]
        );
        // The policy changed by hand: put back, and provisioned to the account it is assigned in.
        done.inline = Some(serde_json::json!({"Version": "2012-10-17", "Statement": []}));
        let again = plan(&desired, &actual(done, &groups)).unwrap();
        assert_eq!(
            ops(&again),
            ["PutInlinePolicyToPermissionSet", "ProvisionPermissionSet"]
        );
    }

    #[test]
    fn an_assignment_not_desired_is_deleted_and_named() {
        let desired = DesiredState::default();
        let ps = PermissionSetActual {
            exists: true,
            managed: true,
            inline: None,
            assignments: BTreeSet::from([Principal::group("ids-x")]),
        };
        let mut ic = actual(ps, &[]);
        ic.names.insert("ids-x".into(), "Contractors".into());
        let steps = plan(&desired, &ic).unwrap();
        assert_eq!(ops(&steps), ["DeleteAccountAssignment"]);
        assert!(steps[0].call.summary().contains("group Contractors"));
    }

    #[test]
    fn a_person_bound_by_a_request_is_assigned_as_a_user_or_refused_by_name() {
        let nora = GroupRef::person("graph", "p-nora");
        let person = ChangeItem::AddBinding(Binding {
            group: nora.clone(),
            role: role(),
        });
        let desired = DesiredState::default().apply(&[person]).unwrap();
        let mut ic = actual(PermissionSetActual::default(), &[]);
        ic.users
            .insert(nora.clone(), ("Nora Nobody".into(), Some("u-nora".into())));
        let steps = plan(&desired, &ic).unwrap();
        assert_eq!(
            ops(&steps),
            ["CreatePermissionSet", "CreateAccountAssignment"]
        );
        let Call::CreateAccountAssignment { principal, .. } = &steps[1].call else {
            panic!()
        };
        assert_eq!(principal, &Principal::user("u-nora"));
        assert_eq!(
            steps[1].call.summary(),
            "assign user Nora Nobody to permission set orders-readers in account 123456789012"
        );
        // Not in the identity store: refused by name, never skipped.
        ic.users.insert(nora, ("Nora Nobody".into(), None));
        let err = plan(&desired, &ic).unwrap_err().to_string();
        assert!(
            err.contains("Nora Nobody") && err.contains("not in the IAM Identity Center"),
            "{err}"
        );
    }

    #[test]
    fn a_group_missing_from_the_identity_store_is_refused_by_name() {
        let desired = DesiredState::default().apply(&[binding("g1")]).unwrap();
        let missing = GroupMatch::Missing {
            name: "Payments Admins".into(),
        };
        let err = plan(
            &desired,
            &actual(PermissionSetActual::default(), &[("g1", missing)]),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("Payments Admins") && text.contains("provision"),
            "{text}"
        );
    }

    #[test]
    fn a_group_found_by_display_name_is_assigned_with_a_warning() {
        let desired = DesiredState::default().apply(&[binding("g1")]).unwrap();
        let by_name = GroupMatch::DisplayName {
            id: "ids-1".into(),
            name: "Team".into(),
        };
        let steps = plan(
            &desired,
            &actual(PermissionSetActual::default(), &[("g1", by_name)]),
        )
        .unwrap();
        assert!(steps[1]
            .call
            .summary()
            .contains("warning: matched by display name"));
    }

    #[test]
    fn an_unmanaged_permission_set_and_a_bad_name_are_refused() {
        let desired = DesiredState::default().apply(&[binding("g1")]).unwrap();
        let foreign = PermissionSetActual {
            exists: true,
            ..Default::default()
        };
        let err = plan(&desired, &actual(foreign, &[("g1", found("g1"))])).unwrap_err();
        assert!(matches!(err, PlanError::UnmanagedPermissionSet(_)));
        assert!(valid_name("orders-readers") && !valid_name(&"x".repeat(33)));
        assert!(!valid_name("has space"));
    }
}
