//! The Entra ID part of a SAML-mode push plan: a binding G → R is an assignment of G to the app
//! role of the Entra enterprise application for AWS whose value is `R's ARN,SAML provider ARN`
//! (the pair AWS's sign-in reads from the SAML assertion). No IO: the server reads the app's
//! roles and assignments from Microsoft Graph into [`SamlActual`] and makes the calls.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    desired::DesiredState,
    grant::GroupRef,
    names::RoleArn,
    plan::{Call, PlanError, Step},
};

/// The step target of directory writes.
pub const TARGET: &str = "entra";

/// The directory whose group ids are Entra object ids.
pub const ENTRA_SOURCE: &str = "graph";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppRole {
    pub id: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub id: String,
    pub app_role_id: String,
    pub principal_id: String,
    /// `Group`, `User` or `ServicePrincipal`, as Graph names them.
    pub principal_type: String,
    pub principal_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SamlActual {
    /// The SAML-mode roles in scope, with the SAML provider each names.
    pub roles: BTreeMap<RoleArn, String>,
    pub app_roles: Vec<AppRole>,
    pub assignments: Vec<Assignment>,
    /// Names of the desired bindings' groups.
    pub group_names: BTreeMap<GroupRef, String>,
}

/// The app role value AWS expects: `role ARN,SAML provider ARN`.
pub fn app_role_value(role: &RoleArn, provider_arn: &str) -> String {
    format!("{role},{provider_arn}")
}

impl SamlActual {
    /// The role an app role value names, when it is one in scope.
    pub fn role_of_value(&self, value: &str) -> Option<&RoleArn> {
        self.roles
            .iter()
            .find(|(r, p)| app_role_value(r, p) == value)
            .map(|(r, _)| r)
    }

    pub fn value_of_app_role(&self, id: &str) -> Option<&str> {
        self.app_roles
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.value.as_str())
    }
}

/// The directory writes that make the app role assignments of the roles in `actual` what the
/// desired bindings say. Assignments to other app roles are never touched.
pub fn plan(desired: &DesiredState, actual: &SamlActual) -> Result<Vec<Step>, PlanError> {
    let mut steps = Vec::new();
    let step = |call| Step {
        target: TARGET.into(),
        call,
    };
    for (role, provider) in &actual.roles {
        let value = app_role_value(role, provider);
        let mut wanted: BTreeMap<&str, String> = BTreeMap::new();
        for b in desired.bindings.iter().filter(|b| &b.role == role) {
            let name = actual
                .group_names
                .get(&b.group)
                .cloned()
                .unwrap_or_else(|| b.group.object_id.clone());
            if b.group.source != ENTRA_SOURCE {
                return Err(PlanError::NotAnEntraGroup {
                    group: name,
                    directory: b.group.source.clone(),
                    role: role.name().into(),
                });
            }
            wanted.insert(b.group.object_id.as_str(), name);
        }
        let app_role = actual.app_roles.iter().find(|a| a.value == value);
        if app_role.is_none() && !wanted.is_empty() {
            steps.push(step(Call::CreateAppRole {
                value: value.clone(),
                display_name: role.name().into(),
            }));
        }
        let assigned: Vec<&Assignment> = app_role
            .map(|a| {
                actual
                    .assignments
                    .iter()
                    .filter(|x| x.app_role_id == a.id)
                    .collect()
            })
            .unwrap_or_default();
        let have: BTreeSet<&str> = assigned.iter().map(|a| a.principal_id.as_str()).collect();
        for (group_id, group_name) in &wanted {
            if !have.contains(group_id) {
                steps.push(step(Call::AssignAppRole {
                    value: value.clone(),
                    group_id: group_id.to_string(),
                    group_name: group_name.clone(),
                }));
            }
        }
        for a in assigned {
            if !wanted.contains_key(a.principal_id.as_str()) {
                steps.push(step(Call::RemoveAppRoleAssignment {
                    assignment_id: a.id.clone(),
                    value: value.clone(),
                    principal_id: a.principal_id.clone(),
                    principal_name: a.principal_name.clone(),
                }));
            }
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{desired::ChangeItem, grant::Binding};

    const PROVIDER: &str = "arn:aws:iam::123456789012:saml-provider/EntraID";

    fn role() -> RoleArn {
        RoleArn::parse("arn:aws:iam::123456789012:role/orders-readers").unwrap()
    }

    fn bound(source: &str, id: &str) -> DesiredState {
        DesiredState::default()
            .apply(&[ChangeItem::AddBinding(Binding {
                group: GroupRef::group(source, id),
                role: role(),
            })])
            .unwrap()
    }

    fn actual() -> SamlActual {
        SamlActual {
            roles: BTreeMap::from([(role(), PROVIDER.to_string())]),
            ..Default::default()
        }
    }

    #[test]
    fn a_binding_alone_plans_the_app_role_and_the_assignment() {
        let steps = plan(&bound("graph", "g1"), &actual()).unwrap();
        let ops: Vec<&str> = steps.iter().map(|s| s.call.operation()).collect();
        assert_eq!(ops, ["UpdateServicePrincipal", "CreateAppRoleAssignment"]);
        let Call::CreateAppRole { value, .. } = &steps[0].call else {
            panic!()
        };
        assert_eq!(
            value,
            "arn:aws:iam::123456789012:role/orders-readers,arn:aws:iam::123456789012:saml-provider/EntraID"
        );
        assert!(steps.iter().all(|s| s.target == TARGET));
    }

    #[test]
    fn matching_assignments_plan_nothing_and_others_are_removed() {
        let mut have = actual();
        have.app_roles.push(AppRole {
            id: "r1".into(),
            value: app_role_value(&role(), PROVIDER),
        });
        have.app_roles.push(AppRole {
            id: "other".into(),
            value: "someone else's".into(),
        });
        let assignment = |id: &str, role: &str, principal: &str| Assignment {
            id: id.into(),
            app_role_id: role.into(),
            principal_id: principal.into(),
            principal_type: "Group".into(),
            principal_name: format!("Group {principal}"),
        };
        have.assignments = vec![
            assignment("a1", "r1", "g1"),
            assignment("a2", "r1", "intruders"),
            assignment("a3", "other", "untouched"),
        ];
        let steps = plan(&bound("graph", "g1"), &have).unwrap();
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert_eq!(
            steps[0].call.summary(),
            "remove the assignment of Group intruders to the app role arn:aws:iam::123456789012:role/orders-readers in Entra ID"
        );
        have.assignments.remove(1);
        assert_eq!(plan(&bound("graph", "g1"), &have).unwrap(), vec![]);
    }

    #[test]
    fn a_group_from_another_directory_is_refused() {
        let err = plan(&bound("ldap", "cn=x"), &actual()).unwrap_err();
        assert!(err.to_string().contains("ldap directory"), "{err}");
    }
}
