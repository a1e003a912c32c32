//! The metrics board's aggregates, computed in the database (never by loading incidents): the
//! mean, median and p90 of a time-to measure in one query per measure — window functions rank
//! the durations, integer arithmetic picks the two ranks each quantile lies between (the same
//! ranks as `model::metrics::Quantile`), and the interpolation is done here.

use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::board::{Bucket, TrendPoint};
use crate::model::metrics::{
    ActionFigures, BoardFilter, DAY_MS, DurationStats, MEDIAN, Measure, P90, Quantile,
    RECURRENCE_WINDOW_MS,
};
use crate::model::score::PlanRecord;
use crate::server::repo::runs::{RECORD_COLUMNS, RecordSums, record_of};

/// The filter's WHERE clause over `incidents i` (binds $1 from, $2 until, $3 severity or '',
/// $4 service or '': see [`bind_filter`]). A service is one range of
/// `incident_services (service, detected_at)` read once, not a lookup per incident.
const FILTER: &str = "i.detected_at >= $1 AND i.detected_at < $2 \
     AND ($3 = '' OR i.severity = $3) \
     AND ($4 = '' OR i.id IN (SELECT s.incident_id FROM incident_services s \
         WHERE s.service = $4 AND s.detected_at >= $1 AND s.detected_at < $2))";

/// Mean, median and p90 of `measure` over the incidents of `filter` that have both timestamps.
pub async fn duration_stats(
    pool: &AnyPool,
    measure: Measure,
    filter: &BoardFilter,
) -> Result<DurationStats, AppError> {
    let end = measure.end_column();
    let rank = |q: Quantile| {
        (
            format!("((n - 1) * {}) / {}", q.num, q.den),
            format!("((n - 1) * {} + {}) / {}", q.num, q.den - 1, q.den),
        )
    };
    let ((m_lo, m_hi), (p_lo, p_hi)) = (rank(MEDIAN), rank(P90));
    let sql = format!(
        "SELECT n, total, k, v FROM ( \
           SELECT v, ROW_NUMBER() OVER (ORDER BY v) - 1 AS k, COUNT(*) OVER () AS n, \
                  CAST(SUM(v) OVER () AS BIGINT) AS total \
           FROM (SELECT i.{end} - i.detected_at AS v FROM incidents i WHERE i.{end} IS NOT NULL AND {FILTER}) d \
         ) r WHERE k IN ({m_lo}, {m_hi}, {p_lo}, {p_hi}) ORDER BY k"
    );
    let rows: Vec<(i64, i64, i64, i64)> = bind_filter(sqlx::query_as(&sql), filter)
        .fetch_all(pool)
        .await?;
    let Some(&(n, total, _, _)) = rows.first() else {
        return Ok(DurationStats::default());
    };
    let count = u64::try_from(n).map_err(|_| AppError::Internal)?;
    let at = |rank: u64| {
        rows.iter()
            .find(|(_, _, k, _)| u64::try_from(*k).ok() == Some(rank))
            .map(|r| r.3)
    };
    let quantile = |q: Quantile| {
        let (lo, hi, fraction) = q.ranks(count)?;
        Some(Quantile::interpolate(at(lo)?, at(hi)?, fraction))
    };
    Ok(DurationStats {
        count,
        mean_ms: Some(total as f64 / count as f64),
        median_ms: quantile(MEDIAN),
        p90_ms: quantile(P90),
    })
}

/// Of the incidents of `filter`: how many repeat an earlier incident (any, also before the
/// filter's range) detected within the window before, sharing a service and a tag — and how
/// many there are. One pass over the (service, tag) pairs of the incidents detected from one
/// window before the range: a window function counts, per pair, the earlier occurrences within
/// the window (`RANGE BETWEEN <window> PRECEDING AND 1 PRECEDING`: strictly earlier, at most the
/// window before), instead of probing the history once per incident.
pub async fn recurrence(pool: &AnyPool, filter: &BoardFilter) -> Result<(u64, u64), AppError> {
    let sql = format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN r.hit > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM incidents i LEFT JOIN ( \
             SELECT incident_id, MAX(prior) AS hit FROM ( \
                 SELECT p.incident_id, p.detected_at, COUNT(*) OVER (PARTITION BY p.service, p.tag \
                     ORDER BY p.detected_at \
                     RANGE BETWEEN {RECURRENCE_WINDOW_MS} PRECEDING AND 1 PRECEDING) AS prior \
                 FROM (SELECT s.incident_id, s.service, t.tag, h.detected_at FROM incidents h \
                       JOIN incident_services s ON s.incident_id = h.id \
                       JOIN incident_tags t ON t.incident_id = h.id \
                       WHERE h.detected_at >= $5 AND h.detected_at < $2) p \
             ) w WHERE w.detected_at >= $1 GROUP BY incident_id \
         ) r ON r.incident_id = i.id \
         WHERE {FILTER}"
    );
    let (total, repeats): (i64, i64) = bind_filter(sqlx::query_as(&sql), filter)
        .bind(filter.from.saturating_sub(RECURRENCE_WINDOW_MS))
        .fetch_one(pool)
        .await?;
    let count = |n: i64| u64::try_from(n).map_err(|_| AppError::Internal);
    Ok((count(repeats)?, count(total)?))
}

/// Incidents of `filter` counted by `column` of `incidents` (`severity` or `status`), largest
/// first.
pub async fn count_by(
    pool: &AnyPool,
    column: Breakdown,
    filter: &BoardFilter,
) -> Result<Vec<(String, u64)>, AppError> {
    let by_column = |c: &str| {
        format!(
            "SELECT i.{c}, COUNT(*) AS n FROM incidents i WHERE {FILTER} GROUP BY i.{c} ORDER BY n DESC, i.{c}"
        )
    };
    let sql = match column {
        Breakdown::Severity => by_column("severity"),
        Breakdown::Status => by_column("status"),
        Breakdown::Service => format!(
            "SELECT sv.service, COUNT(*) AS n FROM incidents i JOIN incident_services sv ON sv.incident_id = i.id \
             WHERE {FILTER} GROUP BY sv.service ORDER BY n DESC, sv.service LIMIT 20"
        ),
    };
    let rows: Vec<(String, i64)> = bind_filter(sqlx::query_as(&sql), filter)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(k, n)| Ok((k, u64::try_from(n).map_err(|_| AppError::Internal)?)))
        .collect()
}

/// What incidents are broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// Severity.
    Severity,
    /// Status (state).
    Status,
    /// Affected service (an incident counts once per service; the 20 largest).
    Service,
}

fn bind_filter<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    filter: &'q BoardFilter,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    query
        .bind(filter.from)
        .bind(filter.until)
        .bind(filter.severity.map_or("", |s| s.as_str()))
        .bind(filter.service.as_deref().unwrap_or(""))
}

/// Drill runs that ended in the filter's time range (of plans of its service, when given):
/// scored runs, passed runs, mean score. Severity does not apply to drills.
pub async fn drill_stats(pool: &AnyPool, filter: &BoardFilter) -> Result<PlanRecord, AppError> {
    let sums: RecordSums = sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM runs r JOIN plans p ON p.id = r.plan_id \
         WHERE p.scene = 'drill' AND r.score IS NOT NULL \
         AND r.finished_at >= $1 AND r.finished_at < $2 AND ($3 = '' OR p.service = $3)"
    ))
    .bind(filter.from)
    .bind(filter.until)
    .bind(filter.service.as_deref().unwrap_or(""))
    .fetch_one(pool)
    .await?;
    record_of(sums)
}

/// `action_items a`'s due date as days since 1970-01-01: `model::metrics::day_number` in SQL
/// integer arithmetic (the same on both databases), over columns `y`, `mp` (month from March)
/// and `d` of [`DUE_PARTS`].
const DUE_DAY: &str = "((y - (y / 400) * 400) * 365 + (y - (y / 400) * 400) / 4 \
     - (y - (y / 400) * 400) / 100 + (153 * mp + 2) / 5 + d - 1 + (y / 400) * 146097 - 719468)";

/// Splits `a.due_on` ('YYYY-MM-DD') into the parts [`DUE_DAY`] reads.
const DUE_PARTS: &str = "CAST(SUBSTR(a.due_on, 1, 4) AS BIGINT) \
     - CASE WHEN CAST(SUBSTR(a.due_on, 6, 2) AS BIGINT) <= 2 THEN 1 ELSE 0 END AS y, \
     CAST(SUBSTR(a.due_on, 6, 2) AS BIGINT) \
     + CASE WHEN CAST(SUBSTR(a.due_on, 6, 2) AS BIGINT) > 2 THEN -3 ELSE 9 END AS mp, \
     CAST(SUBSTR(a.due_on, 9, 2) AS BIGINT) AS d";

/// Action items of the incidents of `filter` and of drill runs that ended in its range (of plans
/// of its service; none when a severity is chosen): open and overdue as of `today`
/// (`YYYY-MM-DD`, UTC), done, and done by the end of their due day.
pub async fn action_figures(
    pool: &AnyPool,
    filter: &BoardFilter,
    today: &str,
) -> Result<ActionFigures, AppError> {
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN state <> 'done' THEN 1 ELSE 0 END), 0) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN state <> 'done' AND due_on < $5 THEN 1 ELSE 0 END), 0) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN state = 'done' AND done_at < ({DUE_DAY} + 1) * {DAY_MS} THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM (SELECT a.state, a.due_on, a.done_at, {DUE_PARTS} FROM ( \
             SELECT a.state, a.due_on, a.done_at FROM incidents i \
             JOIN action_items a ON a.incident_id = i.id WHERE {FILTER} \
             UNION ALL \
             SELECT a.state, a.due_on, a.done_at FROM runs r JOIN plans p ON p.id = r.plan_id \
             JOIN action_items a ON a.run_id = r.id \
             WHERE $3 = '' AND r.finished_at >= $1 AND r.finished_at < $2 AND ($4 = '' OR p.service = $4) \
         ) a) parts"
    );
    let (total, open, overdue, on_time): (i64, i64, i64, i64) =
        bind_filter(sqlx::query_as(&sql), filter)
            .bind(today)
            .fetch_one(pool)
            .await?;
    let count = |n: i64| u64::try_from(n).map_err(|_| AppError::Internal);
    Ok(ActionFigures {
        open: count(open)?,
        overdue: count(overdue)?,
        closed: count(total - open)?,
        closed_on_time: count(on_time)?,
    })
}

/// Per bucket (consecutive spans inside the filter's range): incidents of `filter` detected in
/// it, how many recovered and their mean time to recover. One query: the buckets are a VALUES
/// list joined on the detection index.
pub async fn trend(
    pool: &AnyPool,
    filter: &BoardFilter,
    buckets: &[Bucket],
) -> Result<Vec<TrendPoint>, AppError> {
    if buckets.is_empty() {
        return Ok(Vec::new());
    }
    let values = (0..buckets.len())
        .map(|k| format!("(${}, ${})", 5 + 2 * k, 6 + 2 * k))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT b.column1, CAST(COUNT(i.id) AS BIGINT), CAST(COUNT(i.resolved_at) AS BIGINT), \
           CAST(COALESCE(SUM(i.resolved_at - i.detected_at), 0) AS BIGINT) \
         FROM (VALUES {values}) b \
         LEFT JOIN incidents i ON i.detected_at >= b.column1 AND i.detected_at < b.column2 AND {FILTER} \
         GROUP BY b.column1 ORDER BY b.column1"
    );
    let mut query = bind_filter(sqlx::query_as(&sql), filter);
    for bucket in buckets {
        query = query.bind(bucket.start).bind(bucket.end);
    }
    let rows: Vec<(i64, i64, i64, i64)> = query.fetch_all(pool).await?;
    let count = |n: i64| u64::try_from(n).map_err(|_| AppError::Internal);
    buckets
        .iter()
        .map(|bucket| {
            let (_, incidents, recovered, total) = rows
                .iter()
                .find(|r| r.0 == bucket.start)
                .copied()
                .unwrap_or_default();
            let recovered = count(recovered)?;
            Ok(TrendPoint {
                bucket: bucket.clone(),
                incidents: count(incidents)?,
                recovered,
                mttr_mean_ms: (recovered > 0).then(|| total as f64 / recovered as f64),
            })
        })
        .collect()
}
