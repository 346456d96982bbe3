//! The demo's HTTP API (API Gateway v2): its routes, `$default` included, with a stage deployed
//! by hand and one that deploys itself. Idempotent by name, like the REST APIs beside it.

use anyhow::Context;
use aws_sdk_apigatewayv2::types::{AuthorizationType, ProtocolType};

use crate::aws::AwsClients;

pub const NAME: &str = "bookings-http";

/// (route key, authorization type).
const ROUTES: &[(&str, &str)] = &[
    ("GET /bookings", "AWS_IAM"),
    ("POST /bookings", "AWS_IAM"),
    ("GET /bookings/{bookingId}", "NONE"),
    ("DELETE /bookings/{bookingId}", "AWS_IAM"),
    ("$default", "NONE"),
];

pub async fn seed(aws: &AwsClients) -> anyhow::Result<()> {
    let gw = &aws.apigatewayv2;
    let existing = gw.get_apis().send().await.context("listing HTTP APIs")?;
    if existing.items().iter().any(|a| a.name() == Some(NAME)) {
        println!("HTTP API {NAME} already exists");
        return Ok(());
    }
    let api = gw
        .create_api()
        .name(NAME)
        .description("Meeting room bookings (an HTTP API)")
        .protocol_type(ProtocolType::Http)
        .tags("team", "workplace")
        .send()
        .await
        .with_context(|| format!("creating HTTP API {NAME}"))?;
    let api_id = api.api_id().context("no API id")?;
    for (key, authorization) in ROUTES {
        gw.create_route()
            .api_id(api_id)
            .route_key(*key)
            .authorization_type(AuthorizationType::from(*authorization))
            .send()
            .await
            .with_context(|| format!("creating route {key}"))?;
    }
    gw.create_stage()
        .api_id(api_id)
        .stage_name("prod")
        .send()
        .await?;
    gw.create_stage()
        .api_id(api_id)
        .stage_name("staging")
        .auto_deploy(true)
        .send()
        .await?;
    gw.create_deployment()
        .api_id(api_id)
        .stage_name("prod")
        .send()
        .await?;
    println!("created HTTP API {NAME}");
    Ok(())
}
