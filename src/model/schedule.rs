//! Drill schedules: a cron expression (five fields, or six / seven with seconds and years) read
//! in an IANA time zone, and the instants it fires at. One parser for the browser and the server.
//!
//! Two things people get wrong with cron, decided here once:
//! - Day of week counts as in Unix crontab: `0` or `7` is Sunday, `1` Monday … `6` Saturday
//!   (names like `MON-FRI` work too). The `cron` crate counts from Sunday = 1; numbers are
//!   translated to names before it sees them.
//! - Daylight saving never skips nor doubles a run: a wall-clock time that happens twice (the
//!   autumn hour) fires once, at its first occurrence; a time that does not exist (the spring
//!   gap) fires once, at the end of the gap.

use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::error::FieldError;

const DAY_NAMES: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

/// The shortest time between two due times of one schedule, in seconds.
pub const MIN_INTERVAL_SECS: i64 = 60;

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct Cron {
    schedule: cron::Schedule,
}

impl PartialEq for Cron {
    fn eq(&self, other: &Self) -> bool {
        self.schedule.to_string() == other.schedule.to_string()
    }
}

/// A day-of-week field with Unix numbers turned into names (`1-5` → `MON-FRI`).
fn unix_days(field: &str) -> Result<String, String> {
    let name = |n: &str| -> Result<String, String> {
        match n.parse::<usize>() {
            Ok(d) if d <= 7 => Ok(DAY_NAMES[d].to_owned()),
            Ok(_) => Err(format!(
                "Day of week {n} does not exist: use 0–7 (0 and 7 are Sunday) or MON–SUN."
            )),
            Err(_) => Ok(n.to_owned()),
        }
    };
    field
        .split(',')
        .map(|part| {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            let range = match range.split_once('-') {
                Some((a, b)) => format!("{}-{}", name(a)?, name(b)?),
                None => name(range)?,
            };
            Ok(match step {
                Some(s) => format!("{range}/{s}"),
                None => range,
            })
        })
        .collect::<Result<Vec<_>, String>>()
        .map(|parts| parts.join(","))
}

impl FromStr for Cron {
    type Err = String;

    /// Reads `min hour day month weekday`, or with seconds first (and years last).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let mut full: Vec<String> = match fields.len() {
            5 => std::iter::once("0")
                .chain(fields.iter().copied())
                .map(str::to_owned)
                .collect(),
            6 | 7 => fields.iter().map(|f| (*f).to_owned()).collect(),
            0 => return Err("Write a cron expression, e.g. 0 9 * * MON-FRI.".to_owned()),
            n => {
                return Err(format!(
                    "A cron expression has 5 fields (minute hour day month weekday), or 6–7 with seconds and years; this one has {n}."
                ));
            }
        };
        full[5] = unix_days(&full[5])?;
        let schedule = cron::Schedule::from_str(&full.join(" "))
            .map_err(|e| format!("Not a valid cron expression: {e}."))?;
        let upcoming: Vec<DateTime<Utc>> = schedule.upcoming(Utc).take(20).collect();
        if upcoming.is_empty() {
            return Err("This expression never fires.".to_owned());
        }
        // A drill that fires every few seconds would flood the run list and the executor.
        if let Some(gap) = upcoming
            .windows(2)
            .map(|w| (w[1] - w[0]).num_seconds())
            .find(|gap| *gap < MIN_INTERVAL_SECS)
        {
            return Err(format!(
                "A drill may run at most once a minute; this expression fires {gap} s apart."
            ));
        }
        Ok(Self { schedule })
    }
}

/// Reads an IANA time zone name such as `Europe/Berlin` or `UTC`.
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    text.trim().parse::<Tz>().map_err(|_| {
        format!(
            "{} is not a time zone: use an IANA name like Europe/Berlin or UTC.",
            super::error::quoted(text.trim())
        )
    })
}

/// The instant a wall-clock time of `tz` stands for: its first occurrence when it happens twice,
/// the end of the gap when it does not exist.
fn instant_of(tz: &Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // Offsets change on whole minutes: the first minute that exists ends the gap.
            let minute = local
                .with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(local);
            (1..=24 * 60).find_map(|k| {
                match tz.from_local_datetime(&(minute + Duration::minutes(k))) {
                    LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
                    LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
                    LocalResult::None => None,
                }
            })
        }
    }
}

impl Cron {
    /// The first instant after `after` at which the schedule fires in `tz`.
    pub fn next_after(&self, tz: &Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Wall-clock candidates are walked as if they were UTC; starting a few hours early
        // covers a repeated hour and a gap just before `after`.
        let from = after.with_timezone(tz).naive_local() - Duration::hours(3);
        self.schedule
            .after(&Utc.from_utc_datetime(&from))
            .take(100_000)
            .filter_map(|candidate| instant_of(tz, candidate.naive_utc()))
            .find(|t| *t > after)
    }

    /// The next `n` instants after `after`, in order, each once.
    pub fn upcoming(&self, tz: &Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut last = after;
        while out.len() < n {
            match self.next_after(tz, last) {
                Some(t) => {
                    out.push(t);
                    last = t;
                }
                None => break,
            }
        }
        out
    }

    /// How many instants the schedule fires at in (`after`, `until`], counting at most `cap`:
    /// one pass over the wall-clock times between them, each instant once (as [`Self::upcoming`]
    /// would give them, without a search per instant).
    pub fn count_between(
        &self,
        tz: &Tz,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        cap: u32,
    ) -> u32 {
        let from = after.with_timezone(tz).naive_local() - Duration::hours(3);
        let end = until.with_timezone(tz).naive_local() + Duration::hours(3);
        let mut last = after;
        let mut count = 0;
        for candidate in self.schedule.after(&Utc.from_utc_datetime(&from)) {
            let local = candidate.naive_utc();
            if local > end || count >= cap {
                break;
            }
            if let Some(t) = instant_of(tz, local)
                && t > last
                && t <= until
            {
                count += 1;
                last = t;
            }
        }
        count
    }

    /// Whether the schedule matches this wall-clock time (ignoring time zones).
    pub fn matches_wall_clock(&self, local: NaiveDateTime) -> bool {
        self.schedule.includes(Utc.from_utc_datetime(&local))
    }
}

/// The schedule fields' names, as validation and the composer call them.
pub const CRON_FIELD: &str = "schedule.cron";
/// See [`CRON_FIELD`].
pub const ZONE_FIELD: &str = "schedule.zone";

code_enum!(
    /// What the scheduler does when a due time comes while a run of the plan is still active.
    Concurrency {
        /// Skip the due time (recorded in the plan's history).
        Forbid => "forbid", "Forbid: skip it",
        /// Start another run beside it.
        Allow => "allow", "Allow: run beside it",
        /// Abort the active run and start a new one.
        Replace => "replace", "Replace: abort it, start anew",
    }
);

fn forbid() -> Concurrency {
    Concurrency::Forbid
}

/// A plan's schedule as the composer writes it (part of the plan's versioned content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PlanSchedule {
    /// The cron expression.
    pub cron: String,
    /// The IANA time zone it is read in.
    pub zone: String,
    /// What happens when a due time finds a run still active.
    #[serde(default = "forbid")]
    pub concurrency: Concurrency,
}

impl PlanSchedule {
    /// The parsed expression and zone, or the message of each field that is wrong.
    pub fn parse(&self) -> Result<(Cron, Tz), Vec<FieldError>> {
        let cron = self.cron.parse::<Cron>();
        let zone = parse_zone(&self.zone);
        match (cron, zone) {
            (Ok(cron), Ok(zone)) => Ok((cron, zone)),
            (cron, zone) => Err([(CRON_FIELD, cron.err()), (ZONE_FIELD, zone.err())]
                .into_iter()
                .filter_map(|(field, message)| {
                    message.map(|message| FieldError {
                        field: field.to_owned(),
                        message,
                    })
                })
                .collect()),
        }
    }

    /// The first due time after `after`, if the schedule is valid and ever fires again.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (cron, zone) = self.parse().ok()?;
        cron.next_after(&zone, after)
    }
}

/// Most missed due times counted after downtime (the count is only shown).
pub const MISSED_COUNT_CAP: u32 = 10_000;

/// What the scheduler does with due time `due` when it gets to it at `now`: it fires once for
/// `due`, counts the due times that passed since without firing them (`missed`), and moves on
/// to the first due time after `now` (`next`, none when the expression never fires again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catchup {
    /// Due times in (`due`, `now`] that are not fired.
    pub missed: u32,
    /// The next due time, after `now`.
    pub next: Option<DateTime<Utc>>,
}

/// See [`Catchup`].
pub fn catch_up(cron: &Cron, tz: &Tz, due: DateTime<Utc>, now: DateTime<Utc>) -> Catchup {
    Catchup {
        missed: cron.count_between(tz, due, now, MISSED_COUNT_CAP),
        next: cron.next_after(tz, now.max(due)),
    }
}

code_enum!(
    /// What the scheduler did with a due time.
    ScheduleOutcome {
        /// It started a run.
        Started => "started", "Started",
        /// A run of the plan was still active (policy "forbid").
        Skipped => "skipped", "Skipped",
        /// The run could not start (an open parameter without a default, the plan disabled).
        Refused => "refused", "Refused",
    }
);

/// One due time in a plan's schedule history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ScheduleEvent {
    /// The due time.
    pub due_at: DateTime<Utc>,
    /// When the scheduler got to it.
    pub fired_at: DateTime<Utc>,
    /// What it did.
    pub outcome: ScheduleOutcome,
    /// The run it started, by number.
    pub run: Option<i64>,
    /// Due times missed while no instance was running, folded into this one.
    pub missed: u32,
    /// Why it skipped or refused.
    pub reason: String,
}

/// A plan's schedule as it stands: the copy the scheduler works from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ScheduleState {
    /// The schedule.
    pub schedule: PlanSchedule,
    /// Paused by a person (no due time is claimed while paused).
    pub paused: bool,
    /// The next due time the scheduler will claim (none while paused or disabled).
    pub next_due_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn zone(name: &str) -> Tz {
        parse_zone(name).unwrap()
    }

    #[test]
    fn a_schedule_fires_at_most_once_a_minute() {
        assert!(
            "* * * * *".parse::<Cron>().is_ok(),
            "every minute is allowed"
        );
        for fast in ["* * * * * *", "*/30 * * * * *", "0,30 * * * * *"] {
            let err = fast.parse::<Cron>().unwrap_err();
            assert!(err.contains("at most once a minute"), "{fast}: {err}");
        }
    }

    #[test]
    fn expressions_read_with_or_without_seconds_and_weekdays_count_like_crontab() {
        let weekdays: Cron = "0 9 * * 1-5".parse().unwrap();
        let utc = zone("UTC");
        // 2026-11-20 is a Friday.
        let next = weekdays.upcoming(&utc, at("2026-11-20T10:00:00Z"), 2);
        assert_eq!(
            next,
            [at("2026-11-23T09:00:00Z"), at("2026-11-24T09:00:00Z")],
            "Monday, Tuesday"
        );
        let with_seconds: Cron = "30 0 9 * * MON-FRI".parse().unwrap();
        assert_eq!(
            with_seconds.next_after(&utc, at("2026-11-20T10:00:00Z")),
            Some(at("2026-11-23T09:00:30Z"))
        );
        let sunday: Cron = "0 8 * * 0".parse().unwrap();
        assert_eq!(sunday, "0 8 * * 7".parse().unwrap());
        assert_eq!(
            sunday.next_after(&utc, at("2026-11-20T00:00:00Z")),
            Some(at("2026-11-22T08:00:00Z"))
        );
    }

    #[test]
    fn bad_expressions_and_zones_say_what_is_wrong() {
        assert!(
            "".parse::<Cron>()
                .unwrap_err()
                .contains("Write a cron expression")
        );
        assert!("* * *".parse::<Cron>().unwrap_err().contains("has 3"));
        assert!(
            "61 * * * *"
                .parse::<Cron>()
                .unwrap_err()
                .starts_with("Not a valid cron expression")
        );
        assert!(
            "0 9 * * 8"
                .parse::<Cron>()
                .unwrap_err()
                .contains("Day of week 8")
        );
        assert!(
            "0 0 30 2 *"
                .parse::<Cron>()
                .unwrap_err()
                .contains("never fires")
        );
        assert!(parse_zone("Mars/Olympus").unwrap_err().contains("IANA"));
        assert_eq!(
            parse_zone(" Europe/Berlin ").unwrap(),
            chrono_tz::Europe::Berlin
        );
    }

    #[test]
    fn the_spring_gap_fires_once_at_its_end_and_the_autumn_hour_once() {
        let ny = zone("America/New_York");
        let half_past_two: Cron = "30 2 * * *".parse().unwrap();
        // 2026-03-08 02:00 EST jumps to 03:00 EDT: 02:30 does not exist that day.
        let spring = half_past_two.upcoming(&ny, at("2026-03-07T12:00:00Z"), 3);
        assert_eq!(
            spring,
            [
                at("2026-03-08T07:00:00Z"),
                at("2026-03-09T06:30:00Z"),
                at("2026-03-10T06:30:00Z")
            ]
        );
        let half_past_one: Cron = "30 1 * * *".parse().unwrap();
        // 2026-11-01 01:30 happens twice (EDT, then EST): once, the first time.
        let autumn = half_past_one.upcoming(&ny, at("2026-10-31T12:00:00Z"), 2);
        assert_eq!(
            autumn,
            [at("2026-11-01T05:30:00Z"), at("2026-11-02T06:30:00Z")]
        );
        let every_quarter: Cron = "*/15 * * * *".parse().unwrap();
        // 05:50Z is 01:50 EDT; 06:00Z–06:59Z is the same wall-clock hour again (EST): its
        // quarters already fired, so the next is 02:00 EST.
        let around = every_quarter.upcoming(&ny, at("2026-11-01T05:50:00Z"), 4);
        assert_eq!(
            around,
            [
                at("2026-11-01T07:00:00Z"),
                at("2026-11-01T07:15:00Z"),
                at("2026-11-01T07:30:00Z"),
                at("2026-11-01T07:45:00Z")
            ],
            "the repeated hour's quarters fire once"
        );
    }

    /// Minute by minute: fires at `t` when `t` is the first occurrence of a matching wall-clock
    /// minute, or when `t` ends a gap that swallowed a matching minute.
    fn brute_force(cron: &Cron, tz: &Tz, from: DateTime<Utc>, minutes: i64) -> Vec<DateTime<Utc>> {
        let mut fired = Vec::new();
        for m in 1..=minutes {
            let t = from + Duration::minutes(m);
            let local = t.with_timezone(tz).naive_local();
            let previous = (t - Duration::minutes(1)).with_timezone(tz).naive_local();
            let first = tz
                .from_local_datetime(&local)
                .earliest()
                .map(|e| e.with_timezone(&Utc))
                == Some(t);
            let mut hit = first && cron.matches_wall_clock(local);
            let mut skipped = previous + Duration::minutes(1);
            while !hit && skipped < local {
                hit = cron.matches_wall_clock(skipped);
                skipped += Duration::minutes(1);
            }
            if hit {
                fired.push(t);
            }
        }
        fired
    }

    fn expression() -> impl Strategy<Value = String> {
        let minute = prop_oneof![
            Just("0".to_owned()),
            Just("*/20".to_owned()),
            Just("15,45".to_owned()),
            (0u8..60).prop_map(|m| m.to_string())
        ];
        let hour = prop_oneof![
            Just("*".to_owned()),
            Just("1-3".to_owned()),
            Just("2".to_owned()),
            Just("*/6".to_owned()),
            (0u8..24).prop_map(|h| h.to_string())
        ];
        let weekday = prop_oneof![
            Just("*".to_owned()),
            Just("1-5".to_owned()),
            Just("0,6".to_owned())
        ];
        (minute, hour, weekday).prop_map(|(m, h, w)| format!("{m} {h} * * {w}"))
    }

    #[test]
    fn catch_up_counts_missed_due_times_once_and_moves_past_now() {
        let tz = zone("Europe/Berlin");
        let minute: Cron = "* * * * *".parse().unwrap();
        let due = at("2026-11-23T10:00:00Z");
        let now = at("2026-11-23T10:10:30Z");
        let c = catch_up(&minute, &tz, due, now);
        assert_eq!(c.missed, 10);
        assert_eq!(c.next, Some(at("2026-11-23T10:11:00Z")));
        // On time: nothing missed.
        assert_eq!(catch_up(&minute, &tz, due, due).missed, 0);
        // A month away from an every-minute schedule: counted up to the cap, quickly.
        let c = catch_up(&minute, &tz, due, due + Duration::days(30));
        assert_eq!(c.missed, MISSED_COUNT_CAP);
        assert_eq!(
            c.next,
            Some(due + Duration::days(30) + Duration::minutes(1))
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn next_times_match_a_minute_by_minute_reference_across_dst(
            expr in expression(),
            zone_name in prop_oneof![Just("America/New_York"), Just("Europe/Berlin")],
            start in prop_oneof![
                Just("2026-03-07T20:00:00Z"), Just("2026-03-28T20:00:00Z"),
                Just("2026-10-24T20:00:00Z"), Just("2026-10-31T20:00:00Z"),
            ],
            offset_min in 0i64..600,
        ) {
            let cron: Cron = expr.parse().unwrap();
            let tz = zone(zone_name);
            let from = at(start) + Duration::minutes(offset_min);
            let window = 2 * 24 * 60;
            let expected = brute_force(&cron, &tz, from, window);
            let until = from + Duration::minutes(window);
            let got: Vec<_> = cron.upcoming(&tz, from, expected.len() + 1).into_iter().filter(|t| *t <= until).collect();
            prop_assert_eq!(&got, &expected, "{} in {}", expr, zone_name);
            // The catch-up count (missed due times after downtime) agrees with the reference.
            prop_assert_eq!(cron.count_between(&tz, from, until, u32::MAX) as usize, expected.len());
            let catchup = catch_up(&cron, &tz, from, until);
            prop_assert_eq!(catchup.next, cron.next_after(&tz, until));
        }
    }
}
