//! Inspections (自动巡检): a finished inspection run tells alert intake how it went — a failure
//! fires the plan's risk event, a pass resolves it — so silences, inhibition rules and alert
//! rules (which the alert housekeeping applies within seconds) treat it as any monitor's alert.

use chrono::Utc;
use sqlx::AnyPool;

use crate::model::inspection::{self, Inspection};
use crate::model::{AppError, Role};
use crate::server::actor::Actor;
use crate::server::repo::inspections as repo;
use crate::server::repo::runs as run_repo;
use crate::server::service::alerts;

/// Sends finished run `number` of an inspection plan targeting `service` to alert intake.
/// Aborted and interrupted runs decide nothing and send nothing.
pub async fn record(pool: &AnyPool, number: i64, service: &str) -> Result<(), AppError> {
    let run = run_repo::find(pool, number)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(alert) = inspection::alert_of(&run, service) {
        alerts::ingest(pool, &Actor::alert_rules(), vec![alert]).await?;
    }
    Ok(())
}

/// Every inspection with its latest runs, pass rate and open risk event (viewer+).
pub async fn list(pool: &AnyPool, actor: &Actor) -> Result<Vec<Inspection>, AppError> {
    if !actor.allows(Role::Viewer) {
        return Err(AppError::Forbidden);
    }
    let since = Utc::now() - chrono::Duration::days(inspection::PASS_RATE_DAYS);
    repo::list(pool, crate::server::db::to_millis(since)).await
}
