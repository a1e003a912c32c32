//! Reminder server functions: the signed-in user's unread reminders, their count (the badge),
//! and marking them read.

use leptos::prelude::*;

use crate::model::AppError;
use crate::model::reminder::ReminderView;

/// The caller's unread reminders (viewer+: anyone may own an action item's reminder).
#[server(endpoint = "my_reminders")]
pub async fn my_reminders() -> Result<Vec<ReminderView>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo::reminders};
    let me = auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    reminders::unseen(&state.pool, me.id).await
}

/// How many unread reminders the caller has (0 when signed out, so the shell can always ask).
#[server(endpoint = "reminder_count")]
pub async fn reminder_count() -> Result<i64, AppError> {
    use crate::model::Role;
    use crate::server::auth;
    let me = match auth::require_role(Role::Viewer).await {
        Ok(me) => me,
        Err(AppError::Unauthorized) => return Ok(0),
        Err(e) => return Err(e),
    };
    auth::request_unseen_reminders(me.id).await
}

/// Marks the caller's reminders read.
#[server(endpoint = "mark_reminders_read")]
pub async fn mark_reminders_read() -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, db::to_millis, repo::reminders};
    let me = auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    reminders::mark_seen(&state.pool, me.id, to_millis(chrono::Utc::now())).await
}
