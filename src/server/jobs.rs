//! Background jobs that run inside the server process, all started by [`spawn_all`].

pub mod executor;
pub mod outbox;
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
            let before = chrono::Utc::now() - outbox::LOG_KEPT;
            match crate::server::repo::notifications::prune(
                &pool,
                crate::server::db::to_millis(before),
            )
            .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "old notification deliveries deleted"),
                Err(e) => tracing::warn!(
                    error = e.summary(),
                    "pruning notification deliveries failed"
                ),
            }
        }
    });
    reminders::spawn(state.pool.clone(), state.config.reminder_time);
    spawn_alert_housekeeping(state);
    // Runs a crash left behind are marked interrupted once their heartbeat is stale.
    state.executor.spawn_housekeeping();
    scheduler::Scheduler::new(state.pool.clone(), state.executor.clone()).spawn();
    state.outbox.clone().spawn();
}

/// Every 15 seconds, works out again what silences and inhibition rules mute (a silence starts
/// and ends by the clock) and applies alert rules that came due; every hour, deletes received alerts past their retention.
fn spawn_alert_housekeeping(state: &AppState) {
    let state = state.clone();
    let pool = state.pool.clone();
    let retention = chrono::Duration::days(i64::from(state.config.alert_retention_days));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(15));
        let mut last_prune: Option<tokio::time::Instant> = None;
        // From the epoch at start-up: whatever started while no instance ran is looked at once.
        let mut since = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        loop {
            tick.tick().await;
            let now = chrono::Utc::now();
            match crate::server::service::alerts::refresh_mutes_by_clock(&pool, since, now).await {
                Ok(_) => since = now,
                Err(e) => tracing::warn!(error = e.summary(), "re-working silences failed"),
            }
            // Rules waiting for an event to fire long enough come due by the clock.
            if let Err(e) = crate::server::service::alert_rules::evaluate(&state, None, now).await {
                tracing::warn!(error = e.summary(), "applying alert rules failed");
            }
            if last_prune.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
                last_prune = Some(tokio::time::Instant::now());
                let before = crate::server::db::to_millis(now - retention);
                match crate::server::repo::risk_events::prune_received(&pool, before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "received alerts past retention deleted"),
                    Err(e) => tracing::warn!(error = e.summary(), "pruning received alerts failed"),
                }
            }
        }
    });
}
