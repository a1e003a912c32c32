//! Accounts: creating users, signing in (with throttling), and the admin's changes to users.

use std::time::Instant;

use sqlx::AnyPool;

use crate::model::error::Validator;
use crate::model::{AppError, NewUser, Password, Role, UserId, Username};
use crate::server::auth::{generate_password, hash_password, verify_password};
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
    let user_key = format!("user:{name}");
    let mut keys = vec![user_key.clone()];
    if let Some(client) = client {
        keys.push(format!("ip:{client}"));
    }
    if let Some(wait) = throttle.wait_for(&keys, Instant::now()) {
        return Err(AppError::TooManyRequests {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    let user = users::find_by_username(pool, &name).await?;
    let ok = verify_password(user.as_ref().map(|u| u.password_hash.clone()), password).await;
    match user {
        Some(user) if ok && !user.disabled => {
            throttle.reset(&user_key);
            Ok(user)
        }
        _ => {
            throttle.record_failure(&keys, Instant::now());
            tracing::info!(username = %name, client = client.unwrap_or("-"), "failed sign-in");
            Err(AppError::Unauthorized)
        }
    }
}

/// Refuses a change that would leave no enabled admin.
async fn keep_one_admin(pool: &AnyPool, target: &UserRecord) -> Result<(), AppError> {
    if target.role == Role::Admin
        && !target.disabled
        && users::count_active_admins(pool).await? <= 1
    {
        return Err(AppError::Conflict(
            "This is the last enabled admin: make another user admin first.".into(),
        ));
    }
    Ok(())
}

async fn existing(pool: &AnyPool, id: UserId) -> Result<UserRecord, AppError> {
    users::find_by_id(pool, id).await?.ok_or(AppError::NotFound)
}

/// Gives a user another role.
pub async fn change_role(pool: &AnyPool, id: UserId, role: Role) -> Result<(), AppError> {
    let target = existing(pool, id).await?;
    if role != Role::Admin {
        keep_one_admin(pool, &target).await?;
    }
    users::update_role(pool, id, role).await
}

/// Sets a new password for a user and ends their sessions.
pub async fn reset_password(
    pool: &AnyPool,
    id: UserId,
    password: &Password,
) -> Result<(), AppError> {
    existing(pool, id).await?;
    let hash = hash_password(password).await?;
    users::update_password(pool, id, &hash).await
}

/// Disables or re-enables a user. A disabled user cannot sign in and their sessions end.
pub async fn set_disabled(pool: &AnyPool, id: UserId, disabled: bool) -> Result<(), AppError> {
    let target = existing(pool, id).await?;
    if disabled {
        keep_one_admin(pool, &target).await?;
    }
    users::set_disabled(pool, id, disabled).await
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
