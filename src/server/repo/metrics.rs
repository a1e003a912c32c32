//! The metrics board's aggregates, computed in the database (never by loading incidents): the
//! mean, median and p90 of a time-to measure in one query per measure — window functions rank
//! the durations, integer arithmetic picks the two ranks each quantile lies between (the same
//! ranks as `model::metrics::Quantile`), and the interpolation is done here.

use sqlx::{AnyConnection, AnyPool};

use crate::model::AppError;
use crate::model::board::{Bucket, TrendPoint};
use crate::model::metrics::{
    ActionFigures, BoardFilter, DAY_MS, DurationStats, MEDIAN, Measure, P90, Quantile,
    RECURRENCE_WINDOW_MS,
};
use crate::model::score::PlanRecord;
use crate::server::repo::runs::{RECORD_COLUMNS, RecordSums, record_of};

/// The incidents of `filter`: a FROM clause, a WHERE condition over `incidents i` (binds $1 from,
/// $2 until, $3 severity or '', $4 service or '': see [`bind_filter`]; every variant uses all
/// four). Without a service, the range (and severity) is read from `incidents_detected_idx`
/// alone; with one, the service's range of `incident_services (service, detected_at)` drives.
struct Scope {
    from: &'static str,
    filtered: String,
}

fn scope(filter: &BoardFilter) -> Scope {
    scope_between(filter, "$1", "$2")
}

/// [`scope`] for the part of the range from `lo` to `hi` (SQL expressions within `[$1, $2)`):
/// the only bounds on the detection column are these, so the index range read is the part's,
/// not the whole range's.
fn part_of(filter: &BoardFilter, lo: &str, hi: &str) -> Scope {
    let mut part = scope_between(filter, lo, hi);
    part.filtered += &format!(" AND $1 <= {lo} AND {hi} <= $2");
    part
}

fn scope_between(filter: &BoardFilter, lo: &str, hi: &str) -> Scope {
    let (from, detected, rest) = match (&filter.service, filter.severity) {
        (None, None) => ("incidents i", "i.detected_at", "$3 = '' AND $4 = ''"),
        (None, Some(_)) => (
            "incidents i",
            "i.detected_at",
            "i.severity = $3 AND $4 = ''",
        ),
        (Some(_), _) => (
            "incident_services k JOIN incidents i ON i.id = k.incident_id",
            "k.detected_at",
            "k.service = $4 AND ($3 = '' OR i.severity = $3)",
        ),
    };
    Scope {
        from,
        filtered: format!("{detected} >= {lo} AND {detected} < {hi} AND {rest}"),
    }
}

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
    let Scope { from, filtered, .. } = scope(filter);
    // The count and sum by a plain aggregate: one window (the ranks) is the only sort.
    let durations = format!(
        "SELECT i.{end} - i.detected_at AS v FROM {from} WHERE i.{end} IS NOT NULL AND {filtered}"
    );
    let sql = format!(
        "SELECT c.n, c.total, r.k, r.v \
         FROM (SELECT COUNT(*) AS n, CAST(SUM(v) AS BIGINT) AS total FROM ({durations}) d) c, \
              (SELECT v, ROW_NUMBER() OVER (ORDER BY v) - 1 AS k FROM ({durations}) d) r \
         WHERE r.k IN ({m_lo}, {m_hi}, {p_lo}, {p_hi}) ORDER BY r.k"
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
        approximate: false,
    })
}

/// Of the incidents of `filter`: how many repeat an earlier incident (any, also before the
/// filter's range) detected within the window before, sharing a service and a tag — and how
/// many there are. Each incident's `repeats` flag is kept on write ([`note_repeats`],
/// [`mark_repeats`]), so this is one count over the filter's range.
pub async fn recurrence(pool: &AnyPool, filter: &BoardFilter) -> Result<(u64, u64), AppError> {
    let Scope { from, filtered, .. } = scope(filter);
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(i.repeats), 0) AS BIGINT) \
         FROM {from} WHERE {filtered}"
    );
    let (total, repeats): (i64, i64) = bind_filter(sqlx::query_as(&sql), filter)
        .fetch_one(pool)
        .await?;
    let count = |n: i64| u64::try_from(n).map_err(|_| AppError::Internal);
    Ok((count(repeats)?, count(total)?))
}

/// `incident_services s` joined to `incident_tags t` of the same incident where `s.service` is one
/// of the `services` and `t.tag` one of the `tags` (bound from `$3` on), and the incident was
/// detected within `range` (SQL over `s.detected_at` and `$1`, the new incident's detection).
fn sharing(services: usize, tags: usize, range: &str) -> String {
    let list = |start: usize, n: usize| {
        (start..start + n)
            .map(|k| format!("${k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "SELECT s.incident_id FROM incident_services s \
         JOIN incident_tags t ON t.incident_id = s.incident_id \
         WHERE s.service IN ({}) AND t.tag IN ({}) AND {range}",
        list(3, services),
        list(3 + services, tags),
    )
}

/// Keeps `repeats` true after inserting incident `id` (detected at `detected`, its services and
/// tags already inserted): its own flag, and that of the later incidents within the window that
/// it is now the earlier incident of (a backdated declaration). Services, tags and detection
/// never change afterwards. Inserts are serialised by the incident number counter (its row is
/// written first in the same transaction), so two declarations never miss each other.
pub async fn note_repeats(
    conn: &mut AnyConnection,
    id: &str,
    detected: i64,
    services: &[String],
    tags: &[String],
) -> Result<(), AppError> {
    if services.is_empty() || tags.is_empty() {
        return Ok(());
    }
    let own = format!(
        "UPDATE incidents SET repeats = 1 WHERE id = $2 AND EXISTS ({})",
        sharing(
            services.len(),
            tags.len(),
            &format!("s.detected_at >= $1 - {RECURRENCE_WINDOW_MS} AND s.detected_at < $1"),
        )
    );
    let later = format!(
        "UPDATE incidents SET repeats = 1 WHERE repeats = 0 AND $2 <> '' AND id IN ({})",
        sharing(
            services.len(),
            tags.len(),
            &format!("s.detected_at > $1 AND s.detected_at <= $1 + {RECURRENCE_WINDOW_MS}"),
        )
    );
    for sql in [own, later] {
        let mut query = sqlx::query(&sql).bind(detected).bind(id);
        for value in services.iter().chain(tags) {
            query = query.bind(value);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sets `repeats` of the incidents detected in `[from, until)` that repeat an earlier one (never
/// clears it), for incidents written in bulk: one pass over the (service, tag) pairs detected
/// from one window before `from`, where a window function counts each pair's earlier
/// occurrences within the window (`RANGE BETWEEN <window> PRECEDING AND 1 PRECEDING`).
pub async fn mark_repeats(conn: &mut AnyConnection, from: i64, until: i64) -> Result<(), AppError> {
    sqlx::query(&format!(
        "UPDATE incidents SET repeats = 1 WHERE detected_at >= $1 AND detected_at < $2 AND id IN ( \
             SELECT w.incident_id FROM ( \
                 SELECT s.incident_id, s.detected_at, COUNT(*) OVER (PARTITION BY s.service, t.tag \
                     ORDER BY s.detected_at \
                     RANGE BETWEEN {RECURRENCE_WINDOW_MS} PRECEDING AND 1 PRECEDING) AS prior \
                 FROM incident_services s JOIN incident_tags t ON t.incident_id = s.incident_id \
                 WHERE s.detected_at >= $3 AND s.detected_at < $2 \
             ) w WHERE w.prior > 0 AND w.detected_at >= $1)"
    ))
    .bind(from)
    .bind(until)
    .bind(from.saturating_sub(RECURRENCE_WINDOW_MS))
    .execute(conn)
    .await?;
    Ok(())
}

/// Incidents of `filter` counted by `column` of `incidents` (`severity` or `status`), largest
/// first.
pub async fn count_by(
    pool: &AnyPool,
    column: Breakdown,
    filter: &BoardFilter,
) -> Result<Vec<(String, u64)>, AppError> {
    let Scope { from, filtered, .. } = scope(filter);
    let by_column = |c: &str| {
        format!(
            "SELECT i.{c}, COUNT(*) AS n FROM {from} WHERE {filtered} GROUP BY i.{c} ORDER BY n DESC, i.{c}"
        )
    };
    let sql = match (column, &filter.service, filter.severity) {
        (Breakdown::Severity, ..) => by_column("severity"),
        (Breakdown::Status, ..) => by_column("status"),
        // A time range alone: the copies in `incident_services` are enough.
        (Breakdown::Service, None, None) => {
            "SELECT sv.service, COUNT(*) AS n FROM incident_services sv \
             WHERE sv.detected_at >= $1 AND sv.detected_at < $2 AND $3 = '' AND $4 = '' \
             GROUP BY sv.service ORDER BY n DESC, sv.service"
                .to_owned()
        }
        (Breakdown::Service, ..) => format!(
            "SELECT sv.service, COUNT(*) AS n FROM {from} JOIN incident_services sv ON sv.incident_id = i.id \
             WHERE {filtered} GROUP BY sv.service ORDER BY n DESC, sv.service"
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
    /// Affected service (an incident counts once per service; every service).
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
    items(pool, filter, today, Items::Both).await
}

/// Whose action items [`items`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    /// Of the filter's incidents and of drill runs that ended in its range.
    Both,
    /// Of the filter's incidents only.
    OfIncidents,
    /// Of drill runs that ended in the filter's range only.
    OfRuns,
}

/// [`action_figures`] of the incidents, the runs, or both.
pub async fn items(
    pool: &AnyPool,
    filter: &BoardFilter,
    today: &str,
    whose: Items,
) -> Result<ActionFigures, AppError> {
    let Scope { from, filtered, .. } = scope(filter);
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN state <> 'done' THEN 1 ELSE 0 END), 0) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN state <> 'done' AND due_on < $5 THEN 1 ELSE 0 END), 0) AS BIGINT), \
           CAST(COALESCE(SUM(CASE WHEN state = 'done' AND done_at < ({DUE_DAY} + 1) * {DAY_MS} THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM (SELECT a.state, a.due_on, a.done_at, {DUE_PARTS} FROM ( \
             SELECT a.state, a.due_on, a.done_at FROM {from} \
             JOIN action_items a ON a.incident_id = i.id WHERE {filtered} AND $6 = 1 \
             UNION ALL \
             SELECT a.state, a.due_on, a.done_at FROM runs r JOIN plans p ON p.id = r.plan_id \
             JOIN action_items a ON a.run_id = r.id \
             WHERE $7 = 1 AND $3 = '' AND r.finished_at >= $1 AND r.finished_at < $2 AND ($4 = '' OR p.service = $4) \
         ) a) parts"
    );
    let (total, open, overdue, on_time): (i64, i64, i64, i64) =
        bind_filter(sqlx::query_as(&sql), filter)
            .bind(today)
            .bind(i64::from(whose != Items::OfRuns))
            .bind(i64::from(whose != Items::OfIncidents))
            .fetch_one(pool)
            .await?;
    ActionFigures::counted(open, overdue, total - open, on_time).ok_or(AppError::Internal)
}

/// Per bucket (consecutive spans inside the filter's range): incidents of `filter` detected in
/// it, how many recovered and their mean time to recover. One query over a VALUES list of the
/// buckets, each reading only its own slice of the detection index.
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
    // Per bucket, three correlated aggregates over the bucket's part of the range: each reads
    // its own slice of the index (a join with GROUP BY sorted every incident of the range).
    let Scope { from, filtered, .. } = part_of(filter, "b.column1", "b.column2");
    let within = format!("FROM {from} WHERE {filtered}");
    let sql = format!(
        "SELECT b.column1, (SELECT CAST(COUNT(*) AS BIGINT) {within}), \
           (SELECT CAST(COUNT(i.resolved_at) AS BIGINT) {within}), \
           (SELECT CAST(COALESCE(SUM(i.resolved_at - i.detected_at), 0) AS BIGINT) {within}) \
         FROM (VALUES {values}) b ORDER BY b.column1"
    );
    let mut query = bind_filter(sqlx::query_as(&sql), filter);
    for bucket in buckets {
        query = query.bind(bucket.start).bind(bucket.end);
    }
    let rows: Vec<(i64, i64, i64, i64)> = query.fetch_all(pool).await?;
    buckets
        .iter()
        .map(|bucket| {
            let (_, incidents, recovered, total) = rows
                .iter()
                .find(|r| r.0 == bucket.start)
                .copied()
                .unwrap_or_default();
            TrendPoint::counted(bucket.clone(), incidents, recovered, total)
                .ok_or(AppError::Internal)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_of_the_range_bounds_the_detection_column_by_the_part_alone() {
        for service in [None, Some("api".to_owned())] {
            // The table that drives: the service's rows, or the incidents.
            let detected = if service.is_some() {
                "k.detected_at"
            } else {
                "i.detected_at"
            };
            let filter = BoardFilter {
                service,
                ..Default::default()
            };
            let sql = part_of(&filter, "b.column1", "b.column2").filtered;
            assert!(sql.contains(&format!("{detected} >= b.column1")), "{sql}");
            assert!(sql.contains(&format!("{detected} < b.column2")), "{sql}");
            assert!(!sql.contains(&format!("{detected} >= $1")), "{sql}");
            assert!(!sql.contains(&format!("{detected} < $2")), "{sql}");
            for n in 1..=4 {
                assert!(sql.contains(&format!("${n}")), "every bind is used: {sql}");
            }
        }
    }
}
