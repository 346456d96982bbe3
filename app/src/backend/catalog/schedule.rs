//! The periodic sync: every catalog, every interval, as the system, by one replica per
//! interval. A run another process already holds is skipped, not queued.

use std::{sync::Arc, time::Duration};

use super::{SyncError, Syncer};
use crate::backend::audit::Actor;

pub fn spawn(syncer: Arc<Syncer>, every: Duration) {
    tokio::spawn(async move {
        // The first run waits one interval: start-up is not a reason to sync.
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            // One replica syncs per period.
            if !crate::backend::schedule::ours(&syncer.pool, "catalog-sync", every).await {
                continue;
            }
            let actor = Actor::system("schedule");
            for (catalog, outcome) in syncer.sync_all(&actor).await {
                match outcome {
                    Ok(_) | Err(SyncError::AlreadyRunning) => {}
                    // Already recorded in the run's row and the audit log.
                    Err(e) => {
                        tracing::warn!(catalog = catalog.name(), error = %e, "scheduled sync failed")
                    }
                }
            }
        }
    });
}
