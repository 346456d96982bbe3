//! The session store, with the sessions read lately kept in memory: a page does not load its
//! session from the database on every request. A trigger on `tower_sessions.session` notifies
//! [`super::SESSIONS_CHANGED`] with the id of every session updated or deleted (a sign-out, an
//! end, a refresh on another replica), and every process forgets it.

use std::sync::Arc;

use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};
use tower_sessions_sqlx_store::PostgresStore;

use super::{kept::Kept, SessionMemory};

#[derive(Clone)]
pub struct KeptSessionStore {
    store: PostgresStore,
    memory: Arc<SessionMemory>,
}

pub struct KeptSessions(Kept<Id, Record>);

impl Default for KeptSessions {
    fn default() -> Self {
        // One entry per session in use lately (a record is a few hundred bytes).
        KeptSessions(Kept::new(100_000))
    }
}

impl KeptSessions {
    pub(super) fn forget(&self, id: &str) {
        match id.parse::<Id>() {
            Ok(id) => self.0.forget(&id),
            Err(_) => self.0.forget_all(),
        }
    }

    pub(super) fn set_listening(&self, listening: bool) {
        self.0.set_listening(listening);
    }
}

impl KeptSessionStore {
    pub fn new(store: PostgresStore, memory: Arc<SessionMemory>) -> Self {
        KeptSessionStore { store, memory }
    }

    fn kept(&self) -> &Kept<Id, Record> {
        &self.memory.sessions.0
    }
}

impl std::fmt::Debug for KeptSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptSessionStore").finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl SessionStore for KeptSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.store.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // Its own update is also notified: the next request reads it back once.
        self.kept().forget(&record.id);
        self.store.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let ticket = match self.kept().get(id) {
            Ok(record) if record.expiry_date > time::OffsetDateTime::now_utc() => {
                return Ok(Some(record))
            }
            Ok(_) => return Ok(None),
            Err(ticket) => ticket,
        };
        let record = self.store.load(id).await?;
        if let Some(record) = &record {
            self.kept().keep(ticket, *id, record.clone());
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.kept().forget(id);
        self.store.delete(id).await
    }
}
