//! Nightwatch: incident response, postmortems and drills. One crate built twice — `ssr` (the
//! axum server) and `hydrate` (the WASM client) — sharing `model`, `api` and `ui`.
// Leptos views are deeply nested types; the incident page needs more room than the default.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod model;
#[cfg(feature = "ssr")]
pub mod server;
pub mod ui;

/// Entry point of the WASM client: hydrates the server-rendered page, waiting for the chunks of a
/// page loaded on demand (`LazyRoute`, see `app`) before it hydrates that page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
