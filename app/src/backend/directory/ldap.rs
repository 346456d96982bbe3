//! On-prem Active Directory (or any LDAP server) through `ldap3`: simple bind over ldap://,
//! ldaps:// or StartTLS, paged searches, and transitive members through AD's
//! LDAP_MATCHING_RULE_IN_CHAIN where the server supports it, else by walking nested groups.

use std::collections::HashSet;

use ldap3::{
    adapters::{Adapter, EntriesOnly, PagedResults},
    ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry,
};
use uuid::Uuid;

use super::{
    DirectoryError, GroupChange, GroupRecord, GroupSink, ListingEnd, Member, MEMBER_LIMIT,
};
use crate::backend::config::Secret;

const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";
const PAGE_SIZE: i32 = 500;
/// groupType bit that makes an AD group a security group.
const SECURITY_ENABLED: i64 = 0x8000_0000;

#[derive(Clone, Debug)]
pub struct LdapSettings {
    /// ldap://host:389 or ldaps://host:636
    pub url: String,
    pub starttls: bool,
    pub bind_dn: String,
    pub bind_password: Secret,
    pub base_dn: String,
    /// Which entries are groups; `(objectClass=group)` for Active Directory.
    pub group_filter: String,
    /// Which entries are people; `(objectClass=user)` for Active Directory.
    pub user_filter: String,
}

pub struct LdapDirectory {
    pub settings: LdapSettings,
}

fn provider(message: impl Into<String>) -> DirectoryError {
    DirectoryError::Provider(message.into())
}

fn first(entry: &SearchEntry, attr: &str) -> Option<String> {
    entry.attrs.get(attr).and_then(|v| v.first()).cloned()
}

/// AD's objectGUID (little-endian binary) as the usual GUID text; else OpenLDAP's entryUUID;
/// else the DN.
fn entry_id(entry: &SearchEntry) -> String {
    if let Some(bytes) = entry.bin_attrs.get("objectGUID").and_then(|v| v.first()) {
        if let Ok(b) = <[u8; 16]>::try_from(bytes.as_slice()) {
            return Uuid::from_bytes_le(b).to_string();
        }
    }
    first(entry, "entryUUID").unwrap_or_else(|| entry.dn.clone())
}

/// A filter matching the entry whose id [`entry_id`] gave.
fn id_filter(id: &str) -> String {
    match Uuid::parse_str(id) {
        Ok(uuid) => {
            let escaped: String = uuid
                .to_bytes_le()
                .iter()
                .map(|b| format!("\\{b:02x}"))
                .collect();
            format!("(|(objectGUID={escaped})(entryUUID={uuid}))")
        }
        Err(_) => "(objectClass=*)".into(),
    }
}

fn group_record(entry: &SearchEntry) -> GroupRecord {
    let name = first(entry, "displayName")
        .or_else(|| first(entry, "cn"))
        .unwrap_or_else(|| entry.dn.clone());
    let security = first(entry, "groupType")
        .and_then(|t| t.parse::<i64>().ok())
        .map(|t| t & SECURITY_ENABLED != 0);
    GroupRecord::full(
        entry_id(entry),
        name,
        first(entry, "description"),
        first(entry, "mail"),
        security,
    )
}

fn member(entry: &SearchEntry) -> Member {
    Member {
        id: entry_id(entry),
        display_name: first(entry, "displayName")
            .or_else(|| first(entry, "cn"))
            .unwrap_or_else(|| entry.dn.clone()),
        user_principal_name: first(entry, "userPrincipalName").or_else(|| first(entry, "mail")),
    }
}

const GROUP_ATTRS: &[&str] = &[
    "objectGUID",
    "entryUUID",
    "cn",
    "displayName",
    "description",
    "mail",
    "groupType",
];
const USER_ATTRS: &[&str] = &[
    "objectGUID",
    "entryUUID",
    "cn",
    "displayName",
    "userPrincipalName",
    "mail",
    "objectClass",
];

impl LdapDirectory {
    async fn connect(&self) -> Result<Ldap, DirectoryError> {
        let s = &self.settings;
        let conn_settings = LdapConnSettings::new()
            .set_conn_timeout(std::time::Duration::from_secs(10))
            .set_starttls(s.starttls);
        let (conn, mut ldap) = LdapConnAsync::with_settings(conn_settings, &s.url)
            .await
            .map_err(|e| provider(format!("cannot reach the LDAP server {}: {e}", s.url)))?;
        ldap3::drive!(conn);
        ldap.simple_bind(&s.bind_dn, s.bind_password.expose())
            .await
            .and_then(|r| r.success())
            .map_err(|e| {
                provider(format!(
                    "the LDAP server refused the bind as {}: {e}",
                    s.bind_dn
                ))
            })?;
        Ok(ldap)
    }

    /// A paged subtree search; `each` sees every entry (referrals are skipped).
    async fn search(
        ldap: &mut Ldap,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        mut each: impl FnMut(SearchEntry),
    ) -> Result<(), ldap3::LdapError> {
        let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(PAGE_SIZE)),
        ];
        let attrs: Vec<String> = attrs.iter().map(|a| a.to_string()).collect();
        let mut stream = ldap
            .streaming_search_with(adapters, base, scope, filter, attrs)
            .await?;
        while let Some(entry) = stream.next().await? {
            each(SearchEntry::construct(entry));
        }
        stream.finish().await.success()?;
        Ok(())
    }

    pub async fn list_groups<S: GroupSink>(
        &self,
        sink: &mut S,
    ) -> Result<ListingEnd, DirectoryError> {
        let mut ldap = self.connect().await?;
        let mut records = Vec::new();
        let s = &self.settings;
        Self::search(
            &mut ldap,
            &s.base_dn,
            Scope::Subtree,
            &s.group_filter,
            GROUP_ATTRS,
            |e| {
                records.push(GroupChange::Upsert(group_record(&e)));
            },
        )
        .await
        .map_err(|e| provider(format!("the LDAP group search failed: {e}")))?;
        let _ = ldap.unbind().await;
        // The search result arrives in LDAP pages; the sink takes it in batches of the same size.
        let mut records = records.into_iter();
        loop {
            let page: Vec<GroupChange> = records.by_ref().take(PAGE_SIZE as usize).collect();
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

    async fn group_dn(&self, ldap: &mut Ldap, group_id: &str) -> Result<String, DirectoryError> {
        let s = &self.settings;
        let filter = match Uuid::parse_str(group_id) {
            Ok(_) => format!("(&{}{})", s.group_filter, id_filter(group_id)),
            // Ids that are DNs (servers without GUIDs): search the DN itself.
            Err(_) => s.group_filter.clone(),
        };
        let (base, scope) = match Uuid::parse_str(group_id) {
            Ok(_) => (s.base_dn.as_str(), Scope::Subtree),
            Err(_) => (group_id, Scope::Base),
        };
        let mut dn = None;
        Self::search(ldap, base, scope, &filter, &["cn"], |e| {
            dn.get_or_insert(e.dn);
        })
        .await
        .map_err(|e| provider(format!("cannot find group {group_id} in LDAP: {e}")))?;
        dn.ok_or_else(|| provider(format!("group {group_id} is not in the LDAP directory")))
    }

    pub async fn transitive_members(&self, group_id: &str) -> Result<Vec<Member>, DirectoryError> {
        let mut ldap = self.connect().await?;
        let dn = self.group_dn(&mut ldap, group_id).await?;
        let s = &self.settings;
        let chain = format!(
            "(&{}(memberOf:{IN_CHAIN}:={}))",
            s.user_filter,
            ldap_escape(&dn)
        );
        let mut members = Vec::new();
        match Self::search(
            &mut ldap,
            &s.base_dn,
            Scope::Subtree,
            &chain,
            USER_ATTRS,
            |e| {
                members.push(member(&e));
            },
        )
        .await
        {
            Ok(()) if !members.is_empty() => {}
            // The matching rule is AD's; other servers refuse it or match nothing: walk instead.
            _ => members = self.walk_members(&mut ldap, &dn).await?,
        }
        let _ = ldap.unbind().await;
        Ok(members)
    }

    /// Breadth-first through `member` values: people are collected, groups are opened in turn.
    async fn walk_members(
        &self,
        ldap: &mut Ldap,
        group_dn: &str,
    ) -> Result<Vec<Member>, DirectoryError> {
        let s = &self.settings;
        let mut seen = HashSet::from([group_dn.to_lowercase()]);
        let mut queue = vec![group_dn.to_string()];
        let mut members = Vec::new();
        let mut people = HashSet::new();
        while let Some(dn) = queue.pop() {
            let mut member_dns = Vec::new();
            Self::search(
                ldap,
                &dn,
                Scope::Base,
                "(objectClass=*)",
                &["member"],
                |e| {
                    member_dns = e.attrs.get("member").cloned().unwrap_or_default();
                },
            )
            .await
            .map_err(|e| provider(format!("cannot read the members of {dn}: {e}")))?;
            for m in member_dns {
                if !seen.insert(m.to_lowercase()) {
                    continue;
                }
                let mut found = None;
                let filter = format!("(|{}{})", s.group_filter, s.user_filter);
                let attrs: Vec<&str> = USER_ATTRS.iter().chain(GROUP_ATTRS).copied().collect();
                Self::search(ldap, &m, Scope::Base, &filter, &attrs, |e| {
                    found = Some(e);
                })
                .await
                .ok();
                let Some(entry) = found else { continue };
                let classes: Vec<String> = entry
                    .attrs
                    .get("objectClass")
                    .map(|v| v.iter().map(|c| c.to_lowercase()).collect())
                    .unwrap_or_default();
                let is_group = classes.iter().any(|c| c == "group" || c == "groupofnames");
                if is_group {
                    queue.push(entry.dn.clone());
                } else if people.insert(entry.dn.clone()) {
                    members.push(member(&entry));
                    if members.len() >= MEMBER_LIMIT {
                        return Ok(members);
                    }
                }
            }
        }
        Ok(members)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_guids_read_and_filter_as_active_directory_writes_them() {
        // AD stores the first three GUID fields little-endian.
        let bytes = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        let entry = SearchEntry {
            dn: "CN=x".into(),
            attrs: Default::default(),
            bin_attrs: [("objectGUID".to_string(), vec![bytes.to_vec()])].into(),
        };
        let id = entry_id(&entry);
        assert_eq!(id, "00112233-4455-6677-8899-aabbccddeeff");
        assert!(id_filter(&id).starts_with("(|(objectGUID=\\33\\22\\11\\00\\55\\44\\77\\66"));
    }

    #[test]
    fn security_groups_are_told_from_distribution_groups() {
        let entry = |group_type: &str| SearchEntry {
            dn: "CN=Payments,DC=example,DC=test".into(),
            attrs: [
                ("cn".to_string(), vec!["Payments".to_string()]),
                ("groupType".to_string(), vec![group_type.to_string()]),
            ]
            .into(),
            bin_attrs: Default::default(),
        };
        assert_eq!(
            group_record(&entry("-2147483646")).security_enabled,
            Some(true)
        );
        assert_eq!(group_record(&entry("2")).security_enabled, Some(false));
        assert_eq!(
            group_record(&entry("2")).display_name.as_deref(),
            Some("Payments")
        );
    }
}
