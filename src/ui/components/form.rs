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
        Some(Err(e)) => Some(sentence(&e.to_string())),
    }
}

/// A message as a sentence: capital first, one full stop at the end (never two).
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?', ':']) {
        out.push('.');
    }
    out
}

/// Empties `form` each time its action's `result` turns out a success; after a refusal what was
/// typed stays for the author to fix.
pub fn clear_on_success<T, S>(result: S, form: NodeRef<leptos::html::Form>)
where
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if result.with(|r| matches!(r, Some(Ok(_))))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
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
    /// What the field starts with (what was typed before a plain post was refused).
    #[prop(default = None)]
    value: Option<String>,
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
                value=value
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_ends_in_exactly_one_full_stop() {
        assert_eq!(sentence("try again."), "Try again.");
        assert_eq!(
            sentence("make another user admin first"),
            "Make another user admin first."
        );
        assert_eq!(sentence("Is it down?"), "Is it down?");
        assert_eq!(sentence(""), "");
    }
}
