//! SQL, one file per table group. Functions take an executor and return model types or records.

pub mod action_items;
pub mod alert_rules;
pub mod api_tokens;
pub mod catalog;
pub mod idempotency;
pub mod incidents;
pub mod inspections;
pub mod metrics;
pub mod notifications;
pub mod plans;
pub mod postmortems;
pub mod reminders;
pub mod risk_events;
pub mod rollups;
pub mod runs;
pub mod schedules;
pub mod secrets;
pub mod silences;
pub mod users;

/// The error for a stored value of `table` that does not parse (`what` names it): logged, and
/// answered as an internal error (nothing about it is the caller's to fix).
pub(crate) fn corrupt(table: &str, what: &str) -> crate::model::AppError {
    tracing::error!("corrupt {what} in a {table} row");
    crate::model::AppError::Internal
}

/// Whether `error` is a unique-constraint violation (on either database), by error kind — never
/// by matching message strings.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether `error` is a foreign-key violation (on either database): a row named by another was
/// deleted, or is being, at the same time.
pub fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// The next value of the named counter (`incident_number`, `plan_number`, `run_number`), taken
/// in the caller's transaction: numbers are never reused, and concurrent callers never share one.
pub(crate) async fn next_value(
    conn: &mut sqlx::AnyConnection,
    counter: &str,
) -> Result<i64, crate::model::AppError> {
    Ok(
        sqlx::query_scalar("UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value")
            .bind(counter)
            .fetch_one(conn)
            .await?,
    )
}
