//! The Graph fake's enterprise applications, in Microsoft Graph's documented shapes: a service
//! principal's `appRoles` (read with `GET /servicePrincipals/{id}`, replaced whole with `PATCH`,
//! which refuses to drop an enabled role), and its `appRoleAssignedTo` collection (paged `GET`,
//! `POST` answering 201 with the assignment, `DELETE …/{id}` answering 204; a duplicate or an
//! unknown app role answers 400, an unknown principal 404).
#![allow(dead_code)]

use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::graph_fake::{odata_error, GraphFake, Responder, Tenant};

#[derive(Clone, Debug, Default)]
pub struct ServicePrincipal {
    pub app_roles: Vec<Value>,
    pub assignments: Vec<Value>,
}

impl Responder {
    pub(super) fn service_principal(
        &self,
        t: &mut Tenant,
        req: &Request,
        parts: &[&str],
        offset: usize,
        size: usize,
    ) -> ResponseTemplate {
        let method = req.method.as_str();
        let Some(sp_id) = parts.get(1).map(|s| s.to_string()) else {
            return odata_error(400, "BadRequest", "a service principal id is needed");
        };
        if !t.service_principals.contains_key(&sp_id) {
            return odata_error(
                404,
                "Request_ResourceNotFound",
                &format!("Resource '{sp_id}' does not exist or one of its queried reference-property objects are not present."),
            );
        }
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        match (method, &parts[2..]) {
            ("GET", []) => {
                let sp = &t.service_principals[&sp_id];
                ResponseTemplate::new(200).set_body_json(json!({
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals(id,appRoles)/$entity",
                    "id": sp_id,
                    "appRoles": sp.app_roles,
                }))
            }
            ("PATCH", []) => {
                let Some(roles) = body.get("appRoles").and_then(Value::as_array).cloned() else {
                    return odata_error(400, "Request_BadRequest", "Invalid request body.");
                };
                for r in &roles {
                    let complete = [
                        "id",
                        "value",
                        "displayName",
                        "allowedMemberTypes",
                        "isEnabled",
                    ]
                    .iter()
                    .all(|k| r.get(k).is_some());
                    if !complete {
                        return odata_error(400, "Request_BadRequest", "Invalid value specified for property 'appRoles' of resource 'ServicePrincipal'.");
                    }
                }
                let sp = t.service_principals.get_mut(&sp_id).unwrap();
                let dropped_enabled = sp.app_roles.iter().any(|old| {
                    old["isEnabled"] == true && !roles.iter().any(|r| r["id"] == old["id"])
                });
                if dropped_enabled {
                    return odata_error(400, "CannotDeleteOrUpdateEnabledEntitlement", "Permission (scope or role) cannot be deleted or updated unless disabled first.");
                }
                sp.app_roles = roles;
                ResponseTemplate::new(204)
            }
            ("GET", ["appRoleAssignedTo"]) => {
                let all = t.service_principals[&sp_id].assignments.clone();
                let end = (offset + size).min(all.len());
                let more = end < all.len();
                let path = req.url.path().to_string();
                ResponseTemplate::new(200).set_body_json(self.page(
                    t,
                    all[offset..end].to_vec(),
                    &path,
                    end,
                    more,
                    "servicePrincipals('id')/appRoleAssignedTo",
                ))
            }
            ("POST", ["appRoleAssignedTo"]) => {
                let text = |k: &str| {
                    body.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let (principal, role) = (text("principalId"), text("appRoleId"));
                let Some(group) = t.group_name(&principal) else {
                    return odata_error(404, "Request_ResourceNotFound", &format!("Resource '{principal}' does not exist or one of its queried reference-property objects are not present."));
                };
                let sp = t.service_principals.get_mut(&sp_id).unwrap();
                if !sp.app_roles.iter().any(|r| r["id"] == role.as_str()) {
                    return odata_error(
                        400,
                        "Request_BadRequest",
                        "Permission being assigned was not found on application",
                    );
                }
                if sp.assignments.iter().any(|a| {
                    a["principalId"] == principal.as_str() && a["appRoleId"] == role.as_str()
                }) {
                    return odata_error(
                        400,
                        "Request_BadRequest",
                        "Permission being assigned already exists on the object",
                    );
                }
                let made = json!({
                    "id": format!("assignment-{}-{}", sp.assignments.len(), uuid::Uuid::new_v4().simple()),
                    "appRoleId": role,
                    "createdDateTime": "2026-12-01T10:00:00Z",
                    "principalDisplayName": group,
                    "principalId": principal,
                    "principalType": "Group",
                    "resourceDisplayName": "AWS Single-Account Access",
                    "resourceId": sp_id,
                });
                sp.assignments.push(made.clone());
                ResponseTemplate::new(201).set_body_json(made)
            }
            ("DELETE", ["appRoleAssignedTo", id]) => {
                let sp = t.service_principals.get_mut(&sp_id).unwrap();
                let before = sp.assignments.len();
                sp.assignments.retain(|a| a["id"] != *id);
                if sp.assignments.len() == before {
                    return odata_error(
                        404,
                        "Request_ResourceNotFound",
                        &format!("Resource '{id}' does not exist."),
                    );
                }
                ResponseTemplate::new(204)
            }
            _ => odata_error(405, "Request_BadRequest", "Unsupported method or segment."),
        }
    }
}

impl GraphFake {
    /// An enterprise application for AWS with no app roles yet.
    pub fn add_service_principal(&self, id: &str) {
        self.with(|t| {
            t.service_principals
                .insert(id.to_string(), ServicePrincipal::default())
        });
    }

    /// (app role value, group id) of every assignment of the service principal.
    pub fn app_role_assignments(&self, sp: &str) -> Vec<(String, String)> {
        self.with(|t| {
            let sp = &t.service_principals[sp];
            let mut out: Vec<(String, String)> = sp
                .assignments
                .iter()
                .map(|a| {
                    let value = sp
                        .app_roles
                        .iter()
                        .find(|r| r["id"] == a["appRoleId"])
                        .and_then(|r| r["value"].as_str())
                        .unwrap_or_default()
                        .to_string();
                    (
                        value,
                        a["principalId"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            out.sort();
            out
        })
    }

    /// Someone assigns `group` the app role valued `value` in the Entra admin center.
    pub fn assign_by_hand(&self, sp: &str, value: &str, group: &str) {
        self.with(|t| {
            let name = t.group_name(group).unwrap_or_default();
            let sp_id = sp.to_string();
            let sp = t.service_principals.get_mut(sp).unwrap();
            let role = sp
                .app_roles
                .iter()
                .find(|r| r["value"] == value)
                .expect("the app role exists")["id"]
                .clone();
            sp.assignments.push(json!({
                "id": format!("by-hand-{group}"),
                "appRoleId": role,
                "principalDisplayName": name,
                "principalId": group,
                "principalType": "Group",
                "resourceId": sp_id,
            }));
        });
    }
}
