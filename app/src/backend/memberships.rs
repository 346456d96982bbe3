//! Reads of the stored directory graph, now or as of a moment: the stored edges, or the
//! membership history's edges that held then (one relation either way, see [`edges`]).

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::domain::{
    effective::{reachable_groups, GroupPath},
    grant::GroupRef,
};

/// The membership edges as a relation, with `$1` the moment (exclusive, RFC 3339 text) or
/// NULL for now: the stored edges, or the history's edges that held just before `$1`.
pub fn edges(as_of: bool) -> &'static str {
    if as_of {
        "(SELECT source, group_id, member_id, member_kind FROM directory_membership_history
          WHERE valid_from < $1::text::timestamptz
            AND (valid_to IS NULL OR valid_to >= $1::text::timestamptz))"
    } else {
        "(SELECT source, group_id, member_id, member_kind FROM directory_memberships
          WHERE $1::text IS NULL)"
    }
}

/// Every nesting edge (group → member group) inside `bound`, walked down in one query.
pub async fn nesting_below(
    pool: &PgPool,
    at: Option<&str>,
    bound: &[GroupRef],
) -> sqlx::Result<BTreeMap<GroupRef, Vec<GroupRef>>> {
    let edges = edges(at.is_some());
    let (sources, ids): (Vec<String>, Vec<String>) = bound
        .iter()
        .map(|g| (g.source.clone(), g.object_id.clone()))
        .unzip();
    let sql = format!(
        "WITH RECURSIVE down(source, group_id) AS (
             SELECT * FROM UNNEST($2::text[], $3::text[])
             UNION
             SELECT m.source, m.member_id FROM {edges} m
             JOIN down d ON m.source = d.source AND m.group_id = d.group_id
             WHERE m.member_kind = 'group')
         SELECT m.source, m.group_id, m.member_id FROM {edges} m
         JOIN down d ON m.source = d.source AND m.group_id = d.group_id
         WHERE m.member_kind = 'group'"
    );
    let rows: Vec<(String, String, String)> = sqlx::query_as(&sql)
        .bind(at)
        .bind(&sources)
        .bind(&ids)
        .fetch_all(pool)
        .await?;
    let mut children: BTreeMap<GroupRef, Vec<GroupRef>> = BTreeMap::new();
    for (source, parent, child) in rows {
        let group = |id: String| GroupRef::group(&source, &id);
        children
            .entry(group(parent))
            .or_default()
            .push(group(child));
    }
    Ok(children)
}

/// The groups a directory person is in (or was, just before `at`), directly or through
/// nesting, each with its path: one recursive query answers the direct groups (rows without a
/// child) and every nesting edge above them.
pub async fn groups_of(
    db: impl sqlx::PgExecutor<'_>,
    source: &str,
    oid: &str,
    at: Option<&str>,
) -> sqlx::Result<BTreeMap<GroupRef, GroupPath>> {
    let edges = edges(at.is_some());
    let rows: Vec<(Option<String>, String)> = sqlx::query_as(&format!(
        "WITH RECURSIVE direct AS (
             SELECT group_id FROM {edges} m
             WHERE source = $2 AND member_id = $3 AND member_kind = 'person'),
         up(group_id) AS (
             SELECT group_id FROM direct
             UNION
             SELECT m.group_id FROM {edges} m JOIN up ON m.member_id = up.group_id
             WHERE m.source = $2 AND m.member_kind = 'group')
         SELECT NULL::text, group_id FROM direct
         UNION ALL
         SELECT m.member_id, m.group_id FROM {edges} m
         WHERE m.source = $2 AND m.member_kind = 'group' AND m.member_id IN (SELECT group_id FROM up)"
    ))
    .bind(at)
    .bind(source)
    .bind(oid)
    .fetch_all(db)
    .await?;
    let (mut direct, mut edges) = (Vec::new(), Vec::new());
    for (child, parent) in rows {
        match child {
            None => direct.push(parent),
            Some(child) => edges.push((child, parent)),
        }
    }
    // Paths are chosen in a stable order: by group id.
    direct.sort();
    edges.sort();
    let group = |id: &str| GroupRef::group(source, id);
    let mut parents: BTreeMap<GroupRef, Vec<GroupRef>> = BTreeMap::new();
    for (child, parent) in &edges {
        parents.entry(group(child)).or_default().push(group(parent));
    }
    let direct: Vec<GroupRef> = direct.iter().map(|g| group(g)).collect();
    Ok(reachable_groups(&direct, &parents))
}

/// A person as the stored directory names them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DirectoryPerson {
    pub source: String,
    pub object_id: String,
    pub display_name: String,
    pub user_principal_name: Option<String>,
}

/// The directory's entries for `people` (keys of people bound directly, by access requests);
/// one query however many, and none for none.
pub async fn people<'p>(
    db: impl sqlx::PgExecutor<'_>,
    people: impl IntoIterator<Item = &'p GroupRef>,
) -> sqlx::Result<Vec<DirectoryPerson>> {
    let (sources, ids): (Vec<String>, Vec<String>) = people
        .into_iter()
        .map(|p| (p.source.clone(), p.object_id.clone()))
        .unzip();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "SELECT p.source, p.object_id, p.display_name, p.user_principal_name
         FROM directory_people p
         JOIN UNNEST($1::text[], $2::text[]) AS wanted(source, object_id)
           ON p.source = wanted.source AND p.object_id = wanted.object_id",
    )
    .bind(&sources)
    .bind(&ids)
    .fetch_all(db)
    .await
}
