//! Two replicas on one database: a scheduled job (the catalog sync, the drift check) is claimed
//! by one of them per period, however their timers fall.

mod common;

use std::time::{Duration, Instant};

use gatehouse::schedule::claim;

#[tokio::test]
async fn a_scheduled_job_runs_once_per_period_across_two_replicas() {
    let pool = common::migrated_database().await;
    let every = Duration::from_millis(400);
    let replica = |name: &'static str, offset: Duration| {
        let pool = pool.clone();
        tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut ran = Vec::new();
            // Each replica ticks twice as often as the period: without the claim, every tick of
            // both would run the job.
            for _ in 0..10 {
                if claim(&pool, "drift-check", name, every).await.unwrap() {
                    ran.push(Instant::now());
                }
                tokio::time::sleep(every / 2).await;
            }
            ran
        })
    };
    let (a, b) = (
        replica("replica-a", Duration::ZERO),
        replica("replica-b", Duration::from_millis(70)),
    );
    let mut runs = a.await.unwrap();
    runs.extend(b.await.unwrap());
    runs.sort();
    assert!(runs.len() >= 3, "the job ran: {runs:?}");
    for pair in runs.windows(2) {
        let gap = pair[1] - pair[0];
        // A tenth of the period is the claim's own slack; a little more for the clocks.
        assert!(
            gap >= every.mul_f64(0.8),
            "two runs {gap:?} apart, in a period of {every:?}"
        );
    }
    // Another job has its own claim.
    assert!(claim(&pool, "catalog-sync", "replica-a", every)
        .await
        .unwrap());
    assert!(!claim(&pool, "catalog-sync", "replica-b", every)
        .await
        .unwrap());
}

/// An export whose rows are being hashed belongs to the process holding its lease: another
/// replica starting (or looking again) leaves it alone while the lease is live, takes it over
/// once it lapses (its process stopped), and two replicas looking at once take it once.
#[tokio::test]
async fn an_unfinished_export_is_taken_over_once_and_only_when_its_process_stopped() {
    use gatehouse::{
        audit::Actor,
        history::{export::Format, exports},
    };
    let pool = common::migrated_database().await;
    for i in 0..30 {
        gatehouse::audit::record(
            &pool,
            &Actor::system("test"),
            "test.event",
            Some(&format!("thing:{i}")),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    }
    let record = exports::create_export(
        &pool,
        &Actor::system("test"),
        &Default::default(),
        Format::Jsonl,
    )
    .await
    .unwrap();
    let manifest = "SELECT count(*) FROM audit_exports WHERE manifest IS NOT NULL";
    // Another replica is hashing it now.
    sqlx::query(
        "UPDATE audit_exports SET lease_owner = 'replica-b', lease_until = now() + interval '1 minute'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(exports::resume_unfinished(&pool, None).await.unwrap(), 0);
    assert!(
        exports::prepare(&pool, None, &record)
            .await
            .unwrap()
            .is_none(),
        "held by a live replica"
    );
    assert_eq!(common::count(&pool, manifest).await, 0);
    // That replica stopped: its lease lapses, and of two replicas looking at once, one takes it.
    sqlx::query("UPDATE audit_exports SET lease_until = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        exports::resume_unfinished(&pool, None),
        exports::resume_unfinished(&pool, None)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    for _ in 0..100 {
        if common::count(&pool, manifest).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        common::count(&pool, manifest).await,
        1,
        "the export was finished"
    );
    assert_eq!(exports::resume_unfinished(&pool, None).await.unwrap(), 0);
}
