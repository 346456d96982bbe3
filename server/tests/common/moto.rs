//! moto_server as the AWS endpoint of a test.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use gatehouse::{
    aws::{self, AwsClients},
    config::{AwsSettings, ServeArgs},
};

/// A moto_server on a free port, stopped when dropped, and clients of it (built once: the
/// readiness check needs them, and every test after it).
pub struct Moto(Child, pub String, AwsClients);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn start_moto() -> Moto {
    let program = std::env::var("GATEHOUSE_TEST_MOTO_SERVER").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../.data/venv/bin/moto_server").into()
    });
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // moto_server with Identity Center's missing parts filled in (end2end/stack/moto_server.py),
    // run by the Python of moto's virtualenv.
    let python = std::path::Path::new(&program).with_file_name("python");
    let launcher = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../end2end/stack/moto_server.py"
    );
    let mut child = Command::new(&python)
        .arg(launcher)
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
            return answering(child, url).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("moto_server did not start");
}

/// The moto once it answers API Gateway calls: its dashboard answers first, and a test's first
/// call was seen to fail on a loaded machine (an error the SDK could not read, in CI) while it
/// set API Gateway up.
async fn answering(child: Child, url: String) -> Moto {
    let aws = aws::clients(&settings(&url)).await;
    let moto = Moto(child, url, aws);
    let mut last = None;
    for _ in 0..50 {
        match moto.2.apigateway.get_rest_apis().limit(1).send().await {
            Ok(_) => return moto,
            Err(e) => last = Some(aws_sdk_apigateway::error::DisplayErrorContext(e).to_string()),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("moto_server does not answer API Gateway: {last:?}");
}

/// The settings of a Gatehouse whose AWS endpoint is the moto at `url`.
fn settings(url: &str) -> AwsSettings {
    // moto accepts any credentials; the SDK only needs some.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let args = ServeArgs {
        aws_region: Some("us-east-1".into()),
        aws_account_id: Some("123456789012".into()),
        aws_endpoint_url: Some(url.to_string()),
        ..Default::default()
    };
    args.aws().unwrap()
}

impl Moto {
    pub fn settings(&self) -> AwsSettings {
        settings(&self.1)
    }

    pub async fn clients(&self) -> aws::AwsClients {
        self.2.clone()
    }
}

/// An API with `/orders` (GET, POST) whose methods are not IAM-authorized, deployed to prod.
pub async fn orders_api(aws: &AwsClients) -> String {
    let gw = &aws.apigateway;
    let api = gw.create_rest_api().name("orders").send().await.unwrap();
    let api_id = api.id().unwrap().to_string();
    let root = gw
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let root_id = root.items()[0].id().unwrap().to_string();
    let orders = gw
        .create_resource()
        .rest_api_id(&api_id)
        .parent_id(&root_id)
        .path_part("orders")
        .send()
        .await
        .unwrap();
    for verb in ["GET", "POST"] {
        gw.put_method()
            .rest_api_id(&api_id)
            .resource_id(orders.id().unwrap())
            .http_method(verb)
            .authorization_type("NONE")
            .send()
            .await
            .unwrap();
        gw.put_integration()
            .rest_api_id(&api_id)
            .resource_id(orders.id().unwrap())
            .http_method(verb)
            .r#type(aws_sdk_apigateway::types::IntegrationType::Mock)
            .send()
            .await
            .unwrap();
    }
    gw.create_deployment()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    api_id
}
