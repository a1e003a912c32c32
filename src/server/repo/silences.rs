//! The `silences` and `inhibit_rules` tables.

use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::model::AppError;
use crate::model::matcher::{InhibitRule, Matcher, Silence, silence_state};
use crate::server::db::{from_millis, to_millis};

#[derive(FromRow)]
struct SilenceRow {
    id: String,
    matchers: String,
    starts_at: i64,
    ends_at: i64,
    ended_at: Option<i64>,
    comment: String,
    created_by: String,
    created_at: i64,
}

impl SilenceRow {
    fn into_silence(self, now: chrono::DateTime<chrono::Utc>) -> Result<Silence, AppError> {
        let matchers: Vec<Matcher> = serde_json::from_str(&self.matchers)
            .map_err(|_| super::corrupt("silences", "matchers"))?;
        let (starts_at, ends_at) = (from_millis(self.starts_at), from_millis(self.ends_at));
        let ended_at = self.ended_at.map(from_millis);
        Ok(Silence {
            id: self.id,
            matchers,
            state: silence_state(starts_at, ends_at, ended_at, now),
            starts_at,
            ends_at,
            ended_at,
            created_by: self.created_by,
            comment: self.comment,
            created_at: from_millis(self.created_at),
        })
    }
}

const SILENCE_COLUMNS: &str = "s.id, s.matchers, s.starts_at, s.ends_at, s.ended_at, s.comment, \
    u.username AS created_by, s.created_at";

/// A new silence's row.
pub struct NewSilenceRow<'a> {
    /// Id.
    pub id: &'a str,
    /// Matchers.
    pub matchers: &'a [Matcher],
    /// Start (Unix ms).
    pub starts_at: i64,
    /// End (Unix ms).
    pub ends_at: i64,
    /// Why.
    pub comment: &'a str,
    /// Who.
    pub created_by: &'a str,
    /// Now (Unix ms).
    pub now: i64,
}

/// Inserts a silence.
pub async fn insert(conn: &mut AnyConnection, new: &NewSilenceRow<'_>) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO silences (id, matchers, starts_at, ends_at, comment, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new.id)
    .bind(serde_json::to_string(new.matchers).map_err(|_| AppError::Internal)?)
    .bind(new.starts_at)
    .bind(new.ends_at)
    .bind(new.comment)
    .bind(new.created_by)
    .bind(new.now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Silences not expired before `since` (Unix ms), newest first: the active and pending ones and
/// those that ended recently.
pub async fn list(
    pool: &AnyPool,
    since: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Silence>, AppError> {
    let sql = format!(
        "SELECT {SILENCE_COLUMNS} FROM silences s JOIN users u ON u.id = s.created_by \
         WHERE s.ends_at >= $1 AND (s.ended_at IS NULL OR s.ended_at >= $1) \
         ORDER BY s.created_at DESC LIMIT 500"
    );
    sqlx::query_as::<_, SilenceRow>(&sql)
        .bind(since)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| r.into_silence(now))
        .collect()
}

/// Silences muting at `now`.
pub async fn active(
    conn: &mut AnyConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Silence>, AppError> {
    let ms = to_millis(now);
    let sql = format!(
        "SELECT {SILENCE_COLUMNS} FROM silences s JOIN users u ON u.id = s.created_by \
         WHERE s.starts_at <= $1 AND s.ends_at > $1 AND s.ended_at IS NULL ORDER BY s.created_at"
    );
    sqlx::query_as::<_, SilenceRow>(&sql)
        .bind(ms)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|r| r.into_silence(now))
        .collect()
}

/// Whether a silence started by the clock in `(since, now]` (made earlier, to start later).
pub async fn started_between(
    conn: &mut AnyConnection,
    since: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, AppError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM silences WHERE starts_at > $1 AND starts_at <= $2 AND ended_at IS NULL \
         LIMIT 1",
    )
    .bind(to_millis(since))
    .bind(to_millis(now))
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Silence `id`.
pub async fn find(
    pool: &AnyPool,
    id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Silence>, AppError> {
    let sql = format!(
        "SELECT {SILENCE_COLUMNS} FROM silences s JOIN users u ON u.id = s.created_by WHERE s.id = $1"
    );
    sqlx::query_as::<_, SilenceRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|r| r.into_silence(now))
        .transpose()
}

/// Ends silence `id` at `now` unless it has ended already; whether it did.
pub async fn end(conn: &mut AnyConnection, id: &str, by: &str, now: i64) -> Result<bool, AppError> {
    Ok(sqlx::query(
        "UPDATE silences SET ended_at = $1, ended_by = $2 \
         WHERE id = $3 AND ended_at IS NULL AND ends_at > $1",
    )
    .bind(now)
    .bind(by)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

#[derive(FromRow)]
struct RuleRow {
    id: String,
    name: String,
    source_matchers: String,
    target_matchers: String,
    equal_labels: String,
}

impl TryFrom<RuleRow> for InhibitRule {
    type Error = AppError;

    fn try_from(row: RuleRow) -> Result<Self, AppError> {
        let corrupt = |what| super::corrupt("inhibit_rules", what);
        Ok(Self {
            source_matchers: serde_json::from_str(&row.source_matchers)
                .map_err(|_| corrupt("source_matchers"))?,
            target_matchers: serde_json::from_str(&row.target_matchers)
                .map_err(|_| corrupt("target_matchers"))?,
            equal: serde_json::from_str(&row.equal_labels).map_err(|_| corrupt("equal_labels"))?,
            id: row.id,
            name: row.name,
        })
    }
}

/// Every inhibition rule, by name.
pub async fn rules(conn: &mut AnyConnection) -> Result<Vec<InhibitRule>, AppError> {
    sqlx::query_as::<_, RuleRow>(
        "SELECT id, name, source_matchers, target_matchers, equal_labels FROM inhibit_rules \
         ORDER BY name, id",
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(InhibitRule::try_from)
    .collect()
}

/// Inserts or replaces rule `rule.id`.
pub async fn save_rule(
    conn: &mut AnyConnection,
    rule: &InhibitRule,
    by: &str,
    now: i64,
) -> Result<(), AppError> {
    let updated = sqlx::query(
        "UPDATE inhibit_rules SET name = $1, source_matchers = $2, target_matchers = $3, \
         equal_labels = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(&rule.name)
    .bind(encode(&rule.source_matchers))
    .bind(encode(&rule.target_matchers))
    .bind(encode(&rule.equal))
    .bind(now)
    .bind(&rule.id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        sqlx::query(
            "INSERT INTO inhibit_rules (id, name, source_matchers, target_matchers, equal_labels, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&rule.id)
        .bind(&rule.name)
        .bind(encode(&rule.source_matchers))
        .bind(encode(&rule.target_matchers))
        .bind(encode(&rule.equal))
        .bind(by)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Deletes rule `id`; whether there was one.
pub async fn delete_rule(conn: &mut AnyConnection, id: &str) -> Result<bool, AppError> {
    Ok(sqlx::query("DELETE FROM inhibit_rules WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        > 0)
}

/// A value as its JSON column holds it.
fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}
