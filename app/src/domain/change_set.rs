//! The change-set state machine: `draft → submitted → approved | rejected → pushing → pushed |
//! push_failed`, and `withdrawn`. Every transition not listed here is refused.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Stored as text; a value the code does not know reads as an error, never as a default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "text"))]
#[cfg_attr(feature = "ssr", sqlx(rename_all = "snake_case"))]
pub enum State {
    Draft,
    Submitted,
    Approved,
    Rejected,
    Pushing,
    Pushed,
    PushFailed,
    Withdrawn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Items, title or justification changed.
    Edit,
    Submit,
    Withdraw,
    /// A reviewer approves; `enough` when this approval reaches the number required.
    Approve {
        enough: bool,
    },
    Reject,
    /// A push starts (or resumes after a failure).
    Push,
    PushSucceeded,
    PushFailed,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a change set that is {state} cannot be {verb}")]
pub struct IllegalTransition {
    pub state: State,
    pub verb: &'static str,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Draft,
        State::Submitted,
        State::Approved,
        State::Rejected,
        State::Pushing,
        State::Pushed,
        State::PushFailed,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Submitted => "submitted",
            State::Approved => "approved",
            State::Rejected => "rejected",
            State::Pushing => "pushing",
            State::Pushed => "pushed",
            State::PushFailed => "push_failed",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The word people read.
    pub fn label(self) -> &'static str {
        match self {
            State::PushFailed => "push failed",
            other => other.as_str(),
        }
    }

    /// Nothing more happens to a change set in these states.
    pub fn is_final(self) -> bool {
        matches!(self, State::Rejected | State::Pushed | State::Withdrawn)
    }

    /// Where `action` takes a change set in this state.
    pub fn next(self, action: Action) -> Result<State, IllegalTransition> {
        use Action as A;
        use State as S;
        let to = match (self, action) {
            (S::Draft, A::Edit) => S::Draft,
            (S::Draft, A::Submit) => S::Submitted,
            // Not once approved: approval has applied it to the mappings (undo it with a
            // reverse change set).
            (S::Draft | S::Submitted, A::Withdraw) => S::Withdrawn,
            (S::Submitted, A::Approve { enough: true }) => S::Approved,
            (S::Submitted, A::Approve { enough: false }) => S::Submitted,
            (S::Submitted, A::Reject) => S::Rejected,
            (S::Approved | S::PushFailed, A::Push) => S::Pushing,
            (S::Pushing, A::PushSucceeded) => S::Pushed,
            (S::Pushing, A::PushFailed) => S::PushFailed,
            _ => {
                return Err(IllegalTransition {
                    state: self,
                    verb: action.verb(),
                })
            }
        };
        Ok(to)
    }
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Edit => "edited",
            Action::Submit => "submitted",
            Action::Withdraw => "withdrawn",
            Action::Approve { .. } => "approved",
            Action::Reject => "rejected",
            Action::Push => "pushed",
            Action::PushSucceeded | Action::PushFailed => "finished pushing",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a person may not review a change set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("you wrote this change set; someone else must review it")]
    OwnChangeSet,
    #[error("you have already reviewed this change set; each person counts once")]
    AlreadyReviewed,
}

/// Separation of duties: never the author, and once per person.
pub fn may_review<P: PartialEq>(
    author: &P,
    reviewer: &P,
    earlier_reviewers: &[P],
) -> Result<(), ReviewRefusal> {
    if author == reviewer {
        return Err(ReviewRefusal::OwnChangeSet);
    }
    if earlier_reviewers.contains(reviewer) {
        return Err(ReviewRefusal::AlreadyReviewed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_path_and_a_resumed_push() {
        let s = State::Draft
            .next(Action::Edit)
            .and_then(|s| s.next(Action::Submit))
            .and_then(|s| s.next(Action::Approve { enough: false }))
            .and_then(|s| s.next(Action::Approve { enough: true }))
            .and_then(|s| s.next(Action::Push))
            .and_then(|s| s.next(Action::PushFailed))
            .and_then(|s| s.next(Action::Push))
            .and_then(|s| s.next(Action::PushSucceeded));
        assert_eq!(s, Ok(State::Pushed));
    }

    #[test]
    fn illegal_transitions_are_refused_and_say_why() {
        let err = State::Submitted.next(Action::Edit).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a change set that is submitted cannot be edited"
        );
        assert!(State::Draft.next(Action::Approve { enough: true }).is_err());
        assert!(State::Approved.next(Action::Reject).is_err());
        assert!(State::Pushing.next(Action::Withdraw).is_err());
        assert!(State::Approved.next(Action::Withdraw).is_err());
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn nobody_reviews_their_own_change_set_or_twice() {
        assert_eq!(
            may_review(&"ada", &"ada", &[]),
            Err(ReviewRefusal::OwnChangeSet)
        );
        assert_eq!(
            may_review(&"ada", &"rita", &["rita"]),
            Err(ReviewRefusal::AlreadyReviewed)
        );
        assert_eq!(may_review(&"ada", &"rita", &["sam"]), Ok(()));
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            Just(Action::Edit),
            Just(Action::Submit),
            Just(Action::Withdraw),
            any::<bool>().prop_map(|enough| Action::Approve { enough }),
            Just(Action::Reject),
            Just(Action::Push),
            Just(Action::PushSucceeded),
            Just(Action::PushFailed),
        ]
    }

    proptest! {
        /// Whatever happens, final states stay final, nothing is pushed without an approval,
        /// and only a draft's content changes.
        #[test]
        fn any_sequence_keeps_the_rules(actions in prop::collection::vec(action(), 0..30)) {
            let mut state = State::Draft;
            let mut approved_once = false;
            for a in actions {
                match state.next(a) {
                    Ok(next) => {
                        prop_assert!(!state.is_final(), "{state:?} moved on");
                        if a == Action::Edit { prop_assert_eq!(state, State::Draft); }
                        if next == State::Approved { approved_once = true; }
                        if next == State::Pushing { prop_assert!(approved_once); }
                        if next == State::Pushed { prop_assert_eq!(state, State::Pushing); }
                        if next == State::Withdrawn {
                            prop_assert!(matches!(state, State::Draft | State::Submitted));
                        }
                        state = next;
                    }
                    Err(e) => prop_assert_eq!(e.state, state),
                }
            }
        }
    }
}
