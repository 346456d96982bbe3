//! Time-bound access against moto: at its end Gatehouse writes the revocation itself (approved
//! under the original approval), pushes it, and chains both in the audit log; a process that
//! stops halfway is followed by one that finishes it, and two replicas revoke once.

use std::{sync::Arc, time::Duration};

use app::domain::change_set::State;
use gatehouse::{
    expiry,
    mappings::workflow::{self, Details},
    push::Pusher,
};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::common::{
    aws_proxy::{AwsProxy, Fault},
    count, person,
    pushing::{binding, grant, push_planned, push_settings, setup, state_of, through},
    Moto,
};

/// Orders-readers bound and granted GET /orders until `ends` (typed as a person would), approved
/// by Rita and pushed.
async fn time_bound(pool: &PgPool, pusher: &Pusher, api_id: &str, ends: OffsetDateTime) -> i64 {
    let ada = person(1, "Ada Admin");
    let mut id = 0;
    for item in [
        binding("orders-readers"),
        grant("orders-readers", api_id, "GET"),
    ] {
        id = workflow::edit(pool, &ada, item).await.unwrap();
    }
    let details = Details {
        title: "Orders readers for the audit week".into(),
        justification: "The auditors read orders during the audit week only.".into(),
        access_ends: app::domain::expiry::field_value(ends),
        ..Details::default()
    };
    workflow::save_details(pool, &ada, id, details, true)
        .await
        .unwrap();
    let state = workflow::review(pool, &person(2, "Rita Reviewer"), id, true, "until then", 1)
        .await
        .unwrap();
    assert_eq!(state, State::Approved);
    push_planned(pusher, id).await;
    id
}

async fn pusher(pool: &PgPool, moto: &Moto, proxy: &AwsProxy) -> Arc<Pusher> {
    Arc::new(Pusher::new(pool.clone(), &through(moto, proxy), push_settings()).await)
}

/// The revocation of `id`, once written.
async fn revocation_of(pool: &PgPool, id: i64) -> Option<i64> {
    sqlx::query_scalar("SELECT id FROM change_sets WHERE revokes_change_set_id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .unwrap()
}

async fn wait_pushed(pool: &PgPool, id: i64, within: Duration) {
    let start = std::time::Instant::now();
    while state_of(pool, id).await != State::Pushed {
        if start.elapsed() > within {
            // What the push was doing, for the failure's message.
            let runs: Vec<serde_json::Value> = sqlx::query_scalar(
                "SELECT to_jsonb(r) || jsonb_build_object('steps',
                    (SELECT jsonb_agg(jsonb_build_array(s.seq, s.operation, s.state, s.error) ORDER BY s.seq)
                     FROM push_steps s WHERE s.run_id = r.id))
                 FROM push_runs r WHERE r.change_set_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .unwrap();
            panic!(
                "change set {id} is {:?}: runs {runs:?}",
                state_of(pool, id).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether AWS lets orders-readers call GET /orders: the API's resource policy names it.
async fn aws_allows(moto: &Moto, api_id: &str) -> bool {
    let direct = moto.clients().await;
    let api = direct
        .apigateway
        .get_rest_api()
        .rest_api_id(api_id)
        .send()
        .await
        .unwrap();
    api.policy()
        .is_some_and(|p| p.contains("orders-readers") && p.contains("GET/orders"))
}

/// One revocation written, one end recorded.
async fn revoked_once(pool: &PgPool) {
    let revocations = "SELECT count(*) FROM change_sets WHERE revokes_change_set_id IS NOT NULL";
    assert_eq!(count(pool, revocations).await, 1);
    let ends = "SELECT count(*) FROM audit_events WHERE action = 'access.expired'";
    assert_eq!(count(pool, ends).await, 1);
}

#[tokio::test]
async fn access_that_ends_is_revoked_in_aws_within_one_period_and_both_events_are_chained() {
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let pusher = pusher(&pool, &moto, &proxy).await;
    let now = OffsetDateTime::now_utc();
    let id = time_bound(&pool, &pusher, &api_id, now + time::Duration::hours(2)).await;
    assert!(aws_allows(&moto, &api_id).await);

    // Before the end: people are told once (within a day of it), nothing is revoked.
    let early = expiry::run_once(&pusher, now).await.unwrap();
    assert_eq!(early.warned, [id]);
    assert!(early.revoked.is_empty());
    assert!(expiry::run_once(&pusher, now)
        .await
        .unwrap()
        .warned
        .is_empty());

    // The end comes two seconds from now; the schedule runs every second.
    sqlx::query(
        "UPDATE change_sets SET access_ends_at = now() + interval '2 seconds' WHERE id = $1",
    )
    .bind(id)
    .execute(&pool)
    .await
    .unwrap();
    let writes_before = proxy.writes().len();
    expiry::spawn(pusher.clone(), Duration::from_secs(1));
    let start = std::time::Instant::now();
    let revocation = loop {
        if let Some(r) = revocation_of(&pool, id).await {
            break r;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "never revoked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    wait_pushed(&pool, revocation, Duration::from_secs(30)).await;
    // The end was 2 s after `start`; one period is 1 s; the push itself takes the rest.
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    assert!(!aws_allows(&moto, &api_id).await, "revoked in AWS");
    let writes: Vec<String> = proxy.writes()[writes_before..].to_vec();
    assert!(writes.contains(&"UpdateRestApi".to_string()), "{writes:?}");

    // The revocation: approved without a review of its own, the desired state without the items.
    let reviews = count(
        &pool,
        &format!("SELECT count(*) FROM reviews WHERE change_set_id = {revocation}"),
    )
    .await;
    assert_eq!(reviews, 0);
    assert_eq!(count(&pool, "SELECT count(*) FROM bindings").await, 0);
    assert_eq!(count(&pool, "SELECT count(*) FROM grants").await, 0);

    // Both events, in order, in one verified chain: the end, then what revoked it.
    let events: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action, subject FROM audit_events
         WHERE action IN ('access.ending', 'access.expired', 'change_set.applied', 'push.succeeded')
         ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let cs = |n: i64| Some(format!("change_set:{n}"));
    assert_eq!(
        events,
        [
            ("change_set.applied".into(), cs(id)),
            ("push.succeeded".into(), cs(id)),
            ("access.ending".into(), cs(id)),
            ("access.expired".into(), cs(id)),
            ("change_set.applied".into(), cs(revocation)),
            ("push.succeeded".into(), cs(revocation)),
        ]
    );
    let expired: serde_json::Value =
        sqlx::query_scalar("SELECT details FROM audit_events WHERE action = 'access.expired'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(expired["revocation"], revocation);
    assert_eq!(
        expired["approved_by"][0],
        "Rita Reviewer <Rita Reviewer@contoso.test>"
    );
    gatehouse::history::store::verify(&pool)
        .await
        .unwrap()
        .expect("the audit chain verifies");
}

#[tokio::test]
async fn a_process_stopped_halfway_is_followed_by_one_that_revokes_once() {
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let first = pusher(&pool, &moto, &proxy).await;
    let now = OffsetDateTime::now_utc();
    let ends = now + time::Duration::hours(1);
    let id = time_bound(&pool, &first, &api_id, ends).await;

    // The first process looks before the end (nothing to do) and again after it, and stops
    // while the revocation's push waits on AWS.
    assert!(expiry::run_once(&first, now)
        .await
        .unwrap()
        .revoked
        .is_empty());
    proxy.fault("UpdateRestApi", Fault::Hang(Duration::from_secs(60)));
    let updates_before = proxy.count("UpdateRestApi");
    let after = ends + time::Duration::minutes(1);
    let stopped = tokio::spawn({
        let first = first.clone();
        async move { expiry::run_once(&first, after).await }
    });
    let start = std::time::Instant::now();
    let revocation = loop {
        let running = count(&pool, "SELECT count(*) FROM push_runs r JOIN change_sets c ON c.id = r.change_set_id WHERE c.revokes_change_set_id IS NOT NULL AND r.state = 'running'").await;
        if running == 1 && proxy.count("UpdateRestApi") > updates_before {
            break revocation_of(&pool, id).await.unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the revocation's push never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stopped.abort();
    drop(first);

    // The next process: its period finds the revocation written and its push held by a lease
    // that lapses; the push resumer takes it over.
    let next = pusher(&pool, &moto, &proxy).await;
    next.clone().spawn_resumer();

    let period = expiry::run_once(&next, after + time::Duration::minutes(1))
        .await
        .unwrap();
    assert!(period.revoked.is_empty(), "{period:?}");
    wait_pushed(&pool, revocation, Duration::from_secs(30)).await;
    assert!(!aws_allows(&moto, &api_id).await);
    revoked_once(&pool).await;
}

#[tokio::test]
async fn two_replicas_at_the_same_moment_revoke_once() {
    let (pool, moto, proxy, _direct, api_id) = setup().await;
    let one = pusher(&pool, &moto, &proxy).await;
    let other = pusher(&pool, &moto, &proxy).await;
    let ends = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let id = time_bound(&pool, &one, &api_id, ends).await;
    let after = ends + time::Duration::seconds(1);
    let (a, b) = tokio::join!(
        expiry::run_once(&one, after),
        expiry::run_once(&other, after)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.revoked.len() + b.revoked.len(), 1, "{a:?} {b:?}");
    assert_eq!(
        a.warned.len() + b.warned.len(),
        0,
        "past its end: no warning"
    );
    let revocation = revocation_of(&pool, id).await.unwrap();
    wait_pushed(&pool, revocation, Duration::from_secs(30)).await;
    assert_eq!(
        count(
            &pool,
            &format!("SELECT count(*) FROM push_runs WHERE change_set_id = {revocation}")
        )
        .await,
        1
    );
    revoked_once(&pool).await;
    assert!(!aws_allows(&moto, &api_id).await);
    // Later periods find nothing more to do.
    let later = expiry::run_once(&one, after + time::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(later, expiry::Period::default());
}

#[tokio::test]
async fn an_end_that_cannot_work_is_refused_next_to_its_field_and_changes_nothing() {
    let (pool, ..) = setup().await;
    let ada = person(1, "Ada Admin");
    let id = workflow::edit(&pool, &ada, binding("orders-readers"))
        .await
        .unwrap();
    for (typed, says) in [
        ("yesterday", "is not a date"),
        ("2020-01-01T00:00", "at least 15 minutes"),
        ("2099-01-01T00:00", "at most 366 days"),
    ] {
        let details = Details {
            title: "Temporary".into(),
            justification: "Temporary access for the audit.".into(),
            access_ends: typed.into(),
            ..Details::default()
        };
        let Err(workflow::WorkflowError::Fields(fields)) =
            workflow::save_details(&pool, &ada, id, details, true).await
        else {
            panic!("`{typed}` was taken");
        };
        assert_eq!(fields[0].0, "access_ends");
        assert!(fields[0].1.contains(says), "{typed}: {fields:?}");
    }
    assert_eq!(state_of(&pool, id).await, State::Draft);
    let ends: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT access_ends_at FROM change_sets WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(ends, None);
}
