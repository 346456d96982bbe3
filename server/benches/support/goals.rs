//! The goals for every page, judged on the median of the rounds (one round on this kind
//! of machine moves a page's req/s by ±20 %), and the comparison of two dataset sizes.

use std::fmt::Write as _;

/// One request, ms.
pub const ONE_MS: f64 = 50.0;
/// p99 at 16 connections, ms.
pub const P99_MS: f64 = 100.0;
/// req/s a list page serves at 16 connections.
pub const LIST_RATE: f64 = 1000.0;
/// HTML by default, KB.
pub const MAX_KB: usize = 200;
/// /healthz p99 beside any page, ms.
pub const HEALTHZ_P99_MS: f64 = 50.0;
/// How much slower a page may be on the 2× dataset.
pub const GROWTH: f64 = 1.5;

/// What a page is held to: the probe only answers, a list serves at least [`LIST_RATE`].
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Probe,
    List,
    Page,
}

/// What one load of one page measured.
#[derive(Clone, Copy)]
pub struct Measured {
    pub one_ms: f64,
    pub rate: f64,
    pub p99_ms: f64,
    pub healthz_p99_ms: f64,
    pub kb: usize,
    pub errors: usize,
}

/// The middle value (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A page over every round: the medians, and what the goals say of them.
pub struct Summary {
    pub label: String,
    pub kind: Kind,
    pub rounds: Vec<Measured>,
}

impl Summary {
    /// The median of each figure; the largest page and every error.
    pub fn typical(&self) -> Measured {
        let of = |f: fn(&Measured) -> f64| median(&self.rounds.iter().map(f).collect::<Vec<_>>());
        Measured {
            one_ms: of(|m| m.one_ms),
            rate: of(|m| m.rate),
            p99_ms: of(|m| m.p99_ms),
            healthz_p99_ms: of(|m| m.healthz_p99_ms),
            kb: self.rounds.iter().map(|m| m.kb).max().unwrap_or(0),
            errors: self.rounds.iter().map(|m| m.errors).sum(),
        }
    }

    /// The goals the medians miss, worded; empty when every one is met.
    pub fn misses(&self) -> Vec<String> {
        let m = self.typical();
        let mut misses = Vec::new();
        if m.errors > 0 {
            misses.push(format!("{} errors", m.errors));
        }
        if m.healthz_p99_ms >= HEALTHZ_P99_MS {
            misses.push(format!("/healthz p99 {:.1} ms", m.healthz_p99_ms));
        }
        if self.kind == Kind::Probe {
            return misses;
        }
        if m.one_ms >= ONE_MS {
            misses.push(format!("one request {:.1} ms", m.one_ms));
        }
        if m.p99_ms >= P99_MS {
            misses.push(format!("p99 {:.1} ms", m.p99_ms));
        }
        if m.kb >= MAX_KB {
            misses.push(format!("{} KB", m.kb));
        }
        if self.kind == Kind::List && m.rate < LIST_RATE {
            misses.push(format!("{:.0} req/s", m.rate));
        }
        misses
    }

    /// `label \t one \t req/s \t p99` (medians): what a later run on a larger dataset compares with.
    pub fn saved(&self) -> String {
        let m = self.typical();
        format!(
            "{}\t{:.2}\t{:.1}\t{:.2}\n",
            self.label, m.one_ms, m.rate, m.p99_ms
        )
    }
}

/// Each page against the same page in `saved` (a smaller dataset's run): how many times slower
/// (req/s down, p99 up; one request shown too), and whether that stays within [`GROWTH`].
pub fn compare(saved: &str, now: &[Summary]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<38} {:>12} {:>12} {:>12}  goal: at most {GROWTH}× slower",
        "page (this dataset vs the saved run)", "req/s ×", "p99 ×", "one ×"
    );
    for s in now {
        let Some(before) = saved.lines().find_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 4 && f[0] == s.label).then(|| {
                let n = |i: usize| f[i].parse::<f64>().unwrap_or(f64::NAN);
                (n(1), n(2), n(3))
            })
        }) else {
            continue;
        };
        let m = s.typical();
        // "Slower" as a factor ≥ 1 means worse: fewer req/s, a longer p99.
        let rate = before.1 / m.rate;
        let p99 = m.p99_ms / before.2;
        let one = m.one_ms / before.0;
        let verdict = if rate.max(p99) <= GROWTH {
            "✓"
        } else {
            "✗"
        };
        let _ = writeln!(
            out,
            "{:<38} {rate:>12.2} {p99:>12.2} {one:>12.2}  {verdict}",
            s.label
        );
    }
    out
}
