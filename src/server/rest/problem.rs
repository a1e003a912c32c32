//! RFC 9457 problem documents: how the REST API answers every error. The status comes from the
//! one mapping of `AppError` (`AppError::http_status`, and its headers from `add_headers`); only
//! the body's shape differs from the server functions' answer.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::model::AppError;
use crate::model::error::FieldError;

/// The media type of a problem document.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// An error answer of the API.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    detail: String,
    errors: Vec<FieldError>,
    error: Option<AppError>,
    www_authenticate: Option<String>,
}

/// An RFC 9457 problem document: `type`, `title`, `status`, `detail`, and per-field `errors`
/// (filled for a 422).
#[derive(Serialize, schemars::JsonSchema)]
pub struct ProblemDocument<'a> {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The status's name.
    title: &'a str,
    /// The HTTP status.
    status: u16,
    /// What went wrong, in words a person can act on.
    detail: &'a str,
    /// One message per field that needs attention (422; empty otherwise).
    errors: &'a [FieldError],
}

impl Problem {
    /// A problem with a status `AppError` has no variant for (413, 415).
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            errors: Vec::new(),
            error: None,
            www_authenticate: None,
        }
    }

    /// 401 with a `WWW-Authenticate: Bearer` challenge (RFC 6750), `error` naming why a token
    /// that was sent is refused.
    pub fn unauthorized(detail: &str, error: Option<&str>) -> Self {
        let challenge = match error {
            Some(code) => format!(
                "Bearer realm=\"nightwatch\", error=\"{code}\", error_description=\"{}\"",
                detail
                    .replace('"', "'")
                    .replace('…', "...")
                    .replace(|c: char| !c.is_ascii() || c.is_ascii_control(), "")
            ),
            None => "Bearer realm=\"nightwatch\"".to_owned(),
        };
        Self {
            www_authenticate: Some(challenge),
            ..Self::new(StatusCode::UNAUTHORIZED, detail)
        }
    }

    /// 403 saying why.
    pub fn forbidden(detail: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 413: the body is larger than the API reads.
    pub fn too_large() -> Self {
        Self::too_large_for(super::BODY_LIMIT)
    }

    /// 413: the body is larger than `limit` bytes.
    pub fn too_large_for(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The body is larger than {} KiB.", limit >> 10),
        )
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        let detail = match &error {
            AppError::Unauthorized => {
                "Send a valid API token: Authorization: Bearer nw_…".to_owned()
            }
            AppError::Forbidden => "This token's role does not allow this.".to_owned(),
            AppError::NotFound => "There is no such resource.".to_owned(),
            AppError::Validation(fields) if fields.len() == 1 => {
                format!("{}: {}", fields[0].field, fields[0].message)
            }
            AppError::Validation(_) => "Some fields need attention: see errors.".to_owned(),
            other => {
                let text = other.to_string();
                let mut chars = text.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        };
        let errors = match &error {
            AppError::Validation(fields) => fields.clone(),
            _ => Vec::new(),
        };
        let www_authenticate = matches!(error, AppError::Unauthorized)
            .then(|| "Bearer realm=\"nightwatch\"".to_owned());
        Self {
            status: error.http_status(),
            detail,
            errors,
            error: Some(error),
            www_authenticate,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let document = ProblemDocument {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: &self.errors,
        };
        let mut res = (self.status, Json(&document)).into_response();
        let headers = res.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(error) = &self.error {
            crate::server::error::add_headers(error, headers);
        }
        if let Some(challenge) = self
            .www_authenticate
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_problem_lists_each_field() {
        let res = Problem::from(AppError::Validation(vec![
            FieldError {
                field: "title".into(),
                message: "Give it a title.".into(),
            },
            FieldError {
                field: "severity".into(),
                message: "Choose one.".into(),
            },
        ]))
        .into_response();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
    }

    #[test]
    fn a_missing_token_is_challenged() {
        let res = Problem::from(AppError::Unauthorized).into_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.headers()[header::WWW_AUTHENTICATE],
            "Bearer realm=\"nightwatch\""
        );
    }
}
