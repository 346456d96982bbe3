//! On-prem Active Directory (or any LDAP server) through `ldap3`: simple bind over ldap://,
//! ldaps:// or StartTLS, paged searches streamed a page at a time into the sink. Groups bring
//! their `member` lists (with AD's ranged retrieval past 1,500 values), people bring their
//! primaryGroupID (AD lists primary-group members nowhere else). The in-chain matching rule
//! answers "who is in this group, transitively" the directory's own way, to check the stored
//! graph against.

use std::collections::HashMap;

mod entries;

use ldap3::{
    adapters::{Adapter, EntriesOnly, PagedResults},
    ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry,
};
use uuid::Uuid;

use super::{
    DirectoryError, DirectoryPage, DirectorySink, Edge, GroupChange, ListingEnd, Member,
    PersonChange,
};
use crate::backend::config::Secret;
use entries::{dn_ref, first, group_record, id_filter, member, member_values, person_record};
pub use entries::{parse_range, relative_id};

const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";
const PAGE_SIZE: i32 = 500;

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

    /// A paged subtree search; `each` sees every entry (referrals are skipped). Counted and
    /// timed like every directory call.
    async fn search(
        ldap: &mut Ldap,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        each: impl FnMut(SearchEntry),
    ) -> Result<(), ldap3::LdapError> {
        let began = std::time::Instant::now();
        let result = Self::search_pages(ldap, base, scope, filter, attrs, each).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        let took = began.elapsed();
        crate::backend::signals::directory_call("ldap", "search", outcome, took);
        tracing::debug!(
            directory = "ldap",
            base,
            filter,
            outcome,
            ms = took.as_millis() as u64,
            "directory call"
        );
        result
    }

    async fn search_pages(
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
