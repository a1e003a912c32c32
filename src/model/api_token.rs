//! API tokens for machines (monitoring, chat bots, CI): what a token's text looks like, what it may
//! do, and the rules for creating one. The secret itself is made and hashed on the server.
//!
//! A token reads `nw_<32 base62 characters><6 base62 characters of CRC-32>`: the prefix and the
//! checksum let a secret scanner (or a person reading a leaked log) recognise a Nightwatch token
//! without asking the server, and let the server refuse a mistyped one without a database look-up.

use serde::{Deserialize, Serialize};

use crate::model::Role;
use crate::model::error::{AppError, Validator};

/// What every token starts with.
pub const PREFIX: &str = "nw_";
/// Random characters after the prefix (32 base62 characters: about 190 bits).
pub const RANDOM_LEN: usize = 32;
/// Checksum characters at the end.
pub const CHECKSUM_LEN: usize = 6;
/// Longest token name.
pub const NAME_MAX: usize = 64;
/// Longest lifetime a token may be given, in days.
pub const EXPIRES_DAYS_MAX: u32 = 3650;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

code_enum! {
    /// What a token may do beyond reading and acting by its role.
    TokenScope {
        /// Everything its role allows.
        Full => "full", "Everything its role allows",
        /// Only sending alerts (a monitoring system's token).
        #[serde(rename = "alerts:write")]
        AlertsWrite => "alerts:write", "Send alerts only",
    }
}

/// CRC-32 (IEEE, the zlib one) of `bytes`.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `value` in base62, left-padded with '0' to `width` characters.
fn base62(mut value: u32, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits).expect("base62 digits are ASCII")
}

/// The checksum characters of a token whose random part is `random`.
fn checksum(random: &str) -> String {
    base62(crc32(random.as_bytes()), CHECKSUM_LEN)
}

/// A token's text, well formed (prefix, alphabet, length, checksum). Whether it exists, is revoked
/// or has expired is the server's to say.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenText(String);

impl TokenText {
    /// The token made of `random` (exactly [`RANDOM_LEN`] base62 characters, drawn by the server
    /// from a secure source), with its prefix and checksum.
    pub fn from_random(random: &str) -> Option<Self> {
        let ok = random.len() == RANDOM_LEN && random.bytes().all(|b| BASE62.contains(&b));
        ok.then(|| Self(format!("{PREFIX}{random}{}", checksum(random))))
    }

    /// Reads a token as presented (in an `Authorization: Bearer` header, say).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let body = text
            .trim()
            .strip_prefix(PREFIX)
            .ok_or("This is not a Nightwatch token (they start with \"nw_\").")?;
        if body.len() != RANDOM_LEN + CHECKSUM_LEN || !body.bytes().all(|b| BASE62.contains(&b)) {
            return Err("This token is not complete: copy it again.");
        }
        let (random, sum) = body.split_at(RANDOM_LEN);
        if checksum(random) != sum {
            return Err("This token is not complete: copy it again.");
        }
        Ok(Self(format!("{PREFIX}{body}")))
    }

    /// The whole secret (shown once, at creation).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first characters, safe to show and log: enough to tell tokens apart.
    pub fn prefix(&self) -> &str {
        &self.0[..PREFIX.len() + 6]
    }
}

impl std::fmt::Debug for TokenText {
    /// Never the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenText({}…)", self.prefix())
    }
}

/// A token to create, checked: a name (unique among live tokens, lower case letters, digits,
/// `-`, `_`, `.`), a role, a scope and an optional lifetime in days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub scope: TokenScope,
    pub expires_days: Option<u32>,
}

impl NewToken {
    /// Checks what a person typed; each refusal names its field.
    pub fn parse(
        name: &str,
        role: &str,
        scope: &str,
        expires_days: &str,
    ) -> Result<Self, AppError> {
        let mut v = Validator::default();
        let name = v.check("name", parse_name(name));
        let role = v.check("role", role.parse::<Role>());
        let scope = v.check(
            "scope",
            match scope.trim() {
                "" => Ok(TokenScope::Full),
                s => s
                    .parse::<TokenScope>()
                    .map_err(|_| "Choose \"full\" or \"alerts:write\".".to_owned()),
            },
        );
        let expires_days = v.check("expires_days", parse_expiry(expires_days));
        v.finish()?;
        match (name, role, scope, expires_days) {
            (Some(name), Some(role), Some(scope), Some(expires_days)) => Ok(Self {
                name,
                role,
                scope,
                expires_days,
            }),
            _ => Err(AppError::Internal),
        }
    }
}

fn parse_name(name: &str) -> Result<String, String> {
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() {
        return Err("Give the token a name (say where it is used, like grafana-prod).".into());
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!("At most {NAME_MAX} characters."));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("Use letters, digits, '-', '_' and '.' only.".into());
    }
    Ok(name)
}

fn parse_expiry(days: &str) -> Result<Option<u32>, String> {
    let days = days.trim();
    if days.is_empty() {
        return Ok(None);
    }
    match days.parse::<u32>() {
        Ok(d @ 1..=EXPIRES_DAYS_MAX) => Ok(Some(d)),
        _ => Err(format!(
            "A whole number of days from 1 to {EXPIRES_DAYS_MAX}, or nothing for no expiry."
        )),
    }
}

/// A token as lists show it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TokenView {
    /// Its name, like `grafana-prod`.
    pub name: String,
    /// `nw_` and the first six random characters, to tell tokens apart.
    pub prefix: String,
    /// What it may do.
    pub role: Role,
    /// What it may be used for.
    pub scope: TokenScope,
    /// Who created it (none when created from the command line).
    pub created_by: Option<String>,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it stops working, if ever.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TokenView {
    /// Whether the token still opens the API at `now`.
    pub fn is_live(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A token just created: its secret, shown this once, and its listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CreatedToken {
    /// The secret (`nw_…`): only its hash is kept, so it cannot be shown again.
    pub token: String,
    /// The token as lists show it.
    pub view: TokenView,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc32_is_the_zlib_one() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_made_token_reads_back_and_its_debug_keeps_the_secret() {
        let random = "a".repeat(RANDOM_LEN);
        let token = TokenText::from_random(&random).unwrap();
        assert!(token.expose().starts_with("nw_aaaa"));
        assert_eq!(
            token.expose().len(),
            PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN
        );
        assert_eq!(
            TokenText::parse(&format!(" {} ", token.expose())),
            Ok(token.clone())
        );
        assert_eq!(format!("{token:?}"), "TokenText(nw_aaaaaa…)");
        assert!(TokenText::from_random("short").is_none());
        assert!(TokenText::from_random(&"-".repeat(RANDOM_LEN)).is_none());
    }

    #[test]
    fn foreign_truncated_and_mistyped_tokens_are_refused() {
        let token = TokenText::from_random(&"Q".repeat(RANDOM_LEN)).unwrap();
        let text = token.expose();
        assert!(TokenText::parse("ghp_abc").is_err());
        assert!(TokenText::parse(&text[..text.len() - 1]).is_err());
        let mut typo = text.to_owned().into_bytes();
        typo[5] = if typo[5] == b'Q' { b'R' } else { b'Q' };
        assert!(TokenText::parse(std::str::from_utf8(&typo).unwrap()).is_err());
    }

    #[test]
    fn a_new_token_names_each_bad_field() {
        let ok = NewToken::parse(" Grafana-Prod ", "responder", "alerts:write", "90").unwrap();
        assert_eq!(ok.name, "grafana-prod");
        assert_eq!(
            (ok.role, ok.scope, ok.expires_days),
            (Role::Responder, TokenScope::AlertsWrite, Some(90))
        );
        assert_eq!(
            NewToken::parse("ci", "admin", "", "").unwrap().scope,
            TokenScope::Full
        );
        // One spelling everywhere: stored, typed and in JSON.
        assert_eq!(
            serde_json::to_string(&TokenScope::AlertsWrite).unwrap(),
            "\"alerts:write\""
        );
        let Err(AppError::Validation(fields)) =
            NewToken::parse("bad name!", "root", "everything", "0")
        else {
            panic!("refused");
        };
        let named: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["name", "role", "scope", "expires_days"]);
    }

    proptest! {
        #[test]
        fn every_made_token_parses_and_any_one_changed_character_is_caught(
            random in "[0-9A-Za-z]{32}",
            at in 0usize..(RANDOM_LEN + CHECKSUM_LEN),
            with in "[0-9A-Za-z]",
        ) {
            let token = TokenText::from_random(&random).unwrap();
            prop_assert_eq!(TokenText::parse(token.expose()), Ok(token.clone()));
            let mut changed = token.expose().to_owned().into_bytes();
            let i = PREFIX.len() + at;
            prop_assume!(changed[i] != with.as_bytes()[0]);
            changed[i] = with.as_bytes()[0];
            prop_assert!(TokenText::parse(std::str::from_utf8(&changed).unwrap()).is_err());
        }
    }
}
