//! What the inspection page reads: inspection plans, each one's latest runs, its pass rate and
//! its open risk event. One read per inspection for its runs (a range of `runs_plan_idx`), so a
//! plan run every minute for a year costs its 20 newest rows, not a scan.

use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::inspection::{self, Inspection, InspectionRun};
use crate::model::run::RunStatus;
use crate::server::db::from_millis;

use super::corrupt;

type PlanRow = (
    String,
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

/// Every inspection plan, by name, with its history, pass rate since `since` (ms) and open event.
pub async fn list(pool: &AnyPool, since: i64) -> Result<Vec<Inspection>, AppError> {
    let plans: Vec<PlanRow> = sqlx::query_as(
        "SELECT id, number, name, service, enabled, schedule_cron, schedule_zone, \
         schedule_paused, next_due_at FROM plans WHERE scene = 'inspection' ORDER BY name, number",
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(plans.len());
    for (id, number, name, service, enabled, cron, zone, paused, next_due) in plans {
        let runs: Vec<(i64, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT number, status, created_at, finished_at FROM runs WHERE plan_id = $1 \
             ORDER BY created_at DESC, number DESC LIMIT $2",
        )
        .bind(&id)
        .bind(inspection::HISTORY as i64)
        .fetch_all(pool)
        .await?;
        let history = runs
            .into_iter()
            .map(|(number, status, created, finished)| {
                Ok(InspectionRun {
                    number,
                    status: status
                        .parse::<RunStatus>()
                        .map_err(|_| corrupt("runs", "status"))?,
                    created_at: from_millis(created),
                    finished_at: finished.map(from_millis),
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let (decided, passed): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(CASE WHEN status = 'passed' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM runs WHERE plan_id = $1 AND created_at >= $2 AND status IN ('passed', 'failed')",
        )
        .bind(&id)
        .bind(since)
        .fetch_one(pool)
        .await?;
        let failing: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT number, first_seen, labels FROM risk_events \
             WHERE source = $1 AND fingerprint = $2 AND resolved_at IS NULL",
        )
        .bind(inspection::SOURCE)
        .bind(inspection::fingerprint(number))
        .fetch_optional(pool)
        .await?;
        let failing = failing.map(|(event, since, labels)| {
            let labels: crate::model::alert::Labels =
                serde_json::from_str(&labels).unwrap_or_default();
            let step = labels.get("failed_step").cloned().unwrap_or_default();
            (event, from_millis(since), step)
        });
        out.push(Inspection {
            plan: number,
            name,
            service,
            enabled: enabled != 0,
            schedule: cron.zip(zone),
            paused: paused != 0,
            next_due: next_due.map(from_millis),
            history,
            passed: u32::try_from(passed.unwrap_or(0)).map_err(|_| corrupt("runs", "count"))?,
            decided: u32::try_from(decided).map_err(|_| corrupt("runs", "count"))?,
            failing,
        });
    }
    Ok(out)
}
