//! Accounts: roles and their order, usernames and passwords parsed into newtypes, the user DTO.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a user may do. The order is the privilege order: each role may do all a lower one may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Adds notes and evidence, executes plan steps, owns action items.
    Responder,
    /// Runs incidents: declares, transitions, assigns roles, runs plans.
    Commander,
    /// Manages users and settings.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Responder, Role::Commander, Role::Admin];

    /// The stable name stored in the database and used in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Commander => "commander",
            Role::Admin => "admin",
        }
    }

    /// A capitalised name for display.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Responder => "Responder",
            Role::Commander => "Commander",
            Role::Admin => "Admin",
        }
    }

    /// Whether this role includes everything `required` may do.
    pub fn allows(self, required: Role) -> bool {
        self >= required
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown role {s:?}: choose viewer, responder, commander or admin")
            })
    }
}

/// A user's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct UserId(pub Uuid);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for UserId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim())
            .map(UserId)
            .map_err(|_| "not a valid user id".to_owned())
    }
}

/// The longest login name.
pub const USERNAME_MAX: usize = 32;

/// A login name: 3–32 characters of lowercase letters, digits, `.`, `_` or `-`, starting with a
/// letter or digit. Stored lowercased so `Alice` and `alice` are the same account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Parses user input into a username, or says what is wrong with it.
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim().to_ascii_lowercase();
        let len = name.chars().count();
        if len < 3 {
            return Err("A username needs at least 3 characters.".into());
        }
        if len > USERNAME_MAX {
            return Err(format!("A username has at most {USERNAME_MAX} characters."));
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err("A username starts with a letter or a digit.".into());
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "A username may hold letters, digits, '.', '_' and '-', not {bad:?}."
            ));
        }
        Ok(Self(name))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: 10 to 128 characters, not only white space. Debug output never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// The shortest password accepted.
    pub const MIN_CHARS: usize = 10;
    /// The longest password accepted (argon2 handles more, but nobody types more).
    pub const MAX_CHARS: usize = 128;

    /// Parses a new password, or says what is wrong with it.
    pub fn parse(input: &str) -> Result<Self, String> {
        let len = input.chars().count();
        if input.trim().is_empty() {
            return Err("Enter a password.".into());
        }
        if len < Self::MIN_CHARS {
            return Err(format!(
                "A password needs at least {} characters.",
                Self::MIN_CHARS
            ));
        }
        if len > Self::MAX_CHARS {
            return Err(format!(
                "A password has at most {} characters.",
                Self::MAX_CHARS
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// The secret itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The fields an admin gives to create an account, parsed.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: Username,
    /// Starting role.
    pub role: Role,
    /// Initial password.
    pub password: Password,
}

/// A user as the UI sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Disabled users cannot sign in and lose their sessions.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn roles_are_ordered_by_privilege() {
        assert!(Role::Admin.allows(Role::Commander));
        assert!(Role::Commander.allows(Role::Responder));
        assert!(Role::Responder.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Responder));
        assert!(!Role::Commander.allows(Role::Admin));
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!(" Admin ".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn username_is_trimmed_and_lowercased() {
        assert_eq!(Username::parse("  Alice.B ").unwrap().as_str(), "alice.b");
    }

    #[test]
    fn username_rejects_short_long_and_odd_names() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("-alice").is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alice@example").is_err());
    }

    #[test]
    fn password_needs_ten_characters_and_hides_in_debug() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("          ").is_err());
        let pw = Password::parse("correct horse").unwrap();
        assert_eq!(format!("{pw:?}"), "Password(***)");
    }

    proptest! {
        #[test]
        fn any_accepted_username_parses_to_itself(input in "\\PC{0,40}") {
            if let Ok(name) = Username::parse(&input) {
                prop_assert_eq!(Username::parse(name.as_str()).unwrap(), name.clone());
                prop_assert!(name.as_str().len() >= 3 && name.as_str().len() <= 32);
            }
        }

        #[test]
        fn password_length_bounds_are_exact(len in 0usize..140) {
            let input = "x".repeat(len);
            let ok = Password::parse(&input).is_ok();
            prop_assert_eq!(ok, (Password::MIN_CHARS..=Password::MAX_CHARS).contains(&len));
        }
    }
}
