//! Sign-in when the token's groups claim overflowed (`_claim_names.groups`): the groups come
//! from Microsoft Graph (here its HTTP fake), never from the endpoint the token names.

use crate::common;

use common::{graph_fake::*, *};

const OVERAGE_OID: &str = "0a1b2c3d-0000-4000-8000-000000000007";

async fn last_roles(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT roles FROM users ORDER BY last_sign_in_at DESC LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_overage_token_gets_its_groups_from_graph() {
    let fake = GraphFake::start().await;
    fake.add_user(OVERAGE_OID, "Olive Overage");
    fake.add_group(FakeGroup {
        id: ADMIN_GROUP.into(),
        display_name: "Gatehouse admins".into(),
        description: None,
        mail: None,
        members: vec![],
        // Through a nested group: getMemberGroups is transitive.
        nested: vec!["0c0c0c0c-0000-4000-8000-000000000001".into()],
    });
    fake.add_group(FakeGroup {
        id: "0c0c0c0c-0000-4000-8000-000000000001".into(),
        display_name: "Platform team".into(),
        description: None,
        mail: None,
        members: vec![OVERAGE_OID.into()],
        nested: vec![],
    });
    let settings = fake.settings();
    let app = spawn_app_with(move |s| s.directory.graph = Some(settings)).await;
    let hop = app.sign_in("overage", "/").await;
    assert_eq!(hop.response.status(), reqwest::StatusCode::OK);
    let _ = hop.response.text().await;
    assert_eq!(last_roles(&app).await, ["admin"]);
    // Graph was asked. The endpoint the token names (graph.windows.net) cannot be reached
    // from here, so a sign-in that worked never called it.
    let asked = fake.requests();
    assert!(
        asked.iter().any(|r| r.starts_with("POST ")
            && r.ends_with(&format!("/v1.0/users/{OVERAGE_OID}/getMemberGroups"))),
        "{asked:#?}"
    );

    // Graph failing at sign-in refuses the sign-in plainly, rather than guessing.
    fake.fail_next(503, "ServiceUnavailable", "Service is unavailable.");
    fake.fail_next(503, "ServiceUnavailable", "Service is unavailable.");
    fake.fail_next(503, "ServiceUnavailable", "Service is unavailable.");
    fake.fail_next(503, "ServiceUnavailable", "Service is unavailable.");
    let mut app = app;
    app.client = browser();
    let (status, html) = body(app.sign_in("overage", "/").await.response).await;
    assert_ne!(status, reqwest::StatusCode::OK);
    assert!(html.contains("could not read your groups"), "{html}");
}

#[tokio::test]
async fn without_graph_an_overage_token_brings_no_groups() {
    let app = spawn_app().await;
    let (status, html) = body(app.sign_in("overage", "/").await.response).await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{html}");
    assert!(last_roles(&app).await.is_empty());
    // Told what is missing, not that they are in no group.
    assert!(
        html.contains("too many groups for your sign-in token to list them"),
        "{html}"
    );
    assert!(!html.contains("you are not in any group"), "{html}");
}

const SAM_OID: &str = "0a1b2c3d-0000-4000-8000-000000000004";
const ADA_OID: &str = "0a1b2c3d-0000-4000-8000-000000000001";

/// Roles are read again from the directory once older than the role TTL: a person removed from
/// the admin group loses admin within it, and one left with no role is signed out.
#[tokio::test]
async fn a_person_removed_from_the_admin_group_loses_admin_within_the_role_ttl() {
    let fake = GraphFake::start().await;
    fake.add_user(SAM_OID, "Sam Both");
    fake.add_user(ADA_OID, "Ada Admin");
    fake.add_group(FakeGroup {
        id: ADMIN_GROUP.into(),
        display_name: "Gatehouse admins".into(),
        description: None,
        mail: None,
        members: vec![SAM_OID.into(), ADA_OID.into()],
        nested: vec![],
    });
    let settings = fake.settings();
    let ttl = std::time::Duration::from_secs(2);
    let app = spawn_app_with(move |s| {
        s.directory.graph = Some(settings);
        s.role_ttl = ttl;
    })
    .await;
    let mut ada = spawn_client(&app);
    let _ = app
        .sign_in("admin-reviewer", "/")
        .await
        .response
        .text()
        .await;
    let _ = ada.sign_in("admin", "/").await.response.text().await;
    assert_eq!(app.get("/sync").await.status(), reqwest::StatusCode::OK);

    fake.remove_member(ADMIN_GROUP, SAM_OID);
    fake.remove_member(ADMIN_GROUP, ADA_OID);
    // Within the TTL the roles read at sign-in stand…
    assert_eq!(app.get("/sync").await.status(), reqwest::StatusCode::OK);
    tokio::time::sleep(ttl + std::time::Duration::from_millis(300)).await;
    // …after it, the directory decides: Sam keeps the reviewer app role, not admin.
    assert_eq!(
        app.get("/sync").await.status(),
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/reviews").await.status(), reqwest::StatusCode::OK);
    // Ada has no Gatehouse role left: signed out.
    assert_eq!(ada.get("/").await.status(), reqwest::StatusCode::SEE_OTHER);
    ada.client = browser();

    let changes: Vec<serde_json::Value> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, _)| a == "auth.roles_changed")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(changes.len(), 2, "{changes:#?}");
    assert!(changes
        .contains(&serde_json::json!({"before": ["admin", "reviewer"], "after": ["reviewer"]})));
    assert!(changes.contains(&serde_json::json!({"before": ["admin"], "after": []})));
}
