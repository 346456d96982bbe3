//! The people of the workflow tests, and a change set taken through review in one call.

use app::domain::{change_set::State, desired::ChangeItem};
use gatehouse::{
    audit::Actor,
    mappings::workflow::{self, Details},
};
use sqlx::PgPool;
use uuid::Uuid;

/// Person `n` of the demo tenant.
pub fn person(n: u128, name: &str) -> Actor {
    Actor::person(
        Uuid::from_u128(1),
        Uuid::from_u128(n),
        name,
        &format!("{name}@contoso.test"),
    )
}

/// A change set with `items`, written by Ada and approved by Rita: the desired state holds it.
pub async fn approved(pool: &PgPool, items: Vec<ChangeItem>) -> i64 {
    let ada = person(1, "Ada Admin");
    let mut id = 0;
    for item in items {
        id = workflow::edit(pool, &ada, item).await.unwrap();
    }
    let details = Details {
        title: "Orders team reads orders".into(),
        justification: "The orders team reads orders for its dashboard.".into(),
        ticket: String::new(),
        ..Details::default()
    };
    workflow::save_details(pool, &ada, id, details, true)
        .await
        .unwrap();
    let state = workflow::review(pool, &person(2, "Rita Reviewer"), id, true, "ok", 1)
        .await
        .unwrap();
    assert_eq!(state, State::Approved);
    id
}
