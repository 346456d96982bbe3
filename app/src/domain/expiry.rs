//! Time-bound access: a change set may say when the access it adds ends. The reviewer approves
//! it "until T"; at T Gatehouse revokes what it added, under that same approval. Pure: parsing
//! the end a person typed, and which items revoke what is left of the access.

use time::{
    format_description::well_known::Rfc3339, macros::format_description, Duration, OffsetDateTime,
    PrimitiveDateTime,
};

use super::desired::ChangeItem;

/// An end sooner than this is refused: the review and the push must fit before it.
pub const SHORTEST: Duration = Duration::minutes(15);
/// The longest time-bound access; longer access is granted without an end.
pub const LONGEST: Duration = Duration::days(366);

/// The end a person typed: empty (no end), a `datetime-local` value (`2026-12-24T17:00`, read
/// as UTC, which the form says) or RFC 3339. It must lie between [`SHORTEST`] and [`LONGEST`]
/// from `now`.
pub fn parse_end(text: &str, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let local = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let local_seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let end = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| PrimitiveDateTime::parse(text, &local).map(|t| t.assume_utc()))
        .or_else(|_| PrimitiveDateTime::parse(text, &local_seconds).map(|t| t.assume_utc()))
        .map_err(|_| {
            format!("`{text}` is not a date and time; write it as 2026-12-24T17:00 (UTC)")
        })?;
    if end < now + SHORTEST {
        return Err(format!(
            "The end must be at least {} minutes from now ({} UTC), so the review and the push fit before it.",
            SHORTEST.whole_minutes(),
            show(now)
        ));
    }
    if end > now + LONGEST {
        return Err(format!(
            "Time-bound access lasts at most {} days; leave the end empty for access without one.",
            LONGEST.whole_days()
        ));
    }
    Ok(Some(end))
}

/// `2026-12-24 17:00` (UTC, to the minute): how the end is shown and typed back.
pub fn show(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// The `datetime-local` value of an end, for a form field.
pub fn field_value(at: OffsetDateTime) -> String {
    show(at).replacen(' ', "T", 1)
}

/// What revokes the access a change set added: the opposite of each addition the desired state
/// still holds *from that change set* (`still_from_it`). An addition removed since, or removed
/// and added again by a later change set (an extension), is left alone.
pub fn revocation(
    items: &[ChangeItem],
    still_from_it: impl Fn(&ChangeItem) -> bool,
) -> Vec<ChangeItem> {
    items
        .iter()
        .filter(|i| matches!(i, ChangeItem::AddBinding(_) | ChangeItem::AddGrant(_)))
        .filter(|i| still_from_it(i))
        .map(ChangeItem::opposite)
        .collect()
}

/// Whether a change set's items add access (an end means something only then).
pub fn adds_access(items: &[ChangeItem]) -> bool {
    items
        .iter()
        .any(|i| matches!(i, ChangeItem::AddBinding(_) | ChangeItem::AddGrant(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{grant, group, role};
    use crate::domain::grant::Binding;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-04 10:00:00 UTC);

    #[test]
    fn an_end_is_read_from_the_form_or_rfc3339_and_shown_to_the_minute() {
        let end = datetime!(2026-12-24 17:00:00 UTC);
        assert_eq!(parse_end("2026-12-24T17:00", NOW), Ok(Some(end)));
        assert_eq!(parse_end(" 2026-12-24T17:00:00 ", NOW), Ok(Some(end)));
        assert_eq!(parse_end("2026-12-24T18:00:00+01:00", NOW), Ok(Some(end)));
        assert_eq!(parse_end("", NOW), Ok(None));
        assert_eq!(show(end), "2026-12-24 17:00");
        assert_eq!(field_value(end), "2026-12-24T17:00");
        assert_eq!(parse_end(&field_value(end), NOW), Ok(Some(end)));
    }

    #[test]
    fn an_end_too_soon_too_far_or_unreadable_says_what_is_wrong() {
        let soon = parse_end("2026-12-04T10:10", NOW).unwrap_err();
        assert!(soon.contains("at least 15 minutes"), "{soon}");
        assert!(parse_end("2026-12-04T09:00", NOW).is_err());
        assert_eq!(
            parse_end("2026-12-04T10:15", NOW),
            Ok(Some(datetime!(2026-12-04 10:15:00 UTC)))
        );
        let far = parse_end("2028-01-01T00:00", NOW).unwrap_err();
        assert!(far.contains("at most 366 days"), "{far}");
        let bad = parse_end("next friday", NOW).unwrap_err();
        assert!(bad.contains("`next friday` is not a date"), "{bad}");
        assert!(parse_end("2026-13-01T10:00", NOW).is_err());
    }

    #[test]
    fn revocation_takes_back_only_additions_still_held_from_the_change_set() {
        let kept = ChangeItem::AddBinding(Binding {
            group: group("g1"),
            role: role("orders-readers"),
        });
        let gone = ChangeItem::AddGrant(grant("orders-readers", "GET", "/orders", "prod"));
        let removal = ChangeItem::RemoveBinding(Binding {
            group: group("g2"),
            role: role("orders-readers"),
        });
        let items = [kept.clone(), gone.clone(), removal];
        let revoke = revocation(&items, |i| *i == kept);
        assert_eq!(revoke, [kept.opposite()]);
        assert!(revocation(&items, |_| false).is_empty());
        assert!(adds_access(&items));
        assert!(!adds_access(&[kept.opposite()]));
    }
}
