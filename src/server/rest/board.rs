//! `/api/v1/board`: the metrics board's figures, as the board page computes them.

use axum::extract::State;
use axum::{Extension, Json, Router, routing::get};

use super::{ApiQuery, Problem, caller};
use crate::model::Role;
use crate::model::board::{Board, BoardQuery};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::service::metrics;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/board", get(board))
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
    Ok(Json(metrics::board(&state.pool, &request, today).await?))
}
