//! moto_server as the AWS endpoint of a test.

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use gatehouse::{
    aws,
    config::{AwsSettings, ServeArgs},
};

/// A moto_server on a free port, stopped when dropped.
pub struct Moto(Child, pub String);

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

impl Moto {
    pub fn settings(&self) -> AwsSettings {
        // moto accepts any credentials; the SDK only needs some.
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        let args = ServeArgs {
            aws_region: Some("us-east-1".into()),
            aws_account_id: Some("123456789012".into()),
            aws_endpoint_url: Some(self.1.clone()),
            ..Default::default()
        };
        args.aws().unwrap()
    }

    pub async fn clients(&self) -> aws::AwsClients {
        aws::clients(&self.settings()).await
    }
}
