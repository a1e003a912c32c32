//! Text that no field of Nightwatch can hold is refused where it enters: a NUL character in a
//! query string, a form or a JSON body is answered 422 naming its field, before any handler
//! sees it (PostgreSQL cannot store it, and nobody types it).

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::model::AppError;

/// Largest request body read (plans, postmortems and forms are far smaller).
pub const BODY_LIMIT: usize = 4 << 20;

/// Who sent the request, for the language of a refusal.
#[derive(Clone, Copy)]
enum Caller {
    /// A REST API client: a problem document.
    Api,
    /// A browser navigating to a page (a link, an address typed, a GET form): a page. (A form
    /// posted without JavaScript gets the JSON, which `plain_forms` turns into a way back to its
    /// page with the message beside the field.)
    Browser,
    /// The hydrated client calling a server function: the server functions' JSON.
    Client,
}

impl Caller {
    fn of(req: &Request) -> Caller {
        if req.uri().path().starts_with("/api/v1/") {
            return Caller::Api;
        }
        let wants_html = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        if wants_html && matches!(*req.method(), Method::GET | Method::HEAD) {
            Caller::Browser
        } else {
            Caller::Client
        }
    }
}

const NUL_MESSAGE: &str = "Remove the NUL character (\\0): text cannot contain it.";

/// What a NUL character earns.
fn refused(field: &str, caller: Caller, path: &str) -> Response {
    let error = AppError::field(field, NUL_MESSAGE);
    match caller {
        Caller::Api => crate::server::rest::Problem::from(error).into_response(),
        Caller::Client => error.into_response(),
        Caller::Browser => refusal_page(field, path),
    }
}

/// A small page for a browser: what was refused and a way on (the field's name and the path are
/// the only text from the request it shows, both escaped; the answer's policy allows no script or
/// style, so it is plain HTML).
fn refusal_page(field: &str, path: &str) -> Response {
    let field = crate::ui::format::escape_html(field);
    // Only a path on this site (`//evil.example/x` or `/\\evil.example` would lead elsewhere).
    let path = crate::ui::format::escape_html(&crate::api::auth::safe_next(Some(path)));
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <title>Refused · Nightwatch</title></head><body>\
         <h1>This request was refused</h1>\
         <p role=\"alert\">{field}: {NUL_MESSAGE}</p>\
         <p><a href=\"{path}\">Back to the page without it</a> · <a href=\"/\">Home</a></p>\
         </body></html>\n"
    );
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The middleware: checks the query string and, for form and JSON bodies, the body.
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let caller = Caller::of(&req);
    let api = matches!(caller, Caller::Api);
    if let Some(field) = req.uri().query().and_then(|q| nul_in_form(q.as_bytes())) {
        return refused(&field, caller, req.uri().path());
    }
    // Alert intake takes what monitors send and cleans control characters from it (refusing the
    // whole Alertmanager group for one NUL in one label would lose the rest of the group).
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH)
        || req.uri().path().starts_with("/api/v1/alerts")
    {
        return next.run(req).await;
    }
    let kind = match req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        Some(t) if t.starts_with("application/x-www-form-urlencoded") => Kind::Form,
        Some(t) if t.starts_with("application/json") => Kind::Json,
        _ => return next.run(req).await,
    };
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) if api => {
            return crate::server::rest::Problem::too_large_for(BODY_LIMIT).into_response();
        }
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(AppError::BadRequest(format!(
                    "the request body is larger than {} MiB",
                    BODY_LIMIT >> 20
                ))),
            )
                .into_response();
        }
    };
    let found = match kind {
        Kind::Form => nul_in_form(&bytes),
        Kind::Json => nul_in_json(&bytes),
    };
    if let Some(field) = found {
        return refused(&field, caller, parts.uri.path());
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

enum Kind {
    Form,
    Json,
}

/// The first field of a URL-encoded form whose name or value holds a NUL.
fn nul_in_form(form: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(form)
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| k.replace('\0', ""))
}

/// The path (`plan.steps.0.params.url.set`) of the first string of a JSON document that holds a
/// NUL (`body` when it is the document itself).
fn nul_in_json(json: &[u8]) -> Option<String> {
    fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
        let under = |key: &str| {
            if path.is_empty() {
                key.to_owned()
            } else {
                format!("{path}.{key}")
            }
        };
        match value {
            serde_json::Value::String(s) if s.contains('\0') => Some(path.to_owned()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(v, &under(&i.to_string()))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                if k.contains('\0') {
                    Some(under(&k.replace('\0', "")))
                } else {
                    walk(v, &under(k))
                }
            }),
            _ => None,
        }
    }
    // A body that does not parse is left to its handler, which says what is wrong with it.
    let value: serde_json::Value = serde_json::from_slice(json).ok()?;
    walk(&value, "").map(|p| if p.is_empty() { "body".to_owned() } else { p })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_in_a_form_names_its_field() {
        assert_eq!(
            nul_in_form(b"title=ok&q=a%00b").as_deref(),
            Some("q"),
            "an encoded NUL"
        );
        assert_eq!(nul_in_form(b"title=ok&q=a+b"), None);
    }

    #[test]
    fn a_nul_in_json_names_its_path() {
        let body = br#"{"number":"INC-1","doc":{"summary":"a\u0000b"}}"#;
        assert_eq!(nul_in_json(body).as_deref(), Some("doc.summary"));
        let plan = br#"{"plan":{"steps":[{"params":{"url":{"set":"x\u0000"}}}]}}"#;
        assert_eq!(
            nul_in_json(plan).as_deref(),
            Some("plan.steps.0.params.url.set")
        );
        assert_eq!(nul_in_json(br#"{"a":["x","y"]}"#), None);
        assert_eq!(nul_in_json(b"not json"), None);
    }
}
