//! Drift without false alarms, on moto: a change set approved but not yet pushed is "pending
//! push" (its new role is not "deleted", its grant not a policy difference); a hand edit on the
//! same role is still drift, against the state last pushed; a role that lost Gatehouse's tag,
//! and an API that cannot be read, are one item each while the rest of the check completes.

use gatehouse::{audit::Actor, push::Pusher};

use crate::common::{
    approved,
    aws_proxy::Fault,
    pushing::{
        binding, grant, orders_readers_get, push_planned, push_settings, role_arn, setup, through,
        ACCOUNT,
    },
};

fn kinds(items: &[gatehouse::push::drift::DriftItem]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|i| (i.subject.clone(), i.kind.clone()))
        .collect()
}

#[tokio::test]
async fn approved_but_unpushed_is_pending_not_drift_and_one_bad_role_does_not_stop_the_check() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;
    let checker = Actor::system("test");
    let pushed = approved(
        &pool,
        vec![
            binding("orders-readers"),
            grant("orders-readers", &api_id, "GET"),
            binding("orders-auditors"),
            grant("orders-auditors", &api_id, "GET"),
        ],
    )
    .await;
    push_planned(&pusher, pushed).await;
    assert_eq!(pusher.check_drift(&checker).await.unwrap().1, vec![]);

    // Approved, not pushed: POST for the readers, and a role that does not exist yet.
    let waiting = approved(
        &pool,
        vec![
            grant("orders-readers", &api_id, "POST"),
            binding("orders-writers"),
            grant("orders-writers", &api_id, "POST"),
        ],
    )
    .await;
    let (id, items) = pusher.check_drift(&checker).await.unwrap();
    assert_eq!(items, vec![], "waiting for a push is not drift");
    let report = gatehouse::push::drift::latest(&pool)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.id, id);
    let pending = report.pending.expect("pending push").0;
    let sets: Vec<(i64, &str)> = pending
        .change_sets
        .iter()
        .map(|c| (c.id, c.state.as_str()))
        .collect();
    assert_eq!(sets, [(waiting, "approved")]);
    assert!(
        pending
            .calls
            .iter()
            .any(|c| c.starts_with("create role /orders-writers")),
        "{pending:#?}"
    );
    assert!(
        pending
            .calls
            .iter()
            .any(|c| c.starts_with("put inline policy gatehouse-invoke on role orders-readers")),
        "{pending:#?}"
    );

    // A hand edit on a role with a pending change is drift all the same, against what was
    // pushed (GET only), not what waits (GET and POST).
    let get = format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/GET/orders");
    let delete = format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/DELETE/orders");
    let edited = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "GatehouseInvoke",
        "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": [get, delete]}]});
    direct
        .iam
        .put_role_policy()
        .role_name("orders-readers")
        .policy_name("gatehouse-invoke")
        .policy_document(edited.to_string())
        .send()
        .await
        .unwrap();
    // And someone takes Gatehouse's tag off another role.
    direct
        .iam
        .untag_role()
        .role_name("orders-auditors")
        .tag_keys("gatehouse:managed")
        .send()
        .await
        .unwrap();
    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    assert_eq!(
        kinds(&items),
        [
            (
                role_arn("orders-auditors"),
                "role no longer managed by Gatehouse".to_string()
            ),
            (
                role_arn("orders-readers"),
                "policy edited outside Gatehouse".to_string()
            ),
        ],
        "{items:#?}"
    );
    let edit = &items[1];
    assert!(edit.actual.contains("/DELETE/orders"));
    assert!(edit.desired.contains("/GET/orders") && !edit.desired.contains("/POST/orders"));
    assert_eq!(items[0].revert, None, "a push cannot mend a missing tag");
    assert!(items[0].fix.contains("tag the role gatehouse:managed=true"));

    // An API that cannot be read is one item; the roles are still compared.
    proxy.fault("GetRestApi", Fault::Refuse);
    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    let found = kinds(&items);
    assert!(
        found.contains(&(
            format!("API {api_id} (123456789012/us-east-1)"),
            "could not be read".to_string()
        )),
        "{found:#?}"
    );
    assert_eq!(found.len(), 3, "{found:#?}");

    // Pushed: nothing waits any more, and the push overwrote the hand edit.
    push_planned(&pusher, waiting).await;
    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    assert_eq!(
        kinds(&items),
        [(
            role_arn("orders-auditors"),
            "role no longer managed by Gatehouse".to_string()
        )]
    );
    let report = gatehouse::push::drift::latest(&pool)
        .await
        .unwrap()
        .unwrap();
    assert!(report.pending.is_none(), "{:?}", report.pending);
}

#[tokio::test]
async fn a_managed_policy_attached_by_hand_that_grants_a_route_is_drift() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    // The catalog knows the API's routes (GET and POST /orders), the directory Alice, in the
    // orders team through On-call.
    let (syncer, _file) = super::explain::directory_syncer(&pool, &moto, &api_id).await;
    for catalog in [
        gatehouse::catalog::Catalog::Apis,
        gatehouse::catalog::Catalog::Groups,
    ] {
        syncer.sync(&Actor::system("test"), catalog).await.unwrap();
    }
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await;
    let checker = Actor::system("test");
    let id = orders_readers_get(&pool, &api_id).await;
    push_planned(&pusher, id).await;
    assert_eq!(pusher.check_drift(&checker).await.unwrap().1, vec![]);

    // Someone attaches a managed policy that lets the role call every method of /orders.
    let document = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "OrdersAll",
        "Effect": "Allow", "Action": "execute-api:Invoke",
        "Resource": format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/*/orders")}]});
    let policy = direct
        .iam
        .create_policy()
        .policy_name("orders-everything")
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_string();
    direct
        .iam
        .attach_role_policy()
        .role_name("orders-readers")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let (_, items) = pusher.check_drift(&checker).await.unwrap();
    assert_eq!(
        kinds(&items),
        [(
            role_arn("orders-readers"),
            "access granted outside Gatehouse".to_string()
        )],
        "{items:#?}"
    );
    let item = &items[0];
    assert_eq!(
        item.actual,
        format!(
            "POST /orders in prod of API {api_id}: allowed by managed policy {policy_arn} (statement OrdersAll)"
        )
    );
    assert_eq!(item.revert, None);
    // Alice's page marks it: allowed outside Gatehouse, beside her approved GET.
    let desired = {
        let mut conn = pool.acquire().await.unwrap();
        gatehouse::mappings::store::desired_state(&mut conn)
            .await
            .unwrap()
    };
    let alice = gatehouse::person_access::person_with(
        &pool,
        &desired,
        &moto.settings(),
        "file",
        "alice",
        None,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        alice.outside,
        [format!(
            "role orders-readers: POST /orders in prod of API {api_id}: allowed by managed policy {policy_arn} (statement OrdersAll)"
        )]
    );
    let approved: Vec<String> = alice
        .routes
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(approved, ["GET /orders"]);
    // Nothing Gatehouse owns was read as its own: a push still plans nothing.
    assert_eq!(pusher.plan(id).await.unwrap(), vec![]);
}
