//! The audit table is append-only, whoever asks.

mod common;

use common::*;

#[tokio::test]
async fn audit_events_refuse_update_delete_and_truncate() {
    let app = spawn_app().await;
    let _ = app.sign_in("admin", "/").await.response.text().await;
    assert_eq!(app.audit_actions().await.len(), 1);

    for statement in [
        "UPDATE audit_events SET actor_name = 'someone else'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let err = sqlx::query(statement).execute(&app.pool).await.unwrap_err();
        assert!(
            err.to_string().contains("audit_events is append-only"),
            "{statement}: {err}"
        );
    }
    let events = app.audit_actions().await;
    assert_eq!(events.len(), 1);
    let name: String = sqlx::query_scalar("SELECT actor_name FROM audit_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(name, "Ada Admin <ada.admin@contoso.test>");
}
