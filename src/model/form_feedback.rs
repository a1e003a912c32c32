//! What a plain form post (JavaScript off) sends back in the page's URL: which form it was, its
//! messages beside their fields, what was typed (so nothing is lost), or that it succeeded —
//! as readable query parameters, e.g. `?form=add_note&e.occurred_at=This+cannot+be+in+the+future.&v.body=…&sig=…`.
//! The server signs them (`sig`) and a page only shows signed ones, so a link cannot make a page
//! say what no form of ours said. Shared: the page reads them the same way on both sides.

use super::error::{AppError, FieldError};

/// The server function's name (`add_note`).
pub const FORM: &str = "form";
/// A field's message (`e.<field>`), or the whole form's (`e`).
pub const ERROR: &str = "e";
/// What was typed into a field (`v.<name>`).
pub const VALUE: &str = "v";
/// What kind of refusal a whole-form message is (`conflict`, `unauthorized`, …).
pub const KIND: &str = "ek";
/// The form succeeded (its name).
pub const DONE: &str = "done";
/// The server's signature over the others.
pub const SIG: &str = "sig";

/// Whether query parameter `name` is feedback (signed, and stripped before a new one is added).
pub fn is_feedback(name: &str) -> bool {
    matches!(name, FORM | ERROR | KIND | DONE | SIG | "__path" | "__err")
        || name.starts_with("e.")
        || name.starts_with("v.")
}

/// The parameters saying that form `form` was refused with `error`.
pub fn error_params(form: &str, error: &AppError) -> Vec<(String, String)> {
    let mut params = vec![(FORM.to_owned(), form.to_owned())];
    match error {
        AppError::Validation(fields) => params.extend(
            fields
                .iter()
                .map(|f| (format!("{ERROR}.{}", f.field), f.message.clone())),
        ),
        other => {
            let (kind, detail) = match other {
                AppError::BadRequest(m) => ("bad_request", m.clone()),
                AppError::Unauthorized => ("unauthorized", String::new()),
                AppError::Forbidden => ("forbidden", String::new()),
                AppError::NotFound => ("not_found", String::new()),
                AppError::Conflict(m) => ("conflict", m.clone()),
                AppError::TooManyRequests { retry_after_secs } => {
                    ("too_many_requests", retry_after_secs.to_string())
                }
                AppError::Unavailable => ("unavailable", String::new()),
                AppError::Internal | AppError::Validation(_) => ("internal", String::new()),
            };
            params.push((KIND.to_owned(), kind.to_owned()));
            params.push((ERROR.to_owned(), detail));
        }
    }
    params
}

/// The refusal a kind and its detail name (see [`error_params`]).
fn error_of_kind(kind: &str, detail: &str) -> AppError {
    match kind {
        "bad_request" => AppError::BadRequest(detail.to_owned()),
        "unauthorized" => AppError::Unauthorized,
        "forbidden" => AppError::Forbidden,
        "not_found" => AppError::NotFound,
        "too_many_requests" => AppError::TooManyRequests {
            retry_after_secs: detail.parse().unwrap_or(1),
        },
        "internal" => AppError::Internal,
        "unavailable" => AppError::Unavailable,
        _ => AppError::Conflict(detail.to_owned()),
    }
}

/// The error a page's query parameters carry for `form`, if they carry one.
pub fn error_of<'a>(
    form: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<AppError> {
    let params: Vec<(&str, &str)> = params.into_iter().collect();
    params.iter().find(|(k, v)| *k == FORM && *v == form)?;
    let mut fields = Vec::new();
    let mut whole = None;
    let kind = params.iter().find(|(k, _)| *k == KIND).map(|(_, v)| *v);
    for (k, v) in &params {
        if *k == ERROR {
            whole = Some(error_of_kind(kind.unwrap_or("conflict"), v));
        } else if let Some(field) = k.strip_prefix("e.") {
            fields.push(FieldError {
                field: field.to_owned(),
                message: v.to_string(),
            });
        }
    }
    match (whole, fields.is_empty()) {
        (_, false) => Some(AppError::Validation(fields)),
        (whole, true) => whole,
    }
}

/// What the caller typed into `name` before form `form` was refused, if the page carries it.
pub fn value_of<'a>(
    form: &str,
    name: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<String> {
    let params: Vec<(&str, &str)> = params.into_iter().collect();
    params.iter().find(|(k, v)| *k == FORM && *v == form)?;
    let key = format!("{VALUE}.{name}");
    params
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// The text a signature covers: the page's path and its feedback parameters, in order.
pub fn signed_text<'a>(path: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut text = path.to_owned();
    for (k, v) in params {
        if is_feedback(k) && k != SIG {
            text.push('\n');
            text.push_str(k);
            text.push('=');
            text.push_str(v);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        list.to_vec()
    }

    #[test]
    fn a_refusal_round_trips_through_the_url() {
        let error = AppError::Validation(vec![FieldError {
            field: "note".into(),
            message: "Write a note saying why.".into(),
        }]);
        let params = error_params("transition_incident", &error);
        let borrowed: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            error_of("transition_incident", borrowed.clone()),
            Some(error)
        );
        assert_eq!(
            error_of("add_note", borrowed),
            None,
            "another form's feedback"
        );
    }

    #[test]
    fn a_message_for_the_whole_form_comes_back_as_one() {
        let params = error_params(
            "assign_role",
            &AppError::Conflict("Someone else changed it.".into()),
        );
        let borrowed: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            error_of("assign_role", borrowed),
            Some(AppError::Conflict("Someone else changed it.".into()))
        );
    }

    #[test]
    fn every_kind_of_refusal_comes_back_as_itself() {
        for error in [
            AppError::Unauthorized,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::Internal,
            AppError::BadRequest("no version".into()),
            AppError::TooManyRequests {
                retry_after_secs: 8,
            },
        ] {
            let params = error_params("login", &error);
            let borrowed: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert_eq!(error_of("login", borrowed), Some(error));
        }
    }

    #[test]
    fn typed_values_come_back_for_their_form_only() {
        let q = pairs(&[
            ("form", "add_note"),
            ("v.body", "the text"),
            ("order", "oldest"),
        ]);
        assert_eq!(
            value_of("add_note", "body", q.clone()).as_deref(),
            Some("the text")
        );
        assert_eq!(value_of("transition_incident", "body", q), None);
    }

    #[test]
    fn the_signature_covers_the_path_and_every_feedback_parameter_but_nothing_else() {
        let q = pairs(&[
            ("order", "oldest"),
            ("form", "add_note"),
            ("e.body", "x"),
            ("sig", "s"),
        ]);
        assert_eq!(
            signed_text("/incidents/INC-1", q),
            "/incidents/INC-1\nform=add_note\ne.body=x"
        );
    }
}
