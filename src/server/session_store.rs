//! `SqlSessionStore`: tower-sessions records in the `sessions` table, so sessions survive a restart
//! and are shared by every instance on the same database.

use async_trait::async_trait;
use sqlx::AnyPool;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use serde::Deserialize;

use crate::server::auth::{SESSION_USER_KEY, SessionUser};

/// A session store over the application's pool (SQLite or PostgreSQL).
#[derive(Debug, Clone)]
pub struct SqlSessionStore {
    pool: AnyPool,
}

impl SqlSessionStore {
    /// A store using `pool`.
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry_millis(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// The signed-in user's id and epoch kept in their own columns, so a request's session and user
/// are one query ([`crate::server::repo::users::find_by_session`]); none for a session nobody
/// is signed in on.
fn user_columns(record: &Record) -> (Option<String>, Option<i64>) {
    record
        .data
        .get(SESSION_USER_KEY)
        .and_then(|value| SessionUser::deserialize(value).ok())
        .map_or((None, None), |user| {
            (Some(user.id.to_string()), Some(user.epoch))
        })
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id could collide with a live one: draw again until the insert lands.
        let (user_id, user_epoch) = user_columns(record);
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, data, expires_at, user_id, user_epoch) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(encode(record)?)
            .bind(expiry_millis(record))
            .bind(user_id.clone())
            .bind(user_epoch)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (user_id, user_epoch) = user_columns(record);
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at, user_id, user_epoch) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
             user_id = excluded.user_id, user_epoch = excluded.user_epoch",
        )
        .bind(record.id.to_string())
        .bind(encode(record)?)
        .bind(expiry_millis(record))
        .bind(user_id)
        .bind(user_epoch)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(id.to_string())
        .bind(crate::server::db::now_millis())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires_at) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for SqlSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(crate::server::db::now_millis())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
