//! `/api/v1/action-items`: corrective and preventive actions, over the same services as the
//! action item pages.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::{Extension, Json};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::openapi::{Doc, Op};
use super::{ApiJson, ApiQuery, Problem, Route, caller, created, route};
use crate::model::action_item::{ActionItemView, ActionState, ItemSource, NewActionItem};
use crate::model::{AppError, Role};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::repo::action_items::{self as repo, ActionFilter};
use crate::server::service::action_items;
use serde_json::Value;

pub(super) fn routes() -> Vec<Route> {
    vec![
        route(Method::GET, "/action-items", list),
        route(Method::POST, "/action-items", create),
        route(Method::GET, "/action-items/{id}", read),
        route(Method::PATCH, "/action-items/{id}", update),
    ]
}

/// The operations of this module, for the OpenAPI description.
pub(super) fn describe(doc: &Doc) {
    let item = doc.schema::<ActionItemView>();
    doc.op(Op {
        query: Some(doc.inline::<ListQuery>()),
        ..Op::new(
            "get",
            "/action-items",
            "listActionItems",
            "Action items, soonest due first.",
            Role::Viewer,
            doc.schema::<ActionItemPage>(),
        )
    });
    doc.op(Op {
        body: Some(doc.schema::<NewItem>()),
        ok: (201, Some(item.clone())),
        ..Op::new(
            "post",
            "/action-items",
            "createActionItem",
            "Create an action item for an incident or a drill run.",
            Role::Responder,
            Value::Null,
        )
    });
    doc.op(Op::new(
        "get",
        "/action-items/{id}",
        "getActionItem",
        "One action item.",
        Role::Viewer,
        item.clone(),
    ));
    doc.op(Op {
        body: Some(doc.schema::<Update>()),
        ..Op::new(
            "patch",
            "/action-items/{id}",
            "updateActionItem",
            "Move an action item to todo, doing or done.",
            Role::Responder,
            item,
        )
    });
}

fn url(id: Uuid) -> String {
    format!("/api/v1/action-items/{id}")
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(default)]
struct ListQuery {
    owner: String,
    /// `todo`, `doing`, `done` or `open`.
    state: String,
    priority: String,
    overdue: bool,
    /// `INC-7`.
    incident: String,
    /// `RUN-12` or `12`.
    run: String,
}

/// Action items, soonest due first.
#[derive(Serialize, schemars::JsonSchema)]
struct ActionItemPage {
    items: Vec<ActionItemView>,
    /// The instant "overdue" was judged at.
    as_of: chrono::DateTime<Utc>,
}

/// `GET /api/v1/action-items` (viewer+): soonest due first.
async fn list(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ActionItemPage>, Problem> {
    caller(&actor, Role::Viewer)?;
    let as_of = Utc::now();
    let incident = match query.incident.trim() {
        "" => None,
        n => Some(AppError::parse_field("incident", n)?),
    };
    let run = match query.run.trim() {
        "" => None,
        n => Some(
            n.trim_start_matches("RUN-")
                .trim_start_matches("run-")
                .parse::<i64>()
                .map_err(|_| AppError::field("run", format!("{n:?} is not a run like RUN-12")))?,
        ),
    };
    let filter = ActionFilter {
        owner: query.owner,
        state: query.state,
        priority: query.priority,
        overdue_on: query.overdue.then(|| as_of.date_naive()),
        incident,
        run,
        ..Default::default()
    };
    Ok(Json(ActionItemPage {
        items: repo::list(&state.pool, &filter).await?,
        as_of,
    }))
}

async fn find(state: &AppState, id: Uuid) -> Result<ActionItemView, Problem> {
    let filter = ActionFilter {
        id: Some(id),
        ..Default::default()
    };
    Ok(repo::list(&state.pool, &filter)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?)
}

fn id(raw: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(raw.trim()).map_err(|_| Problem::from(AppError::NotFound))
}

/// `GET /api/v1/action-items/{id}` (viewer+).
async fn read(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Result<Json<ActionItemView>, Problem> {
    caller(&actor, Role::Viewer)?;
    Ok(Json(find(&state, id(&raw)?).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewItem {
    /// `INC-7` (its timeline records the item) or `RUN-12` (from a drill's review).
    source: String,
    title: String,
    owner: String,
    /// `YYYY-MM-DD`.
    #[schemars(with = "chrono::NaiveDate")]
    due_on: String,
    /// `p1` … `p3`.
    #[schemars(with = "crate::model::action_item::Priority")]
    priority: String,
    /// `corrective` or `preventive`.
    #[schemars(with = "crate::model::action_item::ActionKind")]
    kind: String,
    /// A due date in the past is refused unless this is true.
    #[serde(default)]
    past_due: bool,
}

/// `POST /api/v1/action-items` (responder+): 201 with the item.
async fn create(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiJson(body): ApiJson<NewItem>,
) -> Result<Response, Problem> {
    let actor = caller(&actor, Role::Responder)?;
    let new = NewActionItem::parse(
        &body.title,
        &body.owner,
        &body.due_on,
        &body.priority,
        &body.kind,
    )?;
    new.check_due(Utc::now().date_naive(), body.past_due)?;
    let source: ItemSource = AppError::parse_field("source", &body.source)?;
    let id = action_items::create(&state.pool, &actor, source, &new).await?;
    Ok(created(&url(id), find(&state, id).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Update {
    /// `todo`, `doing` or `done`.
    #[schemars(with = "ActionState")]
    state: String,
}

/// `PATCH /api/v1/action-items/{id}` (responder+): moves it to another state.
async fn update(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Update>,
) -> Result<Json<ActionItemView>, Problem> {
    caller(&actor, Role::Responder)?;
    let id = id(&raw)?;
    let to: ActionState = AppError::parse_field("state", &body.state)?;
    action_items::set_state(&state.pool, id, to).await?;
    Ok(Json(find(&state, id).await?))
}
