//! Passwords (argon2id), the signed-in user of a session, and `require_role`: the one check every
//! server function makes before it does anything.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use leptos::prelude::*;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use tower_sessions::Session;

use crate::model::{AppError, Password, Role, UserId};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::repo::users::{self, UserRecord};

/// The session key holding the signed-in user.
pub const SESSION_USER_KEY: &str = "user";

/// What a session remembers of its user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    /// Who signed in.
    pub id: UserId,
    /// The user's session epoch at sign-in; a password reset since then ends the session.
    pub epoch: i64,
}

/// Password hashes computed at once. Each argon2id computation takes 19 MiB and most of a core:
/// a burst of sign-ins waits here instead of taking the machine's memory and CPU.
const HASHING_AT_ONCE: usize = 2;

/// A permit to compute one password hash.
async fn hashing_permit() -> tokio::sync::SemaphorePermit<'static> {
    static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(HASHING_AT_ONCE);
    HASHING
        .acquire()
        .await
        .expect("the hashing semaphore is never closed")
}

/// Hashes a password with argon2id (a blocking, deliberately slow computation: run it off the
/// async workers, a few at a time).
pub async fn hash_password(password: &Password) -> Result<String, AppError> {
    let secret = password.expose().to_owned();
    let _permit = hashing_permit().await;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    })
}

/// Whether `password` matches the stored `hash`. With no hash (unknown user) a dummy hash is
/// checked, so the answer takes as long either way.
pub async fn verify_password(hash: Option<String>, password: &str) -> bool {
    let secret = password.to_owned();
    let _permit = hashing_permit().await;
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(secret.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// An argon2id hash of a random string nobody knows, checked for unknown usernames.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(generate_password().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// A random 20-character password of letters and digits (about 119 bits).
pub fn generate_password() -> String {
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// The user signed in on `session`, if the session is valid: the account exists, is enabled and
/// its password has not been reset since.
pub async fn session_user(
    pool: &AnyPool,
    session: &Session,
) -> Result<Option<UserRecord>, AppError> {
    Ok(signed_in(pool, session).await?.user)
}

/// Who a request is signed in as, and their unseen reminders when that came with it.
#[derive(Clone, Default)]
struct Signed {
    user: Option<UserRecord>,
    unseen_reminders: Option<i64>,
}

/// [`session_user`], with the unseen reminders when the session was read the short way.
async fn signed_in(pool: &AnyPool, session: &Session) -> Result<Signed, AppError> {
    // The common case in one query: a session saved with its user in columns, unchanged by
    // this request. Anything else (no cookie, an expired or older session, a sign-in or
    // sign-out in progress) is read through the session, which also clears a dead cookie.
    if let Some(id) = session.id().filter(|_| !session.is_modified()) {
        let now = crate::server::db::now_millis();
        if let Some((user, unseen)) = users::find_by_session(pool, &id.to_string(), now).await? {
            return Ok(Signed {
                user: Some(user),
                unseen_reminders: Some(unseen),
            });
        }
    }
    let stored: Option<SessionUser> = session.get(SESSION_USER_KEY).await.map_err(|e| {
        tracing::error!(error = %e, "session store failed");
        AppError::Internal
    })?;
    let Some(stored) = stored else {
        return Ok(Signed::default());
    };
    let user = users::find_by_id(pool, stored.id).await?;
    Ok(Signed {
        user: user.filter(|u| !u.disabled && u.session_epoch == stored.epoch),
        unseen_reminders: None,
    })
}

/// The signed-in user of one request, looked up once however many server functions of its page
/// ask (the router puts one in every request; the page's shell, its list and the sign-in check
/// would otherwise each read the user again).
#[derive(Clone, Default)]
pub struct SignedIn(std::sync::Arc<tokio::sync::OnceCell<Signed>>);

impl SignedIn {
    /// The user signed in on `session`, read on the first call.
    pub async fn user(
        &self,
        pool: &AnyPool,
        session: &Session,
    ) -> Result<Option<UserRecord>, AppError> {
        Ok(self.signed(pool, session).await?.user.clone())
    }

    async fn signed(&self, pool: &AnyPool, session: &Session) -> Result<&Signed, AppError> {
        self.0.get_or_try_init(|| signed_in(pool, session)).await
    }
}

/// The [`SignedIn`] of the current server-function call or page render.
fn request_signed_in() -> SignedIn {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SignedIn>().cloned())
        .unwrap_or_default()
}

/// The user signed in on the current server-function call or page render ([`SignedIn`]).
pub async fn request_user() -> Result<Option<UserRecord>, AppError> {
    let state = app_state()?;
    request_signed_in()
        .user(&state.pool, &current_session()?)
        .await
}

/// How many of `user`'s reminders are unseen, as read with the current request's signed-in
/// user (one query for both), or counted now when it was not.
pub async fn request_unseen_reminders(user: UserId) -> Result<i64, AppError> {
    let state = app_state()?;
    let signed = request_signed_in();
    let signed = signed.signed(&state.pool, &current_session()?).await?;
    match (signed.unseen_reminders, &signed.user) {
        (Some(n), Some(u)) if u.id == user => Ok(n),
        _ => crate::server::repo::reminders::count_unseen(&state.pool, user).await,
    }
}

/// Signs `id` in on `session` under a fresh session id (an id planted before sign-in is worthless
/// after it), remembering the user's session epoch.
pub async fn start_session(session: &Session, id: UserId, epoch: i64) -> Result<(), AppError> {
    let failed = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session store failed");
        AppError::Internal
    };
    session.cycle_id().await.map_err(failed)?;
    session
        .insert(SESSION_USER_KEY, SessionUser { id, epoch })
        .await
        .map_err(failed)
}

/// The session of the current server-function call or page render.
pub fn current_session() -> Result<Session, AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Session>().cloned())
        .ok_or_else(|| {
            tracing::error!("no session layer in front of this request");
            AppError::Internal
        })
}

/// The application state provided to every server function.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}

/// The signed-in user if their role includes `required`: `Unauthorized` when nobody is signed
/// in, `Forbidden` when the role is too low. Every server function starts with this.
pub async fn require_role(required: Role) -> Result<Actor, AppError> {
    check_role(request_user().await?.map(Actor::from), required)
}

/// The role check itself, for endpoints that are not server functions (plain forms, the REST
/// API): no actor is 401, a role too low 403.
pub fn check_role(actor: Option<Actor>, required: Role) -> Result<Actor, AppError> {
    let actor = actor.ok_or(AppError::Unauthorized)?;
    if actor.allows(required) {
        Ok(actor)
    } else {
        tracing::warn!(user = %actor.username, role = %actor.role, required = %required, "refused: role too low");
        Err(AppError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let pw = Password::parse("correct horse battery").unwrap();
        let hash = hash_password(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(hash.clone()), "correct horse battery").await);
        assert!(!verify_password(Some(hash), "wrong horse battery").await);
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        assert!(!verify_password(None, "anything at all").await);
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_password();
        assert_eq!(a.len(), 20);
        assert!(Password::parse(&a).is_ok());
        assert_ne!(a, generate_password());
    }
}
