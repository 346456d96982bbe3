//! Groups from a JSON file: the local demo's directory, and a way in for people who export their
//! groups from elsewhere. The file is read at every sync, so edits show up on the next one.
//!
//! ```json
//! { "users":  [{ "id": "u1", "displayName": "Ada", "userPrincipalName": "ada@example.com" }],
//!   "groups": [{ "id": "g1", "displayName": "Payments", "description": "…", "mail": null,
//!                "members": ["u1"], "groups": ["g2"] }] }
//! ```
//! `members` are user ids; `groups` are nested group ids whose members belong too.

use std::{collections::HashSet, path::PathBuf};

use serde::Deserialize;

use super::{
    DirectoryError, DirectoryPage, DirectorySink, Edge, GroupChange, GroupRecord, ListingEnd,
    PersonChange, PersonRecord,
};

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

    /// Every group, person and membership in the file, in pages.
    pub async fn list<S: DirectorySink>(&self, sink: &mut S) -> Result<ListingEnd, DirectoryError> {
        let file = self.read().await?;
        for users in file.users.chunks(PAGE) {
            let people = users
                .iter()
                .map(|u| {
                    PersonChange::Upsert(PersonRecord {
                        id: u.id.clone(),
                        directory_ref: None,
                        display_name: Some(u.display_name.clone()),
                        user_principal_name: Some(u.user_principal_name.clone()),
                    })
                })
                .collect();
            sink.page(DirectoryPage {
                people,
                ..Default::default()
            })
            .await?;
        }
        for groups in file.groups.chunks(PAGE) {
            let mut page = DirectoryPage::default();
            for g in groups {
                page.groups.push(GroupChange::Upsert(GroupRecord::full(
                    g.id.clone(),
                    g.display_name.clone(),
                    g.description.clone(),
                    g.mail.clone(),
                    g.security_enabled,
                )));
                let members = g.members.iter().chain(&g.groups);
                page.edges
                    .extend(members.map(|m| Edge::member(g.id.clone(), m.clone())));
            }
            sink.page(page).await?;
        }
        Ok(ListingEnd {
            full: true,
            people_full: true,
            ..Default::default()
        })
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
    fn nested_groups_are_listed_as_edges_and_cycles_are_allowed() {
        let file = DirectoryFile::parse(SAMPLE).unwrap();
        let g3 = file.groups.iter().find(|g| g.id == "g3").unwrap();
        // g2 → g3 → g1 → g2: a cycle is a valid file; transitive membership copes with it.
        assert_eq!(g3.groups, ["g1"]);
        assert_eq!(g3.members, ["u3", "u2"]);
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
