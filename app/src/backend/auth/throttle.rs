//! Callbacks that match no sign-in in progress are an attacker's or a stale tab's: they are not
//! written to the audit chain (anyone could fill it), only counted, logged and limited per client
//! address so a flood costs us little.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

/// A fixed window per address; the table is cleared whole when it grows past `MAX_ADDRESSES`, so
/// a spray of addresses cannot grow memory without bound.
pub struct CallbackThrottle {
    per_window: u32,
    window: Duration,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    unmatched: AtomicU64,
    limited: AtomicU64,
}

const MAX_ADDRESSES: usize = 10_000;

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Answer with the refusal page; the count so far is for the log.
    Refuse { unmatched_total: u64 },
    /// Too many from this address in the window: answer 429.
    TooMany,
}

impl CallbackThrottle {
    pub fn new(per_window: u32, window: Duration) -> Self {
        CallbackThrottle {
            per_window,
            window,
            seen: Mutex::new(HashMap::new()),
            unmatched: AtomicU64::new(0),
            limited: AtomicU64::new(0),
        }
    }

    /// Notes one unmatched callback from `from` at `now`.
    pub fn unmatched(&self, from: Option<IpAddr>, now: Instant) -> Verdict {
        let total = self.unmatched.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(addr) = from else {
            return Verdict::Refuse {
                unmatched_total: total,
            };
        };
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= MAX_ADDRESSES && !seen.contains_key(&addr) {
            seen.clear();
        }
        let entry = seen.entry(addr).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > self.per_window {
            self.limited.fetch_add(1, Ordering::Relaxed);
            Verdict::TooMany
        } else {
            Verdict::Refuse {
                unmatched_total: total,
            }
        }
    }

    /// (unmatched callbacks, of which answered 429) since the process started.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.unmatched.load(Ordering::Relaxed),
            self.limited.load(Ordering::Relaxed),
        )
    }
}

impl Default for CallbackThrottle {
    fn default() -> Self {
        CallbackThrottle::new(20, Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_address_within_its_window() {
        let throttle = CallbackThrottle::new(2, Duration::from_secs(60));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        assert!(matches!(
            throttle.unmatched(Some(a), t0),
            Verdict::Refuse { .. }
        ));
        assert!(matches!(
            throttle.unmatched(Some(a), t0),
            Verdict::Refuse { .. }
        ));
        assert_eq!(throttle.unmatched(Some(a), t0), Verdict::TooMany);
        // Another address has its own allowance; the first gets a new one after the window.
        assert!(matches!(
            throttle.unmatched(Some(b), t0),
            Verdict::Refuse { .. }
        ));
        let later = t0 + Duration::from_secs(61);
        assert!(matches!(
            throttle.unmatched(Some(a), later),
            Verdict::Refuse { .. }
        ));
        assert_eq!(throttle.counts(), (5, 1));
    }
}
