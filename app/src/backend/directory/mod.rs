//! Directory groups, people and memberships behind one interface, with three providers:
//! Microsoft Graph (Entra ID), LDAP (on-prem Active Directory) and a file. A provider streams
//! pages of changes into a [`DirectorySink`]; the store writes them in batches inside the sync's
//! transaction, and only commits when the whole listing arrived and passed the removal guard.

pub mod cache;
pub mod file;
pub mod graph;
pub mod guard;
pub mod ldap;
pub mod membership;
pub mod settings;
pub mod store;
mod writer;

use std::future::Future;

/// A group as the directory reports it. In an incremental (delta) listing a field may be
/// absent, meaning "unchanged": `None` here; `Some(None)` means "now empty".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: String,
    /// How `member` lists name this group when it is not its id (LDAP: its DN).
    pub directory_ref: Option<String>,
    /// AD's relative id (the last part of objectSid), which primaryGroupID names.
    pub relative_id: Option<i64>,
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
            ..Default::default()
        }
    }
}

/// What a listing says of one entry: here it is (new, changed or unchanged), or it is gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change<T> {
    Upsert(T),
    Removed(String),
}

pub type GroupChange = Change<GroupRecord>;
pub type PersonChange = Change<PersonRecord>;

/// A record with its directory id.
pub trait Keyed {
    fn id(&self) -> &str;
}

impl Keyed for GroupRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Keyed for PersonRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

/// The last change per id, so a batch never touches a row twice: the records to upsert and the
/// ids removed.
pub fn last_per_id<T: Keyed>(changes: Vec<Change<T>>) -> (Vec<T>, Vec<String>) {
    let mut last: std::collections::HashMap<String, Change<T>> =
        std::collections::HashMap::with_capacity(changes.len());
    for change in changes {
        let id = match &change {
            Change::Upsert(r) => r.id().to_string(),
            Change::Removed(id) => id.clone(),
        };
        last.insert(id, change);
    }
    let (mut upserts, mut removals) = (Vec::new(), Vec::new());
    for (id, change) in last {
        match change {
            Change::Upsert(r) => upserts.push(r),
            Change::Removed(_) => removals.push(id),
        }
    }
    (upserts, removals)
}

/// A person as the directory reports it; absent fields of a delta mean "unchanged".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonRecord {
    pub id: String,
    pub directory_ref: Option<String>,
    pub display_name: Option<String>,
    pub user_principal_name: Option<Option<String>>,
}

/// A direct membership: `member_ref` is how the directory names the member (its id, or its DN
/// in LDAP); it is resolved to a person or a nested group when the listing ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub group_id: String,
    pub member_ref: String,
    /// A delta saying the member left.
    pub removed: bool,
    /// AD: the member holds this group as its primaryGroupID (never listed in `member`).
    pub primary_group: bool,
}

impl Edge {
    pub fn member(group_id: impl Into<String>, member_ref: impl Into<String>) -> Edge {
        Edge {
            group_id: group_id.into(),
            member_ref: member_ref.into(),
            removed: false,
            primary_group: false,
        }
    }
}

/// A person in a group, as the directory itself answers "who is in this group, transitively"
/// (used to check the stored graph against the directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: Option<String>,
}

/// One page of a listing: any mix of groups, people and edges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryPage {
    pub groups: Vec<GroupChange>,
    pub people: Vec<PersonChange>,
    pub edges: Vec<Edge>,
}

impl DirectoryPage {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.people.is_empty() && self.edges.is_empty()
    }
}

/// Where a listing starts: the stored delta links, unless a full listing was asked for.
#[derive(Clone, Debug, Default)]
pub struct ListingStart {
    pub delta_link: Option<String>,
    pub people_delta_link: Option<String>,
}

/// How a listing ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListingEnd {
    /// The groups and their memberships were listed in full: what it did not name is gone.
    pub full: bool,
    /// The people were listed in full.
    pub people_full: bool,
    /// Where the next incremental listings start (Graph's `@odata.deltaLink`).
    pub delta_link: Option<String>,
    pub people_delta_link: Option<String>,
    /// Why the directory made Gatehouse start over (an expired delta link), when it did.
    pub resynced: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    Provider(String),
    #[error("saving the directory: {0}")]
    Store(#[from] sqlx::Error),
    #[error("{0}")]
    RemovalsHeld(guard::RemovalsHeld),
}

impl DirectoryError {
    /// Errors are stored and printed on one line: providers' texts may carry line breaks.
    pub fn provider(message: impl AsRef<str>) -> DirectoryError {
        DirectoryError::Provider(one_line(message.as_ref()))
    }
}

/// `text` with line breaks and runs of blanks folded into single spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Takes a listing's pages as they arrive, so memory stays flat however large the directory.
pub trait DirectorySink: Send {
    fn page(
        &mut self,
        page: DirectoryPage,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;
}

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

    /// Lists groups, people and memberships: incrementally from the delta links where the
    /// provider can, else in full.
    pub async fn list<S: DirectorySink>(
        &self,
        start: &ListingStart,
        sink: &mut S,
    ) -> Result<ListingEnd, DirectoryError> {
        match self {
            Directory::Graph(g) => g.list(start, sink).await,
            Directory::Ldap(l) => l.list(sink).await,
            Directory::File(f) => f.list(sink).await,
        }
    }

    /// Who is in a group, transitively, as the directory itself answers (Graph's
    /// `transitiveMembers`, AD's in-chain matching rule): to check the stored graph against.
    pub async fn transitive_members(&self, group_id: &str) -> Result<Vec<Member>, DirectoryError> {
        let mut members = match self {
            Directory::Graph(g) => g.transitive_members(group_id).await?,
            Directory::Ldap(l) => l.transitive_members(group_id).await?,
            Directory::File(_) => {
                return Err(DirectoryError::provider(
                    "a directory file has no answer of its own: its memberships are what Gatehouse stored",
                ))
            }
        };
        members.sort_by(|a, b| {
            (a.display_name.to_lowercase(), &a.id).cmp(&(b.display_name.to_lowercase(), &b.id))
        });
        members.dedup_by(|a, b| a.id == b.id);
        Ok(members)
    }

    /// What usually makes this directory answer no groups at all, for the guard's message.
    pub fn empty_listing_causes(&self) -> String {
        match self {
            Directory::Graph(_) => "the app registration lacks GroupMember.Read.All (or Directory.Read.All), or the tenant id points at another tenant".into(),
            Directory::Ldap(l) => format!(
                "the group filter `{}` matches nothing, the bind account {} cannot read the groups (AD then answers success with no entries), or the base DN `{}` is wrong",
                l.settings.group_filter, l.settings.bind_dn, l.settings.base_dn
            ),
            Directory::File(f) => format!("the file {} lost its groups", f.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_keeps_the_last_change_of_each_id() {
        let person = |id: &str, name: &str| {
            Change::Upsert(PersonRecord {
                id: id.into(),
                display_name: Some(name.into()),
                ..Default::default()
            })
        };
        let (mut upserts, removals) = last_per_id(vec![
            person("p1", "Ada"),
            Change::Removed("p1".into()),
            Change::Removed("p2".into()),
            person("p2", "Grace"),
            person("p3", "Linus"),
            person("p3", "Linus Torvalds"),
        ]);
        upserts.sort_by(|a, b| a.id.cmp(&b.id));
        let names: Vec<_> = upserts.iter().map(|p| p.display_name.as_deref()).collect();
        assert_eq!(names, [Some("Grace"), Some("Linus Torvalds")]);
        assert_eq!(removals, ["p1"]);
    }

    #[test]
    fn errors_fold_onto_one_line() {
        assert_eq!(
            one_line("AADSTS7000215: Invalid client secret.\r\nTrace ID: 1\n  Timestamp: x"),
            "AADSTS7000215: Invalid client secret. Trace ID: 1 Timestamp: x"
        );
    }
}
