//! Plan server functions: list, read (secrets masked), create and edit (responder+; every edit a
//! new version), and the palette the composer offers.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::AppError;
use crate::model::catalog::ActionCode;
use crate::model::plan::{PlanDraft, PlanSummary, PlanView};

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
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    plans::view(&state.pool, number, version).await
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
