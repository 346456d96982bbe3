//! A map of answers read from the database, kept only while this process listens for the
//! notification that says they changed (see [`super::spawn_listener`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest an answer is kept, notification or not: a listening connection that died without
/// a word (no reset, no error) cannot leave a stale answer standing for longer.
pub const KEEP_FOR: Duration = Duration::from_secs(30);

pub struct Kept<K, V> {
    inner: Mutex<Inner<K, V>>,
    most: usize,
}

struct Inner<K, V> {
    listening: bool,
    /// Moves on with every forgetting: an answer read while it moved may be older than the
    /// change that moved it, and is not kept.
    epoch: u64,
    known: HashMap<K, (V, Instant)>,
}

/// Read the database, then keep the answer with [`Kept::keep`] under this.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ticket(u64);

impl<K: Eq + Hash, V: Clone> Kept<K, V> {
    /// Keeps at most `most` answers (beyond, it starts afresh).
    pub fn new(most: usize) -> Self {
        Kept {
            inner: Mutex::new(Inner {
                listening: false,
                epoch: 0,
                known: HashMap::new(),
            }),
            most,
        }
    }

    /// The kept answer, or the ticket to keep the one about to be read.
    pub fn get(&self, key: &K) -> Result<V, Ticket> {
        let inner = self.lock();
        match inner.known.get(key) {
            Some((value, at)) if inner.listening && at.elapsed() < KEEP_FOR => Ok(value.clone()),
            _ => Err(Ticket(inner.epoch)),
        }
    }

    /// Keeps an answer read after `ticket` was taken, unless something was forgotten since
    /// (or nothing is listening).
    pub fn keep(&self, ticket: Ticket, key: K, value: V) {
        let mut inner = self.lock();
        if inner.listening && inner.epoch == ticket.0 {
            if inner.known.len() >= self.most {
                inner.known.clear();
            }
            inner.known.insert(key, (value, Instant::now()));
        }
    }

    pub fn forget(&self, key: &K) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.known.remove(key);
    }

    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.epoch += 1;
        inner.known.clear();
    }

    /// Whether notifications can reach this process; either way what was kept is forgotten
    /// (those sent while it was not listening are lost).
    pub fn set_listening(&self, listening: bool) {
        let mut inner = self.lock();
        inner.listening = listening;
        inner.epoch += 1;
        inner.known.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // Everything kept can be read again: a panic elsewhere never leaves it wrong.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_only_while_listening_and_only_if_nothing_was_forgotten_meanwhile() {
        let kept: Kept<&str, i32> = Kept::new(10);
        let ticket = kept.get(&"ada").unwrap_err();
        kept.keep(ticket, "ada", 1);
        assert!(kept.get(&"ada").is_err(), "not listening: nothing kept");

        kept.set_listening(true);
        let ticket = kept.get(&"ada").unwrap_err();
        kept.keep(ticket, "ada", 1);
        assert_eq!(kept.get(&"ada"), Ok(1));

        // A read that began before a change was noticed is not kept: it may be older.
        let before_change = kept.get(&"sam").unwrap_err();
        kept.forget(&"ada");
        kept.keep(before_change, "sam", 2);
        assert!(kept.get(&"sam").is_err());
        assert!(kept.get(&"ada").is_err());

        let ticket = kept.get(&"sam").unwrap_err();
        kept.keep(ticket, "sam", 2);
        kept.set_listening(false);
        assert!(
            kept.get(&"sam").is_err(),
            "stopping listening forgets everything"
        );
    }

    #[test]
    fn it_keeps_no_more_than_its_bound() {
        let kept: Kept<i32, i32> = Kept::new(3);
        kept.set_listening(true);
        for i in 0..4 {
            let ticket = kept.get(&i).unwrap_err();
            kept.keep(ticket, i, i);
        }
        assert_eq!(kept.lock().known.len(), 1, "the fourth started afresh");
        assert_eq!(kept.get(&3), Ok(3));
    }
}
