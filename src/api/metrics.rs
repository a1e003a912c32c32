//! The metrics board's server function.

use leptos::prelude::*;

use crate::model::AppError;
use crate::model::board::{Board, BoardQuery};

/// The board for a query as it stands in the URL (viewer+): a bad field is refused beside it.
#[server(endpoint = "board")]
pub async fn get_board(query: BoardQuery) -> Result<Board, AppError> {
    use crate::model::Role;
    use crate::server::auth;
    auth::require_role(Role::Viewer).await?;
    let today = chrono::Utc::now().date_naive();
    let request = query.check(today)?;
    let state = auth::app_state()?;
    state.boards.view(&state.pool, &request, today).await
}
