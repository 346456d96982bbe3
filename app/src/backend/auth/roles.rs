//! Which Gatehouse roles a person holds, from the `groups` and `roles` claims of their token.

use crate::roles::Role;
use uuid::Uuid;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleMapping {
    pub admin_groups: Vec<Uuid>,
    pub reviewer_groups: Vec<Uuid>,
    pub auditor_groups: Vec<Uuid>,
    pub admin_app_roles: Vec<String>,
    pub reviewer_app_roles: Vec<String>,
    pub auditor_app_roles: Vec<String>,
}

impl RoleMapping {
    pub fn is_empty(&self) -> bool {
        Role::ALL.iter().all(|r| {
            let (groups, app_roles) = self.sources(*r);
            groups.is_empty() && app_roles.is_empty()
        })
    }

    fn sources(&self, role: Role) -> (&[Uuid], &[String]) {
        match role {
            Role::Admin => (&self.admin_groups, &self.admin_app_roles),
            Role::Reviewer => (&self.reviewer_groups, &self.reviewer_app_roles),
            Role::Auditor => (&self.auditor_groups, &self.auditor_app_roles),
        }
    }

    /// Group ids are compared as GUIDs (case does not matter); app-role names exactly, as
    /// Entra ID issues them.
    pub fn roles_for(&self, groups: &[String], app_roles: &[String]) -> Vec<Role> {
        let groups: Vec<Uuid> = groups
            .iter()
            .filter_map(|g| Uuid::parse_str(g).ok())
            .collect();
        Role::ALL
            .into_iter()
            .filter(|role| {
                let (role_groups, role_app_roles) = self.sources(*role);
                role_groups.iter().any(|g| groups.contains(g))
                    || role_app_roles.iter().any(|r| app_roles.contains(r))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMINS: &str = "6f1a5c2e-0000-4000-8000-000000000001";

    fn mapping() -> RoleMapping {
        RoleMapping {
            admin_groups: vec![Uuid::parse_str(ADMINS).unwrap()],
            reviewer_app_roles: vec!["Gatehouse.Reviewer".into()],
            ..Default::default()
        }
    }

    #[test]
    fn groups_and_app_roles_both_count() {
        let roles = mapping().roles_for(&[ADMINS.to_uppercase()], &["Gatehouse.Reviewer".into()]);
        assert_eq!(roles, vec![Role::Admin, Role::Reviewer]);
    }

    #[test]
    fn unknown_groups_and_near_miss_role_names_give_nothing() {
        let roles = mapping().roles_for(
            &[
                "not-a-guid".into(),
                "6f1a5c2e-0000-4000-8000-000000000002".into(),
            ],
            &["gatehouse.reviewer".into()],
        );
        assert!(roles.is_empty());
    }
}
