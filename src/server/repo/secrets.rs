//! The `secrets` table: keys the server draws for itself once and every instance shares.

use sqlx::AnyPool;

use crate::model::AppError;
use crate::server::db::now_millis;

/// The secret called `name`, drawn with `draw` the first time anyone asks; every instance gets
/// the same one (the first insert wins, the others read it).
pub async fn get_or_create(
    pool: &AnyPool,
    name: &str,
    draw: impl FnOnce() -> String,
) -> Result<String, AppError> {
    sqlx::query(
        "INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(draw())
    .bind(now_millis())
    .execute(pool)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1")
            .bind(name)
            .fetch_one(pool)
            .await?,
    )
}
