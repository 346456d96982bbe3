//! Access as of a moment between directory changes: a directory file synced three times (a
//! person leaves the mapped group, a nested group joins it, a person joins that), an approval
//! between the first two syncs, and each person's access and "who can call" asked at moments
//! between the changes, not only before and after everything.

use std::sync::Arc;

use gatehouse::{
    audit::Actor,
    catalog::{Catalog, Syncer},
};
use sqlx::PgPool;

use super::explain::FileGuard;
use crate::common::{
    approved,
    pushing::{binding, grant, setup},
};

fn directory(orders_team: &[&str], nested: &[&str], oncall: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "users": [
            {"id": "alice", "displayName": "Alice Liddell", "userPrincipalName": "alice@contoso.test"},
            {"id": "bob", "displayName": "Bob Builder", "userPrincipalName": "bob@contoso.test"},
            {"id": "carol", "displayName": "Carol Danvers", "userPrincipalName": "carol@contoso.test"}
        ],
        "groups": [
            {"id": "orders-team", "displayName": "Orders team", "members": orders_team, "groups": nested},
            {"id": "oncall", "displayName": "On-call", "members": oncall}
        ]
    })
}

/// The database's clock between two changes (each sync stamps its own transaction's start).
async fn moment(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn routes_of(pool: &PgPool, moto: &crate::common::Moto, who: &str, at: &str) -> Vec<String> {
    let desired = gatehouse::history::reports::desired_as_of(pool, at)
        .await
        .unwrap();
    let view = gatehouse::person_access::person_with(
        pool,
        &desired,
        &moto.settings(),
        "file",
        who,
        Some(at),
    )
    .await
    .unwrap()
    .unwrap();
    view.routes
        .iter()
        .map(|r| format!("{} {} via {}", r.method, r.path, r.chain[0]))
        .collect()
}

async fn callers_at(pool: &PgPool, api_id: &str, at: &str) -> Vec<String> {
    let desired = gatehouse::history::reports::desired_as_of(pool, at)
        .await
        .unwrap();
    let view = gatehouse::callers::caller_set(pool, &desired, Some(at), api_id, "/orders", "GET")
        .await
        .unwrap()
        .page(0);
    assert_eq!(view.total, view.people.len());
    view.people
        .iter()
        .map(|p| format!("{}: {}", p.name, p.chains.join("; ")))
        .collect()
}

#[tokio::test]
async fn access_as_of_a_moment_between_membership_changes() {
    let (pool, moto, _proxy, _direct, api_id) = setup().await;
    let file = std::env::temp_dir().join(format!(
        "gatehouse-as-of-{}-{api_id}.json",
        std::process::id()
    ));
    let _cleanup = FileGuard(file.clone());
    let write = |v: serde_json::Value| std::fs::write(&file, v.to_string()).unwrap();
    let directory_source =
        gatehouse::directory::Directory::File(gatehouse::directory::file::FileDirectory {
            path: file.clone(),
        });
    let syncer = Syncer::new(
        pool.clone(),
        &moto.settings(),
        Some(Arc::new(directory_source)),
    )
    .await;
    let actor = Actor::system("test");
    syncer.sync(&actor, Catalog::Apis).await.unwrap();

    // 1. Alice is in the Orders team; Bob only on call, which is not in it yet.
    write(directory(&["alice"], &[], &["bob"]));
    syncer.sync(&actor, Catalog::Groups).await.unwrap();
    let before_approval = moment(&pool).await;
    approved(
        &pool,
        vec![
            binding("orders-readers"),
            grant("orders-readers", &api_id, "GET"),
        ],
    )
    .await;
    let t1 = moment(&pool).await;
    // 2. Alice leaves; On-call joins the Orders team.
    write(directory(&[], &["oncall"], &["bob"]));
    syncer.sync(&actor, Catalog::Groups).await.unwrap();
    let t2 = moment(&pool).await;
    // 3. Carol goes on call too.
    write(directory(&[], &["oncall"], &["bob", "carol"]));
    syncer.sync(&actor, Catalog::Groups).await.unwrap();
    let t3 = moment(&pool).await;

    // Before the approval Alice was in the group but could call nothing.
    assert_eq!(
        routes_of(&pool, &moto, "alice", &before_approval).await,
        Vec::<String>::new()
    );
    assert_eq!(
        callers_at(&pool, &api_id, &before_approval).await,
        Vec::<String>::new()
    );
    // Between the approval and the second sync: Alice, directly.
    assert_eq!(
        routes_of(&pool, &moto, "alice", &t1).await,
        ["GET /orders via member of Orders team"]
    );
    assert_eq!(
        routes_of(&pool, &moto, "bob", &t1).await,
        Vec::<String>::new()
    );
    assert_eq!(
        callers_at(&pool, &api_id, &t1).await,
        ["Alice Liddell: member of Orders team → role orders-readers → grant GET /orders on prod"]
    );
    // Between the second and the third: Bob, through the nesting; Alice no longer.
    assert_eq!(
        routes_of(&pool, &moto, "alice", &t2).await,
        Vec::<String>::new()
    );
    assert_eq!(
        routes_of(&pool, &moto, "bob", &t2).await,
        ["GET /orders via member of On-call ⊂ Orders team"]
    );
    assert_eq!(
        callers_at(&pool, &api_id, &t2).await,
        ["Bob Builder: member of On-call ⊂ Orders team → role orders-readers → grant GET /orders on prod"]
    );
    assert_eq!(
        routes_of(&pool, &moto, "carol", &t2).await,
        Vec::<String>::new()
    );
    // After the third: Bob and Carol; and "now" (the stored edges) agrees with the history.
    let after: Vec<String> = callers_at(&pool, &api_id, &t3).await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after[0].starts_with("Bob Builder: ") && after[1].starts_with("Carol Danvers: "));
    let desired = gatehouse::history::reports::desired_as_of(&pool, &t3)
        .await
        .unwrap();
    let now = gatehouse::callers::caller_set(&pool, &desired, None, &api_id, "/orders", "GET")
        .await
        .unwrap()
        .page(0);
    let names: Vec<&str> = now.people.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Bob Builder", "Carol Danvers"]);
    // Only changes are stored: three syncs of three edges wrote four history rows, and the edge
    // Alice lost is closed, not deleted.
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT group_id, member_id, valid_to IS NULL FROM directory_membership_history
         WHERE source = 'file' ORDER BY group_id, member_id, valid_from",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let rows: Vec<String> = rows
        .iter()
        .map(|(g, m, open)| format!("{g}>{m}{}", if *open { "" } else { " (closed)" }))
        .collect();
    assert_eq!(
        rows,
        [
            "oncall>bob",
            "oncall>carol",
            "orders-team>alice (closed)",
            "orders-team>oncall"
        ]
    );
}
