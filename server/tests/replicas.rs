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
