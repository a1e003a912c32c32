//! `/api/v1/board`: the metrics board's figures, as the board page computes them.

use axum::extract::State;
use axum::http::Method;
use axum::{Extension, Json};

use super::openapi::{Doc, Op};
use super::{ApiQuery, Problem, Route, caller, route};
use crate::model::Role;
use crate::model::board::{Board, BoardQuery};
use crate::server::AppState;
use crate::server::actor::Actor;

pub(super) fn routes() -> Vec<Route> {
    vec![route(Method::GET, "/board", board)]
}

/// The operation of this module, for the OpenAPI description.
pub(super) fn describe(doc: &Doc) {
    doc.op(Op {
        query: Some(doc.inline::<BoardQuery>()),
        ..Op::new(
            "get",
            "/board",
            "getBoard",
            "The metrics board's figures for a range, service and severity.",
            Role::Viewer,
            doc.schema::<Board>(),
        )
    });
}

/// `GET /api/v1/board?from&until&service&severity&period` (viewer+): a bad field is a 422
/// naming it.
async fn board(
    State(state): State<AppState>,
    Extension(actor): Extension<Actor>,
    ApiQuery(query): ApiQuery<BoardQuery>,
) -> Result<Json<Board>, Problem> {
    caller(&actor, Role::Viewer)?;
    let today = chrono::Utc::now().date_naive();
    let request = query.check(today)?;
    Ok(Json(state.boards.view(&state.pool, &request, today).await?))
}
