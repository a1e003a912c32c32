//! The metrics board: every figure of one query, computed by the database (the queries run
//! side by side on the pool).

use chrono::NaiveDate;
use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::board::{Board, BoardRequest, MeasureFigures, buckets};
use crate::model::incident::{IncidentStatus, Severity};
use crate::model::metrics::Measure;
use crate::server::repo::metrics::{self as repo, Breakdown};

/// The board for `request`, as of `today` (UTC: action items are overdue after their due day).
pub async fn board(
    pool: &AnyPool,
    request: &BoardRequest,
    today: NaiveDate,
) -> Result<Board, AppError> {
    let filter = &request.filter;
    let today = today.format("%Y-%m-%d").to_string();
    let points = buckets(request.period, request.first, request.last);
    let (mtta, mttm, mttr, (recurrences, incidents), drills, actions) = tokio::try_join!(
        repo::duration_stats(pool, Measure::Mtta, filter),
        repo::duration_stats(pool, Measure::Mttm, filter),
        repo::duration_stats(pool, Measure::Mttr, filter),
        repo::recurrence(pool, filter),
        repo::drill_stats(pool, filter),
        repo::action_figures(pool, filter, &today),
    )?;
    let (severities, statuses, by_service, trend) = tokio::try_join!(
        repo::count_by(pool, Breakdown::Severity, filter),
        repo::count_by(pool, Breakdown::Status, filter),
        repo::count_by(pool, Breakdown::Service, filter),
        repo::trend(pool, filter, &points),
    )?;
    // Every severity and status is shown, in their own order, zeros included.
    let in_order = |counts: &[(String, u64)], codes: &mut dyn Iterator<Item = &'static str>| {
        codes
            .map(|code| {
                let n = counts
                    .iter()
                    .find(|(c, _)| c == code)
                    .map_or(0, |(_, n)| *n);
                (code.to_owned(), n)
            })
            .collect::<Vec<_>>()
    };
    let mut services: Vec<String> = by_service.iter().map(|(s, _)| s.clone()).collect();
    if let Some(chosen) = filter.service.as_ref().filter(|c| !services.contains(c)) {
        services.push(chosen.clone());
    }
    services.sort();
    Ok(Board {
        first: request.first.format("%Y-%m-%d").to_string(),
        last: request.last.format("%Y-%m-%d").to_string(),
        incidents,
        measures: [
            (Measure::Mtta, mtta),
            (Measure::Mttm, mttm),
            (Measure::Mttr, mttr),
        ]
        .into_iter()
        .map(|(measure, stats)| MeasureFigures { measure, stats })
        .collect(),
        recurrences,
        drills,
        actions,
        by_severity: in_order(&severities, &mut Severity::ALL.iter().map(|s| s.as_str())),
        by_status: in_order(
            &statuses,
            &mut IncidentStatus::ALL.iter().map(|s| s.as_str()),
        ),
        by_service,
        period: request.period,
        trend,
        services,
    })
}
