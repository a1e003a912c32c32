//! Reminders about action items: which items deserve one on a given day, and why. The incident
//! an item came from may be long closed — an open action item is still owed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::action_item::{ActionItemView, ActionState, due_within_on, overdue_on};

/// Items due within this many days of today (today included) are "due soon".
pub const DUE_SOON_DAYS: i64 = 2;

/// Why an owner is reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReminderReason {
    /// The due date has passed.
    Overdue,
    /// Due today or within [`DUE_SOON_DAYS`] days.
    DueSoon,
}

impl ReminderReason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderReason::Overdue => "overdue",
            ReminderReason::DueSoon => "due_soon",
        }
    }

    /// The displayed name.
    pub fn label(self) -> &'static str {
        match self {
            ReminderReason::Overdue => "Overdue",
            ReminderReason::DueSoon => "Due soon",
        }
    }
}

impl std::str::FromStr for ReminderReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "overdue" => Ok(ReminderReason::Overdue),
            "due_soon" => Ok(ReminderReason::DueSoon),
            other => Err(format!("{other:?} is not a reminder reason")),
        }
    }
}

/// Whether an item due on `due` in `state` earns a reminder on `today`, and why.
pub fn reminder_reason(
    due: NaiveDate,
    state: ActionState,
    today: NaiveDate,
) -> Option<ReminderReason> {
    if overdue_on(due, state, today) {
        Some(ReminderReason::Overdue)
    } else if due_within_on(due, state, today, DUE_SOON_DAYS) {
        Some(ReminderReason::DueSoon)
    } else {
        None
    }
}

/// A reminder as its owner sees it: the item (as it is now) and why it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ReminderView {
    /// The item, with its current state.
    pub item: ActionItemView,
    /// Why it was sent.
    pub reason: ReminderReason,
    /// The day it was sent.
    pub remind_on: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn past_due_items_are_overdue_and_the_next_two_days_are_due_soon() {
        let today = day("2026-11-23");
        let reason = |due: &str| reminder_reason(day(due), ActionState::Todo, today);
        assert_eq!(reason("2026-11-22"), Some(ReminderReason::Overdue));
        assert_eq!(reason("2026-11-23"), Some(ReminderReason::DueSoon));
        assert_eq!(reason("2026-11-25"), Some(ReminderReason::DueSoon));
        assert_eq!(reason("2026-11-26"), None);
    }

    #[test]
    fn done_items_are_never_reminded() {
        let today = day("2026-11-23");
        assert_eq!(
            reminder_reason(day("2026-01-01"), ActionState::Done, today),
            None
        );
        assert_eq!(
            reminder_reason(day("2026-01-01"), ActionState::Doing, today),
            Some(ReminderReason::Overdue)
        );
    }

    #[test]
    fn reasons_round_trip_through_their_stored_names() {
        for r in [ReminderReason::Overdue, ReminderReason::DueSoon] {
            assert_eq!(r.as_str().parse::<ReminderReason>(), Ok(r));
        }
    }
}
