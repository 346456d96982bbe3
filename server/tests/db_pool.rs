//! The pool asks a connection that sat idle whether it still works before handing it out (and
//! not one in steady use: that ping was a round trip before every query). A connection the
//! database dropped meanwhile (a restart, a proxy's timeout) is replaced, so the request after
//! it gets its page instead of an error.

use std::time::Duration;

use sqlx::PgPool;

use crate::common;

/// Ends every session on `database` (as a restart would) and answers how many there were.
async fn drop_sessions_on(admin: &PgPool, database: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()) AS ended",
    )
    .bind(database)
    .fetch_one(admin)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_connection_dropped_while_idle_is_replaced_not_handed_out() {
    let url = common::fresh_database().await;
    let database = url.rsplit('/').next().unwrap().to_owned();
    let admin = PgPool::connect(&common::admin_database_url())
        .await
        .unwrap();
    // Pinged after 50 ms idle: the dropped connection is found out and replaced. Never pinged
    // (an hour): the same drop reaches the query, which is what the ping is for.
    for (ping_if_idle_for, replaced) in [
        (Duration::from_millis(50), true),
        (Duration::from_secs(3600), false),
    ] {
        let pool = gatehouse::db::pool_options(ping_if_idle_for)
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(one, 1);
        // The connection goes back to the pool in a task of its own (with sqlx's ping on
        // release): dropped before it is back, that ping would find it out instead.
        while pool.num_idle() < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(drop_sessions_on(&admin, &database).await, 1);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let answer = sqlx::query_scalar::<_, i32>("SELECT 2")
            .fetch_one(&pool)
            .await;
        assert_eq!(
            answer.is_ok(),
            replaced,
            "pinged after {ping_if_idle_for:?} idle: {answer:?}"
        );
        pool.close().await;
    }
}
