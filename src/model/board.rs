//! The metrics board as a view: its query as it stands in the URL (read and checked here, the
//! same in the browser and on the server), the trend periods, and the figures the server sends.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::AppError;
use super::error::{Validator, quoted};
use super::incident::Severity;
use super::metrics::{ActionFigures, BoardFilter, DAY_MS, DurationStats, Measure, day_number};
use super::score::PlanRecord;

/// The default time range: the last 90 days, today included.
pub const DEFAULT_DAYS: i64 = 90;

/// The most trend points one chart draws.
pub const MAX_POINTS: usize = 160;

code_enum!(
    /// How trends are bucketed.
    Period {
        /// Calendar weeks, Monday to Sunday (UTC).
        Week => "week", "Week",
        /// Calendar months (UTC).
        Month => "month", "Month",
    }
);

/// The board's query as typed (URL parameters; empty or missing means the default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct BoardQuery {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (included), `YYYY-MM-DD`.
    pub until: String,
    /// One affected service.
    pub service: String,
    /// One severity (`sev1` …).
    pub severity: String,
    /// Trend period (`week`, `month`).
    pub period: String,
}

/// A checked board query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardRequest {
    /// What is counted.
    pub filter: BoardFilter,
    /// First day.
    pub first: NaiveDate,
    /// Last day (included).
    pub last: NaiveDate,
    /// Trend period.
    pub period: Period,
}

fn read_day(raw: &str) -> Result<Option<NaiveDate>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    // Exactly `YYYY-MM-DD`, as a date input sends it (chrono alone takes `26-1-1` as the year 26).
    let shaped = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let day = shaped.then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok());
    match day.flatten() {
        // Nothing is recorded before 1970 (instants are milliseconds since then).
        Some(day) if day.year() >= 1970 => Ok(Some(day)),
        Some(_) => Err("Pick a day from 1970 on.".into()),
        None => Err(format!(
            "{} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-01.",
            quoted(raw)
        )),
    }
}

/// Milliseconds at the start (00:00 UTC) of `day`.
pub fn day_start(day: NaiveDate) -> i64 {
    day_number(
        i64::from(day.year()),
        i64::from(day.month()),
        i64::from(day.day()),
    ) * DAY_MS
}

impl BoardQuery {
    /// Checks the query against `today` (UTC): every problem beside its field.
    pub fn check(&self, today: NaiveDate) -> Result<BoardRequest, AppError> {
        let mut errors = Validator::default();
        let last = errors
            .check("until", read_day(&self.until))
            .flatten()
            .unwrap_or(today);
        let first = errors
            .check("from", read_day(&self.from))
            .flatten()
            .unwrap_or(last - Duration::days(DEFAULT_DAYS - 1));
        let ordered = first <= last;
        errors.check(
            "until",
            if ordered {
                Ok(())
            } else {
                Err("The last day is before the first day.".to_owned())
            },
        );
        let severity = match self.severity.trim() {
            "" => None,
            raw => errors.check(
                "severity",
                raw.parse::<Severity>()
                    .map_err(|_| format!("{} is not a severity.", quoted(raw))),
            ),
        };
        let period = match self.period.trim() {
            "" => Some(Period::Week),
            raw => errors.check(
                "period",
                raw.parse::<Period>()
                    .map_err(|_| format!("{} is not a period: week or month.", quoted(raw))),
            ),
        };
        let mut period = period.unwrap_or(Period::Week);
        // Too many weeks to chart: shown by month instead (the board says so), rather than refused.
        if ordered && period == Period::Week && buckets(period, first, last).len() > MAX_POINTS {
            period = Period::Month;
        }
        if ordered && buckets(period, first, last).len() > MAX_POINTS {
            errors.check::<()>(
                "period",
                Err(format!(
                    "That is more than {MAX_POINTS} months to chart: choose a shorter range."
                )),
            );
        }
        errors.finish()?;
        let service = self.service.trim();
        Ok(BoardRequest {
            filter: BoardFilter {
                from: day_start(first),
                until: day_start(last) + DAY_MS,
                service: (!service.is_empty()).then(|| service.to_owned()),
                severity,
            },
            first,
            last,
            period,
        })
    }
}

/// One trend point's span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Bucket {
    /// Start (ms, included).
    pub start: i64,
    /// End (ms, excluded).
    pub end: i64,
    /// Its name on the axis: "Nov 16" for the week starting Monday 16 November, "Nov 2026".
    pub label: String,
}

/// The weeks (from Monday) or months covering `first..=last`, clipped to it: the points of a
/// trend, whose counts add up to the board's.
pub fn buckets(period: Period, first: NaiveDate, last: NaiveDate) -> Vec<Bucket> {
    let mut out = Vec::new();
    let end = day_start(last) + DAY_MS;
    let mut start = match period {
        Period::Week => first - Duration::days(i64::from(first.weekday().num_days_from_monday())),
        Period::Month => first.with_day(1).unwrap_or(first),
    };
    while day_start(start) < end && out.len() <= MAX_POINTS {
        let next = match period {
            Period::Week => start + Duration::days(7),
            Period::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(NaiveDate::MAX),
        };
        out.push(Bucket {
            start: day_start(start.max(first)),
            end: day_start(next).min(end),
            label: match period {
                Period::Week => start.format("%b %-d").to_string(),
                Period::Month => start.format("%b %Y").to_string(),
            },
        });
        start = next;
    }
    out
}

/// One trend point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TrendPoint {
    /// Its span.
    pub bucket: Bucket,
    /// Incidents detected in it.
    pub incidents: u64,
    /// Of which recovered.
    pub recovered: u64,
    /// Their mean time to recover (ms).
    pub mttr_mean_ms: Option<f64>,
}

impl TrendPoint {
    /// `bucket`'s point from the database's counts: its incidents, how many recovered and their
    /// times to recover summed (none if a count is negative).
    pub fn counted(
        bucket: Bucket,
        incidents: i64,
        recovered: i64,
        recovery_ms: i64,
    ) -> Option<Self> {
        let recovered = u64::try_from(recovered).ok()?;
        Some(Self {
            bucket,
            incidents: u64::try_from(incidents).ok()?,
            recovered,
            mttr_mean_ms: (recovered > 0).then(|| recovery_ms as f64 / recovered as f64),
        })
    }
}

/// A measure's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MeasureFigures {
    /// Which.
    pub measure: Measure,
    /// Mean, median, p90, count.
    pub stats: DurationStats,
}

/// Everything the board shows for one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Board {
    /// First day shown (`YYYY-MM-DD`).
    pub first: String,
    /// Last day shown.
    pub last: String,
    /// Incidents in the filter.
    pub incidents: u64,
    /// MTTA, MTTM, MTTR.
    pub measures: Vec<MeasureFigures>,
    /// Incidents that repeat an earlier one.
    pub recurrences: u64,
    /// Drill runs.
    pub drills: PlanRecord,
    /// Action items.
    pub actions: ActionFigures,
    /// Incidents per severity (every severity, worst first).
    pub by_severity: Vec<(String, u64)>,
    /// Incidents per status (in lifecycle order).
    pub by_status: Vec<(String, u64)>,
    /// Incidents per service, largest first (20 at most).
    pub by_service: Vec<(String, u64)>,
    /// The trend period.
    pub period: Period,
    /// The trend.
    pub trend: Vec<TrendPoint>,
    /// Services to choose from.
    pub services: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn query(from: &str, until: &str) -> BoardQuery {
        BoardQuery {
            from: from.into(),
            until: until.into(),
            ..BoardQuery::default()
        }
    }

    #[test]
    fn an_empty_query_is_the_last_90_days_including_today() {
        let today = day("2026-11-24");
        let r = BoardQuery::default().check(today).unwrap();
        assert_eq!((r.first, r.last), (day("2026-08-27"), today));
        assert_eq!(r.filter.from, day_start(day("2026-08-27")));
        assert_eq!(r.filter.until - r.filter.from, 90 * DAY_MS);
        assert_eq!(r.period, Period::Week);
        assert_eq!((r.filter.service.clone(), r.filter.severity), (None, None));
    }

    #[test]
    fn bad_fields_are_refused_beside_each_field() {
        let today = day("2026-11-24");
        let bad = BoardQuery {
            from: "yesterday".into(),
            until: "2026-13-01".into(),
            service: "payments".into(),
            severity: "sev9".into(),
            period: "decade".into(),
        };
        let err = bad.check(today).unwrap_err();
        for field in ["from", "until", "severity", "period"] {
            assert!(err.field_message(field).is_some(), "{field}: {err:?}");
        }
        for loose in [
            "26-1-1",
            "+2026-11-01",
            "2026-1-01",
            "02026-11-1",
            " 2026-11-01x",
        ] {
            let err = query(loose, "").check(today).unwrap_err();
            assert!(err.field_message("from").is_some(), "{loose:?} was taken");
        }
        let ancient = query("0000-01-01", "").check(today).unwrap_err();
        assert_eq!(
            ancient.field_message("from"),
            Some("Pick a day from 1970 on.")
        );
        let endless = "9".repeat(5000);
        let long = BoardQuery {
            severity: endless.clone(),
            period: endless.clone(),
            ..query(&endless, "")
        };
        let err = long.check(today).unwrap_err();
        for field in ["from", "severity", "period"] {
            let message = err.field_message(field).unwrap();
            assert!(message.len() < 100, "{field}: {message}");
        }
        let reversed = query("2026-11-10", "2026-11-01").check(today).unwrap_err();
        assert_eq!(
            reversed.field_message("until"),
            Some("The last day is before the first day.")
        );
        let long = BoardQuery {
            period: "week".into(),
            ..query("2020-01-01", "2026-01-01")
        };
        assert_eq!(
            long.check(today).unwrap().period,
            Period::Month,
            "switched, not refused"
        );
        let very_long = BoardQuery {
            period: "month".into(),
            ..query("2000-01-01", "2026-01-01")
        };
        assert!(
            very_long
                .check(today)
                .unwrap_err()
                .field_message("period")
                .is_some()
        );
        let months = BoardQuery {
            period: "month".into(),
            severity: "sev2".into(),
            service: "  search ".into(),
            ..query("2020-01-01", "2026-01-01")
        };
        let r = months.check(today).unwrap();
        assert_eq!(r.filter.service.as_deref(), Some("search"));
        assert_eq!(r.filter.severity, Some(Severity::Sev2));
    }

    #[test]
    fn week_buckets_start_on_monday_and_are_clipped_to_the_range() {
        // 2026-11-04 is a Wednesday; 2026-11-18 too.
        let b = buckets(Period::Week, day("2026-11-04"), day("2026-11-18"));
        let labels: Vec<_> = b.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["Nov 2", "Nov 9", "Nov 16"]);
        assert_eq!(
            b[0].start,
            day_start(day("2026-11-04")),
            "clipped to the first day"
        );
        assert_eq!(b[0].end, day_start(day("2026-11-09")));
        assert_eq!(
            b[2].end,
            day_start(day("2026-11-19")),
            "clipped after the last day"
        );
        for pair in b.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "no gap, no overlap");
        }
    }

    #[test]
    fn month_buckets_follow_the_calendar_across_a_year_end() {
        let b = buckets(Period::Month, day("2025-11-15"), day("2026-02-03"));
        let labels: Vec<_> = b.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["Nov 2025", "Dec 2025", "Jan 2026", "Feb 2026"]);
        assert_eq!(b[1].start, day_start(day("2025-12-01")));
        assert_eq!(b[1].end - b[1].start, 31 * DAY_MS);
        assert_eq!(b[3].end, day_start(day("2026-02-04")));
        let one = buckets(Period::Month, day("2026-11-24"), day("2026-11-24"));
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].end - one[0].start, DAY_MS);
    }
}
