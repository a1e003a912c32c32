//! The one place an `AppError` becomes an HTTP answer: its status, its JSON body, and the
//! headers some statuses owe the caller (`Retry-After` on 429).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::model::AppError;

impl AppError {
    /// The HTTP status of this error.
    pub fn http_status(&self) -> StatusCode {
        StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = (self.http_status(), Json(&self)).into_response();
        add_headers(&self, res.headers_mut());
        res
    }
}

/// The headers an error's status calls for, added to an answer already built (a server
/// function's error response carries its body already).
pub fn add_headers(error: &AppError, headers: &mut axum::http::HeaderMap) {
    match error {
        AppError::TooManyRequests { retry_after_secs } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        AppError::Unavailable => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_requests_says_when_to_retry() {
        let res = AppError::TooManyRequests {
            retry_after_secs: 8,
        }
        .into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "8");
    }

    #[test]
    fn each_error_is_answered_with_its_own_status() {
        assert_eq!(AppError::NotFound.into_response().status(), 404);
        assert_eq!(AppError::field("a", "b").into_response().status(), 422);
        assert_eq!(AppError::Internal.into_response().status(), 500);
    }
}
