//! Action items: priority, kind, state, and overdue — derived from the due date and the owner's
//! calendar, never stored.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Fixes what broke.
    Corrective,
    /// Keeps it from happening again.
    Preventive,
}

/// Progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ActionState {
    /// Not started.
    Todo,
    /// Under way.
    Doing,
    /// Finished.
    Done,
}

macro_rules! named_enum {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }, $what:literal) => {
        impl $ty {
            /// Every value, in order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase();
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| format!("Choose {}.", $what))
            }
        }
    };
}

named_enum!(Priority { P1 => "p1", P2 => "p2", P3 => "p3" }, "a priority from P1 to P3");
named_enum!(ActionKind { Corrective => "corrective", Preventive => "preventive" }, "corrective or preventive");
named_enum!(ActionState { Todo => "todo", Doing => "doing", Done => "done" }, "todo, doing or done");

/// A new action item as typed, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewActionItem {
    /// What to do.
    pub title: String,
    /// The owner's username.
    pub owner: String,
    /// Due date.
    pub due_on: NaiveDate,
    /// Urgency.
    pub priority: Priority,
    /// Corrective or preventive.
    pub kind: ActionKind,
}

/// A due date, `2026-12-01`, between [`super::incident_input::EARLIEST_YEAR`] and 2100.
pub fn parse_due_date(input: &str) -> Result<NaiveDate, String> {
    let date = NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d")
        .map_err(|_| "Use a date like 2026-12-01.".to_owned())?;
    let earliest = super::incident_input::EARLIEST_YEAR;
    if !(earliest..=2100).contains(&date.year()) {
        return Err(format!("Use a date between {earliest} and 2100."));
    }
    Ok(date)
}

impl NewActionItem {
    /// Refuses a due date that has already passed on `today`, unless the author `confirmed` it
    /// (an item recorded late, already overdue): a past date is asked about, not taken silently.
    pub fn check_due(&self, today: NaiveDate, confirmed: bool) -> Result<(), super::AppError> {
        if self.due_on < today && !confirmed {
            return Err(super::AppError::field(
                "due_on",
                format!(
                    "{} has already passed: pick a later date, or tick “Record it anyway”.",
                    self.due_on
                ),
            ));
        }
        Ok(())
    }

    /// Parses the form, reporting every bad field at once.
    pub fn parse(
        title: &str,
        owner: &str,
        due_on: &str,
        priority: &str,
        kind: &str,
    ) -> Result<Self, super::AppError> {
        let mut v = super::error::Validator::default();
        let title = v.check("title", super::incident_input::parse_title(title));
        let owner = v.check(
            "owner",
            Some(owner.trim().to_ascii_lowercase())
                .filter(|o| !o.is_empty())
                .ok_or_else(|| "Name an owner.".to_owned()),
        );
        let due_on = v.check("due_on", parse_due_date(due_on));
        let priority = v.check("priority", priority.parse::<Priority>());
        let kind = v.check("kind", kind.parse::<ActionKind>());
        v.finish()?;
        match (title, owner, due_on, priority, kind) {
            (Some(title), Some(owner), Some(due_on), Some(priority), Some(kind)) => Ok(Self {
                title,
                owner,
                due_on,
                priority,
                kind,
            }),
            _ => Err(super::AppError::Internal),
        }
    }
}

/// An action item as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ActionItemView {
    /// Id.
    pub id: uuid::Uuid,
    /// What to do.
    pub title: String,
    /// Owner's username.
    pub owner: String,
    /// Due date.
    pub due_on: NaiveDate,
    /// Urgency.
    pub priority: Priority,
    /// Corrective or preventive.
    pub kind: ActionKind,
    /// Progress.
    pub state: ActionState,
    /// The incident it came from, if any.
    pub incident: Option<super::incident::IncidentNumber>,
    /// The drill run it came from, if any.
    pub run: Option<i64>,
}

/// Where a new action item comes from: `INC-7` (an incident) or `RUN-12` (a drill run's review).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum ItemSource {
    /// An incident.
    Incident(super::incident::IncidentNumber),
    /// A run, by number.
    Run(i64),
}

impl std::fmt::Display for ItemSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ItemSource::Incident(n) => write!(f, "{n}"),
            ItemSource::Run(n) => write!(f, "RUN-{n}"),
        }
    }
}

impl std::str::FromStr for ItemSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.get(..4) {
            Some(prefix) if prefix.eq_ignore_ascii_case("RUN-") => s[4..]
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .map(ItemSource::Run)
                .ok_or_else(|| format!("{s:?} is not a run")),
            _ => s.parse().map(ItemSource::Incident),
        }
    }
}

impl Priority {
    /// `P1` … `P3`.
    pub fn label(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
        }
    }
}

impl ActionKind {
    /// `Corrective` or `Preventive`.
    pub fn label(self) -> &'static str {
        match self {
            ActionKind::Corrective => "Corrective",
            ActionKind::Preventive => "Preventive",
        }
    }
}

impl ActionState {
    /// `To do`, `Doing`, `Done`.
    pub fn label(self) -> &'static str {
        match self {
            ActionState::Todo => "To do",
            ActionState::Doing => "Doing",
            ActionState::Done => "Done",
        }
    }
}

/// Most items one list shows (narrow the filters to see the rest).
pub const LIST_CAP: usize = 500;

/// A list of action items and the moment it was read (overdue is judged at that moment, so the
/// server's page and the hydrated one agree).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ActionItemList {
    /// The items, soonest due first.
    pub items: Vec<ActionItemView>,
    /// When the server read them.
    pub as_of: DateTime<Utc>,
}

/// The UTC offset, the calendar used until users carry a time zone.
pub fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).expect("zero is a valid offset")
}

/// The owner's calendar date at `now`, in their UTC offset.
pub fn local_date(now: DateTime<Utc>, offset: FixedOffset) -> NaiveDate {
    now.with_timezone(&offset).date_naive()
}

/// Overdue on the calendar day `today`: not done, and due before it.
pub fn overdue_on(due: NaiveDate, state: ActionState, today: NaiveDate) -> bool {
    state != ActionState::Done && today > due
}

/// Due soon on the calendar day `today`: not done, due today or within `days` days after it.
pub fn due_within_on(due: NaiveDate, state: ActionState, today: NaiveDate, days: i64) -> bool {
    state != ActionState::Done && due >= today && (due - today).num_days() <= days
}

/// Overdue: not done, and the due date has passed on the owner's calendar (an item due today is
/// not overdue until the owner's day ends).
pub fn is_overdue(
    due: NaiveDate,
    state: ActionState,
    now: DateTime<Utc>,
    offset: FixedOffset,
) -> bool {
    overdue_on(due, state, local_date(now, offset))
}

/// Due soon: not done, not overdue, and due within `days` days of the owner's today.
pub fn is_due_within(
    due: NaiveDate,
    state: ActionState,
    now: DateTime<Utc>,
    offset: FixedOffset,
    days: i64,
) -> bool {
    due_within_on(due, state, local_date(now, offset), days)
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
    fn a_past_due_date_is_taken_only_when_confirmed() {
        let item = NewActionItem::parse("Fix it", "ann", "2026-11-20", "p2", "corrective").unwrap();
        let today = date("2026-11-23");
        assert!(
            item.check_due(today, false)
                .unwrap_err()
                .field_message("due_on")
                .is_some()
        );
        assert_eq!(item.check_due(today, true), Ok(()));
        assert_eq!(
            item.check_due(date("2026-11-20"), false),
            Ok(()),
            "due today is not past"
        );
    }

    #[test]
    fn due_dates_outside_2000_to_2100_are_refused() {
        assert!(parse_due_date("2026-12-01").is_ok());
        for absurd in ["0000-01-01", "1999-12-31", "2101-01-01", "+99999-01-01"] {
            assert!(parse_due_date(absurd).is_err(), "{absurd}");
        }
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
    fn a_new_item_reports_every_bad_field() {
        let err = NewActionItem::parse("", " ", "tomorrow", "p9", "fix").unwrap_err();
        for field in ["title", "owner", "due_on", "priority", "kind"] {
            assert!(err.field_message(field).is_some(), "{field}");
        }
        let ok = NewActionItem::parse("Raise pool size", "Alice", "2026-12-01", "P1", "corrective")
            .unwrap();
        assert_eq!(
            (ok.owner.as_str(), ok.priority, ok.kind),
            ("alice", Priority::P1, ActionKind::Corrective)
        );
    }

    #[test]
    fn priorities_sort_most_urgent_first() {
        let mut p = vec![Priority::P3, Priority::P1, Priority::P2];
        p.sort();
        assert_eq!(p, [Priority::P1, Priority::P2, Priority::P3]);
    }
}
