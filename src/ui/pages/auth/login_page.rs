//! `/login`: the sign-in form. Works as a plain form post; hydrated, it signs in without a reload
//! of the form and then loads the page the user asked for.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{Login, safe_next};
use crate::model::AppError;
use crate::ui::components::feedback::typed;
use crate::ui::components::form::{FormMessage, TextField, field_signal};

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    Effect::new(move |_| {
        if matches!(login.value().get(), Some(Ok(()))) {
            let target = safe_next(Some(&next()));
            let _ = window().location().set_href(&target);
        }
    });
    let result = login.value();
    let error = Signal::derive(move || {
        result.with(|r| match r {
            Some(Err(AppError::Unauthorized)) => {
                Some("The username or password is not right.".to_owned())
            }
            Some(Err(AppError::TooManyRequests { retry_after_secs })) => Some(format!(
                "Too many failed attempts: wait {retry_after_secs} s before trying again."
            )),
            other => crate::ui::components::form::form_error(other),
        })
    });

    view! {
        <Title text="Sign in" />
        <main class="auth-page">
            <section class="card auth-card" aria-labelledby="login-title">
                <div class="brand auth-brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Nightwatch"
                </div>
                <h1 id="login-title">"Sign in"</h1>
                <ActionForm action=login>
                    <input type="hidden" name="next" value=next />
                    <TextField
                        label="Username"
                        name="username"
                        autocomplete="username"
                        required=true
                        value={typed::<Login>("username")}
                        error=field_signal(result, "username")
                    />
                    <TextField
                        label="Password"
                        name="password"
                        kind="password"
                        autocomplete="current-password"
                        required=true
                        error=field_signal(result, "password")
                    />
                    <FormMessage error />
                    <button type="submit" class="btn primary wide" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}
