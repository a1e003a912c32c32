//! The page for unknown paths (answered with 404).

use leptos::prelude::*;
use leptos_meta::Title;

/// Not found.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="auth-page">
            <section class="card auth-card">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <p>
                    <a class="btn" href="/">"Go to the overview"</a>
                </p>
            </section>
        </main>
    }
}
