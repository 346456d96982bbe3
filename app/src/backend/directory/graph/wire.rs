//! Graph's wire format: error bodies, the codes that mean "sync again", and delta items —
//! groups with `members@delta`, people, `@removed` — turned into a [`DirectoryPage`].

use serde_json::Value;

use crate::backend::directory::{
    DirectoryPage, Edge, GroupChange, GroupRecord, PersonChange, PersonRecord,
};

const GROUP_FIELDS: &str = "id,displayName,description,mail,securityEnabled,members";
const PERSON_FIELDS: &str = "id,displayName,userPrincipalName";

/// The `{"error": {"code", "message"}}` body Graph answers errors with, as one line.
pub fn graph_error(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    match error {
        Some(e) => format!(
            "{}: {}",
            e.get("code").and_then(Value::as_str).unwrap_or("unknown"),
            e.get("message").and_then(Value::as_str).unwrap_or("")
        ),
        None => body.chars().take(200).collect(),
    }
}

pub fn error_code(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    Some(v.get("error")?.get("code")?.as_str()?.to_string())
}

/// Whether Graph's refusal of a delta link means "start over with a full listing": `410 Gone`,
/// or `400` with `syncStateNotFound` (an expired link, after seven days for directory objects)
/// or another of the documented resync codes. Answers the reason, for the log and the run.
pub fn resync_reason(status: u16, body: &str) -> Option<String> {
    let code = error_code(body).unwrap_or_default();
    let resync_code = ["syncstatenotfound", "syncstateinvalid", "resyncrequired"]
        .contains(&code.to_ascii_lowercase().as_str())
        || code.to_ascii_lowercase().starts_with("resync");
    (status == 410 || (status == 400 && resync_code))
        .then(|| format!("Graph answered {status} {}", graph_error(body)))
}

/// A field that a delta page may leave out: absent → `None`; present → `Some(value or null)`.
fn optional_text(item: &Value, key: &str) -> Option<Option<String>> {
    item.get(key).map(|v| v.as_str().map(String::from))
}

/// A delta item's `members@delta`: people and nested groups joining or (`@removed`) leaving.
/// Other members (devices, service principals, contacts) are not people: left out.
fn member_edges(group_id: &str, item: &Value) -> Vec<Edge> {
    let Some(members) = item.get("members@delta").and_then(Value::as_array) else {
        return Vec::new();
    };
    members
        .iter()
        .filter(|m| {
            matches!(
                m.get("@odata.type").and_then(Value::as_str),
                Some("#microsoft.graph.user" | "#microsoft.graph.group")
            )
        })
        .filter_map(|m| {
            Some(Edge {
                removed: m.get("@removed").is_some(),
                ..Edge::member(group_id, m.get("id")?.as_str()?)
            })
        })
        .collect()
}

fn person_change(item: &Value) -> Option<PersonChange> {
    let id = item.get("id")?.as_str()?.to_string();
    if item.get("@removed").is_some() {
        return Some(PersonChange::Removed(id));
    }
    Some(PersonChange::Upsert(PersonRecord {
        id,
        directory_ref: None,
        display_name: item
            .get("displayName")
            .and_then(Value::as_str)
            .map(String::from),
        user_principal_name: optional_text(item, "userPrincipalName"),
    }))
}

fn group_change(item: &Value) -> Option<GroupChange> {
    let id = item.get("id")?.as_str()?.to_string();
    if item.get("@removed").is_some() {
        return Some(GroupChange::Removed(id));
    }
    Some(GroupChange::Upsert(GroupRecord {
        id,
        display_name: item
            .get("displayName")
            .and_then(Value::as_str)
            .map(String::from),
        description: optional_text(item, "description"),
        mail: optional_text(item, "mail"),
        security_enabled: item.get("securityEnabled").and_then(Value::as_bool),
        ..Default::default()
    }))
}

/// Which delta collection a round walks.
#[derive(Clone, Copy)]
pub enum Collection {
    Groups,
    People,
}

impl Collection {
    pub fn first_round(self) -> String {
        match self {
            Collection::Groups => format!("/groups/delta?$select={GROUP_FIELDS}"),
            Collection::People => format!("/users/delta?$select={PERSON_FIELDS}"),
        }
    }

    pub fn page(self, items: &[Value]) -> DirectoryPage {
        let mut page = DirectoryPage::default();
        match self {
            Collection::Groups => {
                for item in items {
                    if let Some(change) = group_change(item) {
                        if let GroupChange::Upsert(g) = &change {
                            page.edges.extend(member_edges(&g.id, item));
                        }
                        page.groups.push(change);
                    }
                }
            }
            Collection::People => page.people = items.iter().filter_map(person_change).collect(),
        }
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn delta_items_keep_absent_fields_absent() {
        let renamed = json!({"id": "g1", "displayName": "New name"});
        let Some(GroupChange::Upsert(r)) = group_change(&renamed) else {
            panic!("not an upsert")
        };
        assert_eq!(r.display_name.as_deref(), Some("New name"));
        assert_eq!((r.description, r.mail), (None, None));
        let cleared = json!({"id": "g1", "mail": null});
        let Some(GroupChange::Upsert(r)) = group_change(&cleared) else {
            panic!("not an upsert")
        };
        assert_eq!(r.mail, Some(None));
        let removed = json!({"id": "g2", "@removed": {"reason": "deleted"}});
        assert_eq!(
            group_change(&removed),
            Some(GroupChange::Removed("g2".into()))
        );
    }

    #[test]
    fn expired_delta_links_ask_for_a_full_listing() {
        let expired = r#"{"error":{"code":"syncStateNotFound","message":"The sync state generation is not found. The delta token is expired and data must be synchronized again."}}"#;
        let reason = resync_reason(400, expired).unwrap();
        assert!(
            reason.starts_with("Graph answered 400 syncStateNotFound"),
            "{reason}"
        );
        assert!(
            resync_reason(410, "{}").is_some(),
            "410 Gone, whatever the body"
        );
        assert!(
            resync_reason(400, r#"{"error":{"code":"resyncRequired","message":""}}"#).is_some()
        );
        let bad = r#"{"error":{"code":"Request_BadRequest","message":"Invalid filter."}}"#;
        assert_eq!(
            resync_reason(400, bad),
            None,
            "other bad requests are errors"
        );
        assert_eq!(resync_reason(403, expired), None);
    }

    #[test]
    fn members_delta_brings_people_and_nested_groups_joining_and_leaving() {
        let item = json!({"id": "g1", "members@delta": [
            {"@odata.type": "#microsoft.graph.user", "id": "u1"},
            {"@odata.type": "#microsoft.graph.group", "id": "g2"},
            {"@odata.type": "#microsoft.graph.user", "id": "u2", "@removed": {"reason": "deleted"}},
            {"@odata.type": "#microsoft.graph.device", "id": "d1"}
        ]});
        let edges = member_edges("g1", &item);
        let summary: Vec<(&str, bool)> = edges
            .iter()
            .map(|e| (e.member_ref.as_str(), e.removed))
            .collect();
        assert_eq!(summary, [("u1", false), ("g2", false), ("u2", true)]);
        assert!(member_edges("g1", &json!({"id": "g1"})).is_empty());
    }

    #[test]
    fn graph_errors_read_as_one_line() {
        let body = r#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges."}}"#;
        assert_eq!(
            graph_error(body),
            "Authorization_RequestDenied: Insufficient privileges."
        );
    }
}
