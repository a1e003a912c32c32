//! Notifications: channels (admin), and the outbox rows a change writes in its own transaction
//! for every channel that wants to hear about it.

use chrono::Utc;
use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

use crate::model::notification::{ChannelInput, Message};
use crate::model::{AppError, Role};
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::repo::notifications::{self as repo, Channel};

/// Writes `message` to the outbox of every enabled channel that wants it, in the caller's
/// transaction (the change that caused it commits with its notifications, or neither does).
/// Returns how many deliveries were written.
pub async fn notify(conn: &mut AnyConnection, message: &Message) -> Result<usize, AppError> {
    let now = to_millis(Utc::now());
    let mut written = 0;
    for channel in repo::channels(&mut *conn).await? {
        if channel
            .input
            .wants(message.event, message.service.as_deref(), message.severity)
        {
            repo::enqueue(&mut *conn, &channel.id, message, now).await?;
            written += 1;
        }
    }
    Ok(written)
}

/// Every channel (admin).
pub async fn channels(pool: &AnyPool, actor: &Actor) -> Result<Vec<Channel>, AppError> {
    if !actor.allows(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let mut conn = pool.acquire().await?;
    repo::channels(&mut conn).await
}

/// Creates a channel (`id` `None`) or replaces one (admin); returns its id.
pub async fn save_channel(
    pool: &AnyPool,
    actor: &Actor,
    id: Option<&str>,
    input: &ChannelInput,
) -> Result<String, AppError> {
    if !actor.allows(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let existing = match id {
        Some(id) => Some(repo::channel(pool, id).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    input.check(
        existing
            .as_ref()
            .is_some_and(|c| c.has_secret && c.input.kind == input.kind),
    )?;
    let id = id.map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    let mut tx = pool.begin().await?;
    if !repo::save_channel(
        &mut tx,
        &id,
        input,
        &actor.id.to_string(),
        to_millis(Utc::now()),
    )
    .await?
    {
        return Err(AppError::field("name", "Another channel has this name."));
    }
    tx.commit().await?;
    tracing::info!(channel = %input.name, kind = input.kind.as_str(), by = %actor.username, "notification channel saved");
    Ok(id)
}
