//! Plan server functions: list, read (secrets masked), create and edit (responder+; every edit a
//! new version), and the palette the composer offers.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::AppError;
use crate::model::catalog::ActionCode;
use crate::model::plan::{PlanDraft, PlanSummary, PlanView};
use crate::model::schedule::{ScheduleEvent, ScheduleState};
use crate::model::score::PlanRecord;

/// A plan's schedule, its history and its record, for the plan page.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanActivity {
    /// Its schedule as the scheduler sees it, if it has one.
    pub schedule: Option<ScheduleState>,
    /// The next five due times (none while paused or disabled).
    pub upcoming: Vec<chrono::DateTime<chrono::Utc>>,
    /// What the scheduler did with its last due times, newest first.
    pub events: Vec<ScheduleEvent>,
    /// Pass rate and mean score over its scored runs.
    pub record: PlanRecord,
}

/// Every plan (viewer+).
#[server(endpoint = "list_plans")]
pub async fn list_plans() -> Result<Vec<PlanSummary>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    repo::plans::list(&state.pool).await
}

/// Plan `number` at `version` (its newest when `None`), secrets masked (viewer+).
#[server(endpoint = "get_plan")]
pub async fn get_plan(number: i64, version: Option<i64>) -> Result<PlanView, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::plans};
    let me = auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    plans::read(&state.pool, &me, number, version).await
}

/// Creates a plan (responder+); returns its number.
#[server(endpoint = "create_plan", input = Json)]
pub async fn create_plan(plan: PlanDraft) -> Result<i64, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::plans};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    plans::create(&state.pool, &actor, plan).await
}

/// Saves a new version of plan `number` if nobody saved since `based_on` (responder+); returns
/// the new version.
#[server(endpoint = "update_plan", input = Json)]
pub async fn update_plan(number: i64, plan: PlanDraft, based_on: i64) -> Result<i64, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::plans};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    plans::update(&state.pool, &actor, number, plan, based_on).await
}

/// The actions this server can run (those whose settings are configured), for the palette.
#[server(endpoint = "available_actions")]
pub async fn available_actions() -> Result<Vec<ActionCode>, AppError> {
    use crate::model::Role;
    use crate::server::auth;
    auth::require_role(Role::Viewer).await?;
    let configured = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    Ok(ActionCode::ALL
        .iter()
        .copied()
        .filter(|c| c.spec().settings.iter().all(|s| configured(s)))
        .collect())
}

/// Plan `number`'s schedule, schedule history and record (viewer+).
#[server(endpoint = "plan_activity")]
pub async fn get_plan_activity(number: i64) -> Result<PlanActivity, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    let schedule = repo::schedules::state(&state.pool, number).await?;
    let upcoming = schedule
        .as_ref()
        .and_then(|s| {
            let next = s.next_due_at?;
            let (cron, zone) = s.schedule.parse().ok()?;
            let mut times = vec![next];
            times.extend(cron.upcoming(&zone, next, 4));
            Some(times)
        })
        .unwrap_or_default();
    Ok(PlanActivity {
        schedule,
        upcoming,
        events: repo::schedules::events(&state.pool, number, 20).await?,
        record: repo::runs::record(&state.pool, number).await?,
    })
}

/// Pauses or resumes plan `number`'s schedule (responder+). Resuming starts from the next due
/// time after now: due times passed while paused are not made up.
#[server(endpoint = "set_schedule_paused")]
pub async fn set_schedule_paused(number: i64, paused: bool) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::plans};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    plans::set_paused(&state.pool, &actor, number, paused).await?;
    super::ssr::redirect_plain_form(&format!("/plans/{number}#schedule"));
    Ok(())
}
