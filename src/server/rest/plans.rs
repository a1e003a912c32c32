//! `/api/v1/plans` and `/api/v1/runs`: read plans, start runs, follow, answer and abort them,
//! over the same services as the plan and run pages.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiJson, ApiQuery, Problem, caller, created};
use crate::model::plan::{PlanSummary, PlanView};
use crate::model::run::{Decision, RunSummary, RunView};
use crate::model::{AppError, Role};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::service::{plans, runs};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list_plans))
        .route("/plans/{number}", get(read_plan))
        .route("/plans/{number}/runs", post(start_run))
        .route("/runs", get(list_runs))
        .route("/runs/{number}", get(read_run))
        .route("/runs/{number}/abort", post(abort_run))
        .route("/runs/{number}/steps/{index}/decision", post(decide_step))
}

/// `PLAN-3`, `RUN-12` or the bare number.
fn number(raw: &str, prefix: &str) -> Result<i64, Problem> {
    let raw = raw.trim();
    let digits = raw
        .get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .map_or(raw, |_| &raw[prefix.len()..]);
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Problem::from(AppError::NotFound))
}

#[derive(Serialize)]
struct Items<T> {
    items: Vec<T>,
}

/// `GET /api/v1/plans` (viewer+).
async fn list_plans(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<Items<PlanSummary>>, Problem> {
    caller(&actor, Role::Viewer)?;
    Ok(Json(Items {
        items: crate::server::repo::plans::list(&state.pool).await?,
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PlanQuery {
    version: Option<i64>,
}

/// `GET /api/v1/plans/{number}` (viewer+; step parameters for responders and up).
async fn read_plan(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    ApiQuery(query): ApiQuery<PlanQuery>,
) -> Result<Json<PlanView>, Problem> {
    let actor = caller(&actor, Role::Viewer)?;
    let number = number(&raw, "PLAN-")?;
    Ok(Json(
        plans::read(&state.pool, &actor, number, query.version).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
struct StartRun {
    /// The plan's open parameters: `"steps.N.name": value`.
    #[serde(default)]
    answers: BTreeMap<String, String>,
    /// The incident it runs for (`INC-7`): its timeline records the run.
    #[serde(default)]
    incident: Option<String>,
}

/// `POST /api/v1/plans/{number}/runs` (responder+): 201 with the run.
async fn start_run(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<StartRun>,
) -> Result<Response, Problem> {
    let actor = caller(&actor, Role::Responder)?;
    let plan = number(&raw, "PLAN-")?;
    let run = runs::start(
        &state,
        &actor,
        plan,
        &body.answers,
        body.incident.as_deref().filter(|i| !i.trim().is_empty()),
    )
    .await?;
    let view = runs::read(&state.pool, &actor, run).await?;
    Ok(created(&format!("/api/v1/runs/{run}"), view))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RunQuery {
    plan: Option<String>,
}

/// `GET /api/v1/runs` (viewer+): the newest 200, of one plan with `plan`.
async fn list_runs(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiQuery(query): ApiQuery<RunQuery>,
) -> Result<Json<Items<RunSummary>>, Problem> {
    caller(&actor, Role::Viewer)?;
    let plan = match query
        .plan
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => Some(
            number(p, "PLAN-")
                .map_err(|_| AppError::field("plan", format!("{p:?} is not a plan like PLAN-3")))?,
        ),
    };
    Ok(Json(Items {
        items: crate::server::repo::runs::list(&state.pool, plan, 200).await?,
    }))
}

/// `GET /api/v1/runs/{number}` (viewer+; step output for responders and up).
async fn read_run(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Result<Json<RunView>, Problem> {
    let actor = caller(&actor, Role::Viewer)?;
    Ok(Json(
        runs::read(&state.pool, &actor, number(&raw, "RUN-")?).await?,
    ))
}

/// `POST /api/v1/runs/{number}/abort` (commander+): the step running is cut off.
async fn abort_run(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Result<Json<RunView>, Problem> {
    let actor = caller(&actor, Role::Commander)?;
    let number = number(&raw, "RUN-")?;
    runs::stop(&state, &actor, number).await?;
    Ok(Json(runs::read(&state.pool, &actor, number).await?))
}

#[derive(Debug, Deserialize)]
struct Answer {
    /// `confirm` or `skip` a gate (commander+); `pass`, `fail` (responder+) or `skip` a check.
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/runs/{number}/steps/{index}/decision`: a person's answer to a waiting step
/// (`index` counts from 0).
async fn decide_step(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((raw, index)): Path<(String, usize)>,
    ApiJson(body): ApiJson<Answer>,
) -> Result<Json<RunView>, Problem> {
    let actor = caller(&actor, Role::Responder)?;
    let number = number(&raw, "RUN-")?;
    let decision: Decision = body
        .decision
        .parse()
        .map_err(|m: String| AppError::field("decision", m))?;
    runs::answer(&state, &actor, number, index, decision, &body.note).await?;
    Ok(Json(runs::read(&state.pool, &actor, number).await?))
}
