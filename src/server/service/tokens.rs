//! API tokens: creating one (its secret shown once), listing, revoking, and turning a request's
//! bearer token into the `Actor` it acts as.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::AnyPool;

use crate::model::api_token::{CreatedToken, NewToken, RANDOM_LEN, TokenText};
use crate::model::{AppError, Role};
use crate::server::actor::{Actor, TokenActor};
use crate::server::db::{from_millis, to_millis};
use crate::server::repo::api_tokens::{self as repo, NewTokenRow};

/// The SHA-256 of a token's text, hex: what is stored and looked up.
fn secret_hash(token: &TokenText) -> String {
    hex::encode(Sha256::digest(token.expose().as_bytes()))
}

fn random_token() -> TokenText {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rngs::OsRng;
    let random: String = (0..RANDOM_LEN)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    TokenText::from_random(&random).expect("base62 characters of the right length")
}

/// Creates a token. `creator` is the admin creating it, or `None` from the command line (the
/// operator of the server). The secret is in the answer and nowhere else.
pub async fn create(
    pool: &AnyPool,
    creator: Option<&Actor>,
    new: &NewToken,
) -> Result<CreatedToken, AppError> {
    if creator.is_some_and(|c| !c.allows(Role::Admin) || c.token.is_some()) {
        return Err(AppError::Forbidden);
    }
    let token = random_token();
    let now = Utc::now();
    let expires_at = new
        .expires_days
        .map(|days| now + Duration::days(i64::from(days)));
    let mut tx = pool.begin().await?;
    repo::insert(
        &mut tx,
        &NewTokenRow {
            name: &new.name,
            prefix: token.prefix(),
            secret_hash: &secret_hash(&token),
            role: new.role,
            scope: new.scope,
            created_by: creator.map(|c| c.id),
            now: to_millis(now),
            expires_at: expires_at.map(to_millis),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        name = %new.name, role = %new.role, scope = new.scope.as_str(),
        by = creator.map_or("the command line", |c| c.username.as_str()),
        "API token created"
    );
    let view = repo::list(pool)
        .await?
        .into_iter()
        .find(|t| t.name == new.name && t.revoked_at.is_none())
        .ok_or(AppError::Internal)?;
    Ok(CreatedToken {
        token: token.expose().to_owned(),
        view,
    })
}

/// Every token, live ones first (never a secret).
pub async fn list(pool: &AnyPool) -> Result<Vec<crate::model::api_token::TokenView>, AppError> {
    repo::list(pool).await
}

/// Revokes the live token named `name` (admins, or the command line): its next request is
/// refused. With `prefix`, only the token the caller saw (not one that replaced it since).
pub async fn revoke(
    pool: &AnyPool,
    by: Option<&Actor>,
    name: &str,
    prefix: Option<&str>,
) -> Result<(), AppError> {
    if by.is_some_and(|c| !c.allows(Role::Admin) || c.token.is_some()) {
        return Err(AppError::Forbidden);
    }
    let name = name.trim().to_ascii_lowercase();
    let prefix = prefix.map(str::trim).filter(|p| !p.is_empty());
    if !repo::revoke(pool, &name, prefix, to_millis(Utc::now())).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(%name, by = by.map_or("the command line", |c| c.username.as_str()), "API token revoked");
    Ok(())
}

/// Why a bearer token was refused: all are answered 401, the difference is for the log and the
/// `WWW-Authenticate` description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a Nightwatch token, or a mistyped one (its checksum does not match).
    Malformed,
    /// No token has this secret.
    Unknown,
    /// Revoked.
    Revoked,
    /// Past its expiry.
    Expired,
}

impl Refusal {
    /// A sentence for the caller.
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed => "This is not a complete Nightwatch token (nw_…): copy it again.",
            Self::Unknown => "This token is not known here.",
            Self::Revoked => "This token was revoked.",
            Self::Expired => "This token has expired.",
        }
    }
}

/// The actor a bearer token acts as, or why it is refused. A use is recorded at most once a
/// minute.
pub async fn authenticate(
    pool: &AnyPool,
    bearer: &str,
    now: DateTime<Utc>,
) -> Result<Result<Actor, Refusal>, AppError> {
    let Ok(token) = TokenText::parse(bearer) else {
        return Ok(Err(Refusal::Malformed));
    };
    let Some(record) = repo::find_by_hash(pool, &secret_hash(&token)).await? else {
        return Ok(Err(Refusal::Unknown));
    };
    if record.revoked {
        return Ok(Err(Refusal::Revoked));
    }
    if record.expires_at.is_some_and(|at| from_millis(at) <= now) {
        return Ok(Err(Refusal::Expired));
    }
    let now_ms = to_millis(now);
    if record.last_used_at.is_none_or(|at| at < now_ms - 60_000) {
        repo::touch(pool, &record.id, now_ms).await?;
    }
    Ok(Ok(Actor {
        id: record.account_id,
        username: repo::account_username(&record.name),
        role: record.role,
        token: Some(TokenActor {
            id: record.id,
            name: record.name,
            scope: record.scope,
        }),
    }))
}
