//! The `idempotency_keys` table: the first answer to a POST sent with an `Idempotency-Key`, per
//! token, kept 24 hours.

use sqlx::{AnyPool, FromRow};

use crate::model::AppError;
use crate::server::db::now_millis;

/// How long a key is remembered.
pub const KEEP_MS: i64 = 24 * 3600 * 1000;

/// How long a claim may stay unsettled before it is taken for abandoned.
pub const UNSETTLED_MS: i64 = 60 * 1000;

/// A stored answer.
#[derive(Debug, Clone, FromRow)]
pub struct StoredAnswer {
    /// Method, path and body hash of the request that used the key first.
    pub fingerprint: String,
    /// Its status; `None` while it is still being answered.
    pub status: Option<i32>,
    /// Its `Location` header.
    pub location: Option<String>,
    /// Its body (JSON).
    pub body: Option<String>,
}

/// Claims `key` for `token` and a request with `fingerprint`: `None` when this request is the
/// first with the key (it must then [`store`] or [`release`] it), else what the first one left.
/// Keys older than a day, and claims left unsettled for a minute, are forgotten first.
pub async fn claim(
    pool: &AnyPool,
    token: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Option<StoredAnswer>, AppError> {
    let now = now_millis();
    // Forgotten: answers older than a day, and claims never settled within a minute (the
    // instance answering crashed or was stopped half-way: nothing was kept, the retry goes on).
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE token_id = $1 AND idem_key = $2 \
         AND (created_at < $3 OR (status IS NULL AND created_at < $4))",
    )
    .bind(token)
    .bind(key)
    .bind(now - KEEP_MS)
    .bind(now - UNSETTLED_MS)
    .execute(pool)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (token_id, idem_key, fingerprint, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (token_id, idem_key) DO NOTHING",
    )
    .bind(token)
    .bind(key)
    .bind(fingerprint)
    .bind(now)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(None);
    }
    Ok(sqlx::query_as::<_, StoredAnswer>(
        "SELECT fingerprint, status, location, body FROM idempotency_keys \
         WHERE token_id = $1 AND idem_key = $2",
    )
    .bind(token)
    .bind(key)
    .fetch_optional(pool)
    .await?)
}

/// Keeps the answer of the request that claimed `key`.
pub async fn store(
    pool: &AnyPool,
    token: &str,
    key: &str,
    status: u16,
    location: Option<&str>,
    body: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $1, location = $2, body = $3 \
         WHERE token_id = $4 AND idem_key = $5",
    )
    .bind(i32::from(status))
    .bind(location)
    .bind(body)
    .bind(token)
    .bind(key)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets `key` (its request failed on the server's side: a retry may try again).
pub async fn release(pool: &AnyPool, token: &str, key: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE token_id = $1 AND idem_key = $2")
        .bind(token)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

/// Forgets every key older than a day.
pub async fn delete_expired(pool: &AnyPool) -> Result<u64, AppError> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(now_millis() - KEEP_MS)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
