//! The metrics board's monthly rollups (the database keeps them: migration
//! `20261204000022_board_rollups`): which part of a board's range whole calendar months (UTC)
//! cover, and the median and p90 of a measure read off its histogram when a range holds too many
//! incidents to rank them all.
//!
//! A histogram bucket is `[lo, next lo)`: one bucket below one second, then each 5 % wider than
//! the one before (`lo + lo / 20`, the sequence the migration writes into `duration_buckets`).
//! A quantile taken from a bucket is at most that bucket's width away from the exact one.

use chrono::{Datelike, NaiveDate};

use super::metrics::{DAY_MS, Quantile};

/// The lower bound of the first bucket of one second or more; the bucket below it holds every
/// shorter (and any negative) duration.
pub const FIRST_LO: i64 = 1000;

/// What the board says beside an approximated median or p90: how far it can be from the exact one
/// (a bucket's width: 5 % of the value, and under one second up to a second).
pub const APPROXIMATION: &str = "Median and p90 approximated (≈): within 5 % or a second of the \
     exact figure. The range holds too many incidents to rank them all; a shorter range gives \
     the exact figure.";

/// A range of more durations than this is approximated from the histogram.
pub const EXACT_UP_TO: u64 = 100_000;

/// The month of instant `ms` (UTC) as `year * 12 + month - 1`, as the database writes it.
pub fn month_of(ms: i64) -> i64 {
    let day = NaiveDate::from_num_days_from_ce_opt(
        i32::try_from(ms.div_euclid(DAY_MS) + 719_163).unwrap_or(i32::MAX),
    )
    .unwrap_or(NaiveDate::MAX);
    i64::from(day.year()) * 12 + i64::from(day.month0())
}

/// The first instant (ms, UTC) of `month` (as [`month_of`] numbers it).
pub fn month_start(month: i64) -> i64 {
    let year = i32::try_from(month.div_euclid(12)).unwrap_or(i32::MAX);
    let month0 = u32::try_from(month.rem_euclid(12)).unwrap_or(0);
    NaiveDate::from_ymd_opt(year, month0 + 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(i64::MAX, |t| t.and_utc().timestamp_millis())
}

/// A range `[from, until)` as the whole months inside it and the parts outside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The first whole month.
    pub first_month: i64,
    /// The month after the last whole month.
    pub end_month: i64,
    /// The parts of the range before and after the whole months (ms, `[from, until)`), none
    /// empty.
    pub edges: Vec<(i64, i64)>,
}

/// `[from, until)` split at month boundaries; none when no whole month lies inside it.
pub fn split(from: i64, until: i64) -> Option<Split> {
    let mut first_month = month_of(from);
    if month_start(first_month) < from {
        first_month += 1;
    }
    let end_month = month_of(until);
    if end_month <= first_month {
        return None;
    }
    let (start, end) = (month_start(first_month), month_start(end_month));
    let edges = [(from, start), (end, until)]
        .into_iter()
        .filter(|(a, b)| a < b)
        .collect();
    Some(Split {
        first_month,
        end_month,
        edges,
    })
}

/// The end of the bucket starting at `lo` (exclusive).
pub fn bucket_end(lo: i64) -> i64 {
    if lo < FIRST_LO {
        FIRST_LO
    } else {
        lo.saturating_add(lo / 20)
    }
}

/// The bucket a duration falls in (its lower bound), as the database finds it in
/// `duration_buckets`.
pub fn bucket_of(ms: i64) -> i64 {
    if ms < FIRST_LO {
        return i64::MIN + 1;
    }
    let mut lo = FIRST_LO;
    while bucket_end(lo) <= ms && lo < 1_000_000_000_000 {
        lo = bucket_end(lo);
    }
    lo
}

/// Quantile `q` of the durations counted in `histogram` (bucket lower bound, how many; in
/// ascending order of bounds): the same ranks as the exact computation, each placed within its
/// bucket as if the bucket's durations were spread evenly over it (the bucket below one second
/// is taken as `[0, 1 s)`). None for an empty histogram.
pub fn quantile(histogram: &[(i64, u64)], q: Quantile) -> Option<f64> {
    let count: u64 = histogram.iter().map(|(_, n)| n).sum();
    let (below, above, fraction) = q.ranks(count)?;
    let at = |rank: u64| {
        let mut seen = 0;
        for &(lo, n) in histogram {
            if n > 0 && rank < seen + n {
                let start = lo.max(0) as f64;
                let width = (bucket_end(lo) - lo.max(0)) as f64;
                return Some(start + width * ((rank - seen) as f64 + 0.5) / n as f64);
            }
            seen += n;
        }
        None
    };
    let (lo, hi) = (at(below)?, at(above)?);
    Some(lo + (hi - lo) * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::{MEDIAN, P90, percentile};
    use proptest::prelude::*;

    fn ms(day: &str) -> i64 {
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    #[test]
    fn months_are_numbered_as_the_database_numbers_them() {
        // 2023-11-14 22:13:20 UTC: (2023 * 12 + 10), as SQLite's strftime and PostgreSQL's
        // EXTRACT give it.
        assert_eq!(month_of(1_700_000_000_000), 24_286);
        assert_eq!(month_start(24_286), ms("2023-11-01"));
        assert_eq!(month_of(ms("2024-01-01") - 1), 2023 * 12 + 11);
        assert_eq!(month_of(ms("2024-01-01")), 2024 * 12);
        assert_eq!(month_of(0), 1970 * 12);
    }

    #[test]
    fn a_range_splits_into_whole_months_and_the_parts_around_them() {
        let s = split(ms("2026-01-15"), ms("2026-04-10")).unwrap();
        assert_eq!((s.first_month, s.end_month), (2026 * 12 + 1, 2026 * 12 + 3));
        assert_eq!(
            s.edges,
            [
                (ms("2026-01-15"), ms("2026-02-01")),
                (ms("2026-04-01"), ms("2026-04-10"))
            ]
        );
        let aligned = split(ms("2026-01-01"), ms("2026-03-01")).unwrap();
        assert!(aligned.edges.is_empty(), "{aligned:?}");
        assert_eq!(split(ms("2026-01-02"), ms("2026-01-30")), None);
        assert_eq!(
            split(ms("2026-01-02"), ms("2026-02-27")),
            None,
            "no whole month inside"
        );
    }

    #[test]
    fn buckets_follow_the_sequence_the_migration_writes() {
        // The migration's recursion: 1000, then lo + lo / 20 while lo < 10^12 — 426 buckets
        // from one second on, the last at 1,002,986,534,850 ms.
        let mut lo = FIRST_LO;
        let mut n = 1;
        while lo < 1_000_000_000_000 {
            lo = bucket_end(lo);
            n += 1;
        }
        assert_eq!((n, lo), (426, 1_002_986_534_850));
        assert_eq!(bucket_of(999), i64::MIN + 1);
        assert_eq!(bucket_of(-5), i64::MIN + 1);
        assert_eq!(bucket_of(1000), 1000);
        assert_eq!(bucket_of(1049), 1000);
        assert_eq!(bucket_of(1050), 1050);
        // 3594566 and 59677, as both databases bucketed 1 h and 1 min.
        assert_eq!(bucket_of(3_600_000), 3_594_566);
        assert_eq!(bucket_of(60_000), 59_677);
    }

    fn histogram(values: &[i64]) -> Vec<(i64, u64)> {
        let mut h = std::collections::BTreeMap::new();
        for v in values {
            *h.entry(bucket_of(*v)).or_insert(0) += 1;
        }
        h.into_iter().collect()
    }

    #[test]
    fn an_empty_histogram_has_no_quantile() {
        assert_eq!(quantile(&[], MEDIAN), None);
        assert_eq!(quantile(&[(1000, 0)], P90), None);
    }

    proptest! {
        #[test]
        fn a_quantile_from_the_histogram_is_within_its_buckets_width_of_the_exact_one(
            values in proptest::collection::vec(0i64..400_000_000, 1..300)
        ) {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let h = histogram(&values);
            for q in [MEDIAN, P90] {
                let exact = percentile(&sorted, q).unwrap();
                let approx = quantile(&h, q).unwrap();
                let allowed = exact * 0.05 + 1000.0;
                prop_assert!((approx - exact).abs() <= allowed, "{approx} vs {exact}");
            }
        }
    }
}
