//! What a reviewer approved is what reaches AWS, with moto_server and real PostgreSQL: one push
//! at a time per role, a run taken over after a crash plans again (it never restores an older
//! policy), and a change whose policy cannot be pushed is refused before it is approved.

use crate::common;

use std::{sync::Arc, time::Duration};

use app::domain::desired::ChangeItem;
use common::{
    approved, count, migrated_database, person,
    pushing::{binding, grant, push_process, push_settings, setup, state_of, through},
};
use gatehouse::{
    mappings::workflow::{self, Details},
    push::{self, Pusher},
};

fn remove(item: ChangeItem) -> ChangeItem {
    item.opposite()
}

async fn gatehouse_policy(aws: &gatehouse::aws::AwsClients, role: &str) -> Option<String> {
    let got = aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name("gatehouse-invoke")
        .send()
        .await
        .ok()?;
    Some(urlencoding_decode(got.policy_document()))
}

fn urlencoding_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn two_pushes_on_one_role_never_interleave() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    let first = approved(
        &pool,
        vec![
            binding("orders-readers"),
            grant("orders-readers", &api_id, "GET"),
        ],
    )
    .await;
    let second = approved(&pool, vec![grant("orders-readers", &api_id, "POST")]).await;
    let pusher =
        Arc::new(Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await);
    let ada = person(1, "Ada Admin");

    // Both begun at once: exactly one gets the role.
    let (a, b) = tokio::join!(pusher.begin(&ada, first), pusher.begin(&ada, second));
    let (won, lost) = match (a, b) {
        (Ok(Some(run)), Err(e)) => (run, e.to_string()),
        (Err(e), Ok(Some(run))) => (run, e.to_string()),
        other => panic!("exactly one push may begin: {other:?}"),
    };
    assert!(
        lost.contains("one push at a time") && lost.contains("orders-readers"),
        "{lost}"
    );
    assert!(pusher.execute(won).await.unwrap().succeeded);
    // Once it has finished, the other may go.
    let other = if state_of(&pool, first).await == app::domain::change_set::State::Pushed {
        second
    } else {
        first
    };
    let run = pusher.begin(&ada, other).await.unwrap().unwrap();
    assert!(pusher.execute(run).await.unwrap().succeeded);
    let policy = gatehouse_policy(&direct, "orders-readers").await.unwrap();
    assert!(
        policy.contains("/prod/GET/orders") && policy.contains("/prod/POST/orders"),
        "{policy}"
    );
}

#[tokio::test]
async fn a_run_taken_over_after_a_revocation_plans_again_and_does_not_restore_the_older_policy() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    let get = grant("orders-readers", &api_id, "GET");
    let first = approved(&pool, vec![binding("orders-readers"), get.clone()]).await;
    // The deployment hangs, so the process is mid-push when it is killed.
    proxy.fault(
        "CreateDeployment",
        common::aws_proxy::Fault::Hang(Duration::from_secs(20)),
    );
    let mut child = push_process(&pool, &proxy, first);
    let sql = "SELECT count(*) FROM push_steps WHERE operation = 'CreateDeployment' AND state = 'running'";
    for _ in 0..300 {
        if count(&pool, sql).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&pool, sql).await,
        1,
        "the push did not reach its deployment"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let run: i64 = count(&pool, "SELECT id FROM push_runs").await;

    // Meanwhile GET is revoked and POST granted instead, and approved.
    let second = approved(
        &pool,
        vec![remove(get), grant("orders-readers", &api_id, "POST")],
    )
    .await;
    let other = Arc::new(Pusher::new(pool.clone(), &through(&moto, &proxy), push_settings()).await);
    let ada = person(1, "Ada Admin");
    let refused = other.begin(&ada, second).await.unwrap_err().to_string();
    assert!(
        refused.contains(&format!("push {run} of change set {first}")),
        "{refused}"
    );

    // The older run, taken over, writes what is approved now: POST, not GET.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(push::store::orphans(&pool).await.unwrap(), [run]);
    let outcome = other.execute(run).await.unwrap();
    assert!(outcome.succeeded, "{outcome:?}");
    let policy = gatehouse_policy(&direct, "orders-readers").await.unwrap();
    assert!(
        policy.contains("/prod/POST/orders") && !policy.contains("/prod/GET/orders"),
        "the taken-over run restored the revoked grant: {policy}"
    );
    let note = push::store::run(&pool, run)
        .await
        .unwrap()
        .unwrap()
        .replan_note
        .unwrap();
    assert!(note.contains("planned again"), "{note}");
    // The newer change set now finds AWS as it wants it.
    let run = other.begin(&ada, second).await.unwrap();
    if let Some(run) = run {
        let outcome = other.execute(run).await.unwrap();
        assert!(outcome.succeeded, "{outcome:?}");
        assert_eq!(outcome.calls_made, 0, "nothing was left to write");
    }
    assert!(other.plan(second).await.unwrap().is_empty());
}

/// A grant of `GET /r-NNN…` on the orders role: long paths fill the policy quickly.
fn big_grant(n: usize) -> ChangeItem {
    use app::domain::grant::{Grant, GrantInput};
    ChangeItem::AddGrant(
        Grant::parse(&GrantInput {
            role_arn: common::pushing::role_arn("orders-readers"),
            account: common::pushing::ACCOUNT.into(),
            region: "us-east-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: "GET".into(),
            path: format!("/reports/{n:04}/{}", "segment".repeat(8)),
        })
        .unwrap(),
    )
}

#[tokio::test]
async fn a_change_that_would_make_a_policy_unpushable_is_refused_and_changes_nothing() {
    let pool = migrated_database().await;
    let ada = person(1, "Ada Admin");
    // Adding grants one by one: the one that would pass IAM's 10,240 characters is refused.
    let mut added = 0;
    let refused = loop {
        match workflow::edit(&pool, &ada, big_grant(added)).await {
            Ok(_) => added += 1,
            Err(e) => break e.to_string(),
        }
        assert!(added < 200, "never refused");
    };
    assert!(
        refused.contains("10240") && refused.contains("orders-readers"),
        "{refused}"
    );
    let items: i64 = count(
        &pool,
        "SELECT jsonb_array_length(items)::bigint FROM change_sets",
    )
    .await;
    assert_eq!(items, added as i64, "the refused edit changed nothing");

    // A draft that fits when written, but not once another change set has filled the role, is
    // refused at submit: nothing unpushable reaches review.
    let half = added / 2 + 1;
    let draft_items: i64 = count(&pool, "SELECT id FROM change_sets").await;
    for _ in half..added {
        workflow::drop_item(&pool, &ada, draft_items, half)
            .await
            .unwrap();
    }
    let bob = person(3, "Bob Builder");
    let mut bob_draft = 0;
    for n in 0..half {
        bob_draft = workflow::edit(&pool, &bob, big_grant(1000 + n))
            .await
            .unwrap();
    }
    let details = || Details {
        title: "Reports for the orders team".into(),
        justification: "The orders team reads the monthly reports.".into(),
        ticket: String::new(),
        ..Details::default()
    };
    workflow::save_details(&pool, &bob, bob_draft, details(), true)
        .await
        .unwrap();
    workflow::review(&pool, &person(2, "Rita Reviewer"), bob_draft, true, "ok", 1)
        .await
        .unwrap();
    let err = workflow::save_details(&pool, &ada, draft_items, details(), true)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot be pushed") && err.contains("10240"),
        "{err}"
    );
    assert_eq!(
        state_of(&pool, draft_items).await,
        app::domain::change_set::State::Draft,
        "still a draft"
    );
}
