//! The local demo's AWS seeding, against a real moto_server.

use crate::common;

use common::*;
use gatehouse::seed_demo;

#[tokio::test]
async fn seeding_creates_the_sample_apis_and_roles_once() {
    let moto = start_moto().await;
    let clients = moto.clients().await;
    seed_demo::seed(&clients).await.unwrap();
    seed_demo::seed(&clients).await.unwrap(); // idempotent

    let apis = clients.apigateway.get_rest_apis().send().await.unwrap();
    let mut names: Vec<&str> = apis.items().iter().filter_map(|a| a.name()).collect();
    names.sort();
    assert_eq!(names, ["inventory-api", "orders-api", "payments-api"]);
    // And one HTTP API, with its `$default` route and an auto-deployed stage.
    let http = clients.apigatewayv2.get_apis().send().await.unwrap();
    let [bookings] = http.items() else {
        panic!("{http:?}")
    };
    assert_eq!(bookings.name(), Some("bookings-http"));
    let bookings_id = bookings.api_id().unwrap();
    let routes = clients
        .apigatewayv2
        .get_routes()
        .api_id(bookings_id)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<&str> = routes
        .items()
        .iter()
        .filter_map(|r| r.route_key())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "$default",
            "DELETE /bookings/{bookingId}",
            "GET /bookings",
            "GET /bookings/{bookingId}",
            "POST /bookings"
        ]
    );
    let stages = clients
        .apigatewayv2
        .get_stages()
        .api_id(bookings_id)
        .send()
        .await
        .unwrap();
    let auto: Vec<(&str, bool)> = stages
        .items()
        .iter()
        .map(|s| (s.stage_name().unwrap(), s.auto_deploy().unwrap_or(false)))
        .collect();
    assert!(
        auto.contains(&("staging", true)) && auto.contains(&("prod", false)),
        "{auto:?}"
    );

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

#[tokio::test]
async fn seeding_provisions_the_demo_directory_into_the_identity_store_once() {
    let moto = start_moto().await;
    let clients = moto.clients().await;
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../end2end/stack/demo-directory.json"
    );
    seed_demo::provision_directory(&moto.1, file).await.unwrap();
    seed_demo::provision_directory(&moto.1, file).await.unwrap(); // idempotent

    let instance = clients.ssoadmin.list_instances().send().await.unwrap();
    let store = instance.instances()[0].identity_store_id().unwrap();
    let groups = clients
        .identitystore
        .list_groups()
        .identity_store_id(store)
        .send()
        .await
        .unwrap();
    let directory: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let wanted = directory["groups"].as_array().unwrap();
    assert_eq!(groups.groups().len(), wanted.len());
    // Each carries the directory's object id as external id, as SCIM provisioning sets it.
    let orders = groups
        .groups()
        .iter()
        .find(|g| g.display_name() == Some("Orders team"))
        .unwrap();
    let orders_id = wanted
        .iter()
        .find(|g| g["displayName"] == "Orders team")
        .unwrap()["id"]
        .as_str()
        .unwrap();
    assert_eq!(orders.external_ids()[0].id(), orders_id);
    // And each person, once, by user principal name (what an access request assigns).
    let users = clients
        .identitystore
        .list_users()
        .identity_store_id(store)
        .send()
        .await
        .unwrap();
    assert_eq!(
        users.users().len(),
        directory["users"].as_array().unwrap().len()
    );
    assert!(users
        .users()
        .iter()
        .any(|u| u.user_name() == Some("nora.nobody@contoso.test")));
}
