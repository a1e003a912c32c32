//! Action item server functions: create from an incident, move through todo → doing → done, list.

use leptos::prelude::*;

use crate::model::AppError;
use crate::model::action_item::ActionItemList;

/// Creates an action item (responder+) from `number`: an incident (`INC-7`, whose timeline
/// records it) or a drill run (`RUN-12`, from its review).
#[server(endpoint = "create_action_item")]
pub async fn create_action_item(
    number: String,
    title: String,
    owner: String,
    due_on: String,
    priority: String,
    kind: String,
    #[server(default)] past_due: Option<String>,
) -> Result<String, AppError> {
    use crate::model::Role;
    use crate::model::action_item::{ItemSource, NewActionItem};
    use crate::server::{auth, service::action_items};
    let actor = auth::require_role(Role::Responder).await?;
    let new = NewActionItem::parse(&title, &owner, &due_on, &priority, &kind)?;
    new.check_due(chrono::Utc::now().date_naive(), past_due.is_some())?;
    let source: ItemSource = number.parse().map_err(|_| AppError::NotFound)?;
    let state = auth::app_state()?;
    Ok(action_items::create(&state.pool, &actor, source, &new)
        .await?
        .to_string())
}

/// Moves an action item to `todo`, `doing` or `done` (responder+).
#[server(endpoint = "set_action_item_state")]
pub async fn set_action_item_state(id: String, state: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::model::action_item::ActionState;
    use crate::server::{auth, service::action_items};
    auth::require_role(Role::Responder).await?;
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let to: ActionState = AppError::parse_field("state", &state)?;
    let app = auth::app_state()?;
    action_items::set_state(&app.pool, id, to).await
}

/// Action items, soonest due first (viewer+). `mine` limits them to the signed-in user;
/// `overdue` to items past their due date (today in UTC) and not done.
#[server(endpoint = "list_action_items")]
pub async fn list_action_items(
    owner: String,
    state: String,
    priority: String,
    overdue: bool,
    mine: bool,
) -> Result<ActionItemList, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo::action_items};
    let me = auth::require_role(Role::Viewer).await?;
    let app = auth::app_state()?;
    let as_of = chrono::Utc::now();
    let filter = action_items::ActionFilter {
        owner: if mine { me.username } else { owner },
        state,
        overdue_on: overdue.then(|| as_of.date_naive()),
        priority,
        ..Default::default()
    };
    Ok(ActionItemList {
        items: action_items::list(&app.pool, &filter).await?,
        as_of,
    })
}
