//! Postmortem server functions: read, start, save (by version) and move through review.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::AppError;
use crate::model::postmortem::{Postmortem, PostmortemDoc};

pub use crate::model::postmortem::PostmortemPage;

#[cfg(feature = "ssr")]
use super::ssr::parse_number;

/// The incident's postmortem page data (viewer+).
#[server(endpoint = "get_postmortem")]
pub async fn get_postmortem(number: String) -> Result<PostmortemPage, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::postmortems};
    let me = auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    postmortems::page(&state.pool, &me, parse_number(&number)?).await
}

/// Starts the incident's postmortem as an empty draft, or returns the existing one (responder+).
#[server(endpoint = "open_postmortem")]
pub async fn open_postmortem(number: String) -> Result<Postmortem, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::postmortems};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    postmortems::open(&state.pool, &actor, parse_number(&number)?).await
}

/// Saves the document if nobody saved since `version` (responder+); a stale save is a
/// Conflict and changes nothing.
#[server(endpoint = "save_postmortem", input = Json)]
pub async fn save_postmortem(
    number: String,
    doc: PostmortemDoc,
    version: i64,
) -> Result<Postmortem, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::postmortems};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    postmortems::save(&state.pool, &actor, parse_number(&number)?, &doc, version).await
}

/// Forgets the caller's unsaved text after a conflict: they keep the stored version (responder+).
#[server(endpoint = "discard_postmortem_draft")]
pub async fn discard_postmortem_draft(number: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::postmortems};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    postmortems::discard_draft(&state.pool, &actor, parse_number(&number)?).await
}

/// Moves the postmortem through review: `in_review`, `published`, or back to `draft`
/// (commander+). Publishing lets the incident be marked reviewed.
#[server(endpoint = "change_postmortem_state")]
pub async fn change_postmortem_state(
    number: String,
    to: String,
    version: i64,
) -> Result<Postmortem, AppError> {
    use crate::model::Role;
    use crate::model::postmortem::PostmortemState;
    use crate::server::{auth, service::postmortems};
    let actor = auth::require_role(Role::Commander).await?;
    let to: PostmortemState = AppError::parse_field("to", &to)?;
    let state = auth::app_state()?;
    postmortems::change_state(&state.pool, &actor, parse_number(&number)?, to, version).await
}
