//! Access requests: a person asks for a role for themselves, for a bounded time, saying why.
//! Pure: the durations offered, reading the form, and what a request is made of.

use time::{Duration, OffsetDateTime};

use super::{
    desired::ChangeItem,
    grant::{Binding, GroupRef},
    names::RoleArn,
};

/// What the form offers, in hours: requested access always ends, and soon.
pub const DURATIONS: [(u32, &str); 6] = [
    (2, "2 hours"),
    (8, "8 hours"),
    (24, "1 day"),
    (72, "3 days"),
    (168, "7 days"),
    (720, "30 days"),
];

/// What the form sent, field by field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestForm {
    pub role_arn: String,
    pub hours: String,
    pub justification: String,
}

/// A request as the form made it, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub role: RoleArn,
    pub ends_at: OffsetDateTime,
    pub justification: String,
}

/// Reads the form; each wrong field comes back with its reason, to show next to it.
pub fn parse(
    form: &RequestForm,
    now: OffsetDateTime,
) -> Result<Request, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let role = RoleArn::parse(form.role_arn.trim()).map_err(|_| {
        errors.push((
            "role_arn",
            "Choose the role you need from the list.".to_string(),
        ))
    });
    let hours = form
        .hours
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|h| DURATIONS.iter().any(|(d, _)| d == h));
    if hours.is_none() {
        errors.push((
            "hours",
            "Choose for how long you need it: requested access always ends (30 days at most)."
                .to_string(),
        ));
    }
    let justification = form.justification.trim();
    if justification.chars().count() < 10 {
        errors.push((
            "justification",
            "Say why you need this access (at least 10 characters): a reviewer decides on it."
                .to_string(),
        ));
    } else if justification.chars().count() > 4000 {
        errors.push(("justification", "At most 4,000 characters.".to_string()));
    }
    match (role, hours) {
        (Ok(role), Some(hours)) if errors.is_empty() => Ok(Request {
            role,
            ends_at: now + Duration::hours(i64::from(hours)),
            justification: justification.to_string(),
        }),
        _ => Err(errors),
    }
}

/// The one item of a request: the person bound to the role.
pub fn item(person: GroupRef, role: RoleArn) -> ChangeItem {
    ChangeItem::AddBinding(Binding {
        group: person,
        role,
    })
}

/// "Access request: Alice Example → orders-readers".
pub fn title(person_name: &str, role: &RoleArn) -> String {
    let title = format!("Access request: {person_name} → {}", role.name());
    title.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-04 09:00 UTC);

    fn form(role: &str, hours: &str, why: &str) -> RequestForm {
        RequestForm {
            role_arn: role.into(),
            hours: hours.into(),
            justification: why.into(),
        }
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/orders-readers";

    #[test]
    fn a_request_ends_after_the_chosen_duration() {
        let r = parse(&form(ROLE, "8", "  on call for orders this week "), NOW).unwrap();
        assert_eq!(r.role.name(), "orders-readers");
        assert_eq!(r.ends_at, datetime!(2026-12-04 17:00 UTC));
        assert_eq!(r.justification, "on call for orders this week");
    }

    #[test]
    fn each_wrong_field_is_named_with_its_reason() {
        let errors = parse(&form("not an arn", "5", "short"), NOW).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["role_arn", "hours", "justification"]);
        // A duration the form does not offer (a hand-made request for a year) is refused.
        let errors = parse(&form(ROLE, "8760", "on call for orders"), NOW).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].1.contains("30 days at most"), "{errors:?}");
        assert!(parse(&form(ROLE, "", "on call for orders"), NOW).is_err());
    }

    #[test]
    fn the_item_binds_the_person_not_a_group() {
        let role = RoleArn::parse(ROLE).unwrap();
        let ChangeItem::AddBinding(b) = item(GroupRef::person("graph", "p-1"), role.clone()) else {
            panic!("a binding")
        };
        assert!(b.group.is_person());
        assert_eq!(b.role, role);
        assert_eq!(
            title("Alice Example", &role),
            "Access request: Alice Example → orders-readers"
        );
    }
}
