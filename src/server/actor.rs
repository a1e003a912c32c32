//! `Actor`: who is making a change — a person signed in through the browser, or a machine through
//! an API token (its service account). Services take `&Actor`, so both write the same timeline
//! with an honest author.

use crate::model::api_token::TokenScope;
use crate::model::{Role, UserId};
use crate::server::repo::users::UserRecord;

/// The caller of a service.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The `users` row that authors what the actor does: the person, or the token's service
    /// account (`token:<name>`).
    pub id: UserId,
    /// That row's username.
    pub username: String,
    /// What the actor may do.
    pub role: Role,
    /// Set when the actor is an API token.
    pub token: Option<TokenActor>,
}

/// The API token behind an actor.
#[derive(Debug, Clone)]
pub struct TokenActor {
    /// The token's id (rate limits and idempotency keys are kept per token).
    pub id: String,
    /// The token's name, like `grafana-prod`.
    pub name: String,
    /// What the token may be used for.
    pub scope: TokenScope,
}

impl Actor {
    /// A person signed in.
    pub fn person(user: &UserRecord) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            role: user.role,
            token: None,
        }
    }

    /// The account alert rules act as (`system:alert-rules`, made by the migration that added
    /// them): the author of the incidents they declare and the runs they start.
    pub fn alert_rules() -> Self {
        Self {
            id: UserId(uuid::Uuid::from_u128(0xa1e7)),
            username: "system:alert-rules".to_owned(),
            role: Role::Commander,
            token: None,
        }
    }

    /// Whether the actor's role is at least `required`.
    pub fn allows(&self, required: Role) -> bool {
        self.role.allows(required)
    }
}

impl From<UserRecord> for Actor {
    fn from(user: UserRecord) -> Self {
        Self::person(&user)
    }
}
