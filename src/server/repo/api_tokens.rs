//! The `api_tokens` table and the service accounts (`users` rows of kind `token`) they act as.

use sqlx::{AnyConnection, AnyPool, FromRow};
use uuid::Uuid;

use crate::model::api_token::{TokenScope, TokenView};
use crate::model::{AppError, Role, UserId};
use crate::server::db::from_millis;

/// The username of the service account a token named `name` acts as. People's usernames cannot
/// hold a `:`, so the two never collide.
pub fn account_username(name: &str) -> String {
    format!("token:{name}")
}

/// A live token found by its secret's hash, with what a request needs to act as it.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// Token id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The service account it acts as.
    pub account_id: UserId,
    /// What it may do.
    pub role: Role,
    /// What it may be used for.
    pub scope: TokenScope,
    /// When it expires (Unix ms), if ever.
    pub expires_at: Option<i64>,
    /// When it was last used (Unix ms).
    pub last_used_at: Option<i64>,
    /// Set when revoked.
    pub revoked: bool,
}

#[derive(FromRow)]
struct TokenRow {
    id: String,
    name: String,
    account_id: String,
    role: String,
    scope: String,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = AppError;

    fn try_from(row: TokenRow) -> Result<Self, AppError> {
        Ok(Self {
            account_id: row
                .account_id
                .parse()
                .map_err(|_| super::corrupt("api_tokens", "account_id"))?,
            role: row
                .role
                .parse()
                .map_err(|_| super::corrupt("api_tokens", "role"))?,
            scope: row
                .scope
                .parse()
                .map_err(|_| super::corrupt("api_tokens", "scope"))?,
            id: row.id,
            name: row.name,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked: row.revoked_at.is_some(),
        })
    }
}

/// What a new token row holds.
pub struct NewTokenRow<'a> {
    /// Name.
    pub name: &'a str,
    /// `nw_` + six characters.
    pub prefix: &'a str,
    /// SHA-256 of the secret, hex.
    pub secret_hash: &'a str,
    /// Role.
    pub role: Role,
    /// Scope.
    pub scope: TokenScope,
    /// The admin who created it (none from the command line).
    pub created_by: Option<UserId>,
    /// Now (Unix ms).
    pub now: i64,
    /// Expiry (Unix ms).
    pub expires_at: Option<i64>,
}

/// Inserts a token, creating its service account on first use of the name (a token made after
/// a revoked one of the same name acts as the same account, so its history stays together) and
/// giving the account the token's role. A live token of that name already there is a
/// `Validation` error on `name`.
pub async fn insert(conn: &mut AnyConnection, new: &NewTokenRow<'_>) -> Result<(), AppError> {
    let username = account_username(new.name);
    let existing: Option<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE username = $1 AND kind = 'token'")
            .bind(&username)
            .fetch_optional(&mut *conn)
            .await?;
    let account_id = match existing {
        Some(id) => {
            sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3")
                .bind(new.role.as_str())
                .bind(new.now)
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            id
        }
        None => {
            let id = Uuid::new_v4().to_string();
            // No password hash: an empty string is no PHC string, so it never verifies.
            sqlx::query(
                "INSERT INTO users (id, username, role, password_hash, session_epoch, created_at, \
                 updated_at, kind) VALUES ($1, $2, $3, '', 0, $4, $5, 'token')",
            )
            .bind(&id)
            .bind(&username)
            .bind(new.role.as_str())
            .bind(new.now)
            .bind(new.now)
            .execute(&mut *conn)
            .await?;
            id
        }
    };
    sqlx::query(
        "INSERT INTO api_tokens (id, name, account_id, prefix, secret_hash, role, scope, \
         created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(new.name)
    .bind(&account_id)
    .bind(new.prefix)
    .bind(new.secret_hash)
    .bind(new.role.as_str())
    .bind(new.scope.as_str())
    .bind(new.created_by.map(|id| id.to_string()))
    .bind(new.now)
    .bind(new.expires_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            AppError::field(
                "name",
                format!(
                    "A token named {:?} exists already: revoke it first, or choose another name.",
                    new.name
                ),
            )
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// The token whose secret hashes to `secret_hash`, live or not (the caller says why it is refused).
pub async fn find_by_hash(
    pool: &AnyPool,
    secret_hash: &str,
) -> Result<Option<TokenRecord>, AppError> {
    sqlx::query_as::<_, TokenRow>(
        "SELECT id, name, account_id, role, scope, expires_at, last_used_at, revoked_at \
         FROM api_tokens WHERE secret_hash = $1",
    )
    .bind(secret_hash)
    .fetch_optional(pool)
    .await?
    .map(TokenRecord::try_from)
    .transpose()
}

/// Records a use at `now`, unless one was recorded in the minute before (a busy token does not
/// write on every request).
pub async fn touch(pool: &AnyPool, id: &str, now: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
         AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(now)
    .bind(id)
    .bind(now - 60_000)
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct ViewRow {
    name: String,
    prefix: String,
    role: String,
    scope: String,
    created_by: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

/// Every token, live ones first, newest first.
pub async fn list(pool: &AnyPool) -> Result<Vec<TokenView>, AppError> {
    sqlx::query_as::<_, ViewRow>(
        "SELECT t.name, t.prefix, t.role, t.scope, u.username AS created_by, t.created_at, \
         t.last_used_at, t.expires_at, t.revoked_at \
         FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by \
         ORDER BY CASE WHEN t.revoked_at IS NULL THEN 0 ELSE 1 END, t.created_at DESC, t.name",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        Ok(TokenView {
            role: r
                .role
                .parse()
                .map_err(|_| super::corrupt("api_tokens", "role"))?,
            scope: r
                .scope
                .parse()
                .map_err(|_| super::corrupt("api_tokens", "scope"))?,
            name: r.name,
            prefix: r.prefix,
            created_by: r.created_by,
            created_at: from_millis(r.created_at),
            last_used_at: r.last_used_at.map(from_millis),
            expires_at: r.expires_at.map(from_millis),
            revoked_at: r.revoked_at.map(from_millis),
        })
    })
    .collect()
}

/// Revokes the live token named `name` — only if its prefix is `prefix`, when given (a page
/// loaded before a token was replaced must not revoke its successor); false when there is none.
pub async fn revoke(
    pool: &AnyPool,
    name: &str,
    prefix: Option<&str>,
    now: i64,
) -> Result<bool, AppError> {
    let sql = if prefix.is_some() {
        "UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL AND prefix = $3"
    } else {
        "UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL"
    };
    let mut query = sqlx::query(sql).bind(now).bind(name);
    if let Some(prefix) = prefix {
        query = query.bind(prefix);
    }
    Ok(query.execute(pool).await?.rows_affected() > 0)
}
