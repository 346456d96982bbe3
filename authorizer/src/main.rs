//! The Lambda function: `GATEHOUSE_AUTHZ_*` settings (see the README), one decision per event,
//! one JSON log line per decision.

use std::sync::Arc;

use authorizer::{
    config::Config,
    handler::{now, Authorizer},
    jwks::Jwks,
    source::{BundleSource, S3Source},
};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .without_time()
        .init();
    let config = Config::from_lookup(|name| std::env::var(name).ok())?;
    let jwks_uri = match &config.jwks_uri {
        Some(uri) => uri.clone(),
        None => {
            let tenant = config.token.tenants.first().cloned().unwrap_or_default();
            Jwks::discover(&config.token.issuer.replace("{tenantid}", &tenant)).await?
        }
    };
    let aws = aws_config::load_from_env().await;
    let s3 = aws_sdk_s3::Client::new(&aws);
    let authorizer = Arc::new(Authorizer {
        keys: Jwks::new(jwks_uri, std::time::Duration::from_secs(60)),
        source: BundleSource::S3(S3Source::new(
            s3,
            config.bucket.clone(),
            config.key.clone(),
            config.refresh,
            config.max_staleness,
        )),
        token: config.token.clone(),
        simple_http_response: config.simple_http_response,
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let authorizer = authorizer.clone();
        async move {
            let outcome = authorizer.handle(&event.payload, now()).await?;
            println!("{}", outcome.log.line());
            outcome.response.map_err(Error::from)
        }
    }))
    .await
}
