//! Server functions, one file per resource. Each is thin: authorise → parse into the model → call
//! a service. Endpoints are fixed (`/api/<name>`) so URLs stay stable across builds.

pub mod action_items;
pub mod auth;
pub mod incidents;
pub mod metrics;
pub mod plans;
pub mod postmortems;
pub mod reminders;
pub mod runs;
pub mod tokens;
pub mod users;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::model::AppError;

    /// An incident number from a URL or form (`INC-42`); anything else names no incident.
    pub fn parse_number(number: &str) -> Result<crate::model::incident::IncidentNumber, AppError> {
        number.parse().map_err(|_| AppError::NotFound)
    }

    /// Logs an unexpected failure and hides its details from the caller.
    pub fn internal(error: impl std::fmt::Display) -> AppError {
        tracing::error!(%error, "internal error in a server function");
        AppError::Internal
    }

    /// Whether the current call is a plain HTML form post (JavaScript off) rather than the client.
    pub fn is_plain_form_post() -> bool {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|p| p.headers.get(http::header::ACCEPT).cloned())
            .and_then(|v| v.to_str().ok().map(|s| s.contains("text/html")))
            .unwrap_or(false)
    }

    /// Sends a plain form post on to `path` after the call; the hydrated client navigates itself.
    pub fn redirect_plain_form(path: &str) {
        if is_plain_form_post() {
            leptos_axum::redirect(path);
        }
    }
}
