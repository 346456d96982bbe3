//! The audit log's hash chain, computed the way the database's trigger computes it
//! (`audit_event_canonical` in the migrations): each field length-prefixed in bytes, then
//! SHA-256, hex. No IO: the database check, the export and the offline check all use this.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event as the chain covers it, every field as text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainedEvent {
    pub seq: i64,
    /// UTC, microseconds: `2026-11-28T21:12:19.591331Z`.
    pub occurred_at: String,
    pub actor_tid: String,
    pub actor_oid: String,
    pub actor_name: String,
    pub action: String,
    pub subject: String,
    /// The details exactly as PostgreSQL prints the JSONB value.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl ChainedEvent {
    pub fn canonical(&self) -> String {
        let seq = self.seq.to_string();
        let fields = [
            seq.as_str(),
            &self.occurred_at,
            &self.actor_tid,
            &self.actor_oid,
            &self.actor_name,
            &self.action,
            &self.subject,
            &self.details,
            &self.prev_hash,
        ];
        let mut out = String::from("gatehouse-audit-v1\n");
        for f in fields {
            out.push_str(&format!("{}:{f}\n", f.len()));
        }
        out
    }

    /// The hash this event's fields yield (compare with `hash`).
    pub fn computed_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }
}

/// Where a chain breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("event {seq}: its hash does not match its content (altered)")]
    Altered { seq: i64 },
    #[error("event {seq}: it does not link to event {previous} (prev_hash differs: an event was removed, inserted or altered)")]
    Unlinked { seq: i64, previous: i64 },
    #[error("event {seq} follows event {previous}: events are missing")]
    Gap { seq: i64, previous: i64 },
}

/// Checks events in order, one at a time (so a check of millions holds one event in memory).
#[derive(Default)]
pub struct ChainCheck {
    last: Option<(i64, String)>,
    pub checked: u64,
    /// Gaps are allowed (a filtered export); links are checked where events follow each other.
    pub allow_gaps: bool,
}

impl ChainCheck {
    /// A check that lets rows be missing between those it sees (a filtered export).
    pub fn with_gaps(allow_gaps: bool) -> ChainCheck {
        ChainCheck {
            allow_gaps,
            ..Default::default()
        }
    }

    pub fn push(&mut self, e: &ChainedEvent) -> Result<(), Broken> {
        if e.computed_hash() != e.hash {
            return Err(Broken::Altered { seq: e.seq });
        }
        match &self.last {
            Some((seq, hash)) if e.seq == seq + 1 && &e.prev_hash != hash => {
                return Err(Broken::Unlinked {
                    seq: e.seq,
                    previous: *seq,
                });
            }
            Some((seq, _)) if e.seq == seq + 1 => {}
            Some((seq, _)) if !self.allow_gaps => {
                return Err(Broken::Gap {
                    seq: e.seq,
                    previous: *seq,
                })
            }
            None if e.seq == 1 && e.prev_hash != GENESIS => {
                return Err(Broken::Unlinked {
                    seq: 1,
                    previous: 0,
                })
            }
            _ => {}
        }
        self.last = Some((e.seq, e.hash.clone()));
        self.checked += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<ChainedEvent> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = ChainedEvent {
                    seq,
                    occurred_at: "2026-11-28T21:12:19.591331Z".into(),
                    actor_tid: String::new(),
                    actor_oid: String::new(),
                    actor_name: "Ada".into(),
                    action: "change_set.edited".into(),
                    subject: format!("change_set:{seq}"),
                    details: r#"{"after": 1}"#.into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.computed_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn a_chain_checks_and_each_kind_of_tampering_is_named() {
        let events = chain(4);
        let mut check = ChainCheck::default();
        assert!(events.iter().all(|e| check.push(e).is_ok()));
        assert_eq!(check.checked, 4);

        let mut altered = events.clone();
        altered[2].actor_name = "Mallory".into();
        let mut check = ChainCheck::default();
        let err = altered.iter().try_for_each(|e| check.push(e)).unwrap_err();
        assert_eq!(err, Broken::Altered { seq: 3 });

        let mut removed = events.clone();
        removed.remove(1);
        let mut check = ChainCheck::default();
        assert_eq!(
            removed.iter().try_for_each(|e| check.push(e)).unwrap_err(),
            Broken::Gap {
                seq: 3,
                previous: 1
            }
        );
        // A filtered export may skip events; the rows that follow each other still link.
        let mut check = ChainCheck {
            allow_gaps: true,
            ..Default::default()
        };
        assert!(removed.iter().try_for_each(|e| check.push(e)).is_ok());

        // Rewriting a row with a fresh hash breaks the next link.
        let mut rewritten = events.clone();
        rewritten[1].actor_name = "Mallory".into();
        rewritten[1].hash = rewritten[1].computed_hash();
        let mut check = ChainCheck::default();
        assert_eq!(
            rewritten
                .iter()
                .try_for_each(|e| check.push(e))
                .unwrap_err(),
            Broken::Unlinked {
                seq: 3,
                previous: 2
            }
        );
    }

    #[test]
    fn fields_cannot_imitate_a_separator() {
        let mut a = chain(1).remove(0);
        let mut b = a.clone();
        a.actor_name = "Ada\n5:admin".into();
        a.action = "x".into();
        b.actor_name = "Ada".into();
        b.action = "5:admin\nx".into();
        assert_ne!(a.canonical(), b.canonical());
    }
}
