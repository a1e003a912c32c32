//! Action items: created from an incident (with an event on its timeline, in one transaction),
//! moved through todo → doing → done, listed with derived overdue.

use chrono::Utc;
use sqlx::AnyPool;
use uuid::Uuid;

use crate::model::AppError;
use crate::model::action_item::{ActionState, NewActionItem};
use crate::model::incident::IncidentNumber;
use crate::model::timeline::EventData;
use crate::server::db::to_millis;
use crate::server::repo::action_items as repo;
use crate::server::repo::incidents as incident_repo;
use crate::server::repo::users::UserRecord;

/// Creates an item on incident `number`; the incident's timeline records it.
pub async fn create(
    pool: &AnyPool,
    actor: &UserRecord,
    number: IncidentNumber,
    new: &NewActionItem,
) -> Result<Uuid, AppError> {
    let owner = incident_repo::user_id_by_name(pool, &new.owner)
        .await?
        .ok_or_else(|| {
            AppError::field(
                "owner",
                format!("No enabled user is called {:?}.", new.owner),
            )
        })?;
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let state = incident_repo::lock_for_change(&mut tx, number, None, to_millis(now)).await?;
    let id = repo::insert(
        &mut tx,
        new,
        &owner,
        Some(&state.id.to_string()),
        actor.id,
        to_millis(now),
    )
    .await?;
    let event = EventData::ActionItemCreated {
        title: new.title.clone(),
        owner: new.owner.clone(),
        due_on: new.due_on.format("%Y-%m-%d").to_string(),
    };
    incident_repo::append_event(
        &mut tx,
        state.id,
        &event,
        to_millis(now),
        to_millis(now),
        Some(actor.id),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Moves an item to another state.
pub async fn set_state(pool: &AnyPool, id: Uuid, state: ActionState) -> Result<(), AppError> {
    repo::set_state(pool, id, state, to_millis(Utc::now())).await
}
