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

/// The message for `field`, or for any of its items (`matchers[2]`), from an action's last result.
pub fn list_field_error<T>(result: &Option<Result<T, AppError>>, field: &str) -> Option<String> {
    field_error(result, field).or_else(|| match result {
        Some(Err(AppError::Validation(fields))) => fields
            .iter()
            .find(|f| {
                f.field
                    .strip_prefix(field)
                    .is_some_and(|rest| rest.starts_with('['))
            })
            .map(|f| f.message.clone()),
        _ => None,
    })
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

/// A filter form whose address is the view to share. Without JavaScript the browser submits it as
/// a plain GET; hydrated, it navigates in place to `action?name=value&…`, leaving empty fields out
/// (leptos's `<Form>` would also append its nameless submit button as a stray `&=`).
#[component]
pub fn FilterForm(
    /// The page the filter applies to.
    action: &'static str,
    /// The form's accessible name.
    label: &'static str,
    children: Children,
) -> impl IntoView {
    let navigate = leptos_router::hooks::use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        if let Some(pairs) = submitted_fields(&ev) {
            ev.prevent_default();
            navigate(&filter_url(action, &pairs), Default::default());
        }
    };
    view! {
        <form method="get" action=action class="card filters" aria-label=label on:submit=on_submit>
            {children()}
        </form>
    }
}

/// The named text fields of the form `ev` submits (`None` outside the browser or when it cannot
/// be read: then the browser's own submission goes ahead).
#[cfg(feature = "hydrate")]
fn submitted_fields(ev: &leptos::ev::SubmitEvent) -> Option<Vec<(String, String)>> {
    use leptos::wasm_bindgen::JsCast;
    let form = ev
        .target()?
        .dyn_into::<leptos::web_sys::HtmlFormElement>()
        .ok()?;
    let data = leptos::web_sys::FormData::new_with_form(&form).ok()?;
    let entries = js_sys::try_iter(&data).ok()??;
    let mut pairs = Vec::new();
    for entry in entries {
        let entry = js_sys::Array::from(&entry.ok()?);
        if let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string()) {
            pairs.push((name, value));
        }
    }
    Some(pairs)
}

#[cfg(not(feature = "hydrate"))]
fn submitted_fields(_ev: &leptos::ev::SubmitEvent) -> Option<Vec<(String, String)>> {
    None
}

/// `action` with the non-empty `pairs` as its query, percent-encoded.
pub fn filter_url(action: &str, pairs: &[(String, String)]) -> String {
    let mut url = action.to_owned();
    let mut first = true;
    for (name, value) in pairs.iter().filter(|(n, v)| !n.is_empty() && !v.is_empty()) {
        url.push(if first { '?' } else { '&' });
        first = false;
        url.push_str(&crate::ui::format::url_encode(name));
        url.push('=');
        url.push_str(&crate::ui::format::url_encode(value));
    }
    url
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

    #[test]
    fn a_filter_address_leaves_empty_fields_out_and_encodes_the_rest() {
        let pairs = |p: &[(&str, &str)]| {
            p.iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(filter_url("/board", &[]), "/board");
        assert_eq!(
            filter_url(
                "/board",
                &pairs(&[("from", ""), ("service", "pay & go"), ("", "x")])
            ),
            "/board?service=pay%20%26%20go"
        );
        assert_eq!(
            filter_url("/incidents", &pairs(&[("q", "50% é"), ("status", "open")])),
            "/incidents?q=50%25%20%C3%A9&status=open"
        );
    }
}
