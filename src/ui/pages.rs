//! Pages, one folder per feature; each page is a component ending in `Page`.

pub mod account;
pub mod actions;
pub mod admin;
pub mod auth;
pub mod board;
pub mod home;
pub mod incidents;
pub mod plans;
pub mod postmortems;
pub mod risks;
pub mod runs;

/// The `:number` of the current route (`/plans/7`), if it is a number.
pub fn number_param() -> impl Fn() -> Option<i64> + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || {
        use leptos::prelude::Read;
        params
            .read()
            .get("number")
            .and_then(|n| n.parse::<i64>().ok())
    }
}

/// Answers the page with 404 (the page itself says what is missing).
pub fn not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
}
