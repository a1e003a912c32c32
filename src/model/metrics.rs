//! The metrics board's definitions, in one place: what MTTA, MTTM and MTTR measure, how their
//! mean, median and p90 are taken, what counts as a recurrence, and the words the board shows
//! next to each figure. These are the reference computations: the database's aggregates must
//! give the same answers (tested on both databases).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

code_enum!(
    /// A time-to measure over incidents.
    Measure {
        /// Detected → acknowledged.
        Mtta => "mtta", "MTTA",
        /// Detected → mitigated.
        Mttm => "mttm", "MTTM",
        /// Detected → recovered.
        Mttr => "mttr", "MTTR",
    }
);

impl Measure {
    /// What it measures, as the board says it next to the figure.
    pub fn definition(self) -> &'static str {
        match self {
            Measure::Mtta => {
                "Mean time to acknowledge: from detection to the first acknowledgement, over incidents that were acknowledged."
            }
            Measure::Mttm => {
                "Mean time to mitigate: from detection to the moment impact was mitigated, over incidents that were mitigated."
            }
            Measure::Mttr => {
                "Mean time to recover: from detection to full recovery (not to the postmortem), over incidents that recovered."
            }
        }
    }
}

/// How the board's statistics are taken, shown once on the board.
pub const STATISTICS: &str = "Each time is shown as the mean (the average), the median (half \
     of the incidents were faster) and p90 (nine in ten were faster), over the incidents in the \
     filter that have both timestamps, with how many that is. When the median or p90 falls \
     between two incidents, it is taken part of the way between their times.";

/// Mean, median and p90 of a set of durations (milliseconds), and how many there were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DurationStats {
    /// How many durations.
    pub count: u64,
    /// Their mean.
    pub mean_ms: Option<f64>,
    /// Their median.
    pub median_ms: Option<f64>,
    /// Their 90th percentile.
    pub p90_ms: Option<f64>,
    /// Whether the median and p90 were read off a histogram (within 5 %: see
    /// `model::rollup::APPROXIMATION`) rather than ranked exactly.
    #[serde(default)]
    pub approximate: bool,
}

/// A quantile as an exact fraction, so the database (in integer arithmetic) and this module pick
/// the same ranks: the median is 1/2, p90 is 9/10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantile {
    /// Numerator.
    pub num: u64,
    /// Denominator.
    pub den: u64,
}

/// The median.
pub const MEDIAN: Quantile = Quantile { num: 1, den: 2 };
/// The 90th percentile.
pub const P90: Quantile = Quantile { num: 9, den: 10 };

impl Quantile {
    /// For `n` values: the ranks (from 0) of the two values it lies between, and how far
    /// between them — position `(n − 1) · q`.
    pub fn ranks(self, n: u64) -> Option<(u64, u64, f64)> {
        let scaled = n.checked_sub(1)? * self.num;
        let below = scaled / self.den;
        let rest = scaled % self.den;
        Some((
            below,
            below + u64::from(rest > 0),
            rest as f64 / self.den as f64,
        ))
    }

    /// The value between `lo` and `hi` at `fraction`.
    pub fn interpolate(lo: i64, hi: i64, fraction: f64) -> f64 {
        lo as f64 + (hi - lo) as f64 * fraction
    }
}

/// The quantile `q` of `sorted` (ascending), interpolating linearly between the nearest ranks.
/// None for an empty set.
pub fn percentile(sorted: &[i64], q: Quantile) -> Option<f64> {
    let (below, above, fraction) = q.ranks(sorted.len() as u64)?;
    Some(Quantile::interpolate(
        sorted[below as usize],
        sorted[above as usize],
        fraction,
    ))
}

/// [`DurationStats`] of `values`, in any order.
pub fn duration_stats(values: &[i64]) -> DurationStats {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let count = sorted.len() as u64;
    DurationStats {
        count,
        mean_ms: (count > 0).then(|| sorted.iter().map(|v| *v as f64).sum::<f64>() / count as f64),
        median_ms: percentile(&sorted, MEDIAN),
        p90_ms: percentile(&sorted, P90),
        approximate: false,
    }
}

/// Which incidents the board counts: detected in [`from`, `until`), of one service and one
/// severity when given (kept in the URL, so a view can be shared).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct BoardFilter {
    /// Detected at or after (ms).
    pub from: i64,
    /// Detected before (ms).
    pub until: i64,
    /// Only incidents affecting this service.
    pub service: Option<String>,
    /// Only this severity.
    pub severity: Option<super::incident::Severity>,
}

impl Measure {
    /// The timestamp column the measure ends at.
    pub fn end_column(self) -> &'static str {
        match self {
            Measure::Mtta => "acknowledged_at",
            Measure::Mttm => "mitigated_at",
            Measure::Mttr => "resolved_at",
        }
    }
}

/// How far back an earlier incident makes a later one a recurrence.
pub const RECURRENCE_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// The board's words for the recurrence rate.
pub const RECURRENCE: &str = "Recurrence rate: the share of incidents in the filter that share a \
     service and at least one tag with an earlier incident detected within the 30 days before.";

/// What recurrence looks at in an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    /// Detection instant (ms).
    pub detected_at: i64,
    /// Its services.
    pub services: BTreeSet<String>,
    /// Its tags.
    pub tags: BTreeSet<String>,
}

/// Whether `later` repeats `earlier`: detected after it, within the window, sharing a service
/// and a tag.
pub fn repeats(later: &IncidentFacts, earlier: &IncidentFacts) -> bool {
    earlier.detected_at < later.detected_at
        && later.detected_at - earlier.detected_at <= RECURRENCE_WINDOW_MS
        && !later.services.is_disjoint(&earlier.services)
        && !later.tags.is_disjoint(&earlier.tags)
}

/// How many of `subjects` repeat an incident of `history` (which may include incidents before
/// the filter's time range: a recurrence's earlier incident need not be in the filter).
pub fn recurrences(subjects: &[IncidentFacts], history: &[IncidentFacts]) -> u64 {
    subjects
        .iter()
        .filter(|s| history.iter().any(|h| repeats(s, h)))
        .count() as u64
}

/// A share in percent, none of nothing.
pub fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// The board's words for drill figures.
pub const DRILLS: &str = "Drill pass rate and mean score: over the scored drill runs that ended \
     in the time range (of plans of the service, when one is chosen; severity does not apply). \
     A run passes when no step failed or went unfinished and recovery was within the RTO.";

/// The board's words for action item figures.
pub const ACTION_ITEMS: &str = "Action items from the incidents in the filter and from drill runs \
     that ended in its time range: open and overdue now (past their due date in UTC, not done), \
     and of those done, the share done by the end of their due day (UTC).";

/// Action item figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ActionFigures {
    /// Not done (to do or doing).
    pub open: u64,
    /// Not done and past the due date.
    pub overdue: u64,
    /// Done.
    pub closed: u64,
    /// Done by the end of the due day.
    pub closed_on_time: u64,
}

impl ActionFigures {
    /// From the database's counts (none if one is negative).
    pub fn counted(open: i64, overdue: i64, closed: i64, closed_on_time: i64) -> Option<Self> {
        let count = |n: i64| u64::try_from(n).ok();
        Some(Self {
            open: count(open)?,
            overdue: count(overdue)?,
            closed: count(closed)?,
            closed_on_time: count(closed_on_time)?,
        })
    }

    /// The share of closed items closed on time, in percent.
    pub fn on_time_rate(&self) -> Option<f64> {
        rate(self.closed_on_time, self.closed)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (negative before). Integer arithmetic
/// only (H. Hinnant's days_from_civil), so SQL can say the same on both databases.
pub fn day_number(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// Whether an item done at `done_at` (ms) with due date `due_on` (`YYYY-MM-DD`) was done on
/// time: before the end of its due day in UTC. None when the date does not read.
pub fn done_on_time(done_at: i64, due_on: &str) -> Option<bool> {
    let date = chrono::NaiveDate::parse_from_str(due_on, "%Y-%m-%d").ok()?;
    use chrono::Datelike;
    let day = day_number(
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    Some(done_at < (day + 1) * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(day: i64, services: &[&str], tags: &[&str]) -> IncidentFacts {
        IncidentFacts {
            detected_at: day * 24 * 3600 * 1000,
            services: services.iter().map(|s| (*s).to_owned()).collect(),
            tags: tags.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn empty_and_single_sets() {
        assert_eq!(duration_stats(&[]), DurationStats::default());
        let one = duration_stats(&[42]);
        assert_eq!(
            (one.count, one.mean_ms, one.median_ms, one.p90_ms),
            (1, Some(42.0), Some(42.0), Some(42.0))
        );
    }

    #[test]
    fn median_interpolates_between_the_middle_values() {
        let s = duration_stats(&[40, 10, 30, 20]);
        assert_eq!(s.mean_ms, Some(25.0));
        assert_eq!(s.median_ms, Some(25.0));
        // (4 − 1) · 0.9 = 2.7: between 30 and 40.
        assert!((s.p90_ms.unwrap() - 37.0).abs() < 1e-9);
    }

    #[test]
    fn p90_of_ten_values_lies_between_the_ninth_and_tenth() {
        let values: Vec<i64> = (1..=10).map(|v| v * 60_000).collect();
        let s = duration_stats(&values);
        // (10 − 1) · 0.9 = 8.1 → 9 min + 0.1 · 1 min.
        assert!((s.p90_ms.unwrap() - 546_000.0).abs() < 1e-6, "{s:?}");
        assert_eq!(s.median_ms, Some(330_000.0));
    }

    #[test]
    fn ties_change_nothing() {
        let s = duration_stats(&[5, 5, 5, 5, 100]);
        assert_eq!(s.median_ms, Some(5.0));
        assert!((s.p90_ms.unwrap() - 62.0).abs() < 1e-9);
        assert_eq!(s.mean_ms, Some(24.0));
    }

    #[test]
    fn a_recurrence_shares_a_service_and_a_tag_within_30_days() {
        let first = facts(0, &["checkout"], &["db", "pool"]);
        assert!(repeats(&facts(10, &["checkout", "api"], &["pool"]), &first));
        // Same service, no shared tag; shared tag, other service; too late; not later.
        assert!(!repeats(&facts(10, &["checkout"], &["dns"]), &first));
        assert!(!repeats(&facts(10, &["search"], &["db"]), &first));
        assert!(!repeats(&facts(31, &["checkout"], &["db"]), &first));
        assert!(repeats(&facts(30, &["checkout"], &["db"]), &first));
        assert!(!repeats(&first, &first));
        let all = [
            first.clone(),
            facts(5, &["checkout"], &["db"]),
            facts(50, &["checkout"], &["db"]),
        ];
        assert_eq!(recurrences(&all, &all), 1);
        assert_eq!(rate(1, 3).map(|r| r.round()), Some(33.0));
        assert_eq!(rate(0, 0), None);
    }

    #[test]
    fn day_numbers_match_the_calendar_across_leap_years_and_month_ends() {
        use chrono::{Datelike, NaiveDate};
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let mut date = NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        while date.year() < 2105 {
            let expected = (date - epoch).num_days();
            let got = day_number(
                i64::from(date.year()),
                i64::from(date.month()),
                i64::from(date.day()),
            );
            assert_eq!(got, expected, "{date}");
            date += chrono::Duration::days(1);
        }
        assert_eq!(day_number(1970, 1, 1), 0);
        assert_eq!(
            day_number(2000, 3, 1) - day_number(2000, 2, 28),
            2,
            "2000 is a leap year"
        );
        assert_eq!(
            day_number(2100, 3, 1) - day_number(2100, 2, 28),
            1,
            "2100 is not"
        );
    }

    #[test]
    fn done_on_time_means_before_the_end_of_the_due_day_in_utc() {
        let due = "2026-11-20";
        let end = (day_number(2026, 11, 21)) * DAY_MS;
        assert_eq!(
            done_on_time(end - 1, due),
            Some(true),
            "the due day's last millisecond"
        );
        assert_eq!(
            done_on_time(end, due),
            Some(false),
            "midnight after is late"
        );
        assert_eq!(done_on_time(0, due), Some(true), "early is on time");
        assert_eq!(done_on_time(end, "20 Nov"), None);
        let figures = ActionFigures {
            open: 2,
            overdue: 1,
            closed: 4,
            closed_on_time: 3,
        };
        assert_eq!(figures.on_time_rate(), Some(75.0));
        assert_eq!(
            ActionFigures::default().on_time_rate(),
            None,
            "no closed items: no rate"
        );
    }
}
