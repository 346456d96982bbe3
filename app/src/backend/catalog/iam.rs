//! Reads IAM roles (with their trust policies and tags) from IAM, page by page (`Marker`).

use std::collections::BTreeMap;

use anyhow::Context;
use serde::Serialize;

/// The tag that marks a role as Gatehouse's to change.
pub const MANAGED_TAG: (&str, &str) = crate::domain::aws_policy::MANAGED_TAG;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FetchedRole {
    pub role_name: String,
    pub role_id: String,
    pub arn: String,
    pub path: String,
    pub description: Option<String>,
    pub trust_policy: Option<serde_json::Value>,
    pub tags: BTreeMap<String, String>,
}

impl FetchedRole {
    pub fn managed(&self) -> bool {
        self.tags.get(MANAGED_TAG.0).map(String::as_str) == Some(MANAGED_TAG.1)
    }
}

/// IAM returns policy documents URL-encoded.
pub fn decode_policy(encoded: &str) -> Option<serde_json::Value> {
    let text = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .ok()?;
    serde_json::from_str(&text).ok()
}

pub async fn fetch_all(iam: &aws_sdk_iam::Client) -> anyhow::Result<Vec<FetchedRole>> {
    let mut roles = Vec::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_roles()
            .max_items(1000)
            .set_marker(marker.take())
            .send()
            .await
            .context("ListRoles")?;
        for role in page.roles() {
            roles.push(FetchedRole {
                role_name: role.role_name().to_string(),
                role_id: role.role_id().to_string(),
                arn: role.arn().to_string(),
                path: role.path().to_string(),
                description: role.description().map(String::from),
                trust_policy: role.assume_role_policy_document().and_then(decode_policy),
                // ListRoles leaves tags out: they need a call of their own.
                tags: fetch_tags(iam, role.role_name()).await?,
            });
        }
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    roles.sort_by(|a, b| a.role_name.cmp(&b.role_name));
    Ok(roles)
}

pub async fn fetch_tags(
    iam: &aws_sdk_iam::Client,
    role_name: &str,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut tags = BTreeMap::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_role_tags()
            .role_name(role_name)
            .set_marker(marker.take())
            .send()
            .await
            .with_context(|| format!("ListRoleTags {role_name}"))?;
        tags.extend(
            page.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        match (page.is_truncated(), page.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_url_decoded_and_parsed() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            decode_policy(encoded),
            Some(serde_json::json!({"Version": "2012-10-17", "Statement": []}))
        );
        assert_eq!(
            decode_policy(r#"{"Version":"2012-10-17"}"#),
            Some(serde_json::json!({"Version": "2012-10-17"}))
        );
        assert_eq!(decode_policy("%7Bnot json"), None);
    }

    #[test]
    fn only_the_exact_tag_marks_a_role_managed() {
        let mut role = FetchedRole {
            role_name: "r".into(),
            role_id: "AROA".into(),
            arn: "arn:aws:iam::123456789012:role/r".into(),
            path: "/".into(),
            description: None,
            trust_policy: None,
            tags: BTreeMap::new(),
        };
        assert!(!role.managed());
        role.tags.insert("gatehouse:managed".into(), "TRUE".into());
        assert!(!role.managed());
        role.tags.insert("gatehouse:managed".into(), "true".into());
        assert!(role.managed());
    }
}
