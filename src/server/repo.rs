//! SQL, one file per table group. Functions take an executor and return model types or records.

pub mod action_items;
pub mod catalog;
pub mod incidents;
pub mod plans;
pub mod postmortems;
pub mod reminders;
pub mod runs;
pub mod users;

/// Whether `error` is a unique-constraint violation (on either database), by error kind — never
/// by matching message strings.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
