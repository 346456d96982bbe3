//! The change sets approved but not yet pushed (approved, pushing, or whose push failed), read
//! for a drift check: the state AWS should hold now is the approved one without them.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::domain::desired::ChangeItem;

/// A change set waiting for its push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChangeSet {
    pub id: i64,
    pub title: String,
    pub state: String,
}

/// What a drift check found waiting for a push: not drift.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPush {
    pub change_sets: Vec<PendingChangeSet>,
    /// The calls their push will make, for people.
    pub calls: Vec<String>,
}

impl PendingPush {
    pub fn is_empty(&self) -> bool {
        self.change_sets.is_empty() && self.calls.is_empty()
    }
}

/// The change sets applied to the approved state and not pushed since, oldest application
/// first, with their items.
pub async fn change_sets(pool: &PgPool) -> sqlx::Result<Vec<(PendingChangeSet, Vec<ChangeItem>)>> {
    let rows: Vec<(i64, String, String, sqlx::types::Json<Vec<ChangeItem>>)> = sqlx::query_as(
        "SELECT id, title, state, items FROM change_sets
         WHERE state IN ('approved', 'pushing', 'push_failed') AND applied_version IS NOT NULL
         ORDER BY applied_version",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, title, state, items)| (PendingChangeSet { id, title, state }, items.0))
        .collect())
}
