//! `gatehouse explain PERSON METHOD PATH --api ID --stage S`, as an operator runs it, on a real
//! database: a directory synced from a file (a nested group), the API catalog synced from moto
//! and an approved mapping. Each answer names the link that decides it; the exit status says
//! allowed (0) or refused (4).

use std::{process::Command, sync::Arc};

use gatehouse::{
    audit::Actor,
    catalog::{Catalog, Syncer},
};

use crate::common::{
    approved,
    pushing::{binding, grant, setup},
};

/// Removes the directory file when the test ends, passed or not.
pub struct FileGuard(pub std::path::PathBuf);

impl Drop for FileGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A syncer reading a small directory file (Alice in On-call, nested in Orders team; Bob in
/// Sales) and the moto API catalog; the guard removes the file.
pub async fn directory_syncer(
    pool: &sqlx::PgPool,
    moto: &crate::common::Moto,
    api_id: &str,
) -> (Syncer, FileGuard) {
    let file = std::env::temp_dir().join(format!(
        "gatehouse-explain-{}-{}.json",
        std::process::id(),
        api_id
    ));
    std::fs::write(
        &file,
        serde_json::json!({
            "users": [
                {"id": "alice", "displayName": "Alice Liddell", "userPrincipalName": "alice@contoso.test"},
                {"id": "5f0c9e21", "displayName": "Bob Builder", "userPrincipalName": "bob@contoso.test"}
            ],
            "groups": [
                {"id": "oncall", "displayName": "On-call", "members": ["alice"]},
                {"id": "orders-team", "displayName": "Orders team", "groups": ["oncall"]},
                {"id": "sales", "displayName": "Sales", "members": ["5f0c9e21"]}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let cleanup = FileGuard(file.clone());
    let directory =
        gatehouse::directory::Directory::File(gatehouse::directory::file::FileDirectory {
            path: file,
        });
    let syncer = Syncer::new(pool.clone(), &moto.settings(), Some(Arc::new(directory))).await;
    (syncer, cleanup)
}

fn explain(pool: &sqlx::PgPool, args: &[&str]) -> (i32, String) {
    let database_url = sqlx::ConnectOptions::to_url_lossy(&*pool.connect_options()).to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("explain")
        .args(args)
        .env("DATABASE_URL", &database_url)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn explain_names_the_deciding_link_for_allowed_and_refused_calls() {
    let (pool, moto, _proxy, direct, api_id) = setup().await;
    // The API's methods are IAM-authorized, as a mapped API's are.
    let gw = &direct.apigateway;
    let resources = gw
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let orders = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/orders"))
        .and_then(|r| r.id())
        .unwrap()
        .to_string();
    for verb in ["GET", "POST"] {
        gw.update_method()
            .rest_api_id(&api_id)
            .resource_id(&orders)
            .http_method(verb)
            .patch_operations(
                aws_sdk_apigateway::types::PatchOperation::builder()
                    .op(aws_sdk_apigateway::types::Op::Replace)
                    .path("/authorizationType")
                    .value("AWS_IAM")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let (syncer, cleanup) = directory_syncer(&pool, &moto, &api_id).await;
    let actor = Actor::system("test");
    syncer.sync(&actor, Catalog::Groups).await.unwrap();
    syncer.sync(&actor, Catalog::Apis).await.unwrap();
    approved(
        &pool,
        vec![
            binding("orders-readers"),
            grant("orders-readers", &api_id, "GET"),
        ],
    )
    .await;

    let (code, out) = explain(
        &pool,
        &["alice@contoso.test", "GET", "/orders", "--api", &api_id],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!(
            "ALLOWED: Alice Liddell may call GET /orders on stage prod of API {api_id}"
        )),
        "{out}"
    );
    assert!(out.contains("- member of On-call ⊂ Orders team"), "{out}");
    assert!(out.contains("- grant GET /orders on prod"), "{out}");
    assert!(out.contains("- method AWS_IAM"), "{out}");

    // The method exists but no grant of hers covers it: her role is named, with how she has it.
    let (code, out) = explain(
        &pool,
        &["Alice Liddell", "POST", "/orders", "--api", &api_id],
    );
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("no grant of their roles covers POST /orders on prod: orders-readers (through On-call ⊂ Orders team)"),
        "{out}"
    );
    // Bob, named by his object id (which no name holds): his only group is bound to nothing.
    let (code, out) = explain(
        &pool,
        &["file:5f0c9e21", "GET", "/orders", "--api", &api_id],
    );
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("none of their 1 groups is bound to a role"),
        "{out}"
    );
    // No such route; no such person.
    let (code, out) = explain(
        &pool,
        &["alice@contoso.test", "DELETE", "/orders", "--api", &api_id],
    );
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("no route of the API takes DELETE there"),
        "{out}"
    );
    let (code, out) = explain(
        &pool,
        &["nobody@contoso.test", "GET", "/orders", "--api", &api_id],
    );
    assert_ne!(code, 0);
    assert!(
        out.contains("no directory person is named or has the email `nobody@contoso.test`"),
        "{out}"
    );
    drop(cleanup);
}
