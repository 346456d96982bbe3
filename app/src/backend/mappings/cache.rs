//! The approved desired state, read once per version.
//!
//! It changes only when a change set is applied (the version moves), yet every mappings, group,
//! role, API and matrix request used to read and parse all of it. Requests now ask for the
//! version (one tiny query) and share the snapshot of that version with the indexes the pages
//! need. One snapshot is kept: memory is bounded by the desired state itself.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use sqlx::{Acquire, PgConnection, PgPool};

use crate::domain::{
    desired::DesiredState,
    effective::Approved,
    grant::{Grant, GroupRef},
    names::RoleArn,
};

/// One version of the approved state (without the route catalog, which moves with syncs) and
/// the lookups pages make of it.
pub struct Snapshot {
    pub version: i64,
    pub state: DesiredState,
    roles_of_group: HashMap<GroupRef, Vec<RoleArn>>,
    groups_of_role: HashMap<RoleArn, Vec<GroupRef>>,
    grants_of_role: HashMap<RoleArn, Vec<Grant>>,
    /// The roles granted some route of each API (by API id).
    roles_of_api: HashMap<String, Vec<RoleArn>>,
}

impl Snapshot {
    /// Indexes `state` (pure: unit-tested, and built off the async workers).
    pub fn new(version: i64, state: DesiredState) -> Snapshot {
        let mut roles_of_group: HashMap<GroupRef, Vec<RoleArn>> = HashMap::new();
        let mut groups_of_role: HashMap<RoleArn, Vec<GroupRef>> = HashMap::new();
        for b in &state.bindings {
            roles_of_group
                .entry(b.group.clone())
                .or_default()
                .push(b.role.clone());
            groups_of_role
                .entry(b.role.clone())
                .or_default()
                .push(b.group.clone());
        }
        let mut grants_of_role: HashMap<RoleArn, Vec<Grant>> = HashMap::new();
        let mut roles_of_api: HashMap<String, Vec<RoleArn>> = HashMap::new();
        for g in &state.grants {
            grants_of_role
                .entry(g.role.clone())
                .or_default()
                .push(g.clone());
            let roles = roles_of_api
                .entry(g.api.api_id.as_str().to_string())
                .or_default();
            if !roles.contains(&g.role) {
                roles.push(g.role.clone());
            }
        }
        Snapshot {
            version,
            state,
            roles_of_group,
            groups_of_role,
            grants_of_role,
            roles_of_api,
        }
    }

    /// The roles granted some route of the API `api_id`.
    pub fn roles_of_api(&self, api_id: &str) -> &[RoleArn] {
        self.roles_of_api
            .get(api_id)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn roles_of(&self, group: &GroupRef) -> &[RoleArn] {
        self.roles_of_group
            .get(group)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn groups_of(&self, role: &RoleArn) -> &[GroupRef] {
        self.groups_of_role
            .get(role)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn grants_of(&self, role: &RoleArn) -> &[Grant] {
        self.grants_of_role
            .get(role)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// A person's access read from the indexes (see [`Approved`]).
impl Approved for Snapshot {
    fn roles_of_group(&self, group: &GroupRef) -> Vec<&RoleArn> {
        self.roles_of(group).iter().collect()
    }

    fn grants_of_role(&self, role: &RoleArn) -> Vec<&Grant> {
        self.grants_of(role).iter().collect()
    }
}

/// The newest snapshot read; requests share it while the version stands.
#[derive(Default)]
pub struct DesiredCache {
    newest: Mutex<Option<Arc<Snapshot>>>,
    /// One reader at a time when the version moved: the others wait and share its result.
    loading: tokio::sync::Mutex<()>,
}

impl DesiredCache {
    /// The approved state as of now, on a connection of its own (given back before returning).
    pub async fn current(&self, pool: &PgPool) -> sqlx::Result<Arc<Snapshot>> {
        let mut conn = pool.acquire().await?;
        self.current_on(&mut conn).await
    }

    /// The approved state as of now, read on `conn`: a request that reads other rows on the same
    /// connection asks the version there too (sqlx pings each connection given back to the pool:
    /// one round trip per acquisition). While the version stands this is one tiny query.
    pub async fn current_on(&self, conn: &mut PgConnection) -> sqlx::Result<Arc<Snapshot>> {
        let version = super::store::version(conn, false).await?;
        if let Some(s) = self.cached(version) {
            return Ok(s);
        }
        // The connection is held while another request loads: that one already has its own
        // connection, so this waits on it, never on the pool.
        let _one = self.loading.lock().await;
        let version = super::store::version(conn, false).await?;
        if let Some(s) = self.cached(version) {
            return Ok(s);
        }
        // The version and the rows from one snapshot of the database.
        let mut tx = conn.begin().await?;
        sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let version = super::store::version(&mut tx, false).await?;
        let state = super::store::approved_rows(&mut tx).await?;
        tx.rollback().await?;
        let snapshot = crate::backend::compute::run("indexing the desired state", move || {
            Arc::new(Snapshot::new(version, state))
        })
        .await?;
        if let Ok(mut newest) = self.newest.lock() {
            let newer = newest.as_ref().is_none_or(|n| n.version <= version);
            if newer {
                *newest = Some(snapshot.clone());
            }
        }
        Ok(snapshot)
    }

    fn cached(&self, version: i64) -> Option<Arc<Snapshot>> {
        let newest = self.newest.lock().ok()?;
        newest.as_ref().filter(|s| s.version == version).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grant::Binding;

    fn role(name: &str) -> RoleArn {
        RoleArn::parse(&format!("arn:aws:iam::123456789012:role/{name}")).unwrap()
    }

    fn group(id: &str) -> GroupRef {
        GroupRef::group("entra", id)
    }

    #[test]
    fn the_indexes_answer_what_the_bindings_say() {
        let mut state = DesiredState::default();
        for (g, r) in [("a", "Reader"), ("a", "Writer"), ("b", "Reader")] {
            state.bindings.insert(Binding {
                group: group(g),
                role: role(r),
            });
        }
        let s = Snapshot::new(7, state);
        assert_eq!(s.roles_of(&group("a")), &[role("Reader"), role("Writer")]);
        assert_eq!(s.groups_of(&role("Reader")), &[group("a"), group("b")]);
        assert!(s.roles_of(&group("c")).is_empty());
        assert!(s.grants_of(&role("Reader")).is_empty());
    }
    #[test]
    fn a_persons_roles_and_routes_from_the_indexes_are_those_the_state_gives() {
        use crate::domain::{
            desired::ChangeItem,
            effective::{person_roles, person_routes, reachable_groups, CatalogMethod},
            fixtures,
        };
        let mut items = Vec::new();
        for (g, r) in [
            ("a", "r0"),
            ("a", "r1"),
            ("b", "r1"),
            ("c", "r2"),
            ("d", "r0"),
        ] {
            items.push(ChangeItem::AddBinding(Binding {
                group: fixtures::group(g),
                role: fixtures::role(r),
            }));
        }
        for (r, verb, path) in [
            ("r0", "GET", "/x"),
            ("r1", "*", "/x/{id}"),
            ("r1", "POST", "/y"),
            ("r2", "GET", "/*"),
        ] {
            items.push(ChangeItem::AddGrant(fixtures::grant(r, verb, path, "prod")));
        }
        let state = DesiredState::default().apply(&items).unwrap();
        let api = fixtures::grant("r0", "GET", "/", "prod").api;
        let methods: Vec<CatalogMethod> = ["/x", "/x/{id}", "/y", "/z"]
            .iter()
            .flat_map(|p| ["GET", "POST"].map(|v| (p, v)))
            .map(|(path, verb)| CatalogMethod {
                api: api.clone(),
                path: path.to_string(),
                http_method: verb.into(),
                authorization_type: "AWS_IAM".into(),
            })
            .collect();
        // In a and b directly, and in c through a; not in d.
        let parents = [(fixtures::group("a"), vec![fixtures::group("c")])].into();
        let reached = reachable_groups(&[fixtures::group("a"), fixtures::group("b")], &parents);
        let snapshot = Snapshot::new(1, state.clone());
        let roles = person_roles(&reached, &snapshot);
        assert_eq!(roles.len(), 3, "{roles:?}");
        assert_eq!(roles, person_roles(&reached, &state));
        let routes = person_routes(&reached, &snapshot, &methods);
        assert_eq!(routes.len(), 11, "{routes:#?}");
        assert_eq!(routes, person_routes(&reached, &state, &methods));
    }
}
