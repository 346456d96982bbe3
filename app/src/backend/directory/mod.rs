//! Directory groups behind one interface, with three providers: Microsoft Graph (Entra ID), LDAP
//! (on-prem Active Directory) and a file. A provider streams pages of group changes into a
//! [`GroupSink`]; the store writes them in batches inside the sync's transaction.

pub mod file;
pub mod graph;
pub mod ldap;
pub mod settings;
pub mod store;

use std::future::Future;

/// A group as the directory reports it. In an incremental (delta) listing a field may be
/// absent, meaning "unchanged": `None` here; `Some(None)` means "now empty".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: String,
    pub display_name: Option<String>,
    pub description: Option<Option<String>>,
    pub mail: Option<Option<String>>,
    pub security_enabled: Option<bool>,
}

impl GroupRecord {
    /// A complete record, as full listings give.
    pub fn full(
        id: impl Into<String>,
        display_name: impl Into<String>,
        description: Option<String>,
        mail: Option<String>,
        security_enabled: Option<bool>,
    ) -> GroupRecord {
        GroupRecord {
            id: id.into(),
            display_name: Some(display_name.into()),
            description: Some(description),
            mail: Some(mail),
            security_enabled,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupChange {
    Upsert(GroupRecord),
    Removed(String),
}

/// A user who belongs to a group, directly or through nested groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: Option<String>,
}

/// How a listing ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingEnd {
    /// A full listing names every group that exists: the ones it did not name are gone.
    pub full: bool,
    /// Where the next incremental listing starts (Graph's `@odata.deltaLink`).
    pub delta_link: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    Provider(String),
    #[error("saving the groups: {0}")]
    Store(#[from] sqlx::Error),
}

/// Takes a listing's pages as they arrive, so memory stays flat however large the directory.
pub trait GroupSink: Send {
    fn page(
        &mut self,
        changes: Vec<GroupChange>,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

/// At most this many transitive members are read for one group page.
pub const MEMBER_LIMIT: usize = 20_000;

/// The configured directory.
pub enum Directory {
    Graph(std::sync::Arc<graph::GraphDirectory>),
    Ldap(ldap::LdapDirectory),
    File(file::FileDirectory),
}

impl Directory {
    /// The `source` column of the groups this provider brings.
    pub fn source(&self) -> &'static str {
        match self {
            Directory::Graph(_) => "graph",
            Directory::Ldap(_) => "ldap",
            Directory::File(_) => "file",
        }
    }

    /// Lists groups: incrementally from `delta_link` where the provider can, else in full.
    pub async fn list_groups<S: GroupSink>(
        &self,
        delta_link: Option<&str>,
        sink: &mut S,
    ) -> Result<ListingEnd, DirectoryError> {
        match self {
            Directory::Graph(g) => g.list_groups(delta_link, sink).await,
            Directory::Ldap(l) => l.list_groups(sink).await,
            Directory::File(f) => f.list_groups(sink).await,
        }
    }

    /// The users in a group, through nested groups too, sorted by name.
    pub async fn transitive_members(&self, group_id: &str) -> Result<Vec<Member>, DirectoryError> {
        let mut members = match self {
            Directory::Graph(g) => g.transitive_members(group_id).await?,
            Directory::Ldap(l) => l.transitive_members(group_id).await?,
            Directory::File(f) => f.transitive_members(group_id).await?,
        };
        members.sort_by(|a, b| {
            (a.display_name.to_lowercase(), &a.id).cmp(&(b.display_name.to_lowercase(), &b.id))
        });
        members.dedup_by(|a, b| a.id == b.id);
        members.truncate(MEMBER_LIMIT);
        Ok(members)
    }
}
