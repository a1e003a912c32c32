//! Form building blocks: labelled inputs with their message beside them, and form-level alerts.

use leptos::prelude::*;

use crate::model::AppError;

/// The message for `field` from an action's last result, if that result failed on it.
pub fn field_error<T>(result: &Option<Result<T, AppError>>, field: &str) -> Option<String> {
    match result {
        Some(Err(e)) => e.field_message(field).map(str::to_owned),
        _ => None,
    }
}

/// A signal of the message for `field` from an action's result signal.
pub fn field_signal<T, S>(result: S, field: &'static str) -> Signal<Option<String>>
where
    S: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
{
    Signal::derive(move || result.with(|r| field_error(r, field)))
}

/// A form-level message for a failed result that names no field (field errors show beside their
/// fields instead).
pub fn form_error<T>(result: &Option<Result<T, AppError>>) -> Option<String> {
    match result {
        Some(Err(AppError::Validation(_))) | None | Some(Ok(_)) => None,
        Some(Err(AppError::Unauthorized)) => {
            Some("Your session has ended: sign in again.".to_owned())
        }
        Some(Err(e)) => Some(capitalise(&e.to_string())),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>() + ".",
        None => String::new(),
    }
}

/// A labelled input with its validation message beside it (announced to screen readers).
#[component]
pub fn TextField(
    /// The visible label.
    label: &'static str,
    /// The input's `name`: the server function's argument.
    name: &'static str,
    /// The input `type`.
    #[prop(default = "text")]
    kind: &'static str,
    /// The `autocomplete` hint.
    #[prop(optional)]
    autocomplete: Option<&'static str>,
    /// A line of help under the label.
    #[prop(optional)]
    help: Option<&'static str>,
    /// Element id (defaults to `field-<name>`); set it when a page has two forms with one name.
    #[prop(optional, into)]
    id: Option<String>,
    /// Whether the field must be filled.
    #[prop(optional)]
    required: bool,
    /// The current validation message, if any.
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("field-{name}"));
    let error_id = format!("{id}-error");
    let help_id = format!("{id}-help");
    let described_by = {
        let error_id = error_id.clone();
        let help_id = help_id.clone();
        move || {
            let mut ids = Vec::new();
            if help.is_some() {
                ids.push(help_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            {help.map(|h| view! { <p class="help" id=help_id.clone()>{h}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                aria-invalid=move || error.get().map(|_| "true")
                aria-describedby=described_by
            />
            <p class="field-error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A form-level alert (error) or status (success) line.
#[component]
pub fn FormMessage(
    /// An error to show, if any.
    error: Signal<Option<String>>,
    /// A success message to show, if any.
    #[prop(optional)]
    success: Option<Signal<Option<String>>>,
) -> impl IntoView {
    view! {
        <div class="form-message" aria-live="polite">
            {move || error.get().map(|e| view! { <p class="alert error" role="alert">{e}</p> })}
            {move || {
                success
                    .and_then(|s| s.get())
                    .map(|s| view! { <p class="alert success" role="status">{s}</p> })
            }}
        </div>
    }
}
