//! The `postmortems` table: one document per incident, saved by version compare-and-set.

use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

use crate::model::incident::IncidentNumber;
use crate::model::postmortem::{Postmortem, PostmortemDoc, PostmortemState, UnsavedDraft};
use crate::model::{AppError, UserId};

/// See [`super::corrupt`].
fn corrupt(what: &str) -> AppError {
    super::corrupt("postmortems", what)
}

/// The postmortem of incident `number`, if one was started.
pub async fn find(pool: &AnyPool, number: IncidentNumber) -> Result<Option<Postmortem>, AppError> {
    let row: Option<(String, String, i64)> = sqlx::query_as(
        "SELECT p.state, p.doc, p.version FROM postmortems p JOIN incidents i ON i.id = p.incident_id \
         WHERE i.number = $1",
    )
    .bind(number.0)
    .fetch_optional(pool)
    .await?;
    row.map(|(state, doc, version)| {
        Ok(Postmortem {
            state: state.parse().map_err(|_| corrupt("state"))?,
            doc: serde_json::from_str(&doc).map_err(|_| corrupt("doc"))?,
            version,
        })
    })
    .transpose()
}

/// Whether incident `number` has a published postmortem.
pub async fn is_published<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    number: IncidentNumber,
) -> Result<bool, AppError> {
    // Only the state: the incident page asks on every reload, the document is not needed.
    let state: Option<String> = sqlx::query_scalar(
        "SELECT p.state FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1",
    )
    .bind(number.0)
    .fetch_optional(db)
    .await?;
    Ok(state.as_deref() == Some(PostmortemState::Published.as_str()))
}

/// Starts an empty draft for the incident with this id (nothing happens if one exists).
pub async fn insert_draft(
    pool: &AnyPool,
    incident_id: &str,
    author: UserId,
    now: i64,
) -> Result<(), AppError> {
    let doc = serde_json::to_string(&PostmortemDoc::default()).map_err(|_| AppError::Internal)?;
    sqlx::query(
        "INSERT INTO postmortems (id, incident_id, state, doc, version, created_by, updated_by, created_at, updated_at) \
         VALUES ($1, $2, 'draft', $3, 1, $4, $5, $6, $7) ON CONFLICT (incident_id) DO NOTHING",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(incident_id)
    .bind(doc)
    .bind(author.to_string())
    .bind(author.to_string())
    .bind(now)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Writes `doc` and/or `state` if the stored version is still `expected` and the postmortem is
/// not published; returns whether it did.
pub async fn save(
    conn: &mut AnyConnection,
    number: IncidentNumber,
    doc: &PostmortemDoc,
    state: PostmortemState,
    expected: i64,
    author: UserId,
    now: i64,
) -> Result<bool, AppError> {
    let json = serde_json::to_string(doc).map_err(|_| AppError::Internal)?;
    let published_at = (state == PostmortemState::Published).then_some(now);
    let done = sqlx::query(
        "UPDATE postmortems SET doc = $1, state = $2, version = version + 1, updated_by = $3, \
         updated_at = $4, published_at = $5 \
         WHERE incident_id = (SELECT id FROM incidents WHERE number = $6) AND version = $7 \
         AND state <> 'published'",
    )
    .bind(json)
    .bind(state.as_str())
    .bind(author.to_string())
    .bind(now)
    .bind(published_at)
    .bind(number.0)
    .bind(expected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps `doc`, which could not be saved, for `user` (replacing what was kept before).
pub async fn keep_draft(
    pool: &AnyPool,
    number: IncidentNumber,
    user: UserId,
    draft: &UnsavedDraft,
    now: i64,
) -> Result<(), AppError> {
    let json = serde_json::to_string(&draft.doc).map_err(|_| AppError::Internal)?;
    sqlx::query(
        "INSERT INTO postmortem_drafts (postmortem_id, user_id, doc, based_on, reason, created_at) \
         SELECT p.id, $1, $2, $3, $4, $5 FROM postmortems p JOIN incidents i ON i.id = p.incident_id \
         WHERE i.number = $6 \
         ON CONFLICT (postmortem_id, user_id) DO UPDATE SET doc = excluded.doc, \
         based_on = excluded.based_on, reason = excluded.reason, created_at = excluded.created_at",
    )
    .bind(user.to_string())
    .bind(json)
    .bind(draft.based_on)
    .bind(&draft.reason)
    .bind(now)
    .bind(number.0)
    .execute(pool)
    .await?;
    Ok(())
}

/// What `user` could not save on incident `number`'s postmortem, if anything.
pub async fn find_draft(
    pool: &AnyPool,
    number: IncidentNumber,
    user: UserId,
) -> Result<Option<UnsavedDraft>, AppError> {
    let row: Option<(String, i64, String)> = sqlx::query_as(
        "SELECT d.doc, d.based_on, d.reason FROM postmortem_drafts d \
         JOIN postmortems p ON p.id = d.postmortem_id JOIN incidents i ON i.id = p.incident_id \
         WHERE i.number = $1 AND d.user_id = $2",
    )
    .bind(number.0)
    .bind(user.to_string())
    .fetch_optional(pool)
    .await?;
    row.map(|(doc, based_on, reason)| {
        Ok(UnsavedDraft {
            doc: serde_json::from_str(&doc).map_err(|_| corrupt("kept draft"))?,
            based_on,
            reason,
        })
    })
    .transpose()
}

/// Forgets what `user` could not save (after a successful save, or when they discard it).
pub async fn drop_draft(
    conn: &mut AnyConnection,
    number: IncidentNumber,
    user: UserId,
) -> Result<(), AppError> {
    sqlx::query(
        "DELETE FROM postmortem_drafts WHERE user_id = $1 AND postmortem_id = \
         (SELECT p.id FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $2)",
    )
    .bind(user.to_string())
    .bind(number.0)
    .execute(conn)
    .await?;
    Ok(())
}
