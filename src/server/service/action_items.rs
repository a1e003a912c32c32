//! Action items: created from an incident (with an event on its timeline, in one transaction)
//! or from a drill run's review,
//! moved through todo → doing → done, listed with derived overdue.

use chrono::Utc;
use sqlx::AnyPool;
use uuid::Uuid;

use crate::model::AppError;
use crate::model::action_item::{ActionState, ItemSource, NewActionItem};
use crate::model::timeline::EventData;
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::repo::action_items::{self as repo, ItemLink};
use crate::server::repo::incidents as incident_repo;
use crate::server::repo::runs as run_repo;
use crate::server::repo::users;

/// Creates an item from `source`: on an incident, whose timeline records it; or on a drill
/// run (from its review).
pub async fn create(
    pool: &AnyPool,
    actor: &Actor,
    source: ItemSource,
    new: &NewActionItem,
) -> Result<Uuid, AppError> {
    let owner = users::responder_id(pool, &new.owner)
        .await?
        .ok_or_else(|| {
            AppError::field(
                "owner",
                format!(
                    "{:?} cannot own an action item: owners are enabled responders, commanders or admins.",
                    new.owner
                ),
            )
        })?;
    let now = to_millis(Utc::now());
    let id = match source {
        // A run's item is one insert: no transaction. (A transaction that read the run and then
        // wrote failed at once on SQLite, "database is locked", when another connection wrote in
        // between, instead of waiting its turn: seen in the browser suite while the executor and
        // the outbox were writing.)
        ItemSource::Run(number) => {
            let mut conn = pool.acquire().await?;
            let run = run_repo::id_by_number(&mut conn, number)
                .await?
                .ok_or(AppError::NotFound)?;
            repo::insert(&mut conn, new, &owner, &ItemLink::Run(&run), actor.id, now).await?
        }
        // The incident's row is written first (`lock_for_change`), so the transaction holds the
        // write lock from its first statement.
        ItemSource::Incident(number) => {
            let mut tx = pool.begin().await?;
            let state = incident_repo::lock_for_change(&mut tx, number, false, now).await?;
            let incident = state.id.to_string();
            let id = repo::insert(
                &mut tx,
                new,
                &owner,
                &ItemLink::Incident(&incident),
                actor.id,
                now,
            )
            .await?;
            let event = EventData::ActionItemCreated {
                title: new.title.clone(),
                owner: new.owner.clone(),
                due_on: new.due_on.format("%Y-%m-%d").to_string(),
            };
            incident_repo::append_event(&mut tx, state.id, &event, now, now, Some(actor.id), None)
                .await?;
            tx.commit().await?;
            id
        }
    };
    Ok(id)
}

/// Moves an item to another state.
pub async fn set_state(pool: &AnyPool, id: Uuid, state: ActionState) -> Result<(), AppError> {
    repo::set_state(pool, id, state, to_millis(Utc::now())).await
}
