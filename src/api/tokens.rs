//! API token administration (admins only): list, create (the secret shown once), revoke.

use leptos::prelude::*;

use crate::model::AppError;
use crate::model::api_token::{CreatedToken, TokenView};

/// The session key that carries a token just created by a plain form post (JavaScript off) to
/// the page it goes back to, which takes it out at once: the only way to show the secret once
/// without putting it in a URL.
#[cfg(feature = "ssr")]
const NEW_TOKEN_KEY: &str = "new_api_token";

/// Every token, live ones first (never a secret).
#[server(endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<TokenView>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::tokens};
    auth::require_role(Role::Admin).await?;
    let state = auth::app_state()?;
    tokens::list(&state.pool).await
}

/// Creates a token; the answer holds its secret, which is never shown again.
#[server(endpoint = "create_api_token")]
pub async fn create_api_token(
    name: String,
    role: String,
    scope: String,
    expires_days: String,
) -> Result<CreatedToken, AppError> {
    use crate::model::Role;
    use crate::model::api_token::NewToken;
    use crate::server::{auth, service::tokens};
    let admin = auth::require_role(Role::Admin).await?;
    let new = NewToken::parse(&name, &role, &scope, &expires_days)?;
    let state = auth::app_state()?;
    let created = tokens::create(&state.pool, Some(&admin), &new).await?;
    if super::ssr::is_plain_form_post() {
        auth::current_session()?
            .insert(NEW_TOKEN_KEY, &created)
            .await
            .map_err(super::ssr::internal)?;
        super::ssr::redirect_plain_form("/admin/tokens#new-token");
    }
    Ok(created)
}

/// The token a plain form post just created, taken out of the session (so it shows once).
#[server(endpoint = "take_new_api_token")]
pub async fn take_new_api_token() -> Result<Option<CreatedToken>, AppError> {
    use crate::model::Role;
    use crate::server::auth;
    auth::require_role(Role::Admin).await?;
    auth::current_session()?
        .remove::<CreatedToken>(NEW_TOKEN_KEY)
        .await
        .map_err(super::ssr::internal)
}

/// Revokes the live token named `name` whose prefix is `prefix` (the one the page showed): its
/// next request is refused.
#[server(endpoint = "revoke_api_token")]
pub async fn revoke_api_token(name: String, prefix: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::tokens};
    let admin = auth::require_role(Role::Admin).await?;
    let state = auth::app_state()?;
    tokens::revoke(&state.pool, Some(&admin), &name, Some(&prefix))
        .await
        .map_err(|e| match e {
            AppError::NotFound => AppError::Conflict(format!(
                "{name} was revoked or replaced since this page was loaded: see the list as it is now."
            )),
            other => other,
        })
}
