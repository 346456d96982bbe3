//! Membership from the stored graph: a group's nested groups (breadth-first, so each is reached
//! by its shortest path, and cycles end), its people direct or nested with the path that brings
//! them, and transitive counts. Reads Postgres only, never the directory.

use std::collections::{HashMap, HashSet};

use sqlx::PgPool;

/// The groups reachable from a root: `groups[0]` is the root; `parent[i]` is the index of the
/// group that brings `groups[i]` in (by a shortest path).
#[derive(Clone, Debug, Default)]
pub struct Reach {
    pub groups: Vec<String>,
    pub parent: Vec<Option<usize>>,
    seen: HashSet<String>,
}

impl Reach {
    fn start(root: &str) -> Reach {
        Reach {
            groups: vec![root.to_string()],
            parent: vec![None],
            seen: HashSet::from([root.to_string()]),
        }
    }

    /// Takes the nesting edges (parent id, nested id) found below `level`, sorted; answers the
    /// next level: the groups seen for the first time.
    fn absorb(&mut self, level: &[usize], edges: Vec<(String, String)>) -> Vec<usize> {
        let index: HashMap<String, usize> = level
            .iter()
            .map(|i| (self.groups[*i].clone(), *i))
            .collect();
        let mut next = Vec::new();
        for (parent, child) in edges {
            let Some(parent) = index.get(&parent) else {
                continue;
            };
            if self.seen.insert(child.clone()) {
                self.groups.push(child);
                self.parent.push(Some(*parent));
                next.push(self.groups.len() - 1);
            }
        }
        next
    }

    /// Breadth-first over an in-memory nesting graph (what [`reach`] does level by level).
    pub fn walk(root: &str, nested: &HashMap<String, Vec<String>>) -> Reach {
        let mut reach = Reach::start(root);
        let mut level = vec![0];
        while !level.is_empty() {
            let mut edges: Vec<(String, String)> = level
                .iter()
                .flat_map(|i| {
                    let parent = reach.groups[*i].clone();
                    nested
                        .get(&parent)
                        .into_iter()
                        .flatten()
                        .map(move |c| (parent.clone(), c.clone()))
                })
                .collect();
            edges.sort();
            level = reach.absorb(&level, edges);
        }
        reach
    }

    /// The groups from the root's child down to `index` (empty for the root itself).
    pub fn path(&self, index: usize) -> Vec<usize> {
        let mut path = Vec::new();
        let mut at = Some(index);
        while let Some(i) = at.filter(|i| *i != 0) {
            path.push(i);
            at = self.parent[i];
        }
        path.reverse();
        path
    }
}

/// Walks the stored nesting graph down from `group_id`, one query per level.
pub async fn reach(pool: &PgPool, source: &str, group_id: &str) -> sqlx::Result<Reach> {
    let mut reach = Reach::start(group_id);
    let mut level = vec![0usize];
    while !level.is_empty() {
        let ids: Vec<String> = level.iter().map(|i| reach.groups[*i].clone()).collect();
        let edges = sqlx::query!(
            "SELECT group_id, member_id FROM directory_memberships
             WHERE source = $1 AND group_id = ANY($2) AND member_kind = 'group'
             ORDER BY group_id, member_id",
            source,
            &ids,
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.group_id, r.member_id))
        .collect();
        level = reach.absorb(&level, edges);
    }
    Ok(reach)
}

/// The people in `group_id`, directly or through nested groups, by id (for checks and counts).
pub async fn transitive_people(
    pool: &PgPool,
    source: &str,
    group_id: &str,
) -> sqlx::Result<Vec<String>> {
    let reach = reach(pool, source, group_id).await?;
    sqlx::query_scalar!(
        "SELECT DISTINCT m.member_id FROM directory_memberships m
         JOIN directory_people p ON p.source = m.source AND p.object_id = m.member_id
         WHERE m.source = $1 AND m.group_id = ANY($2) AND m.member_kind = 'person'
           AND p.deleted_at IS NULL
         ORDER BY 1",
        source,
        &reach.groups,
    )
    .fetch_all(pool)
    .await
}

/// How many people each group has, transitively (groups whose source never synced its
/// memberships are left out: unknown, not zero).
pub async fn people_counts(
    pool: &PgPool,
    groups: &[(String, String)],
) -> sqlx::Result<HashMap<(String, String), i64>> {
    let mut counts = HashMap::new();
    let mut synced: HashMap<&str, bool> = HashMap::new();
    for (source, id) in groups {
        // Never synced: unknown, not zero. Asked once per source.
        if !synced.contains_key(source.as_str()) {
            let at = synced_at(pool, source).await?;
            synced.insert(source, at.is_some());
        }
        if !synced[source.as_str()] {
            continue;
        }
        let people = transitive_people(pool, source, id).await?;
        counts.insert((source.clone(), id.clone()), people.len() as i64);
    }
    Ok(counts)
}

/// When the memberships of `source` were last stored.
pub async fn synced_at(pool: &PgPool, source: &str) -> sqlx::Result<Option<time::OffsetDateTime>> {
    Ok(sqlx::query_scalar!(
        "SELECT memberships_synced_at FROM directory_sync_state WHERE source = $1",
        source
    )
    .fetch_optional(pool)
    .await?
    .flatten())
}

/// Counts and times of the stored copy of `source`, for the Sync page.
pub async fn status(
    pool: &PgPool,
    source: &str,
) -> sqlx::Result<crate::catalog::types::DirectoryStatus> {
    let utc = crate::backend::catalog::queries::utc;
    let row = sqlx::query!(
        r#"SELECT s.memberships_synced_at, s.last_full_sync_at, COALESCE(s.full_resyncs, 0) AS "full_resyncs!",
                  (SELECT count(*) FROM directory_groups g WHERE g.source = $1 AND g.deleted_at IS NULL) AS "groups!",
                  (SELECT count(*) FROM directory_people p WHERE p.source = $1 AND p.deleted_at IS NULL) AS "people!",
                  (SELECT count(*) FROM directory_memberships m WHERE m.source = $1) AS "memberships!"
           FROM (SELECT $1::text AS source) AS wanted
           LEFT JOIN directory_sync_state s ON s.source = wanted.source"#,
        source,
    )
    .fetch_one(pool)
    .await?;
    Ok(crate::catalog::types::DirectoryStatus {
        source: source.to_string(),
        groups: row.groups,
        people: row.people,
        memberships: row.memberships,
        memberships_synced_at: row.memberships_synced_at.map(utc),
        last_full_sync_at: row.last_full_sync_at.map(utc),
        full_resyncs: row.full_resyncs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
        let mut g: HashMap<String, Vec<String>> = HashMap::new();
        for (from, to) in edges {
            g.entry(from.to_string()).or_default().push(to.to_string());
        }
        g
    }

    #[test]
    fn nesting_is_walked_once_per_group_by_the_shortest_path_and_cycles_end() {
        // a → b → c → a (a cycle), a → c directly too.
        let reach = Reach::walk(
            "a",
            &graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("a", "c")]),
        );
        assert_eq!(reach.groups, ["a", "b", "c"]);
        let c = reach.groups.iter().position(|g| g == "c").unwrap();
        assert_eq!(reach.path(c), [c], "c is reached directly, not through b");
        assert!(reach.path(0).is_empty());
        let deep = Reach::walk("a", &graph(&[("a", "b"), ("b", "c"), ("c", "d")]));
        assert_eq!(deep.path(3), [1, 2, 3]);
    }
}
