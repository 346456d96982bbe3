//! The local demo's AWS seeding, against a real moto_server.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use gatehouse::{aws, config::ServeArgs, seed_demo};

struct Moto(Child, String);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_moto() -> Moto {
    let program = std::env::var("GATEHOUSE_TEST_MOTO_SERVER").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../.data/venv/bin/moto_server").into()
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {program} (installed by end2end/stack/lib.sh): {e}")
        });
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/moto-api/")).await.is_ok() {
            return Moto(child, url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("moto_server did not start");
}

#[tokio::test]
async fn seeding_creates_the_sample_apis_and_roles_once() {
    let moto = start_moto().await;
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let args = ServeArgs {
        aws_region: Some("us-east-1".into()),
        aws_endpoint_url: Some(moto.1.clone()),
        ..Default::default()
    };
    let clients = aws::clients(&args.aws().unwrap()).await;
    seed_demo::seed(&clients).await.unwrap();
    seed_demo::seed(&clients).await.unwrap(); // idempotent

    let apis = clients.apigateway.get_rest_apis().send().await.unwrap();
    let mut names: Vec<&str> = apis.items().iter().filter_map(|a| a.name()).collect();
    names.sort();
    assert_eq!(names, ["inventory-api", "orders-api", "payments-api"]);

    let orders = apis
        .items()
        .iter()
        .find(|a| a.name() == Some("orders-api"))
        .unwrap();
    let id = orders.id().unwrap();
    let resources = clients
        .apigateway
        .get_resources()
        .rest_api_id(id)
        .embed("methods")
        .send()
        .await
        .unwrap();
    let mut paths: Vec<&str> = resources.items().iter().filter_map(|r| r.path()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/",
            "/health",
            "/orders",
            "/orders/{orderId}",
            "/orders/{orderId}/items"
        ]
    );
    let items = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/orders/{orderId}/items"))
        .unwrap();
    let put = clients
        .apigateway
        .get_method()
        .rest_api_id(id)
        .resource_id(items.id().unwrap())
        .http_method("PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(put.authorization_type(), Some("NONE"));
    assert_eq!(put.api_key_required(), Some(true));

    let stages = clients
        .apigateway
        .get_stages()
        .rest_api_id(id)
        .send()
        .await
        .unwrap();
    let mut stage_names: Vec<&str> = stages
        .item()
        .iter()
        .filter_map(|s| s.stage_name())
        .collect();
    stage_names.sort();
    assert_eq!(stage_names, ["prod", "staging"]);

    let role = clients
        .iam
        .get_role()
        .role_name("gatehouse-orders-readers")
        .send()
        .await
        .unwrap();
    let tags = role.role().unwrap().tags();
    assert!(tags
        .iter()
        .any(|t| t.key() == "gatehouse:managed" && t.value() == "true"));
    let legacy = clients
        .iam
        .get_role()
        .role_name("legacy-billing-batch")
        .send()
        .await
        .unwrap();
    assert!(
        legacy.role().unwrap().tags().is_empty(),
        "unmanaged roles carry no Gatehouse tag"
    );
}
