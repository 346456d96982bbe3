//! When an admin last ended each person's sessions, kept so a request does not ask the database
//! on every page (a trigger on `users` notifies [`super::SESSIONS_ENDED`] when it changes).

use sqlx::PgPool;
use uuid::Uuid;

use super::kept::Kept;

pub struct SessionEnds(Kept<(Uuid, Uuid), Option<f64>>);

impl Default for SessionEnds {
    fn default() -> Self {
        // One entry per person who used Gatehouse lately.
        SessionEnds(Kept::new(100_000))
    }
}

impl SessionEnds {
    /// When the person's sessions were last ended (unix seconds), if ever.
    pub async fn get(&self, pool: &PgPool, tid: Uuid, oid: Uuid) -> sqlx::Result<Option<f64>> {
        let ticket = match self.0.get(&(tid, oid)) {
            Ok(ended) => return Ok(ended),
            Err(ticket) => ticket,
        };
        let ended = crate::backend::users::sessions_ended_at(pool, tid, oid).await?;
        self.0.keep(ticket, (tid, oid), ended);
        Ok(ended)
    }

    /// Sessions were ended (here, or anywhere as a notification says).
    pub fn forget_all(&self) {
        self.0.forget_all();
    }

    pub(super) fn set_listening(&self, listening: bool) {
        self.0.set_listening(listening);
    }
}
