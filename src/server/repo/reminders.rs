//! The `reminders` and `job_runs` tables.

use chrono::NaiveDate;
use sqlx::{AnyPool, FromRow};

use crate::model::reminder::{ReminderReason, ReminderView};
use crate::model::{AppError, UserId};
use crate::server::repo::action_items::{ITEM_COLUMNS, ITEM_JOINS, ItemRow};

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Claims `job`'s run for `on`: true for exactly one caller, however many instances ask.
pub async fn claim_day(
    pool: &AnyPool,
    job: &str,
    on: NaiveDate,
    now: i64,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "INSERT INTO job_runs (job, run_on, started_at) VALUES ($1, $2, $3) \
         ON CONFLICT (job, run_on) DO NOTHING",
    )
    .bind(job)
    .bind(day(on))
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
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
