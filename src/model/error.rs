//! `AppError`: the one error type every server function returns, shared by server and client.

use serde::{Deserialize, Serialize};

/// A message attached to one input field of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FieldError {
    /// The form field's `name`.
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

/// Every failure a caller can see. Internal details never cross this boundary: they are logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum AppError {
    /// 400: the request itself could not be read (bad encoding, missing arguments).
    #[error("the request could not be read: {0}")]
    BadRequest(String),
    /// 401: no signed-in user, or wrong credentials.
    #[error("you need to sign in")]
    Unauthorized,
    /// 403: signed in, but the role does not allow this, or the request came from another site.
    #[error("you are not allowed to do this")]
    Forbidden,
    /// 404: the object does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// 409: the change lost a race or collides with existing data.
    #[error("{0}")]
    Conflict(String),
    /// 422: input failed validation; one message per offending field.
    #[error("some fields need attention")]
    Validation(Vec<FieldError>),
    /// 429: too many attempts; try again after the given number of seconds.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    TooManyRequests {
        /// Seconds until the next attempt is accepted.
        retry_after_secs: u64,
    },
    /// 503: the database cannot be reached (or is overloaded) right now; nothing was changed and
    /// the same request may be sent again (answered with `Retry-After`).
    #[error("the database is unavailable right now; nothing was changed, try again shortly")]
    Unavailable,
    /// 500: something failed on the server; the details are in the server log.
    #[error("something went wrong on the server; the details are in its log")]
    Internal,
}

impl AppError {
    /// A validation error for a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    /// `text` parsed into `T`, or a validation error on `field` with the parser's own message.
    pub fn parse_field<T: std::str::FromStr<Err = String>>(
        field: &str,
        text: &str,
    ) -> Result<T, Self> {
        text.parse().map_err(|m| Self::field(field, m))
    }

    /// The HTTP status code this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict(_) => 409,
            Self::Validation(_) => 422,
            Self::TooManyRequests { .. } => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }

    /// The error in one line for a log or a terminal: each field's message after its name.
    pub fn summary(&self) -> String {
        match self {
            Self::Validation(fields) => fields
                .iter()
                .map(|f| format!("{}: {}", f.field.replace('_', " "), f.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }

    /// The message for `field`, if this is a validation error that names it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        match self {
            Self::Validation(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.as_str()),
            _ => None,
        }
    }
}

/// What was typed, quoted for a message beside its field: whole while it is short enough to read
/// there, else its first characters and an ellipsis (a 5,000-character value is not echoed).
pub fn quoted(typed: &str) -> String {
    const SHOWN: usize = 24;
    if typed.chars().count() <= SHOWN {
        format!("{typed:?}")
    } else {
        let head: String = typed.chars().take(SHOWN).collect();
        format!("{head:?}…")
    }
}

/// Collects field errors while a form is parsed, so the user sees all of them at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Records the error of a parse result and returns its value, if any.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.push(FieldError {
                    field: field.to_owned(),
                    message,
                });
                None
            }
        }
    }

    /// `Ok(())` when nothing was recorded, the collected `Validation` error otherwise.
    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.errors))
        }
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // Argument decoding failures are the caller's fault, not the server's.
            E::Args(m) | E::MissingArg(m) | E::Deserialization(m) => Self::BadRequest(m),
            other => Self::BadRequest(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => Self::NotFound,
            other if is_unavailable(&other) => {
                tracing::warn!(error = %other, "database unavailable");
                Self::Unavailable
            }
            other => {
                tracing::error!(error = %other, "database error");
                Self::Internal
            }
        }
    }
}

/// Whether `error` says the database cannot be reached or is too busy, rather than that the
/// request was wrong: the pool is closed or timed out, the connection broke, PostgreSQL is
/// shutting down, refusing connections or out of them (SQLSTATE classes 08, 53, 57P), not
/// accepting connections to this database (55000), a standby after a failover (read-only,
/// 25006), a transaction that lost a deadlock or serialization race (40P01, 40001: the same
/// request succeeds when sent again); SQLite's file is locked, unreadable, full or read-only.
#[cfg(feature = "ssr")]
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if code.len() == 5 {
                // A PostgreSQL SQLSTATE (always five characters).
                code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P")
                    || matches!(code.as_ref(), "55000" | "25006" | "40P01" | "40001")
            } else {
                // SQLite: BUSY 5, LOCKED 6, READONLY 8, IOERR 10, FULL 13, CANTOPEN 14 (and
                // their extended codes, whose low byte is the primary code).
                code.parse::<i64>()
                    .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_documented_status() {
        assert_eq!(AppError::Unauthorized.status_code(), 401);
        assert_eq!(AppError::Forbidden.status_code(), 403);
        assert_eq!(AppError::field("x", "y").status_code(), 422);
        assert_eq!(AppError::Conflict("c".into()).status_code(), 409);
        assert_eq!(AppError::Internal.status_code(), 500);
        assert_eq!(AppError::Unavailable.status_code(), 503);
    }

    #[test]
    fn a_summary_names_every_field_in_words() {
        let two = AppError::Validation(vec![
            FieldError {
                field: "detected_at".into(),
                message: "Too early.".into(),
            },
            FieldError {
                field: "title".into(),
                message: "Required.".into(),
            },
        ]);
        assert_eq!(two.summary(), "detected at: Too early.; title: Required.");
        assert_eq!(AppError::NotFound.summary(), AppError::NotFound.to_string());
    }

    #[test]
    fn validator_collects_every_failed_field() {
        let mut v = Validator::default();
        assert_eq!(v.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(v.check::<i32>("b", Err("bad b".into())), None);
        assert_eq!(v.check::<i32>("c", Err("bad c".into())), None);
        let err = v.finish().unwrap_err();
        assert_eq!(err.field_message("b"), Some("bad b"));
        assert_eq!(err.field_message("c"), Some("bad c"));
        assert_eq!(err.field_message("a"), None);
    }

    #[test]
    fn errors_survive_the_json_round_trip_the_client_uses() {
        let err = AppError::field("username", "taken");
        let json = serde_json::to_string(&err).unwrap();
        assert_eq!(serde_json::from_str::<AppError>(&json).unwrap(), err);
    }

    #[test]
    fn what_was_typed_is_quoted_whole_only_while_short() {
        assert_eq!(quoted("someday"), "\"someday\"");
        assert_eq!(quoted("<b>"), "\"<b>\"");
        let long = quoted(&"9".repeat(5000));
        assert_eq!(long, format!("\"{}\"…", "9".repeat(24)));
        let wide = quoted(&"é".repeat(30));
        assert!(wide.ends_with('…') && wide.chars().count() == 27, "{wide}");
    }
}
