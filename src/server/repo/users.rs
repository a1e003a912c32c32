//! The `users` table.

use sqlx::{Any, AnyConnection, AnyPool, Executor, FromRow};
use uuid::Uuid;

use crate::model::{AppError, Role, UserId, UserView};
use crate::server::db::{from_millis, now_millis};

/// A user row as the server needs it, with the password hash and session epoch.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// Id.
    pub id: UserId,
    /// Normalised login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Sessions carry the epoch they signed in under; a password reset bumps it.
    pub session_epoch: i64,
    /// Set when an admin disabled the account.
    pub disabled: bool,
    /// Creation instant (Unix ms).
    pub created_at: i64,
}

impl UserRecord {
    /// The public view of this user.
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            username: self.username.clone(),
            role: self.role,
            disabled: self.disabled,
            created_at: from_millis(self.created_at),
        }
    }
}

#[derive(FromRow)]
struct UserRow {
    id: String,
    username: String,
    role: String,
    password_hash: String,
    session_epoch: i64,
    disabled_at: Option<i64>,
    created_at: i64,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = AppError;

    fn try_from(row: UserRow) -> Result<Self, AppError> {
        let corrupt = |what: &str| {
            tracing::error!(user = %row.id, "corrupt {what} in users row");
            AppError::Internal
        };
        Ok(Self {
            id: row.id.parse().map_err(|_| corrupt("id"))?,
            role: row.role.parse().map_err(|_| corrupt("role"))?,
            username: row.username,
            password_hash: row.password_hash,
            session_epoch: row.session_epoch,
            disabled: row.disabled_at.is_some(),
            created_at: row.created_at,
        })
    }
}

const COLUMNS: &str = "id, username, role, password_hash, session_epoch, disabled_at, created_at";

/// How an author is named on a timeline: a person by username, a token's service account as
/// "via token NAME".
pub fn author_label(username: String) -> String {
    match username.strip_prefix("token:") {
        Some(name) => format!("via token {name}"),
        None => username,
    }
}

/// How an actor is named after "by" (a run's starter, a step's judge): a person by username, a
/// token's service account as "token NAME".
pub fn actor_label(username: String) -> String {
    match username.strip_prefix("token:") {
        Some(name) => format!("token {name}"),
        None => username,
    }
}

/// How many people have an account.
pub async fn count(pool: &AnyPool) -> Result<i64, AppError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE kind = 'person'")
            .fetch_one(pool)
            .await?,
    )
}

/// Inserts a user; a taken username is a `Validation` error on the `username` field.
pub async fn insert(
    pool: &AnyPool,
    username: &str,
    role: Role,
    password_hash: &str,
) -> Result<UserRecord, AppError> {
    let id = UserId(Uuid::new_v4());
    let now = now_millis();
    sqlx::query(
        "INSERT INTO users (id, username, role, password_hash, session_epoch, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $6)",
    )
    .bind(id.to_string())
    .bind(username)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now)
    .bind(now)
    .execute(pool)
    .await
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            AppError::field("username", format!("The username {username:?} is already taken."))
        } else {
            e.into()
        }
    })?;
    Ok(UserRecord {
        id,
        username: username.to_owned(),
        role,
        password_hash: password_hash.to_owned(),
        session_epoch: 0,
        disabled: false,
        created_at: now,
    })
}

/// The user with this id, if any.
pub async fn find_by_id<'e>(
    db: impl Executor<'e, Database = Any>,
    id: UserId,
) -> Result<Option<UserRecord>, AppError> {
    sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(db)
        .await?
        .map(UserRecord::try_from)
        .transpose()
}

/// The user signed in on the session `session_id` at `now` (Unix ms), with how many of their
/// reminders are unseen (every page shows that count), in one query: the session is live and
/// names the user, whose account is enabled and whose session epoch is the one the session was
/// signed in under. None otherwise — including a session saved before sessions kept their user
/// in columns (its caller then reads it the long way).
pub async fn find_by_session(
    pool: &AnyPool,
    session_id: &str,
    now: i64,
) -> Result<Option<(UserRecord, i64)>, AppError> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        unseen: i64,
    }
    // Written once: this runs on every signed-in request.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let columns = COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT {columns}, (SELECT COUNT(*) FROM reminders r WHERE r.user_id = u.id AND r.seen_at IS NULL) AS unseen \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.expires_at > $2 \
             AND u.session_epoch = s.user_epoch AND u.disabled_at IS NULL"
        )
    });
    sqlx::query_as::<_, Row>(SQL.as_str())
        .bind(session_id)
        .bind(now)
        .fetch_optional(pool)
        .await?
        .map(|row| Ok((UserRecord::try_from(row.user)?, row.unseen)))
        .transpose()
}

/// The person with this (normalised) username, if any (service accounts cannot sign in).
pub async fn find_by_username(
    pool: &AnyPool,
    username: &str,
) -> Result<Option<UserRecord>, AppError> {
    sqlx::query_as::<_, UserRow>(&format!(
        "SELECT {COLUMNS} FROM users WHERE username = $1 AND kind = 'person'"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await?
    .map(UserRecord::try_from)
    .transpose()
}

/// Every person (not the tokens' service accounts), by username.
pub async fn list(pool: &AnyPool) -> Result<Vec<UserRecord>, AppError> {
    sqlx::query_as::<_, UserRow>(&format!(
        "SELECT {COLUMNS} FROM users WHERE kind = 'person' ORDER BY username"
    ))
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(UserRecord::try_from)
    .collect()
}

/// The roles that may hold an incident role or own an action item (responder and up), as an SQL
/// list for `role IN (…)`.
fn responder_roles_sql() -> &'static str {
    static LIST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        Role::ALL
            .iter()
            .filter(|r| r.allows(Role::Responder))
            .map(|r| format!("'{}'", r.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The id of the enabled responder (or higher) called `username`: who may hold an incident role
/// or own an action item. A viewer or a disabled account is not one.
pub async fn responder_id(pool: &AnyPool, username: &str) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM users WHERE username = $1 AND kind = 'person' AND disabled_at IS NULL AND role IN ({})",
        responder_roles_sql()
    ))
    .bind(username.trim().to_ascii_lowercase())
    .fetch_optional(pool)
    .await?)
}

/// The usernames of enabled responders and up (who may hold a role or own an item), by name.
pub async fn responders(pool: &AnyPool) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT username FROM users WHERE kind = 'person' AND disabled_at IS NULL AND role IN ({}) ORDER BY username",
        responder_roles_sql()
    ))
    .fetch_all(pool)
    .await?)
}

/// Changes a user's role. `NotFound` if there is no such user.
pub async fn update_role(conn: &mut AnyConnection, id: UserId, role: Role) -> Result<(), AppError> {
    let done = sqlx::query(
        "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3 AND kind = 'person'",
    )
    .bind(role.as_str())
    .bind(now_millis())
    .bind(id.to_string())
    .execute(conn)
    .await?;
    found(done.rows_affected())
}

/// Replaces a user's password hash and ends their sessions (by bumping the session epoch).
pub async fn update_password(
    pool: &AnyPool,
    id: UserId,
    password_hash: &str,
) -> Result<(), AppError> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1, updated_at = $2 \
         WHERE id = $3 AND kind = 'person'",
    )
    .bind(password_hash)
    .bind(now_millis())
    .bind(id.to_string())
    .execute(pool)
    .await?;
    found(done.rows_affected())
}

/// Disables (or enables again) a user. Disabling also moves the session epoch on, so the
/// sessions it ends stay ended if the account is enabled again.
pub async fn set_disabled(
    conn: &mut AnyConnection,
    id: UserId,
    disabled: bool,
) -> Result<(), AppError> {
    let now = now_millis();
    let done = sqlx::query(
        "UPDATE users SET disabled_at = $1, updated_at = $2, \
         session_epoch = session_epoch + CASE WHEN $3 THEN 1 ELSE 0 END WHERE id = $4 AND kind = 'person'",
    )
    .bind(disabled.then_some(now))
    .bind(now)
    .bind(disabled)
    .bind(id.to_string())
    .execute(conn)
    .await?;
    found(done.rows_affected())
}

/// How many enabled admins exist (an admin may not remove the last one).
pub async fn count_active_admins(conn: &mut AnyConnection) -> Result<i64, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND kind = 'person' AND disabled_at IS NULL",
    )
    .fetch_one(conn)
    .await?)
}

fn found(rows: u64) -> Result<(), AppError> {
    if rows == 0 {
        Err(AppError::NotFound)
    } else {
        Ok(())
    }
}
