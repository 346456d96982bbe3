//! Groups from a JSON file: the local demo's directory, and a way in for people who export their
//! groups from elsewhere. The file is read at every sync, so edits show up on the next one.
//!
//! ```json
//! { "users":  [{ "id": "u1", "displayName": "Ada", "userPrincipalName": "ada@example.com" }],
//!   "groups": [{ "id": "g1", "displayName": "Payments", "description": "…", "mail": null,
//!                "members": ["u1"], "groups": ["g2"] }] }
//! ```
//! `members` are user ids; `groups` are nested group ids whose members belong too.

use std::{
    collections::{HashMap, HashSet},
    path::PathBuf,
};

use serde::Deserialize;

use super::{DirectoryError, GroupChange, GroupRecord, GroupSink, ListingEnd, Member};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileUser {
    id: String,
    display_name: String,
    user_principal_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileGroup {
    id: String,
    display_name: String,
    description: Option<String>,
    mail: Option<String>,
    security_enabled: Option<bool>,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    #[serde(default)]
    users: Vec<FileUser>,
    groups: Vec<FileGroup>,
}

impl DirectoryFile {
    /// Parses and checks the file: ids unique and every reference known.
    fn parse(text: &str) -> Result<DirectoryFile, String> {
        let file: DirectoryFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut user_ids = HashSet::new();
        for u in &file.users {
            if u.id.trim().is_empty() || !user_ids.insert(u.id.as_str()) {
                return Err(format!("user id `{}` is empty or appears twice", u.id));
            }
        }
        let mut group_ids = HashSet::new();
        for g in &file.groups {
            if g.id.trim().is_empty() || !group_ids.insert(g.id.as_str()) {
                return Err(format!("group id `{}` is empty or appears twice", g.id));
            }
            if g.display_name.trim().is_empty() {
                return Err(format!("group `{}` has no displayName", g.id));
            }
        }
        for g in &file.groups {
            if let Some(m) = g.members.iter().find(|m| !user_ids.contains(m.as_str())) {
                return Err(format!("group `{}` names unknown user `{m}`", g.id));
            }
            if let Some(n) = g.groups.iter().find(|n| !group_ids.contains(n.as_str())) {
                return Err(format!("group `{}` names unknown group `{n}`", g.id));
            }
        }
        Ok(file)
    }

    /// Users of `group_id` and of the groups nested in it, however deep; cycles are harmless.
    fn transitive_members(&self, group_id: &str) -> Vec<Member> {
        let groups: HashMap<&str, &FileGroup> =
            self.groups.iter().map(|g| (g.id.as_str(), g)).collect();
        let users: HashMap<&str, &FileUser> =
            self.users.iter().map(|u| (u.id.as_str(), u)).collect();
        let mut visited = HashSet::new();
        let mut queue = vec![group_id];
        let mut member_ids = HashSet::new();
        while let Some(id) = queue.pop() {
            if !visited.insert(id) {
                continue;
            }
            if let Some(g) = groups.get(id) {
                member_ids.extend(g.members.iter().map(String::as_str));
                queue.extend(g.groups.iter().map(String::as_str));
            }
        }
        member_ids
            .into_iter()
            .filter_map(|id| users.get(id))
            .map(|u| Member {
                id: u.id.clone(),
                display_name: u.display_name.clone(),
                user_principal_name: u.user_principal_name.clone(),
            })
            .collect()
    }
}

pub struct FileDirectory {
    pub path: PathBuf,
}

const PAGE: usize = 500;

impl FileDirectory {
    async fn read(&self) -> Result<DirectoryFile, DirectoryError> {
        let text = tokio::fs::read_to_string(&self.path).await.map_err(|e| {
            DirectoryError::Provider(format!(
                "cannot read the directory file {}: {e}",
                self.path.display()
            ))
        })?;
        DirectoryFile::parse(&text).map_err(|e| {
            DirectoryError::Provider(format!(
                "the directory file {} is invalid: {e}",
                self.path.display()
            ))
        })
    }

    pub async fn list_groups<S: GroupSink>(
        &self,
        sink: &mut S,
    ) -> Result<ListingEnd, DirectoryError> {
        let file = self.read().await?;
        let mut records = file.groups.into_iter().map(|g| {
            GroupChange::Upsert(GroupRecord::full(
                g.id,
                g.display_name,
                g.description,
                g.mail,
                g.security_enabled,
            ))
        });
        loop {
            let page: Vec<GroupChange> = records.by_ref().take(PAGE).collect();
            if page.is_empty() {
                break;
            }
            sink.page(page).await?;
        }
        Ok(ListingEnd {
            full: true,
            delta_link: None,
        })
    }

    pub async fn transitive_members(&self, group_id: &str) -> Result<Vec<Member>, DirectoryError> {
        Ok(self.read().await?.transitive_members(group_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
        "users": [
            {"id": "u1", "displayName": "Ada", "userPrincipalName": "ada@example.com"},
            {"id": "u2", "displayName": "Grace"},
            {"id": "u3", "displayName": "Linus"}
        ],
        "groups": [
            {"id": "g1", "displayName": "All engineers", "members": ["u1"], "groups": ["g2"]},
            {"id": "g2", "displayName": "Payments", "members": ["u2"], "groups": ["g3"]},
            {"id": "g3", "displayName": "Payments on-call", "members": ["u3", "u2"], "groups": ["g1"]}
        ]
    }"#;

    #[test]
    fn nested_groups_bring_their_members_and_cycles_end() {
        let file = DirectoryFile::parse(SAMPLE).unwrap();
        let mut ids: Vec<String> = file
            .transitive_members("g2")
            .into_iter()
            .map(|m| m.id)
            .collect();
        ids.sort();
        // g2 → g3 → g1 → g2: every user once.
        assert_eq!(ids, ["u1", "u2", "u3"]);
        assert!(file.transitive_members("unknown").is_empty());
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let dup =
            r#"{"groups": [{"id": "g", "displayName": "A"}, {"id": "g", "displayName": "B"}]}"#;
        assert!(DirectoryFile::parse(dup).unwrap_err().contains("`g`"));
        let unknown = r#"{"groups": [{"id": "g", "displayName": "A", "members": ["nobody"]}]}"#;
        assert!(DirectoryFile::parse(unknown)
            .unwrap_err()
            .contains("unknown user `nobody`"));
        let typo = r#"{"groups": [{"id": "g", "displayname": "A"}]}"#;
        assert!(DirectoryFile::parse(typo).is_err());
    }
}
