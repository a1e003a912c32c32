//! `/api/v1/plans` and `/api/v1/runs`: read plans, start runs, follow, answer and abort them,
//! over the same services as the plan and run pages.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

use super::openapi::{Doc, Op};
use super::{ApiJson, ApiQuery, Problem, Route, caller, created, route};
use crate::model::plan::{PlanSummary, PlanView};
use crate::model::run::{Decision, RunSummary, RunView};
use crate::model::{AppError, Role};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::service::{plans, runs};
use serde_json::Value;

pub(super) fn routes() -> Vec<Route> {
    vec![
        route(Method::GET, "/plans", list_plans),
        route(Method::GET, "/plans/{number}", read_plan),
        route(Method::POST, "/plans/{number}/runs", start_run),
        route(Method::GET, "/runs", list_runs),
        route(Method::GET, "/runs/{number}", read_run),
        route(Method::POST, "/runs/{number}/abort", abort_run),
        route(
            Method::POST,
            "/runs/{number}/steps/{index}/decision",
            decide_step,
        ),
    ]
}

/// The operations of this module, for the OpenAPI description.
pub(super) fn describe(doc: &Doc) {
    let run = doc.schema::<RunView>();
    doc.op(Op::new(
        "get",
        "/plans",
        "listPlans",
        "Every plan.",
        Role::Viewer,
        doc.schema::<PlanList>(),
    ));
    doc.op(Op {
        query: Some(doc.inline::<PlanQuery>()),
        ..Op::new(
            "get",
            "/plans/{number}",
            "getPlan",
            "One plan at its newest (or a given) version; step parameters for responders and up.",
            Role::Viewer,
            doc.schema::<PlanView>(),
        )
    });
    doc.op(Op {
        body: Some(doc.schema::<StartRun>()),
        ok: (201, Some(run.clone())),
        ..Op::new(
            "post",
            "/plans/{number}/runs",
            "startRun",
            "Run a plan now, answering its open parameters, optionally for an incident.",
            Role::Responder,
            Value::Null,
        )
    });
    doc.op(Op {
        query: Some(doc.inline::<RunQuery>()),
        ..Op::new(
            "get",
            "/runs",
            "listRuns",
            "The newest 200 runs, of one plan with `plan`.",
            Role::Viewer,
            doc.schema::<RunList>(),
        )
    });
    doc.op(Op::new(
        "get",
        "/runs/{number}",
        "getRun",
        "One run with its steps; step output for responders and up.",
        Role::Viewer,
        run.clone(),
    ));
    doc.op(Op::new(
        "post",
        "/runs/{number}/abort",
        "abortRun",
        "Stop a run: the step running is cut off.",
        Role::Commander,
        run.clone(),
    ));
    doc.op(Op {
        body: Some(doc.schema::<Answer>()),
        ..Op::new("post", "/runs/{number}/steps/{index}/decision", "decideStep", "Answer a step waiting for a person: confirm or skip a gate (commander), pass, fail or skip a check.", Role::Responder, run)
    });
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

/// Plans, as the API lists them.
#[derive(Serialize, schemars::JsonSchema)]
struct PlanList {
    items: Vec<PlanSummary>,
}

/// Runs, as the API lists them.
#[derive(Serialize, schemars::JsonSchema)]
struct RunList {
    items: Vec<RunSummary>,
}

/// `GET /api/v1/plans` (viewer+).
async fn list_plans(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<PlanList>, Problem> {
    caller(&actor, Role::Viewer)?;
    Ok(Json(PlanList {
        items: crate::server::repo::plans::list(&state.pool).await?,
    }))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
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

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default)]
struct RunQuery {
    plan: Option<String>,
}

/// `GET /api/v1/runs` (viewer+): the newest 200, of one plan with `plan`.
async fn list_runs(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiQuery(query): ApiQuery<RunQuery>,
) -> Result<Json<RunList>, Problem> {
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
    Ok(Json(RunList {
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

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Answer {
    /// `confirm` or `skip` a gate (commander+); `pass`, `fail` (responder+) or `skip` a check.
    #[schemars(with = "Decision")]
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/runs/{number}/steps/{index}/decision`: a person's answer to a waiting step
/// (`index` counts from 0).
async fn decide_step(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path((raw, index)): Path<(String, String)>,
    ApiJson(body): ApiJson<Answer>,
) -> Result<Json<RunView>, Problem> {
    let actor = caller(&actor, Role::Responder)?;
    let number = number(&raw, "RUN-")?;
    let index: usize = index
        .trim()
        .parse()
        .map_err(|_| Problem::from(AppError::NotFound))?;
    let decision: Decision = AppError::parse_field("decision", &body.decision)?;
    runs::answer(&state, &actor, number, index, decision, &body.note).await?;
    Ok(Json(runs::read(&state.pool, &actor, number).await?))
}
