//! The schedule columns of `plans` and the `schedule_events` table: due plans found through the
//! next-due index, a due time claimed by compare-and-set, and what became of each claim.

use sqlx::{AnyConnection, AnyPool, FromRow};
use uuid::Uuid;

use crate::model::AppError;
use crate::model::schedule::{PlanSchedule, ScheduleEvent, ScheduleOutcome, ScheduleState};
use crate::server::db::from_millis;

/// See [`super::corrupt`].
fn corrupt(what: &str) -> AppError {
    super::corrupt("schedule", what)
}

/// A plan whose due time has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePlan {
    /// Row id.
    pub id: String,
    /// Number.
    pub number: i64,
    /// The due time to claim (ms).
    pub due_at: i64,
    /// Its schedule.
    pub schedule: PlanSchedule,
}

#[derive(FromRow)]
struct DueRow {
    id: String,
    number: i64,
    next_due_at: i64,
    schedule_cron: Option<String>,
    schedule_zone: Option<String>,
    concurrency: String,
}

/// Up to `limit` plans due at `now` (ms), earliest first — a range read of the next-due index.
pub async fn due(pool: &AnyPool, now: i64, limit: i64) -> Result<Vec<DuePlan>, AppError> {
    let rows: Vec<DueRow> = sqlx::query_as(
        "SELECT id, number, next_due_at, schedule_cron, schedule_zone, concurrency FROM plans \
         WHERE next_due_at <= $1 ORDER BY next_due_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(DuePlan {
                id: r.id,
                number: r.number,
                due_at: r.next_due_at,
                schedule: PlanSchedule {
                    cron: r.schedule_cron.ok_or_else(|| corrupt("cron"))?,
                    zone: r.schedule_zone.ok_or_else(|| corrupt("zone"))?,
                    concurrency: r.concurrency.parse().map_err(|_| corrupt("concurrency"))?,
                },
            })
        })
        .collect()
}

/// The earliest due time of any plan (ms), if one is scheduled.
pub async fn earliest_due(pool: &AnyPool) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT MIN(next_due_at) FROM plans WHERE next_due_at IS NOT NULL")
            .fetch_one(pool)
            .await?,
    )
}

/// Claims due time `due` of plan `id` by moving its next due time to `next`: true for exactly
/// one caller, whichever instance it runs on.
pub async fn claim(
    conn: &mut AnyConnection,
    id: &str,
    due: i64,
    next: Option<i64>,
) -> Result<bool, AppError> {
    let done = sqlx::query("UPDATE plans SET next_due_at = $1 WHERE id = $2 AND next_due_at = $3")
        .bind(next)
        .bind(id)
        .bind(due)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// What the scheduler did with one claimed due time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent<'a> {
    /// The plan's row id.
    pub plan_id: &'a str,
    /// The due time (ms).
    pub due_at: i64,
    /// When it was claimed (ms).
    pub fired_at: i64,
    /// What became of it.
    pub outcome: ScheduleOutcome,
    /// The run started, by number.
    pub run: Option<i64>,
    /// Due times missed and folded into this one.
    pub missed: u32,
    /// Why it skipped or refused.
    pub reason: &'a str,
}

/// Records a claimed due time.
pub async fn insert_event(conn: &mut AnyConnection, event: &NewEvent<'_>) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO schedule_events (id, plan_id, due_at, fired_at, outcome, run_id, missed, reason) \
         VALUES ($1, $2, $3, $4, $5, (SELECT id FROM runs WHERE number = $6), $7, $8)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(event.plan_id)
    .bind(event.due_at)
    .bind(event.fired_at)
    .bind(event.outcome.as_str())
    .bind(event.run)
    .bind(i64::from(event.missed))
    .bind(event.reason)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct EventRow {
    due_at: i64,
    fired_at: i64,
    outcome: String,
    run_number: Option<i64>,
    missed: i64,
    reason: String,
}

/// The newest `limit` claimed due times of plan `number`, newest first.
pub async fn events(
    pool: &AnyPool,
    number: i64,
    limit: i64,
) -> Result<Vec<ScheduleEvent>, AppError> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT e.due_at, e.fired_at, e.outcome, r.number AS run_number, e.missed, e.reason \
         FROM schedule_events e JOIN plans p ON p.id = e.plan_id \
         LEFT JOIN runs r ON r.id = e.run_id \
         WHERE p.number = $1 ORDER BY e.due_at DESC LIMIT $2",
    )
    .bind(number)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(ScheduleEvent {
                due_at: from_millis(r.due_at),
                fired_at: from_millis(r.fired_at),
                outcome: r.outcome.parse().map_err(|_| corrupt("outcome"))?,
                run: r.run_number,
                missed: u32::try_from(r.missed).map_err(|_| corrupt("missed"))?,
                reason: r.reason,
            })
        })
        .collect()
}

/// The schedule columns of a plan row: cron, zone, concurrency, paused, next due.
type StateRow = (Option<String>, Option<String>, String, i64, Option<i64>);

/// Plan `number`'s schedule as the scheduler sees it, if it has one.
pub async fn state(pool: &AnyPool, number: i64) -> Result<Option<ScheduleState>, AppError> {
    let row: Option<StateRow> = sqlx::query_as(
        "SELECT schedule_cron, schedule_zone, concurrency, schedule_paused, next_due_at FROM plans WHERE number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await?;
    let Some((Some(cron), Some(zone), concurrency, paused, next)) = row else {
        return Ok(None);
    };
    Ok(Some(ScheduleState {
        schedule: PlanSchedule {
            cron,
            zone,
            concurrency: concurrency.parse().map_err(|_| corrupt("concurrency"))?,
        },
        paused: paused != 0,
        next_due_at: next.map(from_millis),
    }))
}

/// Pauses plan `number`'s schedule (`next` none) or resumes it with next due time `next` (ms).
/// False when the plan has no schedule.
pub async fn set_paused(
    pool: &AnyPool,
    number: i64,
    paused: bool,
    next: Option<i64>,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE plans SET schedule_paused = $1, next_due_at = $2 WHERE number = $3 AND schedule_cron IS NOT NULL",
    )
    .bind(i64::from(paused))
    .bind(next)
    .bind(number)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
