//! Run server functions: start a run (responder+), read runs (viewer+), answer a waiting step
//! (a manual check's verdict responder+, confirm / skip commander+) and abort (commander+).

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use serde::{Deserialize, Serialize};

use crate::model::AppError;
use crate::model::action_item::ActionItemList;
use crate::model::review::RunReview;
use crate::model::run::{RunSummary, RunView};

/// What a finished run's review section shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewData {
    /// The review, once written.
    pub review: Option<RunReview>,
    /// Action items created from the run.
    pub items: ActionItemList,
    /// Who may own an action item.
    pub people: Vec<String>,
}

/// Starts plan `plan` now with `answers` for its open parameters (keyed `steps.N.name`), for
/// incident `incident` (`INC-7`) when given (responder+). Returns the run's number.
#[server(endpoint = "start_run", input = Json)]
pub async fn start_run(
    plan: i64,
    answers: BTreeMap<String, String>,
    incident: Option<String>,
) -> Result<i64, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::runs};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    runs::start(&state, &actor, plan, &answers, incident.as_deref()).await
}

/// The newest runs, of plan `plan` when given (viewer+).
#[server(endpoint = "list_runs")]
pub async fn list_runs(plan: Option<i64>) -> Result<Vec<RunSummary>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    repo::runs::list(&state.pool, plan, 200).await
}

/// Run `number` with its steps (viewer+; step output responder+).
#[server(endpoint = "get_run")]
pub async fn get_run(number: i64) -> Result<RunView, AppError> {
    use crate::model::Role;
    use crate::server::auth;
    let me = auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    crate::server::service::runs::read(&state.pool, &me, number).await
}

/// Answers the waiting step `index` of run `number`: `confirm`, `skip`, `pass` or `fail`, with
/// a comment (required to fail a check).
#[server(endpoint = "decide_step")]
pub async fn decide_step(
    number: i64,
    index: usize,
    decision: String,
    note: String,
) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::model::run::Decision;
    use crate::server::{auth, service::runs};
    let actor = auth::require_role(Role::Responder).await?;
    let decision: Decision = AppError::parse_field("decision", &decision)?;
    let state = auth::app_state()?;
    runs::answer(&state, &actor, number, index, decision, &note).await
}

/// Stops run `number` (commander+).
#[server(endpoint = "abort_run")]
pub async fn abort_run(number: i64) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::runs};
    let actor = auth::require_role(Role::Commander).await?;
    let state = auth::app_state()?;
    runs::stop(&state, &actor, number).await
}

/// Run `number`'s review and its action items (viewer+).
#[server(endpoint = "run_review")]
pub async fn get_run_review(number: i64) -> Result<ReviewData, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    if !repo::runs::exists(&state.pool, number).await? {
        return Err(AppError::NotFound);
    }
    let filter = repo::action_items::ActionFilter {
        run: Some(number),
        ..Default::default()
    };
    Ok(ReviewData {
        review: repo::runs::review(&state.pool, number).await?,
        items: ActionItemList {
            items: repo::action_items::list(&state.pool, &filter).await?,
            as_of: chrono::Utc::now(),
        },
        people: crate::server::repo::users::responders(&state.pool).await?,
    })
}

/// Writes run `number`'s review: findings (required) and what to change (responder+).
#[server(endpoint = "save_run_review")]
pub async fn save_run_review(
    number: i64,
    findings: String,
    changes: String,
) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::runs};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    runs::review(&state.pool, &actor, number, &findings, &changes).await?;
    super::ssr::redirect_plain_form(&format!("/runs/{number}#review"));
    Ok(())
}

/// Finished drill runs of the caller's plans that nobody reviewed yet (viewer+).
#[server(endpoint = "runs_to_review")]
pub async fn runs_to_review() -> Result<Vec<RunSummary>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo};
    let me = auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    repo::runs::unreviewed(&state.pool, me.id).await
}
