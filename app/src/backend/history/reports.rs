//! Reports for a periodic access review: who (group → role) could call which route as of a
//! moment, rebuilt from the change sets applied before it.

use crate::domain::desired::ChangeItem;
use crate::error::AppError;
use crate::{
    domain::desired::{DesiredState, Route},
    history::AccessRow,
};
use sqlx::PgPool;

use crate::backend::mappings::{queries::bound_groups, views::Names};

/// The desired state as it stood at `at` (exclusive): every change set applied before,
/// in order.
pub async fn desired_as_of(pool: &PgPool, at: &str) -> Result<DesiredState, AppError> {
    let batches = sqlx::query!(
        r#"SELECT cs.id, cs.items AS "items: sqlx::types::Json<Vec<ChangeItem>>"
         FROM change_sets cs
         JOIN audit_events e ON e.subject = 'change_set:' || cs.id AND e.action = 'change_set.applied'
         WHERE e.occurred_at < $1::text::timestamptz ORDER BY e.seq"#,
        at,
    )
    .fetch_all(pool)
    .await?;
    let mut state = DesiredState::default();
    for (id, items) in batches.into_iter().map(|b| (b.id, b.items)) {
        state = state
            .apply(&items.0)
            .map_err(|e| AppError::internal(format!("change set {id} does not replay: {e}")))?;
    }
    Ok(state)
}

/// Group → role → route rows of `state`, sorted for reading.
pub async fn access_rows(pool: &PgPool, state: &DesiredState) -> sqlx::Result<Vec<AccessRow>> {
    let names = Names::load(pool, bound_groups(state)).await?;
    let mut rows: Vec<AccessRow> = state
        .bindings
        .iter()
        .flat_map(|b| {
            let group = names.group(&b.group);
            let names = &names;
            state
                .grants_of(&b.role)
                .into_iter()
                .map(move |g| AccessRow {
                    group: group.clone(),
                    role: b.role.to_string(),
                    route: names.route(&Route::of(g)),
                    drift: None,
                })
        })
        .collect();
    rows.sort_by(|a, b| (&a.group, &a.role, &a.route).cmp(&(&b.group, &b.role, &b.route)));
    Ok(rows)
}
