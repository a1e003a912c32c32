//! The metrics board's monthly rollups (kept by triggers: migration
//! `20261204000022_board_rollups`): per calendar month of detection (UTC), severity and status,
//! how many incidents, how many repeat an earlier one, and per measure how many have it and the
//! sum of their durations; and per measure a histogram of durations. The parts of a range outside
//! its whole months are read from the incidents themselves, in the same shape.

use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::incident::Severity;
use crate::model::metrics::{ActionFigures, Measure};

/// Incidents of one severity and status (in one month, or one part of a range).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Figures {
    /// Month of detection (`model::rollup::month_of`).
    pub month: i64,
    /// Severity code.
    pub severity: String,
    /// Status code.
    pub status: String,
    /// How many.
    pub n: i64,
    /// Of which repeat an earlier incident.
    pub repeats: i64,
    /// Of which acknowledged, and their times to acknowledge summed (ms).
    pub acknowledged: i64,
    pub acknowledged_ms: i64,
    /// Of which mitigated, and their times to mitigate summed.
    pub mitigated: i64,
    pub mitigated_ms: i64,
    /// Of which recovered, and their times to recover summed.
    pub resolved: i64,
    pub resolved_ms: i64,
}

impl Figures {
    /// How many have `measure`, and the sum of their durations.
    pub fn measure(&self, measure: Measure) -> (i64, i64) {
        match measure {
            Measure::Mtta => (self.acknowledged, self.acknowledged_ms),
            Measure::Mttm => (self.mitigated, self.mitigated_ms),
            Measure::Mttr => (self.resolved, self.resolved_ms),
        }
    }
}

/// The rollup rows of months `[first, end)` (of one severity, when given).
pub async fn months(
    pool: &AnyPool,
    first: i64,
    end: i64,
    severity: Option<Severity>,
) -> Result<Vec<Figures>, AppError> {
    Ok(sqlx::query_as(
        "SELECT month, severity, status, n, repeats, acknowledged, acknowledged_ms, mitigated, \
         mitigated_ms, resolved, resolved_ms FROM incident_months \
         WHERE month >= $1 AND month < $2 AND ($3 = '' OR severity = $3) AND n <> 0",
    )
    .bind(first)
    .bind(end)
    .bind(severity.map_or("", |s| s.as_str()))
    .fetch_all(pool)
    .await?)
}

/// The same figures, counted from the incidents detected in `[from, until)` (a part of a range
/// outside its whole months), per severity and status; `month` is `month`.
pub async fn part(
    pool: &AnyPool,
    month: i64,
    from: i64,
    until: i64,
    severity: Option<Severity>,
) -> Result<Vec<Figures>, AppError> {
    // A plain condition per case, so SQLite reads the severity's own index when one is given.
    let condition = match severity {
        None => "$4 = ''",
        Some(_) => "i.severity = $4",
    };
    Ok(sqlx::query_as(&format!(
        "SELECT CAST($1 AS BIGINT) AS month, i.severity, i.status, CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(SUM(i.repeats) AS BIGINT) AS repeats, \
         CAST(COUNT(i.acknowledged_at) AS BIGINT) AS acknowledged, \
         CAST(COALESCE(SUM(i.acknowledged_at - i.detected_at), 0) AS BIGINT) AS acknowledged_ms, \
         CAST(COUNT(i.mitigated_at) AS BIGINT) AS mitigated, \
         CAST(COALESCE(SUM(i.mitigated_at - i.detected_at), 0) AS BIGINT) AS mitigated_ms, \
         CAST(COUNT(i.resolved_at) AS BIGINT) AS resolved, \
         CAST(COALESCE(SUM(i.resolved_at - i.detected_at), 0) AS BIGINT) AS resolved_ms \
         FROM incidents i WHERE i.detected_at >= $2 AND i.detected_at < $3 AND {condition} \
         GROUP BY i.severity, i.status"
    ))
    .bind(month)
    .bind(from)
    .bind(until)
    .bind(severity.map_or("", |s| s.as_str()))
    .fetch_all(pool)
    .await?)
}

/// The histogram of `measure` over months `[first, end)` (of one severity, when given): bucket
/// lower bound and how many durations, in ascending order of bounds.
pub async fn histogram(
    pool: &AnyPool,
    measure: Measure,
    first: i64,
    end: i64,
    severity: Option<Severity>,
) -> Result<Vec<(i64, u64)>, AppError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT lo, CAST(SUM(n) AS BIGINT) FROM incident_month_durations \
         WHERE measure = $1 AND month >= $2 AND month < $3 AND ($4 = '' OR severity = $4) \
         GROUP BY lo ORDER BY lo",
    )
    .bind(measure.as_str())
    .bind(first)
    .bind(end)
    .bind(severity.map_or("", |s| s.as_str()))
    .fetch_all(pool)
    .await?;
    counted(rows)
}

/// The histogram of `measure` over the incidents detected in `[from, until)`, bucketed as the
/// rollups are.
pub async fn part_histogram(
    pool: &AnyPool,
    measure: Measure,
    from: i64,
    until: i64,
    severity: Option<Severity>,
) -> Result<Vec<(i64, u64)>, AppError> {
    let end = measure.end_column();
    let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT (SELECT MAX(b.lo) FROM duration_buckets b WHERE b.lo <= d.v) AS lo, \
         CAST(COUNT(*) AS BIGINT) FROM ( \
             SELECT i.{end} - i.detected_at AS v FROM incidents i \
             WHERE i.{end} IS NOT NULL AND i.detected_at >= $1 AND i.detected_at < $2 \
             AND ($3 = '' OR i.severity = $3) \
         ) d GROUP BY 1 ORDER BY 1"
    ))
    .bind(from)
    .bind(until)
    .bind(severity.map_or("", |s| s.as_str()))
    .fetch_all(pool)
    .await?;
    counted(rows)
}

/// `rows` (a key and how many) with the empty ones left out; a negative count is an error.
fn counted<K>(rows: Vec<(K, i64)>) -> Result<Vec<(K, u64)>, AppError> {
    rows.into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(k, n)| Ok((k, u64::try_from(n).map_err(|_| AppError::Internal)?)))
        .collect()
}

/// Incidents per affected service over months `[first, end)` (of one severity, when given),
/// every service.
pub async fn services(
    pool: &AnyPool,
    first: i64,
    end: i64,
    severity: Option<Severity>,
) -> Result<Vec<(String, u64)>, AppError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT service, CAST(SUM(n) AS BIGINT) FROM incident_service_months \
         WHERE month >= $1 AND month < $2 AND ($3 = '' OR severity = $3) GROUP BY service",
    )
    .bind(first)
    .bind(end)
    .bind(severity.map_or("", |s| s.as_str()))
    .fetch_all(pool)
    .await?;
    counted(rows)
}

/// Incidents per affected service detected in `[from, until)` (of one severity, when given),
/// every service.
pub async fn part_services(
    pool: &AnyPool,
    from: i64,
    until: i64,
    severity: Option<Severity>,
) -> Result<Vec<(String, u64)>, AppError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s.service, CAST(COUNT(*) AS BIGINT) FROM incident_services s \
         JOIN incidents i ON i.id = s.incident_id \
         WHERE s.detected_at >= $1 AND s.detected_at < $2 AND ($3 = '' OR i.severity = $3) \
         GROUP BY s.service",
    )
    .bind(from)
    .bind(until)
    .bind(severity.map_or("", |s| s.as_str()))
    .fetch_all(pool)
    .await?;
    counted(rows)
}

/// Action item figures of the incidents of months `[first, end)` (of one severity, when given)
/// as of `today` (`YYYY-MM-DD`, UTC).
pub async fn items(
    pool: &AnyPool,
    first: i64,
    end: i64,
    severity: Option<Severity>,
    today: &str,
) -> Result<ActionFigures, AppError> {
    let (open, overdue, closed, on_time): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(CASE WHEN done = 0 THEN n ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN done = 0 AND due_on < $4 THEN n ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN done = 1 THEN n ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN done = 1 AND on_time = 1 THEN n ELSE 0 END), 0) AS BIGINT) \
         FROM incident_item_months \
         WHERE month >= $1 AND month < $2 AND ($3 = '' OR severity = $3)",
    )
    .bind(first)
    .bind(end)
    .bind(severity.map_or("", |s| s.as_str()))
    .bind(today)
    .fetch_one(pool)
    .await?;
    ActionFigures::counted(open, overdue, closed, on_time).ok_or(AppError::Internal)
}
