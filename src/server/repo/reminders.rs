//! The `reminders` and `job_runs` tables.

use chrono::NaiveDate;
use sqlx::{AnyPool, FromRow};

use crate::model::reminder::{ReminderReason, ReminderView};
use crate::model::{AppError, UserId};
use crate::server::repo::action_items::{ITEM_COLUMNS, ITEM_JOINS, ItemRow};

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// How long a claim that never finished holds before another instance may take the day over
/// (the instance that claimed it died while sending).
pub const CLAIM_LEASE_MS: i64 = 15 * 60 * 1000;

/// Claims `job`'s run for `on` at `now`: true for exactly one caller, however many instances
/// ask — unless the day was given back, or its claim is older than [`CLAIM_LEASE_MS`] and never
/// finished, when the next caller takes it.
pub async fn claim_day(
    pool: &AnyPool,
    job: &str,
    on: NaiveDate,
    now: i64,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "INSERT INTO job_runs (job, run_on, started_at) VALUES ($1, $2, $3) \
         ON CONFLICT (job, run_on) DO UPDATE SET started_at = excluded.started_at \
         WHERE job_runs.finished_at IS NULL AND job_runs.started_at < $4",
    )
    .bind(job)
    .bind(day(on))
    .bind(now)
    .bind(now - CLAIM_LEASE_MS)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Settles the claim made at `claimed_at` on `job`'s day `on`: `done` marks the day finished,
/// otherwise the claim is given back so a later attempt runs the day again.
pub async fn settle_day(
    pool: &AnyPool,
    job: &str,
    on: NaiveDate,
    claimed_at: i64,
    done: bool,
    now: i64,
) -> Result<(), AppError> {
    let query = if done {
        sqlx::query(
            "UPDATE job_runs SET finished_at = $1 WHERE job = $2 AND run_on = $3 AND started_at = $4",
        )
        .bind(now)
    } else {
        sqlx::query(
            "DELETE FROM job_runs WHERE job = $1 AND run_on = $2 AND started_at = $3 \
             AND finished_at IS NULL",
        )
    };
    query
        .bind(job)
        .bind(day(on))
        .bind(claimed_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// Records that the owner of item `item_id` is reminded of it on `on` (once per item and day).
pub async fn record(
    pool: &AnyPool,
    item_id: &str,
    owner: &str,
    reason: ReminderReason,
    due_on: NaiveDate,
    on: NaiveDate,
    now: i64,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "INSERT INTO reminders (action_item_id, remind_on, user_id, reason, due_on, created_at) \
         SELECT $1, $2, u.id, $3, $4, $5 FROM users u WHERE u.username = $6 \
         ON CONFLICT (action_item_id, remind_on) DO NOTHING",
    )
    .bind(item_id)
    .bind(day(on))
    .bind(reason.as_str())
    .bind(day(due_on))
    .bind(now)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(FromRow)]
struct Row {
    #[sqlx(flatten)]
    item: ItemRow,
    reason: String,
    remind_on: String,
}

/// `user`'s reminders not yet marked read, newest day first, most urgent first.
pub async fn unseen(pool: &AnyPool, user: UserId) -> Result<Vec<ReminderView>, AppError> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS}, r.reason, r.remind_on FROM reminders r \
         JOIN action_items a ON a.id = r.action_item_id {ITEM_JOINS} \
         WHERE r.user_id = $1 AND r.seen_at IS NULL \
         ORDER BY r.remind_on DESC, a.due_on, a.priority LIMIT 200"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(user.to_string())
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|r| {
            let bad = |what: &str| {
                tracing::error!("corrupt {what} in a reminders row");
                AppError::Internal
            };
            Ok(ReminderView {
                reason: r.reason.parse().map_err(|_| bad("reason"))?,
                remind_on: NaiveDate::parse_from_str(&r.remind_on, "%Y-%m-%d")
                    .map_err(|_| bad("remind_on"))?,
                item: r.item.into_view()?,
            })
        })
        .collect()
}

/// How many reminders `user` has not marked read.
pub async fn count_unseen(pool: &AnyPool, user: UserId) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM reminders WHERE user_id = $1 AND seen_at IS NULL")
            .bind(user.to_string())
            .fetch_one(pool)
            .await?,
    )
}

/// Marks all of `user`'s reminders read.
pub async fn mark_seen(pool: &AnyPool, user: UserId, now: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE reminders SET seen_at = $1 WHERE user_id = $2 AND seen_at IS NULL")
        .bind(now)
        .bind(user.to_string())
        .execute(pool)
        .await?;
    Ok(())
}
