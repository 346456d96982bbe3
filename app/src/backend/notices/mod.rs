//! What this process keeps in memory of the database's rows, and the notifications that make it
//! forget: every replica listens on one connection of its own, so a change made through any of
//! them (or by hand in the database: triggers send the notifications) is seen by all at their
//! next request. While the listening connection is down nothing is kept, and each request asks
//! the database as if there were no memory.

pub mod kept;
pub mod session_ends;
pub mod session_store;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::PgPool;

use session_ends::SessionEnds;
use session_store::KeptSessions;

/// A person's sessions were ended (`users.sessions_ended_at` changed); the payload is `tid:oid`.
pub const SESSIONS_ENDED: &str = "gatehouse_sessions_ended";
/// A session was updated or deleted; the payload is its id.
pub const SESSIONS_CHANGED: &str = "gatehouse_sessions_changed";

/// What this process keeps of sessions: one in `AppState`, shared by the session store (what
/// it read), the session check (when sessions were ended) and the listener that makes both forget.
#[derive(Default)]
pub struct SessionMemory {
    pub ends: SessionEnds,
    pub sessions: KeptSessions,
}

impl SessionMemory {
    fn set_listening(&self, on: bool) {
        self.ends.set_listening(on);
        self.sessions.set_listening(on);
    }

    fn heard(&self, channel: &str, payload: &str) {
        match channel {
            SESSIONS_CHANGED => self.sessions.forget(payload),
            _ => self.ends.forget_all(),
        }
    }

    /// Listens on a connection of its own (not one of the request pool's), again after a
    /// failure.
    pub fn spawn_listener(self: Arc<Self>, pool: &PgPool) {
        let own = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with((*pool.connect_options()).clone());
        tokio::spawn(async move {
            loop {
                match listen(&own).await {
                    Ok(mut listener) => {
                        self.set_listening(true);
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(notice)) => self.heard(notice.channel(), notice.payload()),
                                // The connection was lost and made good again: what was said
                                // meanwhile is lost, so everything kept is read again.
                                Ok(None) => self.set_listening(true),
                                Err(e) => {
                                    tracing::warn!(error = %e, "stopped listening for changes to sessions");
                                    break;
                                }
                            }
                        }
                        self.set_listening(false);
                    }
                    Err(e) => tracing::warn!(
                        error = %e,
                        "cannot listen for changes to sessions; reading them on every request"
                    ),
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        });
    }
}

async fn listen(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen_all([SESSIONS_ENDED, SESSIONS_CHANGED])
        .await?;
    Ok(listener)
}
