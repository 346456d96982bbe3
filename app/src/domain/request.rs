//! Access requests: a person asks for a role for themselves, for a bounded time, saying why.
//! Pure: the durations offered, reading the form, and what a request is made of.

use std::collections::{BTreeMap, BTreeSet};

use time::{Duration, OffsetDateTime};

use super::{
    desired::{ChangeItem, DesiredState, Route},
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
    let time = parse_time(&form.hours, &form.justification, now, &mut errors);
    match (role, time) {
        (Ok(role), Some((ends_at, justification))) if errors.is_empty() => Ok(Request {
            role,
            ends_at,
            justification,
        }),
        _ => Err(errors),
    }
}

/// The duration (one the form offers) and the justification every request carries: its end
/// and the reason, or the errors pushed.
fn parse_time(
    hours: &str,
    justification: &str,
    now: OffsetDateTime,
    errors: &mut Vec<(&'static str, String)>,
) -> Option<(OffsetDateTime, String)> {
    let hours = hours
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
    let justification = justification.trim();
    if justification.chars().count() < 10 {
        errors.push((
            "justification",
            "Say why you need this access (at least 10 characters): a reviewer decides on it."
                .to_string(),
        ));
    } else if justification.chars().count() > 4000 {
        errors.push(("justification", "At most 4,000 characters.".to_string()));
    }
    let ends_at = now + Duration::hours(i64::from(hours?));
    Some((ends_at, justification.to_string()))
}

/// What the routes form sent: the ticked routes' keys ([`route_key`]), duration, reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteRequestForm {
    pub routes: Vec<String>,
    pub hours: String,
    pub justification: String,
}

/// A request for routes as the form made it, checked: the routes come from what roles give
/// (`offered`), so each is one some role may call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRequest {
    pub routes: BTreeSet<Route>,
    pub ends_at: OffsetDateTime,
    pub justification: String,
}

/// A route as a form sends it: `API-ID STAGE METHOD PATH` (none of them holds a space).
pub fn route_key(r: &Route) -> String {
    format!(
        "{} {} {} {}",
        r.api.api_id.as_str(),
        r.stage.as_str(),
        r.method,
        r.path.as_str()
    )
}

/// The most routes one request asks for: more is a role to ask for, or an admin's change set.
pub const MAX_ROUTES: usize = 50;

pub fn parse_routes(
    form: &RouteRequestForm,
    offered: &[Route],
    now: OffsetDateTime,
) -> Result<RouteRequest, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let mut routes = BTreeSet::new();
    let mut unknown = Vec::new();
    for key in form
        .routes
        .iter()
        .map(|k| k.trim())
        .filter(|k| !k.is_empty())
    {
        match offered.iter().find(|r| route_key(r) == key) {
            Some(r) => {
                routes.insert(r.clone());
            }
            None => unknown.push(key.to_string()),
        }
    }
    if !unknown.is_empty() {
        errors.push((
            "routes",
            format!(
                "No role may call {} now (the mappings changed): reload the page and tick again.",
                unknown.join(", ")
            ),
        ));
    } else if routes.is_empty() {
        errors.push(("routes", "Tick the routes you need.".to_string()));
    } else if routes.len() > MAX_ROUTES {
        errors.push((
            "routes",
            format!("At most {MAX_ROUTES} routes in one request: ask for a role instead."),
        ));
    }
    let time = parse_time(&form.hours, &form.justification, now, &mut errors);
    match time {
        Some((ends_at, justification)) if errors.is_empty() => Ok(RouteRequest {
            routes,
            ends_at,
            justification,
        }),
        _ => Err(errors),
    }
}

/// The roles that give the routes asked for, fewest first: each step takes the role giving the
/// most routes still uncovered (ties: the role giving least else, then by name). Roles the
/// person holds are not offered: a route they give is one the person may already call.
pub fn roles_for(
    state: &DesiredState,
    held: &[RoleArn],
    wanted: &BTreeSet<Route>,
) -> Result<Vec<RoleArn>, String> {
    let routes_of = |role: &RoleArn| -> BTreeSet<Route> {
        state.grants_of(role).iter().map(|g| Route::of(g)).collect()
    };
    let already: Vec<String> = wanted
        .iter()
        .filter(|r| held.iter().any(|h| routes_of(h).contains(r)))
        .map(Route::describe)
        .collect();
    if !already.is_empty() {
        return Err(format!(
            "You may already call {} through a role you hold: untick it.",
            already.join(", ")
        ));
    }
    let candidates: BTreeMap<&RoleArn, BTreeSet<Route>> = state
        .grants
        .iter()
        .map(|g| &g.role)
        .filter(|r| !held.contains(r))
        .map(|r| (r, routes_of(r)))
        .collect();
    let mut left: BTreeSet<Route> = wanted.clone();
    let mut chosen = Vec::new();
    while !left.is_empty() {
        let best = candidates
            .iter()
            .filter(|(r, _)| !chosen.contains(**r))
            .map(|(r, gives)| (*r, gives.intersection(&left).count(), gives.len()))
            .filter(|(_, covers, _)| *covers > 0)
            .max_by(|a, b| {
                a.1.cmp(&b.1)
                    .then(b.2.cmp(&a.2))
                    .then(b.0.name().cmp(a.0.name()))
            });
        let Some((role, _, _)) = best else {
            let none: Vec<String> = left.iter().map(Route::describe).collect();
            return Err(format!("No role may call {} now.", none.join(", ")));
        };
        left.retain(|r| !candidates[role].contains(r));
        chosen.push(role.clone());
    }
    Ok(chosen)
}

/// What the chosen roles give beyond the routes asked for (the reviewer weighs it).
pub fn beyond(state: &DesiredState, roles: &[RoleArn], wanted: &BTreeSet<Route>) -> Vec<Route> {
    let mut more: BTreeSet<Route> = BTreeSet::new();
    for role in roles {
        more.extend(
            state
                .grants_of(role)
                .iter()
                .map(|g| Route::of(g))
                .filter(|r| !wanted.contains(r)),
        );
    }
    more.into_iter().collect()
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

/// "Access request: Alice Example → 2 routes via orders-readers".
pub fn routes_title(person_name: &str, routes: usize, roles: &[RoleArn]) -> String {
    let names: Vec<&str> = roles.iter().map(RoleArn::name).collect();
    let title = format!(
        "Access request: {person_name} → {routes} route{} via {}",
        if routes == 1 { "" } else { "s" },
        names.join(", ")
    );
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

    fn grant_on(role: &str, method: &str, path: &str) -> crate::domain::grant::Grant {
        crate::domain::fixtures::grant(role, method, path, "prod")
    }

    fn routes(state: &DesiredState, role: &str) -> BTreeSet<Route> {
        state
            .grants_of(&crate::domain::fixtures::role(role))
            .iter()
            .map(|g| Route::of(g))
            .collect()
    }

    #[test]
    fn routes_asked_for_are_given_through_the_fewest_roles_that_give_least_else() {
        use crate::domain::fixtures::role;
        // reader: GET /orders; writer: GET + POST /orders + DELETE; poster: POST /orders only.
        let state = DesiredState {
            grants: [
                grant_on("reader", "GET", "/orders"),
                grant_on("writer", "GET", "/orders"),
                grant_on("writer", "POST", "/orders"),
                grant_on("writer", "DELETE", "/orders"),
                grant_on("poster", "POST", "/orders"),
            ]
            .into(),
            ..Default::default()
        };
        let get = routes(&state, "reader");
        let post = routes(&state, "poster");
        let both: BTreeSet<Route> = get.union(&post).cloned().collect();
        // One route: the role giving nothing else.
        assert_eq!(roles_for(&state, &[], &get).unwrap(), [role("reader")]);
        // Both: one role covering both beats two.
        assert_eq!(roles_for(&state, &[], &both).unwrap(), [role("writer")]);
        let extra = beyond(&state, &[role("writer")], &both);
        assert_eq!(extra.len(), 1);
        assert_eq!(extra[0].method.to_string(), "DELETE");
        // Holding the writer role: those routes are already callable.
        let held = roles_for(&state, &[role("writer")], &get).unwrap_err();
        assert!(held.contains("already call GET /orders"), "{held}");
        // Without the writer role on offer, two roles.
        let mut no_writer = state.clone();
        no_writer.grants.retain(|g| g.role != role("writer"));
        assert_eq!(
            roles_for(&no_writer, &[], &both).unwrap(),
            [role("poster"), role("reader")]
        );
        let mut nobody = no_writer.clone();
        nobody.grants.retain(|g| g.role != role("poster"));
        let none = roles_for(&nobody, &[], &both).unwrap_err();
        assert!(none.contains("No role may call POST /orders"), "{none}");
    }

    #[test]
    fn the_routes_form_takes_only_offered_routes_and_says_what_is_wrong() {
        let state = DesiredState {
            grants: [grant_on("reader", "GET", "/orders")].into(),
            ..Default::default()
        };
        let offered: Vec<Route> = routes(&state, "reader").into_iter().collect();
        let key = route_key(&offered[0]);
        let form = |keys: &[&str], hours: &str| RouteRequestForm {
            routes: keys.iter().map(|k| k.to_string()).collect(),
            hours: hours.into(),
            justification: "on call for orders this week".into(),
        };
        let ok = parse_routes(&form(&[&key], "2"), &offered, NOW).unwrap();
        assert_eq!(ok.routes.len(), 1);
        assert_eq!(ok.ends_at, datetime!(2026-12-04 11:00 UTC));
        let none = parse_routes(&form(&[], "2"), &offered, NOW).unwrap_err();
        assert_eq!(none[0].0, "routes");
        let gone = parse_routes(&form(&["abc prod GET /gone"], "5"), &offered, NOW).unwrap_err();
        let fields: Vec<&str> = gone.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["routes", "hours"]);
        assert!(gone[0].1.contains("abc prod GET /gone"), "{gone:?}");
        assert_eq!(
            routes_title("Alice", 2, &[crate::domain::fixtures::role("reader")]),
            "Access request: Alice → 2 routes via reader"
        );
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
