//! The time Gatehouse's own deadlines are judged by (when time-bound access ends). It is the
//! system clock, unless `GATEHOUSE_CLOCK_SKEW_FILE` names a file holding a number of seconds to
//! add: a demo or a browser test moves time forward by writing it, instead of waiting for days.
//! Sessions, tokens and the audit log keep the real time.

use std::{path::PathBuf, sync::OnceLock};

use time::{Duration, OffsetDateTime};

static SKEW_FILE: OnceLock<PathBuf> = OnceLock::new();

/// Reads the skew from `path` from now on (once per process; later calls are ignored).
pub fn use_skew_file(path: PathBuf) {
    let _ = SKEW_FILE.set(path);
}

/// Now, by Gatehouse's clock.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc() + skew()
}

fn skew() -> Duration {
    let Some(path) = SKEW_FILE.get() else {
        return Duration::ZERO;
    };
    // A missing or unreadable file is no skew: the clock never stops because of it.
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(Duration::seconds)
        .unwrap_or(Duration::ZERO)
}
