//! The audit history for auditors, reviewers and admins: filters (kept in the URL), keyset pages
//! newest first, each event's details, and exports with a manifest.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The filters as typed (query-string values). Empty means "any".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFilter {
    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (UTC), inclusive.
    pub from: String,
    /// Same forms; a bare date means the whole day.
    pub to: String,
    /// Part of the actor's name or e-mail.
    pub actor: String,
    /// An action (`change_set.approved`) or its area (`change_set`, `push`, `auth`).
    pub action: String,
    /// A change set's number.
    pub change_set: String,
    /// A group, role or API (name, id or ARN) the event mentions anywhere.
    pub mentions: String,
}

/// A filter checked: times as `YYYY-MM-DDTHH:MM:SSZ`, the change set as a number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedFilter {
    pub from: Option<String>,
    /// Exclusive upper bound.
    pub to_before: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub change_set: Option<i64>,
    pub mentions: Option<String>,
}

impl CheckedFilter {
    /// Whether more than a time range narrows the rows (then they need not follow each other).
    pub fn narrows(&self) -> bool {
        self.actor.is_some()
            || self.action.is_some()
            || self.change_set.is_some()
            || self.mentions.is_some()
    }
}

fn time(text: &str, end_of_day: bool) -> Result<String, String> {
    let t = text.trim();
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let date_ok = |d: &str| {
        let p: Vec<&str> = d.split('-').collect();
        p.len() == 3
            && p[0].len() == 4
            && p[1].len() == 2
            && p[2].len() == 2
            && p.iter().all(|x| digits(x))
            && (1..=12).contains(&p[1].parse::<u32>().unwrap_or(0))
            && (1..=31).contains(&p[2].parse::<u32>().unwrap_or(0))
    };
    let bad = || format!("`{t}` is not a date (2026-11-28) or a time (2026-11-28T14:30), in UTC");
    match t.split_once(['T', ' ']) {
        None if date_ok(t) => Ok(if end_of_day {
            // The next day's start, exclusive; PostgreSQL does the calendar.
            format!("{t}T00:00:00Z+1d")
        } else {
            format!("{t}T00:00:00Z")
        }),
        Some((d, hm)) if date_ok(d) => {
            let p: Vec<&str> = hm.trim_end_matches('Z').split(':').collect();
            let ok = (p.len() == 2 || p.len() == 3)
                && p.iter().all(|x| x.len() == 2 && digits(x))
                && p[0].parse::<u32>().unwrap_or(99) < 24
                && p[1].parse::<u32>().unwrap_or(99) < 60;
            if !ok {
                return Err(bad());
            }
            let secs = p.get(2).copied().unwrap_or("00");
            Ok(format!(
                "{d}T{}:{}:{secs}Z{}",
                p[0],
                p[1],
                if end_of_day { "+1s" } else { "" }
            ))
        }
        _ => Err(bad()),
    }
}

impl HistoryFilter {
    /// The filter checked field by field: every mistake, named next to its field.
    pub fn check(&self) -> Result<CheckedFilter, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let from = opt(&self.from)
            .map(|t| time(&t, false))
            .transpose()
            .unwrap_or_else(|e| {
                errors.push(("from", e));
                None
            });
        let to_before = opt(&self.to)
            .map(|t| time(&t, true))
            .transpose()
            .unwrap_or_else(|e| {
                errors.push(("to", e));
                None
            });
        let change_set = opt(&self.change_set)
            .map(|c| {
                c.trim_start_matches('#')
                    .parse::<i64>()
                    .map_err(|_| format!("`{c}` is not a change set number"))
            })
            .transpose()
            .unwrap_or_else(|e| {
                errors.push(("change_set", e));
                None
            });
        if let (Some(f), Some(t)) = (&from, &to_before) {
            if f.trim_end_matches("+1d").trim_end_matches("+1s")
                > t.trim_end_matches("+1d").trim_end_matches("+1s")
            {
                errors.push(("to", "the end comes before the start".into()));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CheckedFilter {
            from,
            to_before,
            actor: opt(&self.actor),
            action: opt(&self.action),
            change_set,
            mentions: opt(&self.mentions),
        })
    }

    /// As a query string (the page's URL and the export links).
    pub fn query(&self) -> String {
        let enc = crate::components::search::urlencode;
        [
            ("from", &self.from),
            ("to", &self.to),
            ("actor", &self.actor),
            ("action", &self.action),
            ("change_set", &self.change_set),
            ("mentions", &self.mentions),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", enc(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    pub seq: i64,
    pub occurred_at: String,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    /// Pretty-printed.
    pub details: String,
    pub hash: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub events: Vec<EventView>,
    /// `before` for the next (older) page.
    pub older: Option<i64>,
    /// `before` for the previous (newer) page; `Some(0)`: the first page.
    pub newer: Option<i64>,
    pub errors: Vec<(String, String)>,
}

/// One line of an access review: a group may call a route through a role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRow {
    pub group: String,
    pub role: String,
    pub route: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReport {
    /// The moment, as checked (`…Z`), when valid.
    pub at: Option<String>,
    pub rows: Vec<AccessRow>,
    pub error: Option<String>,
}

#[cfg(feature = "ssr")]
pub use backend::{Created, HistoryBackend};

/// An export being prepared (its rows hashed for the manifest) or ready to download.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportStatus {
    pub id: i64,
    pub format: String,
    pub rows: i64,
    pub hashed_rows: i64,
    /// The file's length once known.
    pub bytes: Option<i64>,
    pub ready: bool,
    pub error: Option<String>,
}

impl ExportStatus {
    pub fn running(&self) -> bool {
        !self.ready && self.error.is_none()
    }
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;
    use std::{future::Future, pin::Pin};

    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;
    /// The export's id and row count, or the fields that are wrong.
    pub type Created = Result<(i64, i64), Vec<(String, String)>>;

    pub trait HistoryBackend: Send + Sync {
        fn page(&self, filter: CheckedFilter, before: Option<i64>) -> BoxFuture<'_, HistoryPage>;
        /// Records an export (an audit event) and answers its id and row count.
        fn create_export<'a>(
            &'a self,
            filter: &'a HistoryFilter,
            format: &'a str,
        ) -> BoxFuture<'a, Created>;
        /// How far an export's preparation has come.
        fn export_status(&self, id: i64) -> BoxFuture<'_, Option<ExportStatus>>;
        /// Who could call what at `at` (a checked time).
        fn access_as_of<'a>(&'a self, at: &'a str) -> BoxFuture<'a, Vec<AccessRow>>;
    }

    pub fn backend() -> Result<std::sync::Arc<dyn HistoryBackend>, ServerFnError> {
        use_context::<std::sync::Arc<dyn HistoryBackend>>()
            .ok_or_else(|| ServerFnError::new("the history is not available"))
    }
}

/// Readers: one page of events, newest first, `before` a sequence number (keyset).
#[server(endpoint = "history/page")]
pub async fn get_history(
    filter: HistoryFilter,
    before: Option<i64>,
) -> Result<HistoryPage, ServerFnError> {
    use crate::roles::Role;
    crate::me::ssr::require_role(&[Role::Admin, Role::Reviewer, Role::Auditor])?;
    match filter.check() {
        Ok(checked) => backend::backend()?
            .page(checked, before)
            .await
            .map_err(ServerFnError::new),
        Err(errors) => Ok(HistoryPage {
            errors: errors
                .into_iter()
                .map(|(f, e)| (f.to_string(), e))
                .collect(),
            ..Default::default()
        }),
    }
}

/// Readers: export the filtered events (`format` = `csv` | `jsonl`); the page then offers the
/// file and its manifest.
#[server(endpoint = "history/export")]
pub async fn create_audit_export(
    filter: HistoryFilter,
    format: String,
) -> Result<crate::mappings::types::FormOutcome, ServerFnError> {
    use crate::roles::Role;
    crate::me::ssr::require_role(&[Role::Admin, Role::Reviewer, Role::Auditor])?;
    match backend::backend()?
        .create_export(&filter, &format)
        .await
        .map_err(ServerFnError::new)?
    {
        Ok((id, rows)) => {
            let query = filter.query();
            let sep = if query.is_empty() { "" } else { "&" };
            leptos_axum::redirect(&format!("/history?{query}{sep}export={id}&rows={rows}"));
            Ok(crate::mappings::types::FormOutcome {
                message: Some(format!("Export {id} is ready: {rows} events.")),
                ..Default::default()
            })
        }
        Err(errors) => crate::mappings::form_outcome(crate::mappings::types::FormOutcome {
            errors,
            ..Default::default()
        }),
    }
}

/// Readers: how far an export has come (rows hashed of all), and whether it can be downloaded.
#[server(endpoint = "history/export-status")]
pub async fn get_export_status(id: i64) -> Result<Option<ExportStatus>, ServerFnError> {
    use crate::roles::Role;
    crate::me::ssr::require_role(&[Role::Admin, Role::Reviewer, Role::Auditor])?;
    backend::backend()?
        .export_status(id)
        .await
        .map_err(ServerFnError::new)
}

/// Readers: who could call which route at the end of `at` (a date, or a date and time, UTC).
#[server(endpoint = "history/access")]
pub async fn get_access_report(at: String) -> Result<AccessReport, ServerFnError> {
    use crate::roles::Role;
    crate::me::ssr::require_role(&[Role::Admin, Role::Reviewer, Role::Auditor])?;
    if at.trim().is_empty() {
        return Ok(AccessReport::default());
    }
    let filter = HistoryFilter {
        to: at,
        ..Default::default()
    };
    match filter.check() {
        Ok(c) => {
            let at = c.to_before.unwrap_or_default();
            let rows = backend::backend()?
                .access_as_of(&at)
                .await
                .map_err(ServerFnError::new)?;
            Ok(AccessReport {
                at: Some(at),
                rows,
                error: None,
            })
        }
        Err(errors) => Ok(AccessReport {
            error: errors.into_iter().next().map(|(_, e)| e),
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_field_by_field() {
        let f = HistoryFilter {
            from: "2026-11-01".into(),
            to: "2026-11-28".into(),
            change_set: "#12".into(),
            ..Default::default()
        };
        let c = f.check().unwrap();
        assert_eq!(c.from.as_deref(), Some("2026-11-01T00:00:00Z"));
        assert_eq!(c.to_before.as_deref(), Some("2026-11-28T00:00:00Z+1d"));
        assert_eq!(c.change_set, Some(12));
        assert!(c.narrows());
        let bad = HistoryFilter {
            from: "yesterday".into(),
            to: "2026-13-01".into(),
            change_set: "twelve".into(),
            ..Default::default()
        };
        let errors = bad.check().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["from", "to", "change_set"]);
        let backwards = HistoryFilter {
            from: "2026-11-28".into(),
            to: "2026-11-01".into(),
            ..Default::default()
        };
        assert_eq!(backwards.check().unwrap_err()[0].0, "to");
        let t = HistoryFilter {
            from: "2026-11-28T14:30".into(),
            ..Default::default()
        };
        assert_eq!(
            t.check().unwrap().from.as_deref(),
            Some("2026-11-28T14:30:00Z")
        );
        assert_eq!(
            HistoryFilter {
                actor: "ada".into(),
                ..Default::default()
            }
            .query(),
            "actor=ada"
        );
    }
}
