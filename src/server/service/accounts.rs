//! Accounts: creating users, signing in (with throttling), and the admin's changes to users.

use std::time::Instant;

use sqlx::AnyPool;

use crate::model::error::Validator;
use crate::model::{AppError, NewUser, Password, Role, UserId, Username};
use crate::server::auth::{generate_password, hash_password, verify_password};
use crate::server::repo::next_value;
use crate::server::repo::users::{self, UserRecord};
use crate::server::throttle::LoginThrottle;

/// Parses the admin's "new user" form, reporting every bad field at once.
pub fn parse_new_user(username: &str, role: &str, password: &str) -> Result<NewUser, AppError> {
    let mut v = Validator::default();
    let username = v.check("username", Username::parse(username));
    let role = v.check("role", role.parse::<Role>());
    let password = v.check("password", Password::parse(password));
    v.finish()?;
    match (username, role, password) {
        (Some(username), Some(role), Some(password)) => Ok(NewUser {
            username,
            role,
            password,
        }),
        _ => Err(AppError::Internal),
    }
}

/// Creates an account.
pub async fn create_user(pool: &AnyPool, new: &NewUser) -> Result<UserRecord, AppError> {
    let hash = hash_password(&new.password).await?;
    users::insert(pool, new.username.as_str(), new.role, &hash).await
}

/// Creates `admin` with a random password when there is no account at all, and returns that
/// password. Returns `None` when any account exists — also when another instance won the race.
pub async fn ensure_initial_admin(pool: &AnyPool) -> Result<Option<String>, AppError> {
    if users::count(pool).await? > 0 {
        return Ok(None);
    }
    let password = generate_password();
    let new = NewUser {
        username: Username::parse("admin").map_err(|_| AppError::Internal)?,
        role: Role::Admin,
        password: Password::parse(&password).map_err(|_| AppError::Internal)?,
    };
    match create_user(pool, &new).await {
        Ok(_) => Ok(Some(password)),
        // The unique username makes a concurrent start create it once; the loser says nothing.
        Err(AppError::Validation(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Checks a sign-in attempt. Wrong username, wrong password and disabled account all answer
/// `Unauthorized` alike; repeated failures per username and per address answer `TooManyRequests`.
pub async fn authenticate(
    pool: &AnyPool,
    throttle: &LoginThrottle,
    username: &str,
    password: &str,
    client: Option<&str>,
) -> Result<UserRecord, AppError> {
    let name = username.trim().to_ascii_lowercase();
    // No account has a longer name: refused before it is remembered by the throttle or logged.
    if name.chars().count() > crate::model::user::USERNAME_MAX {
        return Err(AppError::Unauthorized);
    }
    let user_key = format!("user:{name}");
    let mut keys = vec![user_key.clone()];
    if let Some(client) = client {
        keys.push(format!("ip:{client}"));
    }
    throttle
        .admit(&keys, Instant::now())
        .map_err(|wait| AppError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        })?;
    let user = users::find_by_username(pool, &name).await?;
    let ok = verify_password(user.as_ref().map(|u| u.password_hash.clone()), password).await;
    match user {
        Some(user) if ok && !user.disabled => {
            throttle.succeeded(&keys, &user_key);
            Ok(user)
        }
        _ => {
            // Debug-quoted: what was typed cannot forge a log line or send terminal escapes.
            tracing::info!(username = ?name, client = ?client, "failed sign-in");
            Err(AppError::Unauthorized)
        }
    }
}

/// Applies `change` to user `id` unless it would leave no enabled admin. Every such change
/// first takes the `admin_changes` counter in its transaction, so they run one at a time on
/// any number of instances, and each counts the admins the one before it left: of two admins
/// demoting each other at once, the second is refused.
async fn guarded_change(
    pool: &AnyPool,
    id: UserId,
    removes_admin: bool,
    change: impl AsyncFnOnce(&mut sqlx::AnyConnection) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    next_value(&mut tx, "admin_changes").await?;
    let target = users::find_by_id(&mut *tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if removes_admin
        && target.role == Role::Admin
        && !target.disabled
        && users::count_active_admins(&mut tx).await? <= 1
    {
        return Err(AppError::Conflict(
            "This is the last enabled admin: make another user admin first.".into(),
        ));
    }
    change(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a user another role.
pub async fn change_role(pool: &AnyPool, id: UserId, role: Role) -> Result<(), AppError> {
    guarded_change(pool, id, role != Role::Admin, async |conn| {
        users::update_role(conn, id, role).await
    })
    .await
}

/// Sets a new password for a user and ends their sessions.
pub async fn reset_password(
    pool: &AnyPool,
    id: UserId,
    password: &Password,
) -> Result<(), AppError> {
    users::find_by_id(pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let hash = hash_password(password).await?;
    users::update_password(pool, id, &hash).await
}

/// Disables or re-enables a user. A disabled user cannot sign in and their sessions end for
/// good: enabling the account again does not bring them back.
pub async fn set_disabled(pool: &AnyPool, id: UserId, disabled: bool) -> Result<(), AppError> {
    guarded_change(pool, id, disabled, async |conn| {
        users::set_disabled(conn, id, disabled).await
    })
    .await
}

/// A user changes their own password, proving they know the current one.
pub async fn change_own_password(
    pool: &AnyPool,
    user: &UserRecord,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let mut v = Validator::default();
    let new = v.check("new_password", Password::parse(new));
    if !verify_password(Some(user.password_hash.clone()), current).await {
        v.check::<()>(
            "current_password",
            Err("The current password is not right.".into()),
        );
    }
    v.finish()?;
    let new = new.ok_or(AppError::Internal)?;
    let hash = hash_password(&new).await?;
    users::update_password(pool, user.id, &hash).await
}
