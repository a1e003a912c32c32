//! Server functions, one file per resource. Each is thin: authorise → parse into the model → call
//! a service. Endpoints are fixed (`/api/<name>`) so URLs stay stable across builds.

pub mod action_items;
pub mod alerting;
pub mod auth;
pub mod incidents;
pub mod metrics;
pub mod notifications;
pub mod plans;
pub mod postmortems;
pub mod reminders;
pub mod risks;
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

    /// The end of a silence lasting `hours` (a form field: `2`, `0.5`), from now.
    pub fn hours_from_now(hours: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
        let hours: f64 = hours
            .trim()
            .parse()
            .ok()
            .filter(|h: &f64| h.is_finite() && *h > 0.0)
            .ok_or_else(|| AppError::field("hours", "Give how many hours, like 2 or 0.5."))?;
        if hours > 366.0 * 24.0 {
            return Err(AppError::field(
                "hours",
                "A silence lasts at most 366 days.",
            ));
        }
        let minutes = ((hours * 60.0).round() as i64).max(1);
        Ok(chrono::Utc::now() + chrono::Duration::minutes(minutes))
    }

    /// Sends a plain form post on to `path` after the call; the hydrated client navigates itself.
    pub fn redirect_plain_form(path: &str) {
        if is_plain_form_post() {
            leptos_axum::redirect(path);
        }
    }
}
