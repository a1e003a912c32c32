//! A plain form post (JavaScript off) comes back to its page with its outcome in the URL
//! ([`crate::model::form_feedback`]; the server has checked its signature before the page
//! renders). Here the page turns it back into what the hydrated page would have: the refusal
//! becomes that form's `ServerAction` value (so messages show beside their fields as usual), and
//! what was typed fills the fields again.

use base64::Engine as _;
use leptos::prelude::*;
use leptos::server::ServerActionError;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use crate::model::form_feedback::{self, FORM};

fn pairs(q: &leptos_router::params::ParamsMap) -> Vec<(String, String)> {
    q.into_iter()
        .map(|(k, v)| (k.to_string(), v.to_owned()))
        .collect()
}

fn borrowed(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Provides the refusal the URL carries (if any) the way Leptos carries its own: every
/// `ServerAction` of that form created on the page starts with it. Call once, inside the router,
/// before the routes.
pub fn provide_form_feedback() {
    let query = use_query_map();
    provide_context(query.with_untracked(carried_error));
    // In the browser, leaving the page (client-side) leaves its refusal behind.
    if let Some(owner) = Owner::current() {
        Effect::new(move |first: Option<()>| {
            let context = query.with(carried_error);
            if first.is_some() {
                owner.with(|| provide_context(context));
            }
        });
    }
}

/// The refusal a page's query carries, as Leptos's own `ServerActionError`.
fn carried_error(q: &leptos_router::params::ParamsMap) -> ServerActionError {
    let all = pairs(q);
    let found = q.get_str(FORM).and_then(|form| {
        let error = form_feedback::error_of(form, borrowed(&all))?;
        Some((form.to_owned(), error))
    });
    match found {
        Some((form, error)) => {
            let json = serde_json::to_string(&error).unwrap_or_default();
            ServerActionError::new(
                &format!("/api/{form}"),
                &base64::engine::general_purpose::URL_SAFE.encode(json),
            )
        }
        // A path no server function has: nothing starts refused.
        None => ServerActionError::new("", ""),
    }
}

/// The name the URL gives server function `S` (`add_note` for `/api/add_note`).
fn form_name<S: ServerFn>() -> &'static str {
    S::PATH.rsplit('/').next().unwrap_or(S::PATH)
}

/// What was typed into field `name` of form `S` before its refusal, if the URL carries it.
pub fn typed<S: ServerFn>(name: &str) -> Option<String> {
    let query = use_query_map();
    query.with_untracked(|q| {
        let all = pairs(q);
        form_feedback::value_of(form_name::<S>(), name, borrowed(&all))
    })
}

/// Whether the URL carries a refused plain post of form `S` (its typed values with it).
pub fn refused<S: ServerFn>() -> bool {
    let query = use_query_map();
    query.with_untracked(|q| q.get_str(FORM) == Some(form_name::<S>()))
}

/// Whether the URL says form `S` just succeeded (a plain form post came back).
pub fn succeeded<S: ServerFn>() -> bool {
    let query = use_query_map();
    query.with_untracked(|q| q.get_str(form_feedback::DONE) == Some(form_name::<S>()))
}
