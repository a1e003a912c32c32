//! Background jobs that run inside the server process, all started by [`spawn_all`].

pub mod executor;
pub mod reminders;
pub mod scheduler;
pub mod steps;

use std::time::Duration;

use tower_sessions::session_store::ExpiredDeletion;

use crate::server::AppState;
use crate::server::session_store::SqlSessionStore;

/// Starts every background job of a serving instance. Each keeps its own loop; where several
/// instances share a database the jobs claim their work in it (reminder days, schedule slots,
/// runs), so starting them on every instance is safe.
pub fn spawn_all(state: &AppState) {
    let store = SqlSessionStore::new(state.pool.clone());
    let pool = state.pool.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "deleting expired sessions failed");
            }
            if let Err(e) = crate::server::repo::idempotency::delete_expired(&pool).await {
                tracing::warn!(
                    error = e.summary(),
                    "deleting expired idempotency keys failed"
                );
            }
        }
    });
    reminders::spawn(state.pool.clone(), state.config.reminder_time);
    // Runs a crash left behind are marked interrupted once their heartbeat is stale.
    state.executor.spawn_housekeeping();
    scheduler::Scheduler::new(state.pool.clone(), state.executor.clone()).spawn();
}
