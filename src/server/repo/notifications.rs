//! The `notification_channels`, `notification_deliveries` (the outbox) and
//! `notification_attempts` tables.

use sqlx::{AnyConnection, AnyPool, FromRow};
use uuid::Uuid;

use crate::model::AppError;
use crate::model::notification::{
    ChannelHealth, ChannelInput, ChannelKind, ChannelView, DeliveryState, DeliveryView, Message,
    mask_url,
};
use crate::server::db::from_millis;

use super::corrupt;
use crate::server::jobs::outbox::PER_CHANNEL;

/// A stored channel (its secret apart: only the outbox reads it, see [`sending`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Row id.
    pub id: String,
    /// What it is and what it wants.
    pub input: ChannelInput,
    /// Whether a secret is stored.
    pub has_secret: bool,
    /// How its attempts went (the counts of pending and dead deliveries are filled by
    /// [`with_counts`]).
    pub health: ChannelHealth,
    /// When it was last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Channel {
    /// The channel as an admin reads it.
    pub fn view(&self) -> ChannelView {
        ChannelView {
            id: self.id.clone(),
            kind: self.input.kind,
            name: self.input.name.clone(),
            url: mask_url(&self.input.url),
            has_secret: self.has_secret,
            events: self.input.events.clone(),
            services: self.input.services.clone(),
            min_severity: self.input.min_severity,
            enabled: self.input.enabled,
            health: self.health.clone(),
        }
    }
}

#[derive(FromRow)]
struct ChannelRow {
    id: String,
    kind: String,
    name: String,
    url: String,
    has_secret: i64,
    events: String,
    services: String,
    min_severity: Option<String>,
    enabled: i64,
    updated_at: i64,
    failures: i64,
    last_attempt_at: Option<i64>,
    last_delivered_at: Option<i64>,
    last_error: Option<String>,
}

impl TryFrom<ChannelRow> for Channel {
    type Error = AppError;

    fn try_from(r: ChannelRow) -> Result<Self, AppError> {
        let bad = |what| corrupt("notification_channels", what);
        Ok(Self {
            id: r.id,
            input: ChannelInput {
                kind: r.kind.parse().map_err(|_| bad("kind"))?,
                name: r.name,
                url: r.url,
                secret: None,
                events: serde_json::from_str(&r.events).map_err(|_| bad("events"))?,
                services: serde_json::from_str(&r.services).map_err(|_| bad("services"))?,
                min_severity: r
                    .min_severity
                    .map(|s| s.parse())
                    .transpose()
                    .map_err(|_| bad("min_severity"))?,
                enabled: r.enabled != 0,
            },
            has_secret: r.has_secret != 0,
            health: ChannelHealth {
                failures: r.failures,
                pending: 0,
                dead: 0,
                last_attempt_at: r.last_attempt_at.map(from_millis),
                last_delivered_at: r.last_delivered_at.map(from_millis),
                last_error: r.last_error,
            },
            updated_at: from_millis(r.updated_at),
        })
    }
}

const CHANNEL_COLUMNS: &str = "id, kind, name, url, \
    CASE WHEN secret IS NULL OR secret = '' THEN 0 ELSE 1 END AS has_secret, events, services, \
    min_severity, enabled, updated_at, failures, last_attempt_at, last_delivered_at, last_error";

/// Every channel, by name.
pub async fn channels(conn: &mut AnyConnection) -> Result<Vec<Channel>, AppError> {
    sqlx::query_as::<_, ChannelRow>(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM notification_channels ORDER BY name"
    ))
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Channel::try_from)
    .collect()
}

/// Channel `id`.
pub async fn channel(pool: &AnyPool, id: &str) -> Result<Option<Channel>, AppError> {
    sqlx::query_as::<_, ChannelRow>(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(Channel::try_from)
    .transpose()
}

/// Fills in each channel's pending and dead deliveries (counted on the channel-and-state index,
/// whatever the size of the delivery log).
pub async fn with_counts(
    conn: &mut AnyConnection,
    mut channels: Vec<Channel>,
) -> Result<Vec<Channel>, AppError> {
    let counts: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT c.id, \
         (SELECT COUNT(*) FROM notification_deliveries d WHERE d.channel_id = c.id AND d.state = 'pending'), \
         (SELECT COUNT(*) FROM notification_deliveries d WHERE d.channel_id = c.id AND d.state = 'dead') \
         FROM notification_channels c",
    )
    .fetch_all(conn)
    .await?;
    for (id, pending, dead) in counts {
        if let Some(c) = channels.iter_mut().find(|c| c.id == id) {
            c.health.pending = pending;
            c.health.dead = dead;
        }
    }
    Ok(channels)
}

/// Deletes deliveries (with their attempts) that ended before `before` (ms): the log keeps what
/// is recent, and what is still pending is never deleted. Returns how many were deleted.
pub async fn prune(pool: &AnyPool, before: i64) -> Result<u64, AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "DELETE FROM notification_attempts WHERE delivery_id IN (SELECT id FROM \
         notification_deliveries WHERE state <> 'pending' AND finished_at < $1)",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?;
    let deleted = sqlx::query(
        "DELETE FROM notification_deliveries WHERE state <> 'pending' AND finished_at < $1",
    )
    .bind(before)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(deleted)
}

/// What the outbox needs to send to a channel, its secret included, in one read that never
/// leaves the worker.
#[derive(Debug, Clone)]
pub struct Sending {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: ChannelKind,
    /// Its URL.
    pub url: String,
    /// Its secret, if one is stored.
    pub secret: Option<String>,
    /// Whether it receives anything.
    pub enabled: bool,
}

/// Channel `id` as the outbox sends to it.
pub async fn sending(pool: &AnyPool, id: &str) -> Result<Option<Sending>, AppError> {
    let row: Option<(String, String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT name, kind, url, secret, enabled FROM notification_channels WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|(name, kind, url, secret, enabled)| {
        Ok(Sending {
            name,
            kind: kind
                .parse()
                .map_err(|_| corrupt("notification_channels", "kind"))?,
            url,
            secret: secret.filter(|s| !s.is_empty()),
            enabled: enabled != 0,
        })
    })
    .transpose()
}

/// Marks channel `id` updated at `now`, locking its row until the caller's transaction ends;
/// whether there is one.
pub async fn touch_channel(conn: &mut AnyConnection, id: &str, now: i64) -> Result<bool, AppError> {
    Ok(
        sqlx::query("UPDATE notification_channels SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Deletes channel `id` with its deliveries and their attempts; `false` when there was none.
pub async fn delete_channel(conn: &mut AnyConnection, id: &str) -> Result<bool, AppError> {
    sqlx::query(
        "DELETE FROM notification_attempts WHERE delivery_id IN \
         (SELECT id FROM notification_deliveries WHERE channel_id = $1)",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM notification_deliveries WHERE channel_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let deleted = sqlx::query("DELETE FROM notification_channels WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            if super::is_foreign_key_violation(&e) {
                AppError::Conflict(
                    "An alert rule was set to page through this channel just now: take it off that rule first."
                        .into(),
                )
            } else {
                e.into()
            }
        })?;
    Ok(deleted.rows_affected() == 1)
}

#[derive(FromRow)]
struct DeliveryRow {
    id: String,
    event: String,
    message: String,
    state: String,
    attempts: i64,
    created_at: i64,
    due_at: i64,
    finished_at: Option<i64>,
    last_status: Option<i64>,
    last_error: Option<String>,
}

/// Channel `channel`'s deliveries (in `state`, or all), newest first, at most `limit`.
pub async fn deliveries(
    pool: &AnyPool,
    channel: &str,
    state: Option<DeliveryState>,
    limit: i64,
) -> Result<Vec<DeliveryView>, AppError> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT id, event, message, state, attempts, created_at, due_at, finished_at, \
         last_status, last_error FROM notification_deliveries \
         WHERE channel_id = $1 AND ($2 = '' OR state = $2) ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(channel)
    .bind(state.map_or("", DeliveryState::as_str))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let bad = |what| corrupt("notification_deliveries", what);
    rows.into_iter()
        .map(|r| {
            let message: Message = serde_json::from_str(&r.message).map_err(|_| bad("message"))?;
            let state: DeliveryState = r.state.parse().map_err(|_| bad("state"))?;
            Ok(DeliveryView {
                id: r.id,
                event: r.event.parse().map_err(|_| bad("event"))?,
                title: message.title,
                state,
                attempts: r.attempts,
                created_at: from_millis(r.created_at),
                due_at: (state == DeliveryState::Pending).then(|| from_millis(r.due_at)),
                finished_at: r.finished_at.map(from_millis),
                last_status: r.last_status,
                last_error: r.last_error,
            })
        })
        .collect()
}

/// Whether `channel` has a delivery `id`.
pub async fn has_delivery(pool: &AnyPool, channel: &str, id: &str) -> Result<bool, AppError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM notification_deliveries WHERE id = $1 AND channel_id = $2",
    )
    .bind(id)
    .bind(channel)
    .fetch_one(pool)
    .await?
        > 0)
}

/// Makes dead delivery `id` of `channel` due again at `now` ("Retry now"); `false` when it is
/// not a dead delivery of that channel.
pub async fn retry_now(
    pool: &AnyPool,
    channel: &str,
    id: &str,
    now: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query(
        "UPDATE notification_deliveries SET state = 'pending', due_at = $1, finished_at = NULL, \
         locked_until = NULL, locked_by = NULL WHERE id = $2 AND channel_id = $3 AND state = 'dead'",
    )
    .bind(now)
    .bind(id)
    .bind(channel)
    .execute(pool)
    .await?
    .rows_affected()
        == 1)
}

/// Inserts or replaces channel `id` (a `None` secret keeps the stored one); `false` when the
/// name is another channel's.
pub async fn save_channel(
    conn: &mut AnyConnection,
    id: &str,
    input: &ChannelInput,
    by: &str,
    now: i64,
) -> Result<bool, AppError> {
    let events = serde_json::to_string(&input.events).map_err(|_| AppError::Internal)?;
    let services = serde_json::to_string(&input.services).map_err(|_| AppError::Internal)?;
    let secret = input
        .secret
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let saved = sqlx::query(
        "INSERT INTO notification_channels (id, kind, name, url, secret, events, services, \
         min_severity, enabled, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
         url = excluded.url, secret = COALESCE(excluded.secret, notification_channels.secret), \
         events = excluded.events, services = excluded.services, \
         min_severity = excluded.min_severity, enabled = excluded.enabled, \
         updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(input.kind.as_str())
    .bind(input.name.trim())
    .bind(input.url.trim())
    .bind(secret)
    .bind(events)
    .bind(services)
    .bind(input.min_severity.map(|s| s.as_str()))
    .bind(i64::from(input.enabled))
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await;
    match saved {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Writes one delivery of `message` to channel `channel`, due at once, in the caller's
/// transaction: the change that caused it commits with it or not at all. With a `key`, the
/// delivery's id is derived from it and the channel, and a second write of the same key is
/// ignored (a job that may run twice for one day writes each message once). Returns the id, or
/// `None` when the key was written before.
pub async fn enqueue(
    conn: &mut AnyConnection,
    channel: &str,
    message: &Message,
    key: Option<&str>,
    now: i64,
) -> Result<Option<String>, AppError> {
    use sha2::{Digest, Sha256};
    let id = match key {
        Some(key) => format!(
            "msg_{}",
            &hex::encode(Sha256::digest(format!("{key}\n{channel}")))[..32]
        ),
        None => format!("msg_{}", Uuid::now_v7().simple()),
    };
    let mut message = message.clone();
    message.id.clone_from(&id);
    let text = serde_json::to_string(&message).map_err(|_| AppError::Internal)?;
    let written = sqlx::query(
        "INSERT INTO notification_deliveries (id, channel_id, event, message, state, attempts, \
         due_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&id)
    .bind(channel)
    .bind(message.event.as_str())
    .bind(text)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok((written == 1).then_some(id))
}

/// A delivery a worker holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The message id.
    pub id: String,
    /// Its channel.
    pub channel_id: String,
    /// The message.
    pub message: Message,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When it was written.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Claims up to `limit` due deliveries of enabled channels for worker `me` until the lease's end
/// (`(now, lease_until)`, ms), at most [`PER_CHANNEL`] of any one channel and none of the
/// channels in `skip` (those the worker already has enough of in flight): each goes to one
/// worker, whichever instance; a worker that dies leaves its lease to run out, and the delivery
/// is claimed again. No transaction is held while it is sent. A disabled channel's deliveries
/// wait for it to be enabled.
pub async fn claim(
    pool: &AnyPool,
    me: &str,
    (now, lease_until): (i64, i64),
    limit: i64,
    skip: &[String],
) -> Result<Vec<Claimed>, AppError> {
    let skipped = if skip.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = (0..skip.len()).map(|i| format!("${}", i + 6)).collect();
        format!("AND d.channel_id NOT IN ({})", list.join(", "))
    };
    let sql = format!(
        "UPDATE notification_deliveries SET locked_until = $1, locked_by = $2 \
         WHERE id IN (SELECT id FROM (SELECT d.id, d.due_at, ROW_NUMBER() OVER \
         (PARTITION BY d.channel_id ORDER BY d.due_at, d.id) AS place \
         FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id \
         WHERE d.state = 'pending' AND d.due_at <= $3 \
         AND (d.locked_until IS NULL OR d.locked_until < $3) AND c.enabled = 1 {skipped}) due \
         WHERE place <= $5 ORDER BY due_at LIMIT $4) \
         AND state = 'pending' AND (locked_until IS NULL OR locked_until < $3) \
         RETURNING id, channel_id, message, attempts, created_at"
    );
    let mut query = sqlx::query_as::<_, (String, String, String, i64, i64)>(&sql)
        .bind(lease_until)
        .bind(me)
        .bind(now)
        .bind(limit)
        .bind(PER_CHANNEL);
    for channel in skip {
        query = query.bind(channel);
    }
    let rows = query.fetch_all(pool).await?;
    rows.into_iter()
        .map(|(id, channel_id, message, attempts, created)| {
            Ok(Claimed {
                id,
                channel_id,
                message: serde_json::from_str(&message)
                    .map_err(|_| corrupt("notification_deliveries", "message"))?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                created_at: from_millis(created),
            })
        })
        .collect()
}

/// Gives back delivery `id`, held by `me`, unsent and without an attempt counted.
pub async fn release(pool: &AnyPool, id: &str, me: &str) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE notification_deliveries SET locked_until = NULL, locked_by = NULL \
         WHERE id = $1 AND locked_by = $2 AND state = 'pending'",
    )
    .bind(id)
    .bind(me)
    .execute(pool)
    .await?;
    Ok(())
}

/// One attempt at sending a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// When it was made (ms).
    pub at: i64,
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// How long it took.
    pub duration_ms: i64,
    /// The start of the answer.
    pub response: String,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// It was delivered.
    Delivered,
    /// Try again at this instant (ms).
    RetryAt(i64),
    /// No more attempts.
    Dead,
}

/// Records `attempt` of delivery `id` (to `channel`) by worker `me` and what comes next, if
/// `me` still holds its lease (else another worker took it over, and this attempt is only
/// logged); the channel's health follows. Whether it was recorded.
pub async fn finish_attempt(
    pool: &AnyPool,
    (id, channel): (&str, &str),
    me: &str,
    attempt: &Attempt,
    next: Next,
) -> Result<bool, AppError> {
    let mut tx = pool.begin().await?;
    let (state, due, finished) = match next {
        Next::Delivered => ("delivered", None, Some(attempt.at)),
        Next::RetryAt(at) => ("pending", Some(at), None),
        Next::Dead => ("dead", None, Some(attempt.at)),
    };
    let status = attempt.status.map(i64::from);
    let updated = sqlx::query(
        "UPDATE notification_deliveries SET state = $1, attempts = attempts + 1, \
         due_at = COALESCE($2, due_at), finished_at = $3, last_error = $4, last_status = $5, \
         locked_until = NULL, locked_by = NULL WHERE id = $6 AND locked_by = $7 AND state = 'pending'",
    )
    .bind(state)
    .bind(due)
    .bind(finished)
    .bind(attempt.error.as_deref())
    .bind(status)
    .bind(id)
    .bind(me)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    // A channel deleted while its message was out has nothing left to record against.
    sqlx::query(
        "INSERT INTO notification_attempts (id, delivery_id, attempted_at, status_code, \
         duration_ms, response, error) SELECT $1, $2, $3, $4, $5, $6, $7 \
         WHERE EXISTS (SELECT 1 FROM notification_deliveries WHERE id = $8)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(id)
    .bind(attempt.at)
    .bind(status)
    .bind(attempt.duration_ms)
    .bind(&attempt.response)
    .bind(attempt.error.as_deref())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let ok = attempt.error.is_none();
    sqlx::query(
        "UPDATE notification_channels SET \
         failures = CASE WHEN $1 = 1 THEN 0 ELSE failures + 1 END, last_attempt_at = $2, \
         last_delivered_at = CASE WHEN $1 = 1 THEN $2 ELSE last_delivered_at END, \
         last_error = $3 WHERE id = $4",
    )
    .bind(i64::from(ok))
    .bind(attempt.at)
    .bind(attempt.error.as_deref())
    .bind(channel)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(updated)
}
