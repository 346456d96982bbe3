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
    #[error("the log starts at event {first}: the events before it are missing (head removed)")]
    MissingHead { first: i64 },
    #[error("event {seq} is not the event the checkpoint signed at {at} holds: the log was altered and re-chained")]
    Rechained { seq: i64, at: String },
    #[error("the checkpoint signed at {at} holds event {checkpoint}, but the log ends at event {last}: events were removed from the end (tail removed)")]
    MissingTail {
        checkpoint: i64,
        at: String,
        last: i64,
    },
}

/// Checks events in order, one at a time (so a check of millions holds one event in memory).
#[derive(Default)]
pub struct ChainCheck {
    last: Option<(i64, String)>,
    pub checked: u64,
    /// Gaps are allowed (a filtered export); links are checked where events follow each other.
    pub allow_gaps: bool,
    /// The whole log: it must start at event 1.
    pub from_genesis: bool,
    /// Signed checkpoints (sequence → (hash, when)) the events must agree with.
    anchors: std::collections::BTreeMap<i64, (String, String)>,
}

impl ChainCheck {
    /// A check that lets rows be missing between those it sees (a filtered export).
    pub fn with_gaps(allow_gaps: bool) -> ChainCheck {
        ChainCheck {
            allow_gaps,
            ..Default::default()
        }
    }

    /// The whole log, from event 1, agreeing with every checkpoint `(seq, hash, at)` given
    /// (their signatures already checked).
    pub fn anchored(checkpoints: impl IntoIterator<Item = (i64, String, String)>) -> ChainCheck {
        ChainCheck {
            from_genesis: true,
            anchors: checkpoints
                .into_iter()
                .map(|(seq, hash, at)| (seq, (hash, at)))
                .collect(),
            ..Default::default()
        }
    }

    pub fn push(&mut self, e: &ChainedEvent) -> Result<(), Broken> {
        if e.computed_hash() != e.hash {
            return Err(Broken::Altered { seq: e.seq });
        }
        if self.from_genesis && self.last.is_none() && e.seq != 1 {
            return Err(Broken::MissingHead { first: e.seq });
        }
        if let Some((hash, at)) = self.anchors.get(&e.seq) {
            if hash != &e.hash {
                return Err(Broken::Rechained {
                    seq: e.seq,
                    at: at.clone(),
                });
            }
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

    /// After the last event: a checkpoint beyond it means the end was cut off.
    pub fn finish(&self) -> Result<u64, Broken> {
        let last = self.last.as_ref().map_or(0, |(seq, _)| *seq);
        match self.anchors.range(last + 1..).next_back() {
            Some((checkpoint, (_, at))) => Err(Broken::MissingTail {
                checkpoint: *checkpoint,
                at: at.clone(),
                last,
            }),
            None => Ok(self.checked),
        }
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

    fn run(check: &mut ChainCheck, events: &[ChainedEvent]) -> Result<u64, Broken> {
        for e in events {
            check.push(e)?;
        }
        check.finish()
    }

    #[test]
    fn checkpoints_catch_a_cut_head_a_cut_tail_and_a_rechained_log() {
        let events = chain(6);
        let anchors = |seqs: &[usize]| -> Vec<(i64, String, String)> {
            seqs.iter()
                .map(|i| {
                    (
                        events[i - 1].seq,
                        events[i - 1].hash.clone(),
                        format!("t{i}"),
                    )
                })
                .collect()
        };
        assert_eq!(
            run(&mut ChainCheck::anchored(anchors(&[2, 6])), &events),
            Ok(6)
        );
        // The oldest events deleted: the log no longer starts at 1, whatever the links say.
        assert_eq!(
            run(&mut ChainCheck::anchored([]), &events[2..]),
            Err(Broken::MissingHead { first: 3 })
        );
        // The newest deleted: only a checkpoint beyond the end can tell.
        assert_eq!(run(&mut ChainCheck::anchored([]), &events[..4]), Ok(4));
        assert_eq!(
            run(&mut ChainCheck::anchored(anchors(&[2, 6])), &events[..4]),
            Err(Broken::MissingTail {
                checkpoint: 6,
                at: "t6".into(),
                last: 4
            })
        );
        // Event 3 altered and everything after it re-chained: every hash and link checks, but
        // the checkpoint of event 6 holds the old hash.
        let mut rechained = chain(6);
        rechained[2].details = r#"{"after": 2}"#.into();
        for i in 2..6 {
            if i > 2 {
                rechained[i].prev_hash = rechained[i - 1].hash.clone();
            }
            rechained[i].hash = rechained[i].computed_hash();
        }
        assert_eq!(run(&mut ChainCheck::anchored([]), &rechained), Ok(6));
        assert_eq!(
            run(&mut ChainCheck::anchored(anchors(&[2, 6])), &rechained),
            Err(Broken::Rechained {
                seq: 6,
                at: "t6".into()
            })
        );
    }
}
