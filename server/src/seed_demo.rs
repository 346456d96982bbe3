//! `gatehouse seed-demo`: the sample REST APIs, an HTTP API and IAM roles of the local demo (moto_server),
//! and, in `identity-center` mode, the demo directory's groups in Identity Center's identity
//! store, provisioned the way Entra ID's SCIM provisioning does it (external id = object id).
//! Idempotent: an API, role or group that already exists by name is left as it is.

use anyhow::Context;
use aws_sdk_apigateway::types::{
    AuthorizerType, EndpointConfiguration, EndpointType, IntegrationType,
};
use aws_sdk_iam::types::Tag;

use crate::aws::AwsClients;

/// (path, methods as (HTTP method, authorization type, API key required)).
type Route = (&'static str, &'static [(&'static str, &'static str, bool)]);

struct DemoApi {
    name: &'static str,
    description: &'static str,
    team: &'static str,
    routes: &'static [Route],
    /// The authorizer of its CUSTOM methods: (name, Lambda function). Gatehouse's own is
    /// `gatehouse-authorizer`; any other is decided outside Gatehouse.
    authorizer: (&'static str, &'static str),
}

const APIS: &[DemoApi] = &[
    DemoApi {
        name: "orders-api",
        description: "Customer orders and their line items",
        team: "commerce",
        authorizer: ("gatehouse", "gatehouse-authorizer"),
        routes: &[
            (
                "/orders",
                &[("GET", "AWS_IAM", false), ("POST", "AWS_IAM", false)],
            ),
            (
                "/orders/{orderId}",
                &[("GET", "AWS_IAM", false), ("DELETE", "AWS_IAM", false)],
            ),
            (
                "/orders/{orderId}/items",
                &[("GET", "AWS_IAM", false), ("PUT", "NONE", true)],
            ),
            ("/health", &[("GET", "NONE", false)]),
        ],
    },
    DemoApi {
        name: "payments-api",
        description: "Payments, refunds and settlement reports",
        team: "finance",
        authorizer: ("token-authorizer", "authorizer"),
        routes: &[
            (
                "/payments",
                &[("GET", "AWS_IAM", false), ("POST", "CUSTOM", false)],
            ),
            ("/payments/{paymentId}", &[("GET", "AWS_IAM", false)]),
            (
                "/payments/{paymentId}/refunds",
                &[("POST", "AWS_IAM", true)],
            ),
            ("/reports/settlements", &[("GET", "NONE", true)]),
        ],
    },
    DemoApi {
        name: "inventory-api",
        description: "Stock levels per warehouse",
        team: "logistics",
        authorizer: ("gatehouse", "gatehouse-authorizer"),
        routes: &[
            (
                "/items",
                &[("GET", "NONE", false), ("POST", "AWS_IAM", false)],
            ),
            (
                "/items/{sku}",
                &[("GET", "NONE", false), ("PATCH", "AWS_IAM", false)],
            ),
            (
                "/warehouses/{warehouseId}/stock",
                &[("GET", "AWS_IAM", false), ("ANY", "CUSTOM", false)],
            ),
        ],
    },
];

/// (role name, managed by Gatehouse).
const ROLES: &[(&str, bool)] = &[
    ("gatehouse-inventory-readers", true),
    ("gatehouse-orders-readers", true),
    ("gatehouse-orders-writers", true),
    ("gatehouse-payments-operators", true),
    ("legacy-billing-batch", false),
];

const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

pub async fn seed(aws: &AwsClients) -> anyhow::Result<()> {
    let existing = aws
        .apigateway
        .get_rest_apis()
        .limit(500)
        .send()
        .await
        .context("listing REST APIs")?;
    let names: Vec<&str> = existing.items().iter().filter_map(|a| a.name()).collect();
    for api in APIS {
        if names.contains(&api.name) {
            println!("REST API {} already exists", api.name);
        } else {
            seed_api(aws, api)
                .await
                .with_context(|| format!("creating REST API {}", api.name))?;
            println!("created REST API {}", api.name);
        }
    }
    crate::seed_demo_http::seed(aws).await?;
    for (name, managed) in ROLES {
        if aws.iam.get_role().role_name(*name).send().await.is_ok() {
            println!("IAM role {name} already exists");
            continue;
        }
        let mut request = aws
            .iam
            .create_role()
            .role_name(*name)
            .path("/")
            .description("Local demo role")
            .assume_role_policy_document(TRUST_POLICY);
        if *managed {
            request = request.tags(
                Tag::builder()
                    .key("gatehouse:managed")
                    .value("true")
                    .build()?,
            );
        }
        request
            .send()
            .await
            .with_context(|| format!("creating IAM role {name}"))?;
        println!("created IAM role {name}");
    }
    Ok(())
}

async fn seed_api(aws: &AwsClients, api: &DemoApi) -> anyhow::Result<()> {
    let gw = &aws.apigateway;
    let created = gw
        .create_rest_api()
        .name(api.name)
        .description(api.description)
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .build(),
        )
        .tags("team", api.team)
        .send()
        .await?;
    let api_id = created.id().context("no API id")?.to_string();
    let resources = gw.get_resources().rest_api_id(&api_id).send().await?;
    let root = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id())
        .context("no root resource")?
        .to_string();
    let mut authorizer_id = None;
    // Resource ids by path, so nested paths reuse their parents.
    let mut known: Vec<(String, String)> = vec![("/".into(), root)];
    for (path, methods) in api.routes {
        let mut parent_path = String::new();
        for part in path.trim_start_matches('/').split('/') {
            let parent_id = known
                .iter()
                .find(|(p, _)| {
                    *p == if parent_path.is_empty() {
                        "/"
                    } else {
                        parent_path.as_str()
                    }
                })
                .map(|(_, id)| id.clone())
                .context("parent resource")?;
            parent_path = format!("{parent_path}/{part}");
            if known.iter().any(|(p, _)| *p == parent_path) {
                continue;
            }
            let resource = gw
                .create_resource()
                .rest_api_id(&api_id)
                .parent_id(parent_id)
                .path_part(part)
                .send()
                .await?;
            known.push((
                parent_path.clone(),
                resource.id().context("no resource id")?.to_string(),
            ));
        }
        let resource_id = known
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, id)| id.clone())
            .context("resource")?;
        for (method, authorization, key_required) in *methods {
            let mut put = gw
                .put_method()
                .rest_api_id(&api_id)
                .resource_id(&resource_id)
                .http_method(*method)
                .authorization_type(*authorization)
                .api_key_required(*key_required);
            if *authorization == "CUSTOM" {
                if authorizer_id.is_none() {
                    let authorizer = gw
                        .create_authorizer()
                        .rest_api_id(&api_id)
                        .name(api.authorizer.0)
                        .r#type(AuthorizerType::Token)
                        .authorizer_uri(format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:{}/invocations", api.authorizer.1))
                        .identity_source("method.request.header.Authorization")
                        .send()
                        .await?;
                    authorizer_id = authorizer.id().map(String::from);
                }
                put = put.set_authorizer_id(authorizer_id.clone());
            }
            put.send().await?;
            gw.put_integration()
                .rest_api_id(&api_id)
                .resource_id(&resource_id)
                .http_method(*method)
                .r#type(IntegrationType::Mock)
                .send()
                .await?;
        }
    }
    let deployment = gw
        .create_deployment()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await?;
    gw.create_stage()
        .rest_api_id(&api_id)
        .stage_name("staging")
        .deployment_id(deployment.id().context("no deployment id")?)
        .send()
        .await?;
    Ok(())
}

/// Provisions every group, then every person, of the demo directory file into the identity
/// store through the SCIM endpoint the local AWS endpoint serves (end2end/stack/moto_server.py),
/// as Entra ID's provisioning service would: `POST /scim/v2/Groups` with `displayName` and
/// `externalId`, `POST /scim/v2/Users` with the user principal name as `userName`.
pub async fn provision_directory(endpoint: &str, directory_file: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(directory_file)
        .with_context(|| format!("reading the directory file {directory_file}"))?;
    let directory: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("the directory file {directory_file} is not JSON"))?;
    let groups = directory["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| {
            let (id, name) = (g["id"].as_str()?, g["displayName"].as_str()?);
            Some((
                format!("group {name}"),
                serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name,
                    "externalId": id,
                }),
            ))
        });
    scim_provision(endpoint, "Groups", groups).await?;
    let users = directory["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| {
            let (user_name, name) = (u["userPrincipalName"].as_str()?, u["displayName"].as_str()?);
            Some((
                format!("user {user_name}"),
                serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user_name,
                    "displayName": name,
                    "externalId": u["id"],
                }),
            ))
        });
    scim_provision(endpoint, "Users", users).await
}

/// POSTs each `(what, body)` to the SCIM collection `kind` (`Groups`, `Users`); one that is
/// there already (409) is kept.
async fn scim_provision(
    endpoint: &str,
    kind: &str,
    entries: impl Iterator<Item = (String, serde_json::Value)>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!("{}/scim/v2/{kind}", endpoint.trim_end_matches('/'));
    let (mut made, mut kept) = (0, 0);
    for (what, body) in entries {
        let sent = client
            .post(&url)
            .header("content-type", "application/scim+json")
            .json(&body)
            .send()
            .await
            .with_context(|| format!("SCIM-provisioning {what}"))?;
        match sent.status().as_u16() {
            201 => made += 1,
            409 => kept += 1,
            status => anyhow::bail!(
                "SCIM-provisioning {what}: {status} {}",
                sent.text().await.unwrap_or_default()
            ),
        }
    }
    println!(
        "identity store: provisioned {made} {} by SCIM ({kept} were there already)",
        kind.to_lowercase()
    );
    Ok(())
}
