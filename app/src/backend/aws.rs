//! AWS clients from the standard configuration chain, pointed at `AWS_ENDPOINT_URL` when set
//! (the local demo's moto_server). Each target gets its own clients in its region, with the
//! target's role assumed when it names one.

use aws_config::{sts::AssumeRoleProvider, BehaviorVersion, Region};

use crate::backend::config::{AwsSettings, AwsTarget};

#[derive(Clone)]
pub struct AwsClients {
    pub apigateway: aws_sdk_apigateway::Client,
    /// HTTP APIs (API Gateway v2).
    pub apigatewayv2: aws_sdk_apigatewayv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub ssoadmin: aws_sdk_ssoadmin::Client,
    pub identitystore: aws_sdk_identitystore::Client,
}

fn loader(settings: &AwsSettings, region: Option<&str>) -> aws_config::ConfigLoader {
    // Throttling, 5xx and dropped connections are retried with jittered exponential backoff;
    // a refused call (4xx) is not.
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5));
    if let Some(region) = region.or(settings.region.as_deref()) {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint.as_str().trim_end_matches('/'));
    }
    loader
}

/// Every client carries [`AwsCallObserver`]: each call is counted, timed and logged.
fn from_config(config: &aws_config::SdkConfig) -> AwsClients {
    use super::aws_calls::AwsCallObserver;
    macro_rules! client {
        ($sdk:ident) => {
            $sdk::Client::from_conf(
                $sdk::config::Builder::from(config)
                    .interceptor(AwsCallObserver)
                    .build(),
            )
        };
    }
    AwsClients {
        apigateway: client!(aws_sdk_apigateway),
        apigatewayv2: client!(aws_sdk_apigatewayv2),
        iam: client!(aws_sdk_iam),
        ssoadmin: client!(aws_sdk_ssoadmin),
        identitystore: client!(aws_sdk_identitystore),
    }
}

/// Clients for the default chain (the seed command, and single-target setups).
pub async fn clients(settings: &AwsSettings) -> AwsClients {
    from_config(&loader(settings, None).load().await)
}

/// Clients for the default chain in `region` (IAM Identity Center's home region).
pub async fn clients_in(settings: &AwsSettings, region: Option<&str>) -> AwsClients {
    from_config(&loader(settings, region).load().await)
}

/// Clients for one target: its region, and its role assumed through STS when it has one
/// (credentials are refreshed by the SDK before they expire).
pub async fn target_clients(settings: &AwsSettings, target: &AwsTarget) -> AwsClients {
    let config = loader(settings, Some(&target.region)).load().await;
    let Some(role_arn) = &target.role_arn else {
        return from_config(&config);
    };
    let provider = AssumeRoleProvider::builder(role_arn)
        .session_name("gatehouse-catalog")
        .region(Region::new(target.region.clone()))
        .configure(&config)
        .build()
        .await;
    let assumed = loader(settings, Some(&target.region))
        .credentials_provider(provider)
        .load()
        .await;
    from_config(&assumed)
}
