//! The Entra enterprise application for AWS, through Microsoft Graph: its app roles (one per
//! role, valued `role ARN,SAML provider ARN`) and which groups are assigned each. Writes need
//! `AppRoleAssignment.ReadWrite.All` and `Application.ReadWrite.All` (or ownership of the app).

use serde_json::{json, Value};

use super::{Body, GraphDirectory};
use crate::backend::directory::DirectoryError;
use crate::domain::saml::{AppRole, Assignment};

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl GraphDirectory {
    /// The service principal's app roles, as Graph holds them (every field, for a PATCH that
    /// keeps them).
    async fn app_roles_raw(&self, sp: &str) -> Result<Vec<Value>, DirectoryError> {
        let url = self.url(&format!("/servicePrincipals/{sp}?$select=id,appRoles"))?;
        let found = self.fetch(&url, Body::Get).await?;
        Ok(found
            .get("appRoles")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    pub async fn app_roles(&self, sp: &str) -> Result<Vec<AppRole>, DirectoryError> {
        Ok(self
            .app_roles_raw(sp)
            .await?
            .iter()
            .map(|r| AppRole {
                id: text(r, "id"),
                value: text(r, "value"),
            })
            .collect())
    }

    /// Every assignment of the service principal's app roles, page by page.
    pub async fn app_role_assignments(&self, sp: &str) -> Result<Vec<Assignment>, DirectoryError> {
        let mut out = Vec::new();
        let mut next = Some(self.url(&format!(
            "/servicePrincipals/{sp}/appRoleAssignedTo?$top=999"
        ))?);
        while let Some(url) = next {
            let page = self.fetch(&url, Body::Get).await?;
            for a in Self::items(&page) {
                out.push(Assignment {
                    id: text(a, "id"),
                    app_role_id: text(a, "appRoleId"),
                    principal_id: text(a, "principalId"),
                    principal_type: text(a, "principalType"),
                    principal_name: text(a, "principalDisplayName"),
                });
            }
            next = self.next_link(&page)?;
        }
        Ok(out)
    }

    /// Adds an app role valued `value` unless one is (Graph replaces the whole list: the
    /// others are sent back as read). Answers its id.
    pub async fn add_app_role(
        &self,
        sp: &str,
        value: &str,
        display_name: &str,
    ) -> Result<String, DirectoryError> {
        let mut roles = self.app_roles_raw(sp).await?;
        if let Some(existing) = roles.iter().find(|r| text(r, "value") == value) {
            return Ok(text(existing, "id"));
        }
        let id = uuid::Uuid::new_v4().to_string();
        roles.push(json!({
            "id": id,
            "allowedMemberTypes": ["User"],
            "description": format!("{display_name}: managed by Gatehouse"),
            "displayName": display_name,
            "isEnabled": true,
            "value": value,
        }));
        let url = self.url(&format!("/servicePrincipals/{sp}"))?;
        self.fetch(&url, Body::Patch(json!({ "appRoles": roles })))
            .await?;
        Ok(id)
    }

    /// Assigns `group` the app role valued `value`; an assignment that exists already counts.
    pub async fn assign_app_role(
        &self,
        sp: &str,
        value: &str,
        group: &str,
    ) -> Result<Option<String>, DirectoryError> {
        let role = self
            .app_roles(sp)
            .await?
            .into_iter()
            .find(|r| r.value == value)
            .ok_or_else(|| {
                DirectoryError::provider(format!(
                    "the enterprise application has no app role {value}"
                ))
            })?;
        let existing = self.app_role_assignments(sp).await?;
        if existing
            .iter()
            .any(|a| a.app_role_id == role.id && a.principal_id == group)
        {
            return Ok(None);
        }
        let url = self.url(&format!("/servicePrincipals/{sp}/appRoleAssignedTo"))?;
        let made = self
            .fetch(
                &url,
                Body::Post(json!({
                    "principalId": group,
                    "resourceId": sp,
                    "appRoleId": role.id,
                })),
            )
            .await?;
        Ok(Some(text(&made, "id")))
    }

    /// Removes an assignment; one already gone counts as removed.
    pub async fn remove_app_role_assignment(
        &self,
        sp: &str,
        assignment: &str,
    ) -> Result<(), DirectoryError> {
        let url = self.url(&format!(
            "/servicePrincipals/{sp}/appRoleAssignedTo/{assignment}"
        ))?;
        match self.request(&url, &Body::Delete).await? {
            Ok(_) => Ok(()),
            Err(r) if r.status == reqwest::StatusCode::NOT_FOUND => Ok(()),
            Err(r) => Err(DirectoryError::provider(format!(
                "Microsoft Graph answered {} to DELETE {}: {}",
                r.status.as_u16(),
                url.path(),
                super::wire::graph_error(&r.body)
            ))),
        }
    }
}
