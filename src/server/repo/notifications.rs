//! The `notification_channels`, `notification_deliveries` (the outbox) and
//! `notification_attempts` tables.

use sqlx::{AnyConnection, AnyPool, FromRow};
use uuid::Uuid;

use crate::model::AppError;
use crate::model::notification::{ChannelInput, Message};
use crate::server::db::from_millis;

use super::corrupt;

/// A stored channel (its secret apart: see [`secret`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Row id.
    pub id: String,
    /// What it is and what it wants.
    pub input: ChannelInput,
    /// Whether a secret is stored.
    pub has_secret: bool,
    /// When it was last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
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
            updated_at: from_millis(r.updated_at),
        })
    }
}

const CHANNEL_COLUMNS: &str = "id, kind, name, url, \
    CASE WHEN secret IS NULL OR secret = '' THEN 0 ELSE 1 END AS has_secret, events, services, \
    min_severity, enabled, updated_at";

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

/// Channel `id`'s secret, for signing.
pub async fn secret(pool: &AnyPool, id: &str) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar::<_, Option<String>>(
        "SELECT secret FROM notification_channels WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .flatten()
    .filter(|s| !s.is_empty()))
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
/// transaction: the change that caused it commits with it or not at all.
pub async fn enqueue(
    conn: &mut AnyConnection,
    channel: &str,
    message: &Message,
    now: i64,
) -> Result<String, AppError> {
    let id = format!("msg_{}", Uuid::now_v7().simple());
    let mut message = message.clone();
    message.id.clone_from(&id);
    let text = serde_json::to_string(&message).map_err(|_| AppError::Internal)?;
    sqlx::query(
        "INSERT INTO notification_deliveries (id, channel_id, event, message, state, attempts, \
         due_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
    )
    .bind(&id)
    .bind(channel)
    .bind(message.event.as_str())
    .bind(text)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
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

/// Claims up to `limit` due deliveries for worker `me` until `lease_until` (ms): each goes to
/// one worker, whichever instance; a worker that dies leaves its lease to run out, and the
/// delivery is claimed again. No transaction is held while it is sent.
pub async fn claim(
    pool: &AnyPool,
    me: &str,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Claimed>, AppError> {
    let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "UPDATE notification_deliveries SET locked_until = $1, locked_by = $2 \
         WHERE id IN (SELECT id FROM notification_deliveries WHERE state = 'pending' \
         AND due_at <= $3 AND (locked_until IS NULL OR locked_until < $3) ORDER BY due_at LIMIT $4) \
         AND state = 'pending' AND (locked_until IS NULL OR locked_until < $3) \
         RETURNING id, channel_id, message, attempts, created_at",
    )
    .bind(lease_until)
    .bind(me)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
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

/// Records `attempt` of delivery `id` by worker `me` and what comes next, if `me` still holds
/// its lease (else another worker took it over, and this attempt is only logged). Whether it
/// was recorded.
pub async fn finish_attempt(
    pool: &AnyPool,
    id: &str,
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
    let updated = sqlx::query(
        "UPDATE notification_deliveries SET state = $1, attempts = attempts + 1, \
         due_at = COALESCE($2, due_at), finished_at = $3, last_error = $4, locked_until = NULL, \
         locked_by = NULL WHERE id = $5 AND locked_by = $6 AND state = 'pending'",
    )
    .bind(state)
    .bind(due)
    .bind(finished)
    .bind(attempt.error.as_deref())
    .bind(id)
    .bind(me)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    sqlx::query(
        "INSERT INTO notification_attempts (id, delivery_id, attempted_at, status_code, \
         duration_ms, response, error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(id)
    .bind(attempt.at)
    .bind(attempt.status.map(i64::from))
    .bind(attempt.duration_ms)
    .bind(&attempt.response)
    .bind(attempt.error.as_deref())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(updated)
}
