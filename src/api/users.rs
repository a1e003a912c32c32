//! User administration (admin only): list, create, change role, reset password, disable.

use leptos::prelude::*;

use crate::model::{AppError, UserView};

/// Every account, by username.
#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo::users};
    auth::require_role(Role::Admin).await?;
    let state = auth::app_state()?;
    Ok(users::list(&state.pool)
        .await?
        .iter()
        .map(|u| u.view())
        .collect())
}

/// Creates an account with a starting role and password.
#[server(endpoint = "create_user")]
pub async fn create_user(
    username: String,
    role: String,
    password: String,
) -> Result<UserView, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::accounts};
    let admin = auth::require_role(Role::Admin).await?;
    let new = accounts::parse_new_user(&username, &role, &password)?;
    let state = auth::app_state()?;
    let user = accounts::create_user(&state.pool, &new).await?;
    tracing::info!(by = %admin.username, user = %user.username, role = %user.role, "user created");
    Ok(user.view())
}

/// Gives a user another role. Taking away one's own admin role needs `confirm_self` (the admin
/// ticked that they mean it).
#[server(endpoint = "change_user_role")]
pub async fn change_user_role(
    user_id: String,
    role: String,
    #[server(default)] confirm_self: Option<String>,
) -> Result<(), AppError> {
    use crate::model::{Role, UserId};
    use crate::server::{auth, service::accounts};
    let admin = auth::require_role(Role::Admin).await?;
    let id: UserId = AppError::parse_field("user_id", &user_id)?;
    let role: Role = AppError::parse_field("role", &role)?;
    if id == admin.id && role != Role::Admin && confirm_self.is_none() {
        return Err(AppError::field(
            "role",
            "This is your own account: you would lose your admin rights. Tick “Yes, take away my admin rights” to go ahead.",
        ));
    }
    let state = auth::app_state()?;
    accounts::change_role(&state.pool, id, role).await?;
    tracing::info!(by = %admin.username, user = %id, role = %role, "role changed");
    Ok(())
}

/// Sets a new password for a user; their sessions end.
#[server(endpoint = "reset_user_password")]
pub async fn reset_user_password(user_id: String, password: String) -> Result<(), AppError> {
    use crate::model::{Password, Role, UserId};
    use crate::server::{auth, service::accounts};
    let admin = auth::require_role(Role::Admin).await?;
    let id: UserId = AppError::parse_field("user_id", &user_id)?;
    let password = Password::parse(&password).map_err(|m| AppError::field("password", m))?;
    let state = auth::app_state()?;
    accounts::reset_password(&state.pool, id, &password).await?;
    tracing::info!(by = %admin.username, user = %id, "password reset");
    Ok(())
}

/// Disables a user (or enables them again).
#[server(endpoint = "set_user_disabled")]
pub async fn set_user_disabled(user_id: String, disabled: bool) -> Result<(), AppError> {
    use crate::model::{Role, UserId};
    use crate::server::{auth, service::accounts};
    let admin = auth::require_role(Role::Admin).await?;
    let id: UserId = AppError::parse_field("user_id", &user_id)?;
    if id == admin.id && disabled {
        return Err(AppError::Conflict(
            "You cannot disable your own account: ask another admin.".into(),
        ));
    }
    let state = auth::app_state()?;
    accounts::set_disabled(&state.pool, id, disabled).await?;
    tracing::info!(by = %admin.username, user = %id, disabled, "user disabled flag changed");
    Ok(())
}
