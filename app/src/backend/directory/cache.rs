//! What pages read of the stored directory again and again, kept for the directory generation
//! it was read at. The generation moves with every change to the stored directory (a trigger
//! per statement on groups, people and memberships; renames included), so one tiny read tells
//! whether what is kept still stands: nothing kept here is ever stale.
//!
//! A matrix or an API's page names hundreds of groups (reading their names per request was most
//! of those pages' database time), and the groups list counts every group per page.

use std::{collections::HashMap, sync::Mutex};

use sqlx::{PgConnection, PgPool};

pub type GroupKey = (String, String);

/// The stored directory's generation: it moves with every change to it.
pub async fn generation(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT n FROM directory_generation")
        .fetch_one(db)
        .await
}

/// The stored directory's names of `wanted` groups (by source and object id).
pub async fn group_names(
    db: impl sqlx::PgExecutor<'_>,
    wanted: &[GroupKey],
) -> sqlx::Result<HashMap<GroupKey, String>> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let (sources, ids): (Vec<&str>, Vec<&str>) =
        wanted.iter().map(|(s, o)| (s.as_str(), o.as_str())).unzip();
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT g.source, g.object_id, g.display_name FROM directory_groups g
         JOIN UNNEST($1::text[], $2::text[]) AS wanted(source, object_id)
           ON g.source = wanted.source AND g.object_id = wanted.object_id",
    )
    .bind(&sources)
    .bind(&ids)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(source, object_id, name)| ((source, object_id), name))
        .collect())
}

#[derive(Default)]
struct Kept {
    generation: i64,
    /// A group's name, or `None` when the directory has no such group.
    names: HashMap<GroupKey, Option<String>>,
    groups_total: Option<i64>,
}

/// Holds at most the groups pages asked for (bound groups), never more than [`MAX_NAMES`].
#[derive(Default)]
pub struct DirectoryCache {
    kept: Mutex<Kept>,
}

const MAX_NAMES: usize = 200_000;

impl DirectoryCache {
    /// The stored directory's generation now; what was kept for an older one is dropped.
    async fn generation(&self, db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<i64> {
        let generation = generation(db).await?;
        let mut kept = self.lock();
        if kept.generation != generation {
            *kept = Kept {
                generation,
                ..Kept::default()
            };
        }
        Ok(generation)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The names of the `wanted` groups the directory has (read on `conn`, the request's).
    pub async fn names(
        &self,
        conn: &mut PgConnection,
        wanted: Vec<GroupKey>,
    ) -> sqlx::Result<HashMap<GroupKey, String>> {
        let generation = self.generation(&mut *conn).await?;
        let mut found = HashMap::with_capacity(wanted.len());
        let mut missing = Vec::new();
        {
            let kept = self.lock();
            for key in wanted {
                match kept.names.get(&key) {
                    Some(Some(name)) => {
                        found.insert(key, name.clone());
                    }
                    Some(None) => {}
                    None => missing.push(key),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let read = group_names(conn, &missing).await?;
        let mut kept = self.lock();
        // Kept only while the directory has not moved since (then a newer reader reset it).
        let keep = kept.generation == generation && kept.names.len() + missing.len() <= MAX_NAMES;
        for key in missing {
            let name = read.get(&key).cloned();
            if let Some(name) = &name {
                found.insert(key.clone(), name.clone());
            }
            if keep {
                kept.names.insert(key, name);
            }
        }
        Ok(found)
    }

    /// How many groups the stored directory holds (`count` reads it when not kept).
    pub async fn groups_total<F>(&self, pool: &PgPool, count: F) -> sqlx::Result<i64>
    where
        F: std::future::Future<Output = sqlx::Result<i64>>,
    {
        let generation = self.generation(pool).await?;
        if let Some(total) = self.lock().groups_total {
            return Ok(total);
        }
        let total = count.await?;
        let mut kept = self.lock();
        if kept.generation == generation {
            kept.groups_total = Some(total);
        }
        Ok(total)
    }
}
