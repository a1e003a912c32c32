//! The `catalog_actions` table: the code's action catalog, copied at start-up.

use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::catalog::{ActionCode, ActionSpec};

fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|_| AppError::Internal)
}

/// Writes every action of the code's catalog (insert or refresh) and retires the stored ones the
/// code no longer has. Idempotent, and safe when several instances start at once.
pub async fn sync(pool: &AnyPool, now: i64) -> Result<(), AppError> {
    let specs: Vec<&ActionSpec> = ActionCode::ALL.iter().map(|c| c.spec()).collect();
    for spec in &specs {
        sqlx::query(
            "INSERT INTO catalog_actions (code, name, description, category, scenes, display_order, params, settings, synced_at, retired_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, description = excluded.description, \
             category = excluded.category, scenes = excluded.scenes, display_order = excluded.display_order, \
             params = excluded.params, settings = excluded.settings, synced_at = excluded.synced_at, retired_at = NULL",
        )
        .bind(spec.code.as_str())
        .bind(spec.code.label())
        .bind(spec.description)
        .bind(spec.category.as_str())
        .bind(json(spec.scenes)?)
        .bind(i64::from(spec.order))
        .bind(json(spec.params)?)
        .bind(json(spec.settings)?)
        .bind(now)
        .execute(pool)
        .await?;
    }
    let known: Vec<String> = specs
        .iter()
        .map(|s| format!("'{}'", s.code.as_str()))
        .collect();
    // The codes are the catalog's own constants (letters and underscores), not user input.
    sqlx::query(&format!(
        "UPDATE catalog_actions SET retired_at = $1 WHERE retired_at IS NULL AND code NOT IN ({})",
        known.join(", ")
    ))
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// A stored catalog entry: enough to show an action by name, even one retired from the code.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredAction {
    /// The code.
    pub code: String,
    /// The name it had.
    pub name: String,
    /// When it left the code, if it did.
    pub retired_at: Option<i64>,
}

/// Every stored action, retired ones included.
pub async fn list(pool: &AnyPool) -> Result<Vec<StoredAction>, AppError> {
    Ok(
        sqlx::query_as("SELECT code, name, retired_at FROM catalog_actions ORDER BY code")
            .fetch_all(pool)
            .await?,
    )
}
