//! Only `serve` and `migrate` change the schema. Every other command checks it and refuses, with
//! what to do, a database that is behind (migrations not applied) or ahead (migrated by a newer
//! Gatehouse); and `audit verify` runs no DDL.

use crate::common;

use std::process::Command;

fn gatehouse(database_url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("GATEHOUSE_OWNER_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn tables(url: &str) -> i64 {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let n = common::count(
        &pool,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .await;
    pool.close().await;
    n
}

#[tokio::test]
async fn commands_refuse_a_schema_behind_or_ahead_and_only_migrate_changes_it() {
    let url = common::fresh_database().await;

    // Behind: nothing applied. The command says what to run, and made no table.
    let (ok, said) = gatehouse(&url, &["audit", "verify"]);
    assert!(!ok, "{said}");
    assert!(
        said.contains("not up to date") && said.contains("gatehouse migrate"),
        "{said}"
    );
    assert_eq!(tables(&url).await, 0, "audit verify ran no DDL");
    let (ok, said) = gatehouse(&url, &["drift"]);
    assert!(!ok && said.contains("not up to date"), "{said}");

    // `migrate` brings it up to date; then the commands run.
    let (ok, said) = gatehouse(&url, &["migrate"]);
    assert!(ok, "{said}");
    assert!(tables(&url).await > 10);
    let (ok, said) = gatehouse(&url, &["audit", "verify"]);
    assert!(ok, "{said}");

    // Ahead: a newer Gatehouse applied a migration this one does not know.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99991231000000, 'from a newer gatehouse', true, '\\x00', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let (ok, said) = gatehouse(&url, &["audit", "verify"]);
    assert!(!ok, "{said}");
    assert!(
        said.contains("newer than this Gatehouse") && said.contains("99991231000000"),
        "{said}"
    );
}
