//! The audit history for auditors, reviewers and admins: filters (kept in the URL), keyset pages
//! newest first, each event's details, and exports with a manifest.

use leptos::prelude::*;

use crate::{error::AppError, form::FormOutcome};
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
    /// A review campaign's number: its own events and the change set it wrote.
    #[serde(default)]
    pub campaign: String,
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
    #[serde(default)]
    pub campaign: Option<i64>,
}

impl CheckedFilter {
    /// Whether more than a time range narrows the rows (then they need not follow each other).
    pub fn narrows(&self) -> bool {
        self.actor.is_some()
            || self.action.is_some()
            || self.change_set.is_some()
            || self.mentions.is_some()
            || self.campaign.is_some()
    }
}

/// Why a typed moment is not one (worded for the field it was typed into).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadMoment(String);

/// A moment typed into a filter, in UTC: `YYYY-MM-DD` (the day's start; as an end, the next
/// day's start) or `YYYY-MM-DDTHH:MM[:SS]` (as an end, a second later). Impossible dates such as
/// 2026-02-31 are refused with the reason.
fn moment(text: &str, end: bool) -> Result<time::OffsetDateTime, BadMoment> {
    use time::{macros::format_description, Date, Duration, PrimitiveDateTime, Time};
    let t = text.trim();
    let shape = || format!("`{t}` is not a date (2026-11-28) or a time (2026-11-28T14:30), in UTC");
    let normal = t.trim_end_matches('Z').replacen(' ', "T", 1);
    let (day, clock) = match normal.split_once('T') {
        Some((d, c)) => (d, Some(c)),
        None => (normal.as_str(), None),
    };
    let date = Date::parse(day, format_description!("[year]-[month]-[day]")).map_err(|_| {
        BadMoment({
            // Well formed but not in the calendar: say which part is impossible.
            let parts: Vec<u32> = day.split('-').filter_map(|p| p.parse().ok()).collect();
            match parts[..] {
                [y, m, d] if day.len() == 10 && (1..=12).contains(&m) && d > 0 => {
                    let month = time::Month::try_from(m as u8).expect("1..=12");
                    let days = month.length(y as i32);
                    format!("`{day}` is not a real date: {month} {y} has {days} days")
                }
                [_, m, _] if day.len() == 10 && !(1..=12).contains(&m) => {
                    format!("`{day}` is not a real date: there is no month {m}")
                }
                _ => shape(),
            }
        })
    })?;
    let at = match clock {
        None => {
            let start = PrimitiveDateTime::new(date, Time::MIDNIGHT);
            if end {
                start + Duration::days(1)
            } else {
                start
            }
        }
        Some(c) => {
            let clock = Time::parse(c, format_description!("[hour]:[minute]:[second]"))
                .or_else(|_| Time::parse(c, format_description!("[hour]:[minute]")))
                .map_err(|_| BadMoment(shape()))?;
            let at = PrimitiveDateTime::new(date, clock);
            if end {
                at + Duration::seconds(1)
            } else {
                at
            }
        }
    };
    Ok(at.assume_utc())
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time formats as RFC 3339")
}

/// A moment an "as of" view is for, typed as a date (the end of that day, UTC) or a date and
/// time: the instant just after it (RFC 3339), None when blank, or why it is not a moment.
pub fn as_of(text: &str) -> Result<Option<String>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    if text.chars().count() > 40 {
        return Err("too long: 40 characters at most".into());
    }
    moment(text, true)
        .map(|t| Some(rfc3339(t)))
        .map_err(|e| e.to_string())
}

impl HistoryFilter {
    /// The filter checked field by field: every mistake, named next to its field.
    pub fn check(&self) -> Result<CheckedFilter, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        // Each filter is a name, a date or a number: a longer one is a mistake or an attack
        // (a 100 KB "mentions" pattern cost seconds of database time).
        for (field, text, most) in [
            ("from", &self.from, 40),
            ("to", &self.to, 40),
            ("actor", &self.actor, 200),
            ("action", &self.action, 100),
            ("change_set", &self.change_set, 20),
            ("mentions", &self.mentions, 200),
            ("campaign", &self.campaign, 20),
        ] {
            if text.chars().count() > most {
                errors.push((field, format!("too long: {most} characters at most")));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let mut time_of = |field: &'static str, text: &str, end: bool| {
            opt(text).and_then(|t| {
                moment(&t, end)
                    .map_err(|e| errors.push((field, e.to_string())))
                    .ok()
            })
        };
        let from = time_of("from", &self.from, false);
        let to_before = time_of("to", &self.to, true);
        // A change set's or a campaign's number, `#` allowed.
        let mut number = |field: &'static str, text: &str, what: &str| {
            opt(text).and_then(|c| {
                c.trim_start_matches('#')
                    .parse::<i64>()
                    .map_err(|_| errors.push((field, format!("`{c}` is not a {what} number"))))
                    .ok()
            })
        };
        let change_set = number("change_set", &self.change_set, "change set");
        let campaign = number("campaign", &self.campaign, "campaign");
        if let (Some(f), Some(t)) = (from, to_before) {
            if f >= t {
                errors.push(("to", "the end comes before the start".into()));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CheckedFilter {
            from: from.map(rfc3339),
            to_before: to_before.map(rfc3339),
            actor: opt(&self.actor),
            action: opt(&self.action),
            change_set,
            mentions: opt(&self.mentions),
            campaign,
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
            ("campaign", &self.campaign),
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
    /// Open drift on the role now (latest drift report): AWS may not hold this row as approved.
    #[serde(default)]
    pub drift: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReport {
    /// The moment, as checked (`…Z`), when valid.
    pub at: Option<String>,
    pub rows: Vec<AccessRow>,
    pub error: Option<String>,
}

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
use crate::{
    backend::{history::service, state::app_state},
    form::ssr::answer_result,
    me::ssr::require_role,
    roles::READERS,
};

/// Readers: one page of events, newest first, `before` a sequence number (keyset).
#[server(endpoint = "history/page", output = crate::codec::StrJson)]
pub async fn get_history(
    filter: HistoryFilter,
    before: Option<i64>,
) -> Result<HistoryPage, AppError> {
    require_role(READERS)?;
    match filter.check() {
        Ok(checked) => service::page(&app_state()?, checked, before).await,
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
#[server(endpoint = "history/export", output = crate::codec::StrJson)]
pub async fn create_audit_export(
    filter: HistoryFilter,
    format: String,
) -> Result<FormOutcome, AppError> {
    require_role(READERS)?;
    let (id, rows) = match service::create_export(&app_state()?, &filter, &format).await {
        Ok(created) => created,
        Err(e) => return answer_result(Err(e)),
    };
    let query = filter.query();
    let sep = if query.is_empty() { "" } else { "&" };
    leptos_axum::redirect(&format!("/history?{query}{sep}export={id}&rows={rows}"));
    Ok(FormOutcome::message(format!(
        "Export {id} is ready: {rows} events."
    )))
}

/// Readers: how far an export has come (rows hashed of all), and whether it can be downloaded.
#[server(endpoint = "history/export-status", output = crate::codec::StrJson)]
pub async fn get_export_status(id: i64) -> Result<ExportStatus, AppError> {
    require_role(READERS)?;
    service::export_status(&app_state()?, id).await
}

/// Readers: who could call which route at the end of `at` (a date, or a date and time, UTC).
#[server(endpoint = "history/access", output = crate::codec::StrJson)]
pub async fn get_access_report(at: String) -> Result<AccessReport, AppError> {
    require_role(READERS)?;
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
            let rows = service::access_as_of_marked(&app_state()?, &at).await?;
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
    fn an_oversized_filter_is_refused_before_it_reaches_the_database() {
        let f = HistoryFilter {
            mentions: "a".repeat(100_000),
            from: "2".repeat(41),
            ..Default::default()
        };
        let errors = f.check().unwrap_err();
        assert_eq!(
            errors,
            vec![
                ("from", "too long: 40 characters at most".to_string()),
                ("mentions", "too long: 200 characters at most".to_string()),
            ]
        );
    }

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
        assert_eq!(c.to_before.as_deref(), Some("2026-11-29T00:00:00Z"));
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

    #[test]
    fn an_impossible_date_is_refused_next_to_its_field() {
        let f = HistoryFilter {
            from: "2026-02-31".into(),
            to: "2026-13-01".into(),
            ..Default::default()
        };
        let errors = f.check().unwrap_err();
        assert_eq!(
            errors,
            vec![
                (
                    "from",
                    "`2026-02-31` is not a real date: February 2026 has 28 days".to_string()
                ),
                (
                    "to",
                    "`2026-13-01` is not a real date: there is no month 13".to_string()
                ),
            ]
        );
        // A leap year has its 29th; a time keeps its second.
        let ok = HistoryFilter {
            from: "2028-02-29".into(),
            to: "2028-03-01T23:59:59".into(),
            ..Default::default()
        };
        let c = ok.check().unwrap();
        assert_eq!(c.from.as_deref(), Some("2028-02-29T00:00:00Z"));
        assert_eq!(c.to_before.as_deref(), Some("2028-03-02T00:00:00Z"));
        let bad_clock = HistoryFilter {
            from: "2026-11-28T25:00".into(),
            ..Default::default()
        };
        assert_eq!(bad_clock.check().unwrap_err()[0].0, "from");
    }
}
