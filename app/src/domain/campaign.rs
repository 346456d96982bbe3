//! Access review campaigns, with no IO: what a campaign covers, the lines it certifies, reading
//! the start form and a decision, what the close revokes, and the progress figures.

use std::collections::{BTreeMap, BTreeSet};

use time::{macros::format_description, Date, Duration, OffsetDateTime};

use super::{
    desired::{ChangeItem, DesiredState},
    grant::{Binding, Grant, GroupRef},
    names::RoleArn,
};

/// A campaign runs at most this long: certifications older than a quarter or two say little.
pub const LONGEST: Duration = Duration::days(180);
/// Reviewers are reminded this long before the due date, once.
pub const REMIND_BEFORE: Duration = Duration::days(2);

/// A line's certification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    Keep,
    Revoke,
}

impl Decision {
    pub fn parse(text: &str) -> Option<Decision> {
        match text.trim() {
            "keep" => Some(Decision::Keep),
            "revoke" => Some(Decision::Revoke),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Revoke => "revoke",
        }
    }
}

/// What a campaign covers: these APIs' grants and the bindings of the roles that call them, and
/// these roles' bindings and grants. Nothing named: every binding and grant.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scope {
    pub apis: BTreeSet<String>,
    pub roles: BTreeSet<RoleArn>,
}

impl Scope {
    pub fn is_everything(&self) -> bool {
        self.apis.is_empty() && self.roles.is_empty()
    }

    fn covers_grant(&self, g: &Grant) -> bool {
        self.is_everything()
            || self.roles.contains(&g.role)
            || self.apis.contains(g.api.api_id.as_str())
    }

    fn covers_binding(&self, b: &Binding, state: &DesiredState) -> bool {
        self.is_everything()
            || self.roles.contains(&b.role)
            || state
                .grants_of(&b.role)
                .iter()
                .any(|g| self.apis.contains(g.api.api_id.as_str()))
    }
}

/// The lines of a campaign over `state`: its bindings, then its grants (each as the item that
/// added it), in the state's order.
pub fn lines(state: &DesiredState, scope: &Scope) -> Vec<ChangeItem> {
    let bindings = state
        .bindings
        .iter()
        .filter(|b| scope.covers_binding(b, state))
        .map(|b| ChangeItem::AddBinding(b.clone()));
    let grants = state
        .grants
        .iter()
        .filter(|g| scope.covers_grant(g))
        .map(|g| ChangeItem::AddGrant(g.clone()));
    bindings.chain(grants).collect()
}

/// The APIs a line is about: a grant's API; for a binding, every API its role may call.
pub fn apis_of(item: &ChangeItem, state: &DesiredState) -> BTreeSet<String> {
    super::owners::apis_touched(std::slice::from_ref(item), state, None)
}

/// What the start form sent, field by field. `scope` holds the ticked `api:ID` and `role:ARN`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartForm {
    pub name: String,
    pub scope: Vec<String>,
    pub reviewers: String,
    pub group: String,
    pub due: String,
    pub default_decision: String,
}

/// How lines are given to reviewers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reviewers {
    /// Each line's API owners; Gatehouse reviewers where an API has none.
    Owners,
    /// The members of this directory group (its name or object id, as typed).
    Group(String),
}

/// A campaign as the form made it, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCampaign {
    pub name: String,
    pub scope: Scope,
    pub reviewers: Reviewers,
    pub due_at: OffsetDateTime,
    pub default_decision: Decision,
}

pub type FieldErrors = Vec<(&'static str, String)>;

/// Reads the start form; each wrong field comes back with its reason, to show next to it. The
/// due date is a day (`YYYY-MM-DD`): the campaign is due at that day's end, UTC.
pub fn parse(form: &StartForm, now: OffsetDateTime) -> Result<NewCampaign, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = form.name.trim().to_string();
    if name.is_empty() {
        errors.push((
            "name",
            "Name the campaign, e.g. “Q4 payments review”.".into(),
        ));
    } else if name.chars().count() > 200 {
        errors.push(("name", "Keep the name under 200 characters.".into()));
    }
    let mut scope = Scope::default();
    for token in &form.scope {
        if let Some(api) = token.strip_prefix("api:").filter(|a| !a.is_empty()) {
            scope.apis.insert(api.to_string());
        } else if let Some(role) = token
            .strip_prefix("role:")
            .and_then(|r| RoleArn::parse(r).ok())
        {
            scope.roles.insert(role);
        } else {
            errors.push(("scope", format!("“{token}” is neither an API nor a role.")));
        }
    }
    let reviewers = match (form.reviewers.trim(), form.group.trim()) {
        ("owners" | "", _) => Some(Reviewers::Owners),
        ("group", "") => {
            errors.push((
                "group",
                "Name the group whose members review (its exact name or object id).".into(),
            ));
            None
        }
        ("group", g) => Some(Reviewers::Group(g.to_string())),
        (other, _) => {
            errors.push(("reviewers", format!("“{other}” is not a kind of reviewer.")));
            None
        }
    };
    let day = format_description!("[year]-[month]-[day]");
    let due_at = match Date::parse(form.due.trim(), &day) {
        Err(_) => {
            errors.push(("due", "Give the due date as a day, e.g. 2026-12-31.".into()));
            None
        }
        Ok(d) => {
            let end = d.next_day().unwrap_or(d).midnight().assume_utc();
            if end <= now + Duration::hours(1) {
                errors.push((
                    "due",
                    "The due date must be today or later: reviewers need time to decide.".into(),
                ));
                None
            } else if end > now + LONGEST {
                errors.push((
                    "due",
                    format!(
                        "A campaign runs {} days at most; pick an earlier day.",
                        LONGEST.whole_days()
                    ),
                ));
                None
            } else {
                Some(end)
            }
        }
    };
    let default_decision = Decision::parse(&form.default_decision);
    if default_decision.is_none() {
        errors.push((
            "default_decision",
            "Say what happens to lines nobody decided: keep or revoke.".into(),
        ));
    }
    match (reviewers, due_at, default_decision) {
        (Some(reviewers), Some(due_at), Some(default_decision)) if errors.is_empty() => {
            Ok(NewCampaign {
                name,
                scope,
                reviewers,
                due_at,
                default_decision,
            })
        }
        _ => Err(errors),
    }
}

/// Reads one line's decision: a revoke says why (the change set it becomes carries the words).
pub fn decision(decision: &str, comment: &str) -> Result<(Decision, String), FieldErrors> {
    let comment = comment.trim().to_string();
    let Some(d) = Decision::parse(decision) else {
        return Err(vec![("decision", "Choose keep or revoke.".into())]);
    };
    if comment.chars().count() > 2000 {
        return Err(vec![(
            "comment",
            "Keep the comment under 2,000 characters.".into(),
        )]);
    }
    if d == Decision::Revoke && comment.is_empty() {
        return Err(vec![(
            "comment",
            "Say why this access should go: the revocation's reviewers read it.".into(),
        )]);
    }
    Ok((d, comment))
}

/// Each line's final decision at the close: its own, or the default when nobody decided.
/// Answers (decision, whether defaulted) per line.
pub fn finals(decisions: &[Option<Decision>], default: Decision) -> Vec<(Decision, bool)> {
    decisions
        .iter()
        .map(|d| match d {
            Some(d) => (*d, false),
            None => (default, true),
        })
        .collect()
}

/// What the close revokes: the revoked lines that `state` still holds (one removed since
/// needs nothing), as removal items.
pub fn revocation(lines: &[(ChangeItem, Decision)], state: &DesiredState) -> Vec<ChangeItem> {
    lines
        .iter()
        .filter(|(_, d)| *d == Decision::Revoke)
        .filter(|(item, _)| match item {
            ChangeItem::AddBinding(b) => state.bindings.contains(b),
            ChangeItem::AddGrant(g) => state.grants.contains(g),
            _ => false,
        })
        .map(|(item, _)| item.opposite())
        .collect()
}

/// Who is deciding: their object id, the directory groups they are in (with nesting) and
/// whether they are a Gatehouse reviewer.
#[derive(Clone, Debug, Default)]
pub struct Decider {
    pub oid: String,
    pub groups: BTreeSet<GroupRef>,
    pub reviewer: bool,
}

/// Whether `me` may certify a line given to `reviewer_groups` (none: Gatehouse reviewers), or
/// why not. Nobody certifies their own access: not a binding of themselves, nor of a group
/// they are in.
pub fn may_decide(
    me: &Decider,
    item: &ChangeItem,
    reviewer_groups: &[GroupRef],
) -> Result<(), &'static str> {
    if let ChangeItem::AddBinding(b) = item {
        let own = if b.group.is_person() {
            b.group.object_id == me.oid
        } else {
            me.groups.contains(&b.group)
        };
        if own {
            return Err("This is your own access: someone else certifies it.");
        }
    }
    if reviewer_groups.is_empty() {
        return if me.reviewer {
            Ok(())
        } else {
            Err("Gatehouse reviewers certify this line (its API has no owners).")
        };
    }
    if reviewer_groups.iter().any(|g| me.groups.contains(g)) {
        Ok(())
    } else {
        Err("This line is for other reviewers: see who certifies it.")
    }
}

/// Decided and undecided lines, in figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub keep: u32,
    pub revoke: u32,
    pub undecided: u32,
}

impl Tally {
    pub fn of(decisions: impl IntoIterator<Item = Option<Decision>>) -> Tally {
        let mut t = Tally::default();
        for d in decisions {
            match d {
                Some(Decision::Keep) => t.keep += 1,
                Some(Decision::Revoke) => t.revoke += 1,
                None => t.undecided += 1,
            }
        }
        t
    }

    pub fn total(&self) -> u32 {
        self.keep + self.revoke + self.undecided
    }
}

/// Lines decided by the end of each day from the start's day to `until`'s (the chart's line),
/// counting each line at its latest decision.
pub fn decided_by_day(
    started: OffsetDateTime,
    until: OffsetDateTime,
    decided_at: &[OffsetDateTime],
) -> Vec<(Date, u32)> {
    let mut per_day: BTreeMap<Date, u32> = BTreeMap::new();
    for t in decided_at {
        *per_day.entry(t.date()).or_default() += 1;
    }
    let (first, last) = (started.date(), until.date().max(started.date()));
    let mut out = Vec::new();
    let mut sum = 0;
    let mut day = first;
    // Days before the start (a clock set back in a test) count on the first day.
    sum += per_day.range(..first).map(|(_, n)| n).sum::<u32>();
    loop {
        sum += per_day.get(&day).copied().unwrap_or(0);
        out.push((day, sum));
        match day.next_day() {
            Some(next) if next <= last && out.len() < 400 => day = next,
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{fixtures, grant::Binding, names::ApiId};
    use time::macros::datetime;

    fn state() -> DesiredState {
        let mut s = DesiredState::default();
        let mut payments = fixtures::grant("payer", "POST", "/payments", "prod");
        payments.api.api_id = ApiId::parse("payments12").unwrap();
        s.grants
            .insert(fixtures::grant("reader", "GET", "/orders", "prod"));
        s.grants.insert(payments);
        for (group, role) in [("team", "reader"), ("finance", "payer"), ("idle", "unused")] {
            s.bindings.insert(Binding {
                group: fixtures::group(group),
                role: fixtures::role(role),
            });
        }
        s
    }

    fn form() -> StartForm {
        StartForm {
            name: "Q4 review".into(),
            scope: vec![],
            reviewers: "owners".into(),
            group: String::new(),
            due: "2026-12-20".into(),
            default_decision: "revoke".into(),
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-12-04 12:00 UTC);

    #[test]
    fn everything_is_every_binding_and_grant() {
        let s = state();
        assert_eq!(lines(&s, &Scope::default()).len(), 5);
    }

    #[test]
    fn an_api_scope_takes_its_grants_and_the_bindings_of_roles_calling_it() {
        let s = state();
        let scope = Scope {
            apis: ["payments12".to_string()].into(),
            roles: BTreeSet::new(),
        };
        let got = lines(&s, &scope);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(matches!(&got[0], ChangeItem::AddBinding(b) if b.group.object_id == "finance"));
        assert!(
            matches!(&got[1], ChangeItem::AddGrant(g) if g.api.api_id.as_str() == "payments12")
        );
    }

    #[test]
    fn a_role_scope_takes_its_bindings_and_grants_even_without_routes() {
        let s = state();
        let scope = Scope {
            apis: BTreeSet::new(),
            roles: [fixtures::role("unused"), fixtures::role("reader")].into(),
        };
        let got = lines(&s, &scope);
        assert_eq!(got.len(), 3, "team, idle and the reader's grant: {got:?}");
    }

    #[test]
    fn the_form_is_read_and_the_due_date_is_that_days_end() {
        let mut f = form();
        f.scope = vec![
            "api:payments12".into(),
            format!("role:{}", fixtures::role("reader")),
        ];
        let c = parse(&f, NOW).unwrap();
        assert_eq!(c.due_at, datetime!(2026-12-21 00:00 UTC));
        assert_eq!(c.default_decision, Decision::Revoke);
        assert_eq!(c.scope.apis.len() + c.scope.roles.len(), 2);
        assert_eq!(c.reviewers, Reviewers::Owners);
        // Due today is fine (its end is hours away).
        f.due = "2026-12-04".into();
        assert!(parse(&f, NOW).is_ok());
    }

    #[test]
    fn each_wrong_field_says_why() {
        let f = StartForm {
            name: " ".into(),
            scope: vec!["role:not-an-arn".into()],
            reviewers: "group".into(),
            group: String::new(),
            due: "2026-12-01".into(),
            default_decision: "maybe".into(),
        };
        let fields: Vec<&str> = parse(&f, NOW).unwrap_err().iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            ["name", "scope", "group", "due", "default_decision"]
        );
        let mut far = form();
        far.due = "2027-12-01".into();
        assert_eq!(parse(&far, NOW).unwrap_err()[0].0, "due");
        let mut bad = form();
        bad.due = "next friday".into();
        assert!(parse(&bad, NOW).unwrap_err()[0].1.contains("as a day"));
    }

    #[test]
    fn a_revoke_needs_a_reason_and_a_keep_does_not() {
        assert_eq!(decision("keep", "  "), Ok((Decision::Keep, String::new())));
        assert_eq!(decision("revoke", "").unwrap_err()[0].0, "comment");
        assert_eq!(
            decision("revoke", " left the team "),
            Ok((Decision::Revoke, "left the team".into()))
        );
        assert_eq!(decision("delete", "x").unwrap_err()[0].0, "decision");
    }

    #[test]
    fn undecided_lines_take_the_default_and_only_held_revokes_are_removed() {
        let s = state();
        let all = lines(&s, &Scope::default());
        let decided = [
            Some(Decision::Keep),
            None,
            Some(Decision::Revoke),
            None,
            None,
        ];
        let finals = finals(&decided, Decision::Keep);
        assert_eq!(finals[1], (Decision::Keep, true));
        assert_eq!(finals[2], (Decision::Revoke, false));
        let with: Vec<(ChangeItem, Decision)> = all
            .iter()
            .cloned()
            .zip(finals.iter().map(|f| f.0))
            .collect();
        let mut later = s.clone();
        let items = revocation(&with, &later);
        assert_eq!(items, vec![all[2].opposite()]);
        // Removed since the start: nothing left to revoke.
        later = later.apply(&items).unwrap();
        assert!(revocation(&with, &later).is_empty());
    }

    #[test]
    fn the_tally_and_the_line_by_day_count_every_decision() {
        let t = Tally::of([Some(Decision::Keep), None, Some(Decision::Revoke), None]);
        assert_eq!((t.keep, t.revoke, t.undecided, t.total()), (1, 1, 2, 4));
        let days = decided_by_day(
            NOW,
            datetime!(2026-12-07 09:00 UTC),
            &[
                datetime!(2026-12-04 13:00 UTC),
                datetime!(2026-12-06 08:00 UTC),
                datetime!(2026-12-06 09:00 UTC),
            ],
        );
        let counts: Vec<u32> = days.iter().map(|d| d.1).collect();
        assert_eq!(counts, [1, 1, 3, 3]);
    }

    #[test]
    fn a_line_is_certified_by_its_reviewers_and_never_by_whom_it_concerns() {
        let s = state();
        let all = lines(&s, &Scope::default());
        let owners = vec![fixtures::group("payments-owners")];
        let owner = Decider {
            oid: "p1".into(),
            groups: [fixtures::group("payments-owners")].into(),
            reviewer: false,
        };
        let reviewer = Decider {
            oid: "r1".into(),
            groups: BTreeSet::new(),
            reviewer: true,
        };
        assert_eq!(may_decide(&owner, &all[3], &owners), Ok(()));
        assert!(may_decide(&reviewer, &all[3], &owners).is_err());
        // A line whose API has no owners: Gatehouse reviewers.
        assert_eq!(may_decide(&reviewer, &all[4], &[]), Ok(()));
        assert!(may_decide(&owner, &all[4], &[]).is_err());
        // Their own group's binding (all[2] binds "team"): someone else.
        let in_team = Decider {
            groups: [fixtures::group("team")].into(),
            ..reviewer.clone()
        };
        assert!(may_decide(&in_team, &all[2], &[])
            .unwrap_err()
            .contains("your own"));
        let me = crate::domain::grant::GroupRef::person("file", "r1");
        let mine = ChangeItem::AddBinding(Binding {
            group: me,
            role: fixtures::role("reader"),
        });
        assert!(may_decide(&reviewer, &mine, &[]).is_err());
    }
}
