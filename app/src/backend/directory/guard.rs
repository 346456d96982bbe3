//! The mass-removal guard: a full listing that would mark many of the known groups (or people)
//! deleted is far more often a broken filter, a bind account without read rights or a wrong
//! base DN than a real mass deletion. Such a sync is refused, changes nothing, and says why;
//! an admin applies it deliberately with "allow removals".

use std::fmt;

/// Ten percent of the known entries, unless configured otherwise.
pub const DEFAULT_MAX_REMOVAL_PERCENT: u32 = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovalsHeld {
    /// "groups" or "people".
    pub what: &'static str,
    pub would_remove: i64,
    pub known: i64,
    pub listed: i64,
    pub max_percent: u32,
    /// The likely causes, worded for the configured directory.
    pub causes: String,
}

impl fmt::Display for RemovalsHeld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let share = if self.listed == 0 {
            "the directory answered none at all".to_string()
        } else if self.would_remove >= self.known {
            "that is all of them".to_string()
        } else {
            format!("more than the {}% allowed", self.max_percent)
        };
        write!(
            f,
            "refused to remove {} of {} known {} ({share}; {} listed); nothing was changed. Likely causes: {}. If the removals are real, sync again allowing removals (gatehouse sync groups --allow-removals, or \"Apply removals\" on the Sync page)",
            self.would_remove, self.known, self.what, self.listed, self.causes
        )
    }
}

/// Whether removing `would_remove` of `known` entries, after a listing that named `listed`,
/// must be held back. Nothing is held when nothing would be removed.
pub fn holds(known: i64, listed: i64, would_remove: i64, max_percent: u32) -> bool {
    if would_remove <= 0 {
        return false;
    }
    listed == 0 || would_remove >= known || would_remove * 100 > known * i64::from(max_percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_removals_pass_and_many_are_held() {
        assert!(!holds(40, 39, 1, 10), "one of forty is a real deletion");
        assert!(!holds(40, 36, 4, 10), "exactly ten percent passes");
        assert!(holds(40, 35, 5, 10), "past ten percent is held");
        assert!(holds(3, 0, 3, 100), "an empty answer is always held");
        assert!(holds(1, 0, 1, 100), "removing everything is always held");
        assert!(
            holds(5, 4, 5, 100),
            "every known entry gone is held at any share"
        );
        assert!(
            !holds(0, 0, 0, 10),
            "an empty directory that stays empty is fine"
        );
        assert!(!holds(40, 80, 0, 10));
    }

    #[test]
    fn the_refusal_names_the_numbers_and_the_causes() {
        let held = RemovalsHeld {
            what: "groups",
            would_remove: 39,
            known: 39,
            listed: 0,
            max_percent: 10,
            causes: "the group filter `(objectClass=grup)` matches nothing".into(),
        };
        let text = held.to_string();
        assert!(
            text.contains("refused to remove 39 of 39 known groups"),
            "{text}"
        );
        assert!(text.contains("answered none at all"), "{text}");
        assert!(text.contains("(objectClass=grup)"), "{text}");
        assert!(text.contains("--allow-removals"), "{text}");
        assert!(!text.contains('\n'));
    }
}
