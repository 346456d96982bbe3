//! An API's longest access: the most time any access added to it may last (a production API
//! may allow a day at most). Pure: reading the setting typed, and which additions of a change
//! set break which API's limit.
//!
//! What counts is every path a change set opens to the API: a grant on it (role → route), and a
//! binding of someone to a role that may call it. Each such change set must end (its
//! `access_ends_at`) within the limit, counted from when it is submitted, approved or asked.
//! Access in force before a limit was set is not shortened; a review campaign is the way to it.

use std::collections::{BTreeMap, BTreeSet};

use time::{Duration, OffsetDateTime};

use super::desired::{ChangeItem, DesiredState};

/// The shortest and longest limit an API may set, in hours.
pub const SHORTEST_HOURS: u32 = 1;
pub const LONGEST_HOURS: u32 = 366 * 24;

/// Reads "8" + "hours" or "7" + "days" as a number of hours; each refusal says what to type.
pub fn parse(amount: &str, unit: &str) -> Result<u32, String> {
    let per = match unit.trim() {
        "hours" => 1,
        "days" => 24,
        _ => return Err("Choose hours or days.".into()),
    };
    let n: u32 = amount
        .trim()
        .parse()
        .map_err(|_| "Type a whole number, such as 8 (hours) or 7 (days).".to_string())?;
    match n.checked_mul(per) {
        Some(h) if (SHORTEST_HOURS..=LONGEST_HOURS).contains(&h) => Ok(h),
        _ => Err("Between 1 hour and 366 days.".into()),
    }
}

/// "8 hours", "1 day", "7 days", "36 hours".
pub fn describe(hours: u32) -> String {
    match hours {
        1 => "1 hour".into(),
        24 => "1 day".into(),
        h if h % 24 == 0 => format!("{} days", h / 24),
        h => format!("{h} hours"),
    }
}

/// The APIs a change set opens a path to: those its added grants name, and every API the
/// roles it binds someone to may call once it is applied (`after`).
pub fn apis_reached(items: &[ChangeItem], after: &DesiredState) -> BTreeSet<String> {
    let mut apis = BTreeSet::new();
    for item in items {
        match item {
            ChangeItem::AddGrant(g) => {
                apis.insert(g.api.api_id.as_str().to_string());
            }
            ChangeItem::AddBinding(b) => apis.extend(
                after
                    .grants
                    .iter()
                    .filter(|g| g.role == b.role)
                    .map(|g| g.api.api_id.as_str().to_string()),
            ),
            _ => {}
        }
    }
    apis
}

/// An API's limit and the name people know it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limit {
    pub api_name: String,
    pub hours: u32,
}

impl Limit {
    /// "payments-api allows access for 8 hours at most".
    pub fn sentence(&self) -> String {
        format!(
            "{} allows access for {} at most",
            self.api_name,
            describe(self.hours)
        )
    }
}

/// The limits of the APIs a change set opens a path to, each API once, in API id order.
pub fn limits_reached<'a>(
    items: &[ChangeItem],
    after: &DesiredState,
    limits: &'a BTreeMap<String, Limit>,
) -> Vec<&'a Limit> {
    apis_reached(items, after)
        .iter()
        .filter_map(|api| limits.get(api))
        .collect()
}

/// Why a change set's end does not fit the limits of the APIs it reaches, one sentence per
/// API (empty: it fits). `now` is when the access could start at the earliest.
pub fn refusals(
    items: &[ChangeItem],
    after: &DesiredState,
    ends_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    limits: &BTreeMap<String, Limit>,
) -> Vec<String> {
    limits_reached(items, after, limits)
        .into_iter()
        .filter_map(|limit| {
            let longest = now + Duration::hours(i64::from(limit.hours));
            match ends_at {
                None => Some(format!("{}: set when this access ends.", limit.sentence())),
                Some(end) if end > longest => Some(format!(
                    "{}: end it by {} UTC.",
                    limit.sentence(),
                    super::expiry::show(longest)
                )),
                Some(_) => None,
            }
        })
        .collect()
}

/// Why a request for `hours` of access does not fit the limits of the APIs it reaches, one
/// sentence per API (empty: it fits). The same rule as [`refusals`], said for a duration.
pub fn request_refusals(
    items: &[ChangeItem],
    after: &DesiredState,
    hours: i64,
    limits: &BTreeMap<String, Limit>,
) -> Vec<String> {
    limits_reached(items, after, limits)
        .into_iter()
        .filter(|limit| hours > i64::from(limit.hours))
        .map(|limit| format!("{}: choose a shorter time.", limit.sentence()))
        .collect()
}

/// The shortest limit among the APIs a role may call (what a request for it may last).
pub fn of_role(
    role: &super::names::RoleArn,
    state: &DesiredState,
    limits: &BTreeMap<String, Limit>,
) -> Option<u32> {
    state
        .grants_of(role)
        .iter()
        .filter_map(|g| limits.get(g.api.api_id.as_str()))
        .map(|l| l.hours)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        fixtures,
        grant::{Binding, Grant},
        names::ApiId,
    };
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-04 09:00 UTC);

    fn on(api: &str, role: &str) -> Grant {
        let mut g = fixtures::grant(role, "GET", "/orders", "prod");
        g.api.api_id = ApiId::parse(api).unwrap();
        g
    }

    fn limits() -> BTreeMap<String, Limit> {
        [(
            "payments12".to_string(),
            Limit {
                api_name: "payments-api".into(),
                hours: 8,
            },
        )]
        .into()
    }

    #[test]
    fn the_setting_is_read_in_hours_or_days_and_bounded() {
        assert_eq!(parse(" 8 ", "hours"), Ok(8));
        assert_eq!(parse("7", "days"), Ok(168));
        assert_eq!(parse("366", "days"), Ok(LONGEST_HOURS));
        assert!(parse("367", "days").unwrap_err().contains("366 days"));
        assert!(parse("0", "hours").unwrap_err().contains("1 hour"));
        assert!(parse("eight", "hours")
            .unwrap_err()
            .contains("whole number"));
        assert!(parse("-1", "hours").is_err());
        assert!(parse("4294967295", "days").is_err(), "no overflow");
        assert!(parse("8", "weeks").unwrap_err().contains("hours or days"));
        assert_eq!(
            [1, 8, 24, 36, 168].map(describe),
            ["1 hour", "8 hours", "1 day", "36 hours", "7 days"]
        );
    }

    #[test]
    fn every_path_a_change_set_opens_to_a_limited_api_must_end_within_its_limit() {
        let payments = on("payments12", "payer");
        let orders = on("orders1234", "reader");
        let after = DesiredState {
            grants: [payments.clone(), orders.clone()].into(),
            ..Default::default()
        };
        let bind = |role: &str| {
            ChangeItem::AddBinding(Binding {
                group: fixtures::group("team"),
                role: fixtures::role(role),
            })
        };
        let check = |items: &[ChangeItem], end| refusals(items, &after, end, NOW, &limits());
        // A binding to a role that may call the limited API, without an end or too long.
        let too_long = check(&[bind("payer")], Some(NOW + Duration::hours(9)));
        assert_eq!(
            too_long,
            ["payments-api allows access for 8 hours at most: end it by 2026-12-04 17:00 UTC."]
        );
        assert!(check(&[bind("payer")], None)[0].contains("set when this access ends"));
        assert!(check(&[bind("payer")], Some(NOW + Duration::hours(8))).is_empty());
        // A grant on it is a path too; the other API has no limit.
        assert_eq!(
            check(&[ChangeItem::AddGrant(payments.clone())], None).len(),
            1
        );
        assert!(check(&[bind("reader"), ChangeItem::AddGrant(orders)], None).is_empty());
        // Taking access away never needs an end.
        assert!(check(&[ChangeItem::RemoveGrant(payments)], None).is_empty());
        // A request is held to the same rule, said for the hours asked.
        let asked = |role: &str, hours| request_refusals(&[bind(role)], &after, hours, &limits());
        assert_eq!(
            asked("payer", 9),
            ["payments-api allows access for 8 hours at most: choose a shorter time."]
        );
        assert!(asked("payer", 8).is_empty());
        assert!(asked("reader", 24 * 366).is_empty());
    }

    #[test]
    fn a_role_lasts_as_long_as_its_most_limited_api_allows() {
        let state = DesiredState {
            grants: [on("payments12", "payer"), on("orders1234", "payer")].into(),
            ..Default::default()
        };
        assert_eq!(
            of_role(&fixtures::role("payer"), &state, &limits()),
            Some(8)
        );
        assert_eq!(of_role(&fixtures::role("reader"), &state, &limits()), None);
    }
}
