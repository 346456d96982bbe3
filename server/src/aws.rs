//! AWS clients from the standard configuration chain, pointed at `AWS_ENDPOINT_URL` when set
//! (the local demo's moto_server).

use aws_config::{BehaviorVersion, Region};

use crate::config::AwsSettings;

#[derive(Clone)]
pub struct AwsClients {
    pub apigateway: aws_sdk_apigateway::Client,
    pub iam: aws_sdk_iam::Client,
}

pub async fn clients(settings: &AwsSettings) -> AwsClients {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint.as_str().trim_end_matches('/'));
    }
    let config = loader.load().await;
    AwsClients {
        apigateway: aws_sdk_apigateway::Client::new(&config),
        iam: aws_sdk_iam::Client::new(&config),
    }
}
