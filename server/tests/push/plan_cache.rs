//! The change set page's plan never waits on AWS: the first look starts a read in the background
//! and answers at once (even while AWS takes seconds to answer), a look meanwhile starts no
//! second read, a fresh plan is shown without any AWS call, and a push that ended after the plan
//! was read makes it stale, so it is read again and shows what is left to do.

use std::{sync::Arc, time::Duration};

use gatehouse::push::{plan_cache::StoredPlan, store, Pusher};

use crate::common::{
    aws_proxy::Fault,
    person,
    pushing::{orders_readers_get, push_settings, setup, through},
};

/// Looks at the plan until no read is going on; answers what is then shown.
async fn settled(pusher: &Arc<Pusher>, id: i64) -> StoredPlan {
    for _ in 0..200 {
        let (stored, reading) = pusher.plan_to_show(id, None).await.unwrap();
        if let (Some(plan), false) = (stored, reading) {
            return plan;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the plan of change set {id} was never read");
}

fn operations(plan: &StoredPlan) -> Vec<String> {
    plan.steps
        .as_ref()
        .expect("a plan, not an error")
        .iter()
        .map(|s| s.operation.clone())
        .collect()
}

#[tokio::test]
async fn the_plan_is_shown_without_waiting_on_aws_and_read_again_after_a_push() {
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    let pusher =
        Arc::new(Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await);

    // AWS takes 3 s to answer the role read: the first look answers at once, with no plan yet
    // and a read going on; a second look starts no second read.
    proxy.fault("GetRole", Fault::Hang(Duration::from_secs(3)));
    let first = tokio::time::timeout(Duration::from_millis(1500), pusher.plan_to_show(id, None))
        .await
        .expect("the page waited on AWS")
        .unwrap();
    assert_eq!(first, (None, true));
    let again = tokio::time::timeout(Duration::from_millis(1500), pusher.plan_to_show(id, None))
        .await
        .expect("the page waited on AWS")
        .unwrap();
    assert_eq!(again, (None, true));

    let plan = settled(&pusher, id).await;
    assert_eq!(
        operations(&plan),
        [
            "CreateRole",
            "PutRolePolicy",
            "UpdateRestApi",
            "CreateDeployment"
        ]
    );
    assert_eq!(proxy.count("GetRole"), 1, "one read: {:?}", proxy.calls());

    // Fresh: shown as stored, without an AWS call.
    let calls = proxy.calls().len();
    let (shown, reading) = pusher.plan_to_show(id, None).await.unwrap();
    assert_eq!(shown.as_ref(), Some(&plan));
    assert!(!reading);
    assert_eq!(proxy.calls().len(), calls, "{:?}", proxy.calls());

    // A push that creates the role and then fails: the plan read before it is stale, shown
    // while AWS is read again, then replaced by what is left (the role exists now).
    proxy.fault("PutRolePolicy", Fault::Refuse);
    let run = pusher
        .begin(&person(1, "Ada Admin"), id)
        .await
        .unwrap()
        .unwrap();
    assert!(!pusher.execute(run).await.unwrap().succeeded);
    let ended = store::latest_run(&pool, id)
        .await
        .unwrap()
        .unwrap()
        .finished_at;
    assert!(ended.is_some());
    let (shown, reading) = pusher.plan_to_show(id, ended).await.unwrap();
    assert_eq!(
        shown.as_ref(),
        Some(&plan),
        "the last plan is shown meanwhile"
    );
    assert!(
        reading,
        "a push ended after the plan was read: it is read again"
    );
    let after = settled(&pusher, id).await;
    assert!(after.computed_at > plan.computed_at);
    assert_eq!(
        operations(&after),
        ["PutRolePolicy", "UpdateRestApi", "CreateDeployment"]
    );
}

#[tokio::test]
async fn aws_that_cannot_be_read_is_stored_as_the_reason_there_is_no_plan() {
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    let pusher =
        Arc::new(Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await);
    proxy.fault("GetRole", Fault::Refuse);
    let plan = settled(&pusher, id).await;
    assert_eq!(plan.steps, None);
    let error = plan.error.expect("why there is no plan");
    assert!(error.contains("orders-readers"), "{error}");
}
