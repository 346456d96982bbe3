//! Bindings made true in AWS, on moto_server (with the asynchronous statuses and SCIM
//! provisioning of end2end/stack/moto_server.py), through the counting proxy.
//!
//! Identity Center: a binding-only change set becomes a permission set and an account
//! assignment (polled until done), a second push writes nothing, removing the binding deletes
//! the assignment, an assignment made by hand is drift and its reviewed revert removes it, and a
//! group missing from the identity store is refused in the plan before anything is written.
//!
//! SAML: a binding is an app role assignment on the Entra enterprise application for AWS
//! (through the HTTP fake of Microsoft Graph: throttling retried, read back, removed on
//! revocation); the role's trust policy names only the SAML provider, written on create; an
//! assignment or a trust edited by hand is drift, undone by a reviewed revert.

use crate::common;

use std::{sync::Arc, time::Duration};

use app::domain::{
    change_set::State,
    desired::ChangeItem,
    enforcement::Enforcement,
    grant::{Binding, Grant, GrantInput, GroupRef},
    names::RoleArn,
};
use aws_sdk_ssoadmin::types::{PrincipalType, TargetType};
use common::{
    approved,
    aws_proxy::AwsProxy,
    graph_fake::{FakeGroup, GraphFake},
    migrated_database, orders_api, person, start_moto, Moto,
};
use gatehouse::{
    audit::Actor, aws::AwsClients, config::PushSettings, directory::graph::GraphDirectory,
    mappings::store, push::Pusher,
};
use sqlx::PgPool;

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "orders-readers";

fn role() -> RoleArn {
    RoleArn::parse(&format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}")).unwrap()
}

fn group(object_id: &str) -> GroupRef {
    GroupRef::group("file", object_id)
}

fn binding(object_id: &str) -> Binding {
    Binding {
        group: group(object_id),
        role: role(),
    }
}

fn grant(api_id: &str) -> ChangeItem {
    ChangeItem::AddGrant(
        Grant::parse(&GrantInput {
            role_arn: role().to_string(),
            account: ACCOUNT.into(),
            region: "us-east-1".into(),
            api_id: api_id.into(),
            stage: "prod".into(),
            method: "GET".into(),
            path: "/orders".into(),
        })
        .unwrap(),
    )
}

/// The directory knows the group (as a sync would have stored it).
async fn directory_group(pool: &PgPool, object_id: &str, name: &str) {
    directory_group_in(pool, "file", object_id, name).await
}

async fn directory_group_in(pool: &PgPool, source: &str, object_id: &str, name: &str) {
    sqlx::query("INSERT INTO directory_groups (source, object_id, display_name, directory_ref) VALUES ($1, $2, $3, $2)")
        .bind(source)
        .bind(object_id)
        .bind(name)
        .execute(pool)
        .await
        .unwrap();
}

/// Entra ID's SCIM provisioning puts the group in the identity store, its object id as
/// external id; answers the identity-store group id.
async fn provision(moto: &Moto, object_id: &str, name: &str) -> String {
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/scim/v2/Groups", moto.1))
        .json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "externalId": object_id,
        }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_string()
}

fn settings() -> PushSettings {
    PushSettings {
        resource_policy: true,
        calls_per_second: 1000.0,
        deploy_interval: Duration::ZERO,
        lease: Duration::from_secs(2),
        ..Default::default()
    }
}

async fn pusher(pool: &PgPool, moto: &Moto, proxy: &AwsProxy) -> Pusher {
    pusher_in(pool, moto, proxy, Enforcement::IdentityCenter).await
}

async fn pusher_in(pool: &PgPool, moto: &Moto, proxy: &AwsProxy, mode: Enforcement) -> Pusher {
    let mut aws = moto.settings();
    aws.endpoint_url = Some(proxy.url.parse().unwrap());
    aws.targets[0].enforcement = Some(mode);
    let push = PushSettings {
        saml_provider: Some("EntraID".into()),
        saml_service_principal: Some(APP.into()),
        ..settings()
    };
    Pusher::new(pool.clone(), &aws, push).await
}

/// The principals assigned to the permission set in the account, read straight from moto.
async fn assigned(direct: &AwsClients) -> Vec<String> {
    let sso = &direct.ssoadmin;
    let instance = sso.list_instances().send().await.unwrap().instances()[0]
        .instance_arn()
        .unwrap()
        .to_string();
    let sets = sso
        .list_permission_sets()
        .instance_arn(&instance)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for arn in sets.permission_sets() {
        let found = sso
            .list_account_assignments()
            .instance_arn(&instance)
            .account_id(ACCOUNT)
            .permission_set_arn(arn)
            .send()
            .await
            .unwrap();
        out.extend(
            found
                .account_assignments()
                .iter()
                .map(|a| a.principal_id().unwrap().to_string()),
        );
    }
    out.sort();
    out
}

async fn push(_pool: &PgPool, pusher: &Pusher, id: i64) -> Vec<&'static str> {
    let plan = common::pushing::push_planned(pusher, id).await;
    plan.iter().map(|s| s.call.operation()).collect()
}

#[tokio::test]
async fn a_binding_becomes_an_assignment_polled_until_done_and_a_second_push_writes_nothing() {
    let pool = migrated_database().await;
    let moto = start_moto().await;
    let proxy = AwsProxy::start(&moto.1).await;
    let direct = moto.clients().await;
    directory_group(&pool, "orders-team", "Orders Team").await;
    let store_id = provision(&moto, "orders-team", "Orders Team").await;
    let pusher = pusher(&pool, &moto, &proxy).await;

    // Only a binding: no longer an empty plan.
    let id = approved(&pool, vec![ChangeItem::AddBinding(binding("orders-team"))]).await;
    let plan = pusher.plan(id).await.unwrap();
    assert_eq!(
        plan.iter().map(|s| s.call.summary()).collect::<Vec<_>>(),
        [
            "create permission set orders-readers, tagged gatehouse:managed=true",
            "assign group Orders Team to permission set orders-readers in account 123456789012",
        ]
    );
    assert!(proxy.writes().is_empty(), "planning writes nothing");
    assert_eq!(
        push(&pool, &pusher, id).await,
        ["CreatePermissionSet", "CreateAccountAssignment"]
    );
    assert_eq!(
        proxy.writes(),
        ["CreatePermissionSet", "CreateAccountAssignment"]
    );
    // AWS answered IN_PROGRESS, then IN_PROGRESS again: the push asked until SUCCEEDED.
    assert_eq!(proxy.count("DescribeAccountAssignmentCreationStatus"), 2);
    assert_eq!(assigned(&direct).await, [store_id]);
    let tags_read = proxy.count("ListTagsForResource");
    assert!(tags_read > 0, "the read-back checks the managed tag");

    // Pushing it again writes nothing.
    let writes = proxy.writes().len();
    assert_eq!(
        pusher.begin(&person(1, "Ada Admin"), id).await.unwrap(),
        None
    );
    assert_eq!(proxy.writes().len(), writes);

    // A grant: the permission set's policy, provisioned again to the account it is assigned
    // in, and the API's resource policy names the roles Identity Center makes from it.
    let api_id = orders_api(&direct).await;
    let id = approved(&pool, vec![grant(&api_id)]).await;
    assert_eq!(
        push(&pool, &pusher, id).await,
        [
            "PutInlinePolicyToPermissionSet",
            "ProvisionPermissionSet",
            "UpdateRestApi",
            "CreateDeployment"
        ]
    );
    assert_eq!(proxy.count("DescribePermissionSetProvisioningStatus"), 1);
    let policy = direct
        .apigateway
        .get_rest_api()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value =
        serde_json::from_str(&policy.policy().unwrap().replace("\\\"", "\"")).unwrap();
    assert_eq!(
        policy["Statement"][0]["Condition"]["ArnLike"]["aws:PrincipalArn"],
        format!("arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_orders-readers_*")
    );

    // Removing the binding deletes the assignment (and polls its deletion).
    let id = approved(
        &pool,
        vec![ChangeItem::RemoveBinding(binding("orders-team"))],
    )
    .await;
    assert_eq!(push(&pool, &pusher, id).await, ["DeleteAccountAssignment"]);
    assert_eq!(proxy.count("DescribeAccountAssignmentDeletionStatus"), 2);
    assert!(assigned(&direct).await.is_empty());
}

#[tokio::test]
async fn an_assignment_made_by_hand_is_drift_and_its_reviewed_revert_removes_it() {
    let pool = migrated_database().await;
    let moto = start_moto().await;
    let proxy = AwsProxy::start(&moto.1).await;
    let direct = moto.clients().await;
    directory_group(&pool, "orders-team", "Orders Team").await;
    directory_group(&pool, "contractors", "Contractors").await;
    let orders = provision(&moto, "orders-team", "Orders Team").await;
    let contractors = provision(&moto, "contractors", "Contractors").await;
    let pusher = pusher(&pool, &moto, &proxy).await;
    let id = approved(&pool, vec![ChangeItem::AddBinding(binding("orders-team"))]).await;
    push(&pool, &pusher, id).await;
    let checker = Actor::system("test");
    assert_eq!(pusher.check_drift(&checker).await.unwrap().1, vec![]);

    // Someone assigns the contractors to the permission set in the AWS console.
    let sso = &direct.ssoadmin;
    let instance = sso.list_instances().send().await.unwrap().instances()[0]
        .instance_arn()
        .unwrap()
        .to_string();
    let ps = sso
        .list_permission_sets()
        .instance_arn(&instance)
        .send()
        .await
        .unwrap()
        .permission_sets()[0]
        .clone();
    sso.create_account_assignment()
        .instance_arn(&instance)
        .target_id(ACCOUNT)
        .target_type(TargetType::AwsAccount)
        .permission_set_arn(&ps)
        .principal_type(PrincipalType::Group)
        .principal_id(&contractors)
        .send()
        .await
        .unwrap();

    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item.subject, role().to_string());
    assert_eq!(item.kind, "account assignment added outside Gatehouse");
    assert_eq!(
        item.actual,
        "group Contractors assigned in account 123456789012"
    );
    assert_eq!(item.desired, "not assigned");
    // Adopting it would bind the contractors through a reviewed change set.
    assert_eq!(
        item.adopt,
        vec![ChangeItem::AddBinding(binding("contractors"))]
    );

    // The revert is reviewed, then pushed: only the hand-made assignment goes.
    let revert = approved(&pool, vec![item.revert.clone().expect("a push mends it")]).await;
    assert_eq!(
        push(&pool, &pusher, revert).await,
        ["DeleteAccountAssignment"]
    );
    assert_eq!(assigned(&direct).await, std::slice::from_ref(&orders));
    assert_eq!(pusher.check_drift(&checker).await.unwrap().1, vec![]);

    // Someone deletes the permission set: drift; the reviewed revert makes it again, with
    // its assignment (and the pusher forgets the old permission set's ARN).
    sso.delete_permission_set()
        .instance_arn(&instance)
        .permission_set_arn(&ps)
        .send()
        .await
        .unwrap();
    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, ["permission set deleted"], "{items:?}");
    let revert = approved(
        &pool,
        vec![items[0].revert.clone().expect("a push mends it")],
    )
    .await;
    assert_eq!(
        push(&pool, &pusher, revert).await,
        ["CreatePermissionSet", "CreateAccountAssignment"]
    );
    assert_eq!(assigned(&direct).await, [orders]);
    assert_eq!(pusher.check_drift(&checker).await.unwrap().1, vec![]);
}

#[tokio::test]
async fn a_group_missing_from_the_identity_store_is_refused_in_the_plan_and_nothing_is_written() {
    let pool = migrated_database().await;
    let moto = start_moto().await;
    let proxy = AwsProxy::start(&moto.1).await;
    directory_group(&pool, "payments-admins", "Payments Admins").await;
    let pusher = pusher(&pool, &moto, &proxy).await;
    let id = approved(
        &pool,
        vec![ChangeItem::AddBinding(binding("payments-admins"))],
    )
    .await;

    let err = pusher.plan(id).await.unwrap_err().to_string();
    assert!(
        err.contains("group Payments Admins is not in the IAM Identity Center identity store")
            && err.contains("provision"),
        "{err}"
    );
    let err = pusher
        .begin(&person(1, "Ada Admin"), id)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Payments Admins"), "{err}");
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());
    let mut conn = pool.acquire().await.unwrap();
    let state = store::change_set(&mut conn, id, false)
        .await
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(
        state,
        State::Approved,
        "still approved, ready once provisioned"
    );
}

#[tokio::test]
async fn a_persons_request_becomes_a_user_assignment_once_they_are_provisioned() {
    let pool = migrated_database().await;
    let moto = start_moto().await;
    let proxy = AwsProxy::start(&moto.1).await;
    let direct = moto.clients().await;
    sqlx::query(
        "INSERT INTO directory_people (source, object_id, directory_ref, display_name, user_principal_name)
         VALUES ('file', 'p-nora', 'p-nora', 'Nora Nobody', 'nora.nobody@contoso.test')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let pusher = pusher(&pool, &moto, &proxy).await;
    let nora = Binding {
        group: GroupRef::person("file", "p-nora"),
        role: role(),
    };
    let id = approved(&pool, vec![ChangeItem::AddBinding(nora.clone())]).await;

    // Not in the identity store yet: refused by name, nothing written.
    let err = pusher.plan(id).await.unwrap_err().to_string();
    assert!(
        err.contains("Nora Nobody is not in the IAM Identity Center identity store"),
        "{err}"
    );
    assert!(proxy.writes().is_empty(), "{:?}", proxy.writes());

    // SCIM provisions her, her user principal name as user name: a user assignment.
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/scim/v2/Users", moto.1))
        .json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "nora.nobody@contoso.test",
            "displayName": "Nora Nobody",
        }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = created["id"].as_str().unwrap().to_string();
    let plan = pusher.plan(id).await.unwrap();
    assert_eq!(
        plan.iter().map(|s| s.call.summary()).collect::<Vec<_>>(),
        [
            "create permission set orders-readers, tagged gatehouse:managed=true",
            "assign user Nora Nobody to permission set orders-readers in account 123456789012",
        ]
    );
    assert_eq!(
        push(&pool, &pusher, id).await,
        ["CreatePermissionSet", "CreateAccountAssignment"]
    );
    assert_eq!(assigned(&direct).await, [user_id]);

    // Her access ends: the revocation deletes the user's assignment.
    let id = approved(&pool, vec![ChangeItem::RemoveBinding(nora)]).await;
    assert_eq!(push(&pool, &pusher, id).await, ["DeleteAccountAssignment"]);
    assert!(assigned(&direct).await.is_empty());
}

/// The service principal of the Entra enterprise application for AWS.
const APP: &str = "7c1e9a52-0d3b-4f6e-8a21-5b9c0e4d7f10";
const ORDERS: &str = "0f3c2b1a-1111-4a5b-8c9d-0e1f2a3b4c5d";
const CONTRACTORS: &str = "9a8b7c6d-2222-4e5f-8a9b-0c1d2e3f4a5b";

fn entra_binding(group: &str) -> Binding {
    Binding {
        group: GroupRef::group("graph", group),
        role: role(),
    }
}

fn entra_group(id: &str, name: &str) -> FakeGroup {
    FakeGroup {
        id: id.into(),
        display_name: name.into(),
        description: None,
        mail: None,
        members: Vec::new(),
        nested: Vec::new(),
    }
}

#[tokio::test]
async fn saml_bindings_become_app_role_assignments_and_roles_trust_only_the_saml_provider() {
    let pool = migrated_database().await;
    let moto = start_moto().await;
    let proxy = AwsProxy::start(&moto.1).await;
    let direct = moto.clients().await;
    let graph = GraphFake::start().await;
    graph.add_group(entra_group(ORDERS, "Orders Team"));
    graph.add_group(entra_group(CONTRACTORS, "Contractors"));
    graph.add_service_principal(APP);
    directory_group_in(&pool, "graph", ORDERS, "Orders Team").await;
    directory_group_in(&pool, "graph", CONTRACTORS, "Contractors").await;
    let client = GraphDirectory::new(graph.settings()).unwrap();
    let pusher = pusher_in(&pool, &moto, &proxy, Enforcement::Saml)
        .await
        .with_graph(Some(Arc::new(client)));
    let value =
        format!("arn:aws:iam::{ACCOUNT}:role/{ROLE},arn:aws:iam::{ACCOUNT}:saml-provider/EntraID");

    // A binding alone: the role (its ARN is the app role's value), the app role, the
    // assignment; the directory writes sit in the plan beside the AWS call.
    let id = approved(&pool, vec![ChangeItem::AddBinding(entra_binding(ORDERS))]).await;
    let plan: Vec<String> = pusher
        .plan(id)
        .await
        .unwrap()
        .iter()
        .map(|s| format!("{}: {}", s.target, s.call.summary()))
        .collect();
    assert_eq!(
        plan,
        [
            format!("{ACCOUNT}/us-east-1: create role /{ROLE}, tagged gatehouse:managed=true"),
            format!("entra: add app role {ROLE} ({value}) to the Entra enterprise application for AWS"),
            format!("entra: assign group Orders Team the app role arn:aws:iam::{ACCOUNT}:role/{ROLE} in Entra ID"),
        ]
    );
    // Graph throttles the push's first directory call: it waits and tries again.
    graph.throttle_next(1, Some(0));
    assert_eq!(
        push(&pool, &pusher, id).await,
        [
            "CreateRole",
            "UpdateServicePrincipal",
            "CreateAppRoleAssignment"
        ]
    );
    assert_eq!(
        graph.app_role_assignments(APP),
        [(value.clone(), ORDERS.to_string())]
    );
    // Read back: nothing left to do, in AWS or in Entra.
    assert!(pusher.plan(id).await.unwrap().is_empty());

    // The role trusts only the SAML provider, for AWS's sign-in audience.
    let trust = |direct: AwsClients| async move {
        let role = direct.iam.get_role().role_name(ROLE).send().await.unwrap();
        gatehouse::catalog::iam::decode_policy(
            role.role().unwrap().assume_role_policy_document().unwrap(),
        )
        .unwrap()
    };
    let written = trust(direct.clone()).await;
    let statement = &written["Statement"][0];
    assert_eq!(
        statement["Principal"]["Federated"],
        format!("arn:aws:iam::{ACCOUNT}:saml-provider/EntraID")
    );
    assert_eq!(statement["Action"], "sts:AssumeRoleWithSAML");
    assert_eq!(
        statement["Condition"]["StringEquals"]["SAML:aud"],
        "https://signin.aws.amazon.com/saml"
    );

    // By hand: the contractors get the app role in Entra, and the whole account may assume
    // the role in AWS. Both are drift; the reviewed revert undoes both.
    graph.assign_by_hand(APP, &value, CONTRACTORS);
    let open = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    direct
        .iam
        .update_assume_role_policy()
        .role_name(ROLE)
        .policy_document(open.to_string())
        .send()
        .await
        .unwrap();
    let checker = Actor::system("test");
    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "trust policy changed outside Gatehouse",
            "app role assignment added outside Gatehouse"
        ],
        "{items:?}"
    );
    assert!(
        items[0].actual.contains(":root") && items[0].desired.contains("saml-provider/EntraID")
    );
    assert!(items[1].actual.contains("group Contractors assigned"));
    assert_eq!(
        items[1].adopt,
        vec![ChangeItem::AddBinding(entra_binding(CONTRACTORS))]
    );
    let revert = approved(
        &pool,
        vec![items[0].revert.clone().expect("a push mends it")],
    )
    .await;
    assert_eq!(
        push(&pool, &pusher, revert).await,
        ["UpdateAssumeRolePolicy", "DeleteAppRoleAssignment"]
    );
    assert_eq!(trust(direct.clone()).await, written);
    assert_eq!(
        graph.app_role_assignments(APP),
        [(value.clone(), ORDERS.to_string())]
    );
    assert_eq!(pusher.check_drift(&checker).await.unwrap().1, vec![]);

    // Revoking the binding removes the assignment.
    let id = approved(
        &pool,
        vec![ChangeItem::RemoveBinding(entra_binding(ORDERS))],
    )
    .await;
    assert_eq!(push(&pool, &pusher, id).await, ["DeleteAppRoleAssignment"]);
    assert!(graph.app_role_assignments(APP).is_empty());
}
