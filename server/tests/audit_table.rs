//! The audit table is append-only, whoever asks; the server's own database role cannot even
//! try to rewrite it.

use crate::common;

use common::*;
use sqlx::PgPool;

#[tokio::test]
async fn the_runtime_role_cannot_rewrite_or_rechain_the_audit_log() {
    let app = spawn_app().await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    assert_eq!(app.audit_actions().await.len(), 1);
    let who: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(who, RUNTIME_LOGIN, "the server runs as the runtime role");

    // Each step of a re-chaining, as the server's role: refused by the database itself.
    for (statement, refusal) in [
        (
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete",
            "must be owner",
        ),
        ("ALTER TABLE audit_events DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER audit_events_chain ON audit_events", "must be owner"),
        (
            "UPDATE audit_events SET actor_name = 'someone else'",
            "permission denied",
        ),
        (
            "UPDATE audit_events SET hash = audit_event_hash(audit_events)",
            "permission denied",
        ),
        ("DELETE FROM audit_events", "permission denied"),
        ("TRUNCATE audit_events", "permission denied"),
        (
            "CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "permission denied",
        ),
        ("DELETE FROM _sqlx_migrations", "permission denied"),
        // The actors' names History's filter finds events by: taking one out would hide them.
        ("DELETE FROM audit_actors", "permission denied"),
        ("UPDATE audit_actors SET name = 'x'", "permission denied"),
    ] {
        let err = sqlx::query(statement).execute(&app.pool).await.unwrap_err();
        assert!(err.to_string().contains(refusal), "{statement}: {err}");
    }
    // A row it adds is chained by the trigger, whatever sequence and hashes it claims.
    sqlx::query(
        "INSERT INTO audit_events (occurred_at, actor_name, action, details, seq, prev_hash, hash)
         VALUES ('2000-01-01Z', 'x', 'forged', '{}', 1, repeat('0', 64), repeat('f', 64))",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let (seq, hash_ok): (i64, bool) = sqlx::query_as(
        "SELECT seq, hash = audit_event_hash(audit_events) FROM audit_events WHERE action = 'forged'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((seq, hash_ok), (2, true));
    // …and timed by the database's clock, not back-dated.
    let recent: bool = sqlx::query_scalar(
        "SELECT occurred_at > now() - interval '1 hour' FROM audit_events WHERE action = 'forged'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(recent, "the runtime role cannot choose an event's time");
    let name: String = sqlx::query_scalar("SELECT actor_name FROM audit_events WHERE seq = 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(name, "Ada Admin <ada.admin@contoso.test>");
}

#[tokio::test]
async fn even_the_owner_meets_the_append_only_trigger() {
    let app = spawn_app().await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    let owner = PgPool::connect(&app.owner_url).await.unwrap();
    for statement in [
        "UPDATE audit_events SET actor_name = 'someone else'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let err = sqlx::query(statement).execute(&owner).await.unwrap_err();
        assert!(
            err.to_string().contains("audit_events is append-only"),
            "{statement}: {err}"
        );
    }
    assert_eq!(app.audit_actions().await.len(), 1);
}
