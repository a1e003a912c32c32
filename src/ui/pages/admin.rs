//! Administration pages (admin role), and what they share.

pub mod alerting_page;
pub mod notifications_page;
pub mod tokens_page;
pub mod users_page;

use leptos::prelude::*;

use crate::model::Role;

/// Answers 403 for a page rendered to someone who is not an admin.
pub(crate) fn forbidden_status() {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::FORBIDDEN);
    }
}

/// A labelled picker of the four roles, `selected` chosen, with an optional line of help and
/// the field's error beneath.
#[component]
pub(crate) fn RoleField(
    id: &'static str,
    selected: Role,
    #[prop(optional)] help: Option<&'static str>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let help_id = format!("{id}-help");
    view! {
        <div class="field">
            <label for=id>"Role"</label>
            {help.map(|h| view! { <p class="help" id=help_id.clone()>{h}</p> })}
            <select id=id name="role" aria-describedby=help.map(|_| help_id.clone())>
                {Role::ALL
                    .into_iter()
                    .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.label()}</option> })
                    .collect_view()}
            </select>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}
