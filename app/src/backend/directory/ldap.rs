//! On-prem Active Directory (or any LDAP server) through `ldap3`: simple bind over ldap://,
//! ldaps:// or StartTLS, paged searches streamed a page at a time into the sink. Groups bring
//! their `member` lists (with AD's ranged retrieval past 1,500 values), people bring their
//! primaryGroupID (AD lists primary-group members nowhere else). The in-chain matching rule
//! answers "who is in this group, transitively" the directory's own way, to check the stored
//! graph against.

use std::collections::HashMap;

use ldap3::{
    adapters::{Adapter, EntriesOnly, PagedResults},
    ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry,
};
use uuid::Uuid;

use super::{
    DirectoryError, DirectoryPage, DirectorySink, Edge, GroupChange, GroupRecord, ListingEnd,
    Member, PersonChange, PersonRecord,
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

fn provider(message: impl AsRef<str>) -> DirectoryError {
    DirectoryError::provider(message)
}

/// At most this many people are read for one "directory's own answer".
const MEMBER_LIMIT: usize = 20_000;

fn first(entry: &SearchEntry, attr: &str) -> Option<String> {
    entry.attrs.get(attr).and_then(|v| v.first()).cloned()
}

/// A binary attribute's first value: ldap3 files values that happen to be valid UTF-8 as text.
fn binary(entry: &SearchEntry, attr: &str) -> Option<Vec<u8>> {
    entry
        .bin_attrs
        .get(attr)
        .and_then(|v| v.first())
        .cloned()
        .or_else(|| first(entry, attr).map(String::into_bytes))
}

/// AD's objectGUID (little-endian binary) as the usual GUID text; else OpenLDAP's entryUUID;
/// else the DN.
fn entry_id(entry: &SearchEntry) -> String {
    if let Some(bytes) = binary(entry, "objectGUID") {
        if let Ok(b) = <[u8; 16]>::try_from(bytes.as_slice()) {
            return Uuid::from_bytes_le(b).to_string();
        }
    }
    first(entry, "entryUUID").unwrap_or_else(|| entry.dn.clone())
}

/// How `member` values name an entry: its DN, compared without regard to case.
fn dn_ref(dn: &str) -> String {
    dn.to_lowercase()
}

/// The relative id of a binary SID (revision, count, 6-byte authority, then `count`
/// little-endian 32-bit sub-authorities): the last sub-authority.
pub fn relative_id(sid: &[u8]) -> Option<i64> {
    let count = usize::from(*sid.get(1)?);
    if count == 0 || sid.len() != 8 + 4 * count {
        return None;
    }
    let last: [u8; 4] = sid[sid.len() - 4..].try_into().ok()?;
    Some(i64::from(u32::from_le_bytes(last)))
}

/// AD's ranged attribute form `member;range=LOW-HIGH` (HIGH `*` on the last chunk): the
/// attribute and its range, `None` for the high end when it is the last chunk.
pub fn parse_range(attr: &str) -> Option<(&str, u64, Option<u64>)> {
    let (name, range) = attr.split_once(';')?;
    let range = range.strip_prefix("range=").or_else(|| {
        range
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case("range="))
            .map(|_| &range[6..])
    })?;
    let (low, high) = range.split_once('-')?;
    let low = low.parse().ok()?;
    let high = match high {
        "*" => None,
        h => Some(h.parse().ok()?),
    };
    if high.is_some_and(|h| h < low) {
        return None;
    }
    Some((name, low, high))
}

/// An entry's `member` values, and where the next range starts when AD cut the list short.
fn member_values(entry: &SearchEntry) -> (Vec<String>, Option<u64>) {
    let mut values = Vec::new();
    let mut next = None;
    for (attr, v) in &entry.attrs {
        if attr.eq_ignore_ascii_case("member") {
            values.extend(v.iter().cloned());
        } else if let Some((name, _, high)) = parse_range(attr) {
            if name.eq_ignore_ascii_case("member") {
                values.extend(v.iter().cloned());
                next = high.map(|h| h + 1);
            }
        }
    }
    (values, next)
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
    GroupRecord {
        directory_ref: Some(dn_ref(&entry.dn)),
        relative_id: binary(entry, "objectSid").and_then(|sid| relative_id(&sid)),
        ..GroupRecord::full(
            entry_id(entry),
            name,
            first(entry, "description"),
            first(entry, "mail"),
            security,
        )
    }
}

fn person_record(entry: &SearchEntry) -> PersonRecord {
    let m = member(entry);
    PersonRecord {
        id: m.id,
        directory_ref: Some(dn_ref(&entry.dn)),
        display_name: Some(m.display_name),
        user_principal_name: Some(m.user_principal_name),
    }
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
    "objectSid",
    "member",
];
const USER_ATTRS: &[&str] = &[
    "objectGUID",
    "entryUUID",
    "cn",
    "displayName",
    "userPrincipalName",
    "mail",
    "objectClass",
    "primaryGroupID",
];

/// Entries per sink page.
const SINK_PAGE: usize = PAGE_SIZE as usize;

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

    /// Groups with their members, then people with their primary groups, streamed a page at a
    /// time; memory holds one page and the groups' relative ids.
    pub async fn list<S: DirectorySink>(&self, sink: &mut S) -> Result<ListingEnd, DirectoryError> {
        let mut ldap = self.connect().await?;
        let rids = self
            .list_groups(&mut ldap, sink)
            .await
            .map_err(|e| provider(format!("the LDAP group search failed: {e}")))?;
        self.list_people(&mut ldap, &rids, sink).await?;
        let _ = ldap.unbind().await;
        Ok(ListingEnd {
            full: true,
            people_full: true,
            ..Default::default()
        })
    }

    async fn stream(
        ldap: &mut Ldap,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Result<ldap3::SearchStream<'static, String, Vec<String>>, DirectoryError> {
        let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(PAGE_SIZE)),
        ];
        let attrs: Vec<String> = attrs.iter().map(|a| a.to_string()).collect();
        ldap.streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
            .await
            .map_err(|e| provider(format!("the LDAP search {filter} under {base} failed: {e}")))
    }

    /// Lists groups into the sink; answers their relative ids (for primary groups).
    async fn list_groups<S: DirectorySink>(
        &self,
        ldap: &mut Ldap,
        sink: &mut S,
    ) -> Result<HashMap<i64, String>, DirectoryError> {
        let s = &self.settings;
        // Ranged reads of large `member` lists go over the same connection, beside the search.
        let mut side = ldap.clone();
        let mut stream = Self::stream(ldap, &s.base_dn, &s.group_filter, GROUP_ATTRS).await?;
        let mut rids = HashMap::new();
        let mut page = DirectoryPage::default();
        let failed = |e: ldap3::LdapError| provider(format!("reading the groups: {e}"));
        while let Some(entry) = stream.next().await.map_err(failed)? {
            let entry = SearchEntry::construct(entry);
            let record = group_record(&entry);
            if let Some(rid) = record.relative_id {
                rids.insert(rid, record.id.clone());
            }
            let (mut members, mut next) = member_values(&entry);
            while let Some(start) = next {
                let (more, after) = self.member_range(&mut side, &entry.dn, start).await?;
                members.extend(more);
                next = after;
            }
            page.edges.extend(
                members
                    .iter()
                    .map(|m| Edge::member(record.id.clone(), dn_ref(m))),
            );
            page.groups.push(GroupChange::Upsert(record));
            if page.groups.len() >= SINK_PAGE {
                sink.page(std::mem::take(&mut page)).await?;
            }
        }
        stream.finish().await.success().map_err(failed)?;
        if !page.is_empty() {
            sink.page(page).await?;
        }
        Ok(rids)
    }

    /// One more chunk of a group's `member` values: `member;range=START-*`.
    async fn member_range(
        &self,
        ldap: &mut Ldap,
        dn: &str,
        start: u64,
    ) -> Result<(Vec<String>, Option<u64>), DirectoryError> {
        let attr = format!("member;range={start}-*");
        let mut chunk = (Vec::new(), None);
        Self::search(ldap, dn, Scope::Base, "(objectClass=*)", &[&attr], |e| {
            chunk = member_values(&e);
        })
        .await
        .map_err(|e| provider(format!("reading {attr} of {dn}: {e}")))?;
        Ok(chunk)
    }

    async fn list_people<S: DirectorySink>(
        &self,
        ldap: &mut Ldap,
        rids: &HashMap<i64, String>,
        sink: &mut S,
    ) -> Result<(), DirectoryError> {
        let s = &self.settings;
        let mut stream = Self::stream(ldap, &s.base_dn, &s.user_filter, USER_ATTRS).await?;
        let failed = |e: ldap3::LdapError| provider(format!("reading the people: {e}"));
        let mut page = DirectoryPage::default();
        while let Some(entry) = stream.next().await.map_err(failed)? {
            let entry = SearchEntry::construct(entry);
            let person = person_record(&entry);
            let primary = first(&entry, "primaryGroupID").and_then(|r| r.parse::<i64>().ok());
            if let Some(group_id) = primary.and_then(|rid| rids.get(&rid)) {
                page.edges.push(Edge {
                    primary_group: true,
                    ..Edge::member(group_id.clone(), dn_ref(&entry.dn))
                });
            }
            page.people.push(PersonChange::Upsert(person));
            if page.people.len() >= SINK_PAGE {
                sink.page(std::mem::take(&mut page)).await?;
            }
        }
        stream.finish().await.success().map_err(failed)?;
        if !page.is_empty() {
            sink.page(page).await?;
        }
        Ok(())
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
        Self::search(
            &mut ldap,
            &s.base_dn,
            Scope::Subtree,
            &chain,
            USER_ATTRS,
            |e| {
                if members.len() < MEMBER_LIMIT {
                    members.push(member(&e));
                }
            },
        )
        .await
        .map_err(|e| provider(format!("the in-chain member search failed: {e}")))?;
        let _ = ldap.unbind().await;
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
    fn ranged_member_attributes_say_where_the_next_chunk_starts() {
        assert_eq!(
            parse_range("member;range=0-1499"),
            Some(("member", 0, Some(1499)))
        );
        assert_eq!(
            parse_range("member;range=1500-*"),
            Some(("member", 1500, None))
        );
        assert_eq!(
            parse_range("member;Range=3000-4499"),
            Some(("member", 3000, Some(4499)))
        );
        assert_eq!(parse_range("member"), None);
        assert_eq!(parse_range("member;range=10-2"), None);
        assert_eq!(parse_range("member;range=a-b"), None);
        assert_eq!(parse_range("member;binary"), None);

        let entry = |attr: &str, values: &[&str]| SearchEntry {
            dn: "CN=Big,DC=example,DC=test".into(),
            attrs: [(
                attr.to_string(),
                values.iter().map(|v| v.to_string()).collect(),
            )]
            .into(),
            bin_attrs: Default::default(),
        };
        let (values, next) = member_values(&entry("member;range=0-1499", &["CN=a", "CN=b"]));
        assert_eq!((values.len(), next), (2, Some(1500)));
        let (values, next) = member_values(&entry("member;range=1500-*", &["CN=c"]));
        assert_eq!((values, next), (vec!["CN=c".to_string()], None));
        let (values, next) = member_values(&entry("member", &["CN=a"]));
        assert_eq!((values.len(), next), (1, None));
    }

    #[test]
    fn relative_ids_are_the_last_sub_authority_of_the_sid() {
        // S-1-5-21-1004336348-1177238915-682003330-513 (Domain Users).
        let mut sid = vec![1u8, 5, 0, 0, 0, 0, 0, 5];
        for sub in [21u32, 1_004_336_348, 1_177_238_915, 682_003_330, 513] {
            sid.extend(sub.to_le_bytes());
        }
        assert_eq!(relative_id(&sid), Some(513));
        assert_eq!(relative_id(&sid[..sid.len() - 1]), None);
        assert_eq!(relative_id(&[1, 0, 0, 0, 0, 0, 0, 5]), None);
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
