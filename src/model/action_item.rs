//! Action items: priority, kind, state, and overdue — derived from the due date and the owner's
//! calendar, never stored.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Do it now.
    P1,
    /// Do it soon.
    P2,
    /// Do it when possible.
    P3,
}

/// Corrective (fixes this cause) or preventive (stops the class of problem).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Fixes what broke.
    Corrective,
    /// Keeps it from happening again.
    Preventive,
}

/// Progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionState {
    /// Not started.
    Todo,
    /// Under way.
    Doing,
    /// Finished.
    Done,
}

/// The owner's calendar date at `now`, in their UTC offset.
pub fn local_date(now: DateTime<Utc>, offset: FixedOffset) -> NaiveDate {
    now.with_timezone(&offset).date_naive()
}

/// Overdue: not done, and the due date has passed on the owner's calendar (an item due today is
/// not overdue until the owner's day ends).
pub fn is_overdue(
    due: NaiveDate,
    state: ActionState,
    now: DateTime<Utc>,
    offset: FixedOffset,
) -> bool {
    state != ActionState::Done && local_date(now, offset) > due
}

/// Due soon: not done, not overdue, and due within `days` days of the owner's today.
pub fn is_due_within(
    due: NaiveDate,
    state: ActionState,
    now: DateTime<Utc>,
    offset: FixedOffset,
    days: i64,
) -> bool {
    let today = local_date(now, offset);
    state != ActionState::Done && due >= today && (due - today).num_days() <= days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn east(hours: i32) -> FixedOffset {
        FixedOffset::east_opt(hours * 3600).unwrap()
    }

    #[test]
    fn an_item_due_today_is_not_overdue() {
        assert!(!is_overdue(
            date("2026-11-23"),
            ActionState::Todo,
            utc("2026-11-23T23:00:00Z"),
            east(0)
        ));
    }

    #[test]
    fn overdue_follows_the_owners_calendar_not_utc() {
        let due = date("2026-11-23");
        // 17:00 UTC on the 23rd is already the 24th in Shanghai (UTC+8), still the 23rd in New York.
        let now = utc("2026-11-23T17:00:00Z");
        assert!(is_overdue(due, ActionState::Doing, now, east(8)));
        assert!(!is_overdue(due, ActionState::Doing, now, east(-5)));
    }

    #[test]
    fn done_items_are_never_overdue_or_due() {
        let now = utc("2030-01-01T00:00:00Z");
        assert!(!is_overdue(
            date("2026-01-01"),
            ActionState::Done,
            now,
            east(0)
        ));
        assert!(!is_due_within(
            date("2030-01-01"),
            ActionState::Done,
            now,
            east(0),
            2
        ));
    }

    #[test]
    fn due_within_two_days_counts_today_and_the_next_two() {
        let now = utc("2026-11-23T08:00:00Z");
        for (due, expected) in [
            ("2026-11-22", false),
            ("2026-11-23", true),
            ("2026-11-25", true),
            ("2026-11-26", false),
        ] {
            assert_eq!(
                is_due_within(date(due), ActionState::Todo, now, east(0), 2),
                expected,
                "{due}"
            );
        }
    }

    #[test]
    fn priorities_sort_most_urgent_first() {
        let mut p = vec![Priority::P3, Priority::P1, Priority::P2];
        p.sort();
        assert_eq!(p, [Priority::P1, Priority::P2, Priority::P3]);
    }
}
