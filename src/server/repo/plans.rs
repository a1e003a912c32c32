//! The `plans` and `plan_versions` tables: a plan row (what lists need) and every version of its
//! content as JSON; a new version is written by compare-and-set on the current one.

use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

use crate::model::plan::{PlanDraft, PlanSummary};
use crate::model::schedule::Concurrency;
use crate::model::{AppError, UserId};
use crate::server::db::{from_millis, to_millis};

/// See [`super::corrupt`].
fn corrupt(what: &str) -> AppError {
    super::corrupt("plans", what)
}

fn json(plan: &PlanDraft) -> Result<String, AppError> {
    serde_json::to_string(plan).map_err(|_| AppError::Internal)
}

/// The first due time of `plan`'s schedule after `now` (ms), when it runs by itself.
fn next_due(plan: &PlanDraft, now: i64) -> Option<i64> {
    let schedule = plan.schedule.as_ref().filter(|_| plan.enabled)?;
    schedule.next_after(from_millis(now)).map(to_millis)
}

fn concurrency(plan: &PlanDraft) -> &'static str {
    plan.schedule
        .as_ref()
        .map_or(Concurrency::Forbid, |s| s.concurrency)
        .as_str()
}

/// A stored plan at one version (secrets in clear: never send this to a browser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPlan {
    /// Row id.
    pub id: String,
    /// Number.
    pub number: i64,
    /// The version read.
    pub version: i64,
    /// The newest version.
    pub current_version: i64,
    /// The content.
    pub plan: PlanDraft,
}

/// Creates plan number n+1 at version 1; returns its number.
pub async fn insert(
    conn: &mut AnyConnection,
    plan: &PlanDraft,
    author: UserId,
    now: i64,
) -> Result<i64, AppError> {
    let number = super::next_value(conn, "plan_number").await?;
    let id = Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO plans (id, number, name, scene, service, enabled, current_version, created_by, created_at, updated_at, \
         schedule_cron, schedule_zone, concurrency, next_due_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&id)
    .bind(number)
    .bind(&plan.name)
    .bind(plan.scene.as_str())
    .bind(&plan.service)
    .bind(i64::from(plan.enabled))
    .bind(author.to_string())
    .bind(now)
    .bind(now)
    .bind(plan.schedule.as_ref().map(|s| s.cron.clone()))
    .bind(plan.schedule.as_ref().map(|s| s.zone.clone()))
    .bind(concurrency(plan))
    .bind(next_due(plan, now))
    .execute(&mut *conn)
    .await?;
    insert_version(conn, &id, 1, plan, author, now).await?;
    Ok(number)
}

async fn insert_version(
    conn: &mut AnyConnection,
    plan_id: &str,
    version: i64,
    plan: &PlanDraft,
    author: UserId,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO plan_versions (plan_id, version, doc, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(plan_id)
    .bind(version)
    .bind(json(plan)?)
    .bind(author.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes `plan` as the next version if the current one is still `expected`; false otherwise.
pub async fn save_version(
    conn: &mut AnyConnection,
    number: i64,
    plan: &PlanDraft,
    expected: i64,
    author: UserId,
    now: i64,
) -> Result<bool, AppError> {
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE plans SET current_version = current_version + 1, name = $1, scene = $2, service = $3, \
         enabled = $4, updated_at = $5, concurrency = $8, \
         next_due_at = CASE WHEN schedule_paused <> 0 OR $9 IS NULL THEN NULL \
             WHEN schedule_cron = $10 AND schedule_zone = $11 AND next_due_at IS NOT NULL THEN next_due_at \
             ELSE $12 END, \
         schedule_cron = $13, schedule_zone = $14 \
         WHERE number = $6 AND current_version = $7 RETURNING id",
    )
    .bind(&plan.name)
    .bind(plan.scene.as_str())
    .bind(&plan.service)
    .bind(i64::from(plan.enabled))
    .bind(now)
    .bind(number)
    .bind(expected)
    .bind(concurrency(plan))
    .bind(next_due(plan, now))
    .bind(plan.schedule.as_ref().map(|s| s.cron.clone()))
    .bind(plan.schedule.as_ref().map(|s| s.zone.clone()))
    .bind(next_due(plan, now))
    .bind(plan.schedule.as_ref().map(|s| s.cron.clone()))
    .bind(plan.schedule.as_ref().map(|s| s.zone.clone()))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else {
        return Ok(false);
    };
    insert_version(conn, &id, expected + 1, plan, author, now).await?;
    Ok(true)
}

/// Plan `number` at `version` (its newest when `None`).
pub async fn find(
    pool: &AnyPool,
    number: i64,
    version: Option<i64>,
) -> Result<Option<StoredPlan>, AppError> {
    let row: Option<(String, i64, i64, String)> = sqlx::query_as(
        "SELECT p.id, p.current_version, v.version, v.doc FROM plans p \
         JOIN plan_versions v ON v.plan_id = p.id \
         WHERE p.number = $1 AND v.version = COALESCE($2, p.current_version)",
    )
    .bind(number)
    .bind(version)
    .fetch_optional(pool)
    .await?;
    row.map(|(id, current_version, version, doc)| {
        Ok(StoredPlan {
            id,
            number,
            version,
            current_version,
            plan: serde_json::from_str(&doc).map_err(|_| corrupt("doc"))?,
        })
    })
    .transpose()
}

/// Every plan, by scene and name.
pub async fn list(pool: &AnyPool) -> Result<Vec<PlanSummary>, AppError> {
    let rows: Vec<(i64, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT number, name, scene, service, enabled, current_version FROM plans ORDER BY scene, name, number",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(number, name, scene, service, enabled, version)| {
            Ok(PlanSummary {
                number,
                name,
                scene: scene.parse().map_err(|_| corrupt("scene"))?,
                service,
                enabled: enabled != 0,
                version,
            })
        })
        .collect()
}
