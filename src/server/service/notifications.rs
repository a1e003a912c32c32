//! Notifications: channels (admin), and the outbox rows a change writes in its own transaction
//! for every channel that wants to hear about it.

use chrono::Utc;
use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

use crate::model::notification::{
    ChannelInput, ChannelView, DeliveryState, DeliveryView, Message, TestOutcome, test_message,
};
use crate::model::{AppError, Role};
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::jobs::outbox::Outbox;
use crate::server::netpolicy::{NetPolicy, literal_ip};
use crate::server::repo::notifications::{self as repo, Channel};

/// Writes `message` to the outbox of every enabled channel that wants it, in the caller's
/// transaction (the change that caused it commits with its notifications, or neither does).
/// Returns how many deliveries were written.
pub async fn notify(conn: &mut AnyConnection, message: &Message) -> Result<usize, AppError> {
    notify_all(conn, std::slice::from_ref(message)).await
}

/// [`notify`] for several messages, reading the channels once (an alert delivery that opens
/// hundreds of events).
pub async fn notify_all(conn: &mut AnyConnection, messages: &[Message]) -> Result<usize, AppError> {
    if messages.is_empty() {
        return Ok(0);
    }
    let channels = repo::channels(&mut *conn).await?;
    let mut written = 0;
    for message in messages {
        written += write(conn, &channels, message, None, |c| wants(c, message)).await?;
    }
    Ok(written)
}

/// [`notify`] once per `key`: a message already written under it (to a channel) is not written
/// again, so a job that may run twice writes it once.
pub async fn notify_once(
    conn: &mut AnyConnection,
    message: &Message,
    key: &str,
) -> Result<usize, AppError> {
    let channels = repo::channels(&mut *conn).await?;
    write(conn, &channels, message, Some(key), |c| wants(c, message)).await
}

/// Writes `message` to the outbox of each of the channels `ids` that is enabled, whatever it
/// subscribes to (an alert rule pages the channels it names), in the caller's transaction.
/// Returns how many deliveries were written.
pub async fn page(
    conn: &mut AnyConnection,
    ids: &[String],
    message: &Message,
) -> Result<usize, AppError> {
    let channels: Vec<Channel> = repo::channels(&mut *conn)
        .await?
        .into_iter()
        .filter(|c| c.input.enabled && ids.contains(&c.id))
        .collect();
    write(conn, &channels, message, None, |_| true).await
}

/// Writes `message` for each of `channels` that `takes` it (under `key`, if given); how many
/// deliveries were written.
async fn write(
    conn: &mut AnyConnection,
    channels: &[Channel],
    message: &Message,
    key: Option<&str>,
    takes: impl Fn(&Channel) -> bool,
) -> Result<usize, AppError> {
    let now = to_millis(Utc::now());
    let mut written = 0;
    for channel in channels.iter().filter(|c| takes(c)) {
        if repo::enqueue(&mut *conn, &channel.id, message, key, now)
            .await?
            .is_some()
        {
            written += 1;
        }
    }
    Ok(written)
}

fn wants(channel: &Channel, message: &Message) -> bool {
    channel
        .input
        .wants(message.event, message.service.as_deref(), message.severity)
}

/// Every channel with how its deliveries go (admin).
pub async fn channels(pool: &AnyPool, actor: &Actor) -> Result<Vec<ChannelView>, AppError> {
    admin(actor)?;
    health(pool).await
}

/// Every channel's health, for `/metrics` (no names of people, no URLs).
pub async fn health(pool: &AnyPool) -> Result<Vec<ChannelView>, AppError> {
    let mut conn = pool.acquire().await?;
    let channels = repo::channels(&mut conn).await?;
    Ok(repo::with_counts(&mut conn, channels)
        .await?
        .iter()
        .map(Channel::view)
        .collect())
}

/// Channel `id` (admin).
pub async fn channel(pool: &AnyPool, actor: &Actor, id: &str) -> Result<ChannelView, AppError> {
    admin(actor)?;
    let channel = repo::channel(pool, id).await?.ok_or(AppError::NotFound)?;
    let mut conn = pool.acquire().await?;
    let mut counted = repo::with_counts(&mut conn, vec![channel]).await?;
    Ok(counted.remove(0).view())
}

/// Creates a channel (`id` `None`) or replaces one (admin); returns it. On an edit a blank URL
/// or secret keeps the stored one. A URL whose host is an address must be one the network
/// policy lets Nightwatch reach (names are checked when a message is sent).
pub async fn save_channel(
    pool: &AnyPool,
    policy: &NetPolicy,
    actor: &Actor,
    id: Option<&str>,
    input: &ChannelInput,
) -> Result<ChannelView, AppError> {
    admin(actor)?;
    let existing = match id {
        Some(id) => Some(repo::channel(pool, id).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    let mut input = input.clone();
    if let Some(stored) = &existing
        && input.url.trim().is_empty()
    {
        input.url.clone_from(&stored.input.url);
    }
    input.check(
        existing
            .as_ref()
            .is_some_and(|c| c.has_secret && c.input.kind == input.kind),
    )?;
    if let Some(ip) = url::Url::parse(input.url.trim())
        .ok()
        .and_then(|u| literal_ip(&u))
        && let Err(why) = policy.check(ip)
    {
        return Err(AppError::field(
            "url",
            format!("Nightwatch may not send there: {why}."),
        ));
    }
    let id = id.map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    let mut tx = pool.begin().await?;
    if !repo::save_channel(
        &mut tx,
        &id,
        &input,
        &actor.id.to_string(),
        to_millis(Utc::now()),
    )
    .await?
    {
        return Err(AppError::field("name", "Another channel has this name."));
    }
    tx.commit().await?;
    tracing::info!(channel = %input.name, kind = input.kind.as_str(), by = %actor.username, "notification channel saved");
    channel(pool, actor, &id).await
}

/// Deletes channel `id` with its delivery log (admin).
pub async fn delete_channel(pool: &AnyPool, actor: &Actor, id: &str) -> Result<(), AppError> {
    admin(actor)?;
    let mut tx = pool.begin().await?;
    // Locks the channel first (the transaction's first statement writes, for SQLite's sake).
    if !repo::touch_channel(&mut tx, id, to_millis(Utc::now())).await? {
        return Err(AppError::NotFound);
    }
    let rules = crate::server::repo::alert_rules::paging_through(&mut tx, id).await?;
    if !rules.is_empty() {
        return Err(AppError::Conflict(paged_through(&rules)));
    }
    if !repo::delete_channel(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    tracing::info!(channel = %id, by = %actor.username, "notification channel deleted");
    Ok(())
}

/// Why a channel that rules page through stays: the rules by name (three at most, the rest
/// counted, so the message stays short enough for a redirect's URL).
fn paged_through(rules: &[String]) -> String {
    let quoted = |r: &String| format!("“{}”", r.chars().take(60).collect::<String>());
    let named = match rules {
        [one] => format!("The alert rule {} pages", quoted(one)),
        [..] if rules.len() <= 3 => format!(
            "The alert rules {} page",
            rules.iter().map(quoted).collect::<Vec<_>>().join(", ")
        ),
        _ => format!(
            "The alert rules {} and {} more page",
            rules[..3].iter().map(quoted).collect::<Vec<_>>().join(", "),
            rules.len() - 3
        ),
    };
    let which = if rules.len() == 1 {
        "that rule"
    } else {
        "those rules"
    };
    format!("{named} through this channel: take it off {which} first.")
}

/// Sends a test message to channel `id` at once (not through the outbox) and says how it went
/// (admin).
pub async fn test_channel(
    pool: &AnyPool,
    outbox: &Outbox,
    actor: &Actor,
    id: &str,
) -> Result<TestOutcome, AppError> {
    admin(actor)?;
    let sending = repo::sending(pool, id).await?.ok_or(AppError::NotFound)?;
    let name = &sending.name;
    let mut message = test_message(name, &actor.username);
    message.id = format!("msg_test_{}", Uuid::now_v7().simple());
    let outcome = outbox.send_now(&sending, &message).await;
    tracing::info!(channel = %name, by = %actor.username, delivered = outcome.delivered, "test message sent");
    Ok(outcome)
}

/// Most deliveries a log shows.
pub const LOG_LIMIT: i64 = 200;

/// Channel `id`'s delivery log, newest first (in `state`, or all), at most [`LOG_LIMIT`] (admin).
pub async fn deliveries(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    state: Option<DeliveryState>,
) -> Result<Vec<DeliveryView>, AppError> {
    admin(actor)?;
    if repo::channel(pool, id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    repo::deliveries(pool, id, state, LOG_LIMIT).await
}

/// Sends dead delivery `delivery` of channel `id` again now ("Retry now", admin): it gets one
/// more attempt, or more if the day of retries since it was written has not run out.
pub async fn retry_delivery(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    delivery: &str,
) -> Result<(), AppError> {
    admin(actor)?;
    let channel = repo::channel(pool, id).await?.ok_or(AppError::NotFound)?;
    if !channel.input.enabled {
        return Err(AppError::Conflict(
            "The channel is disabled: enable it first, and its waiting deliveries go out too."
                .into(),
        ));
    }
    if repo::retry_now(pool, id, delivery, to_millis(Utc::now())).await? {
        tracing::info!(%delivery, by = %actor.username, "a dead notification is retried");
        return Ok(());
    }
    Err(if repo::has_delivery(pool, id, delivery).await? {
        AppError::Conflict(
            "Only a dead delivery can be retried: this one is pending or delivered.".into(),
        )
    } else {
        AppError::NotFound
    })
}

fn admin(actor: &Actor) -> Result<(), AppError> {
    if actor.allows(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::paged_through;

    #[test]
    fn a_refused_delete_names_three_rules_at_most() {
        let rules: Vec<String> = (1..=5).map(|i| format!("rule {i}")).collect();
        assert_eq!(
            paged_through(&rules[..1]),
            "The alert rule “rule 1” pages through this channel: take it off that rule first."
        );
        assert_eq!(
            paged_through(&rules[..2]),
            "The alert rules “rule 1”, “rule 2” page through this channel: take it off those rules first."
        );
        assert_eq!(
            paged_through(&rules),
            "The alert rules “rule 1”, “rule 2”, “rule 3” and 2 more page through this channel: take it off those rules first."
        );
    }
}
