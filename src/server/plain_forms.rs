//! Plain form posts (JavaScript off) and their way back to the page. Leptos sends a refused post
//! back to the page it came from with the error base64-encoded in the URL, and what was typed is
//! lost. Here every plain post to a server function comes back instead with readable, signed
//! feedback ([`crate::model::form_feedback`]): the form's messages, what was typed in it
//! (passwords and secrets excepted), or that it succeeded. A page only ever shows signed
//! feedback: a request whose feedback does not verify is sent to the same page without it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};

use crate::model::AppError;
use crate::model::form_feedback::{self, DONE, SIG, VALUE};
use crate::server::AppState;
use crate::server::input_guard::BODY_LIMIT;

/// Longest typed value carried back (longer ones are not: the URL would grow too long).
const VALUE_MAX: usize = 2_000;
/// Longest feedback query; beyond it, typed values are left out (messages stay).
const QUERY_MAX: usize = 6_000;

type Mac256 = Hmac<sha2::Sha256>;

/// The signature of `path`'s feedback `params`.
fn sign<'a>(
    key: &[u8],
    path: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut mac = Mac256::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(form_feedback::signed_text(path, params).as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
}

/// Whether `sig` is the signature of `path`'s feedback `params` (compared in constant time).
fn verify<'a>(
    key: &[u8],
    path: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    sig: &str,
) -> bool {
    crate::server::metrics::constant_time_eq(sign(key, path, params).as_bytes(), sig.as_bytes())
}

/// Whether a posted field may travel back in a URL: never a password, never a step's secret,
/// never a notification channel's secret or URL (a chat hook's URL is its secret).
fn may_travel(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    !name.contains("password")
        && name != "secret"
        && name != "channel_url"
        && !crate::model::catalog::ActionCode::ALL.iter().any(|c| {
            c.spec()
                .param(last)
                .is_some_and(|p| p.kind == crate::model::catalog::ParamKind::Secret)
        })
}

/// Where a plain post of `form` goes now: `target` (the page it goes back or on to) with its
/// old feedback replaced by `outcome`'s, signed.
pub fn location(
    key: &[u8],
    target: &str,
    form: &str,
    outcome: Result<(), &AppError>,
    posted: &[(String, String)],
) -> String {
    let base = url::Url::parse("http://nightwatch.invalid/").expect("a valid base URL");
    let Ok(url) = base.join(target) else {
        return "/".to_owned();
    };
    let path = url.path().to_owned();
    let mut kept: Vec<(String, String)> = url
        .query_pairs()
        // "saved" is the postmortem form's own word of success: it belongs to the post before.
        .filter(|(k, _)| !form_feedback::is_feedback(k) && k != "saved")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut feedback: Vec<(String, String)> = match outcome {
        Ok(()) => vec![(DONE.to_owned(), form.to_owned())],
        Err(error) => form_feedback::error_params(form, error),
    };
    if outcome.is_err() {
        let values: Vec<(String, String)> = posted
            .iter()
            .filter(|(k, v)| may_travel(k) && !v.is_empty() && v.chars().count() <= VALUE_MAX)
            // Without the NUL a refusal may be about: the page's address may not carry one.
            .map(|(k, v)| {
                (
                    format!("{VALUE}.{}", k.replace('\0', "")),
                    v.replace('\0', ""),
                )
            })
            .collect();
        let size: usize = values.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size <= QUERY_MAX {
            feedback.extend(values);
        }
    }
    let sig = sign(
        key,
        &path,
        feedback.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    kept.extend(feedback);
    kept.push((SIG.to_owned(), sig));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&kept)
        .finish();
    let fragment = url.fragment().map(|f| format!("#{f}")).unwrap_or_default();
    format!("{path}?{query}{fragment}")
}

/// Whether a request is a plain HTML form post to a server function.
fn is_plain_post(req: &Request) -> bool {
    req.method() == Method::POST
        && req.uri().path().starts_with("/api/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

/// The middleware for plain posts: the answer's redirect carries signed feedback.
pub async fn outcome_in_url(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_plain_post(&req) {
        return next.run(req).await;
    }
    let form = req.uri().path().trim_start_matches("/api/").to_owned();
    let referer_url = req
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok());
    let referer = referer_url.as_ref().map(|r| r.path().to_owned());
    // The page the post came from (with its query), where a refusal that names no page goes.
    let from_page = referer_url.as_ref().map(|r| match r.query() {
        Some(q) => format!("{}?{q}", r.path()),
        None => r.path().to_owned(),
    });
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        let too_large = AppError::BadRequest(format!(
            "The form is larger than {} MiB: shorten what you typed.",
            BODY_LIMIT >> 20
        ));
        return match (from_page, state.feedback_key().await) {
            (Some(page), Ok(key)) => back_to(&location(&key, &page, &form, Err(&too_large), &[])),
            _ => (StatusCode::PAYLOAD_TOO_LARGE, too_large.to_string()).into_response(),
        };
    };
    let posted: Vec<(String, String)> = url::form_urlencoded::parse(&bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let Ok(key) = state.feedback_key().await else {
        return res;
    };
    let Some(target) = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        // Refused before the server function ran (a NUL character, say): back to the page with
        // the refusal beside its field, as if the function had refused it.
        let Some(page) = from_page.filter(|_| res.status().is_client_error()) else {
            return res;
        };
        let Ok(body) = axum::body::to_bytes(res.into_body(), 64 << 10).await else {
            return back_to(&location(
                &key,
                &page,
                &form,
                Err(&AppError::Internal),
                &posted,
            ));
        };
        let error = serde_json::from_slice::<AppError>(&body).unwrap_or(AppError::Internal);
        return back_to(&location(&key, &page, &form, Err(&error), &posted));
    };
    let error = url::Url::parse("http://nightwatch.invalid/")
        .ok()
        .and_then(|base| base.join(&target).ok())
        .and_then(|url| {
            url.query_pairs()
                .find(|(k, _)| k == "__err")
                .map(|(_, v)| v.into_owned())
        })
        .map(|err| {
            base64::engine::general_purpose::URL_SAFE
                .decode(err)
                .ok()
                .and_then(|json| serde_json::from_slice::<AppError>(&json).ok())
                .unwrap_or(AppError::Internal)
        });
    // A success that goes on to another page (a new incident, the page after sign-in) needs no
    // word; one that comes back to the same page says it worked.
    let back = url::Url::parse("http://nightwatch.invalid/")
        .ok()
        .and_then(|base| base.join(&target).ok())
        .is_some_and(|url| Some(url.path()) == referer.as_deref());
    if error.is_none() && !back {
        return res;
    }
    let location = location(
        &key,
        &target,
        &form,
        error.as_ref().map_or(Ok(()), Err),
        &posted,
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, value);
        // Back to a page after a post: the browser must GET it.
        *res.status_mut() = StatusCode::SEE_OTHER;
    }
    res
}

/// A "see other" answer to `location`.
fn back_to(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// The middleware for pages: feedback in the query must carry a valid signature, or the browser
/// is sent to the same page without it.
pub async fn verify_feedback(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(query) = req.uri().query() else {
        return next.run(req).await;
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD) || req.uri().path().starts_with("/api/")
    {
        return next.run(req).await;
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !pairs.iter().any(|(k, _)| form_feedback::is_feedback(k)) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let sig = pairs
        .iter()
        .find(|(k, _)| k == SIG)
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let signed = match state.feedback_key().await {
        Ok(key) => verify(
            &key,
            &path,
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            sig,
        ),
        Err(_) => false,
    };
    if signed {
        return next.run(req).await;
    }
    let kept = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(k, _)| !form_feedback::is_feedback(k)))
        .finish();
    let to = if kept.is_empty() {
        path
    } else {
        format!("{path}?{kept}")
    };
    crate::server::router::see_other(&to)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test key";

    fn query(location: &str) -> Vec<(String, String)> {
        let q = location.split_once('?').map_or("", |(_, q)| q);
        url::form_urlencoded::parse(q.split('#').next().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn a_refusal_comes_back_readable_with_what_was_typed_but_no_password() {
        let posted = vec![
            ("body".to_owned(), "the rollback note".to_owned()),
            ("new_password".to_owned(), "hunter2hunter2".to_owned()),
            ("steps.0.secret".to_owned(), "hmac-key".to_owned()),
        ];
        let error = AppError::field("body", "Too long.");
        let to = location(
            KEY,
            "http://localhost/incidents/INC-1?order=oldest&form=old&e=stale",
            "add_note",
            Err(&error),
            &posted,
        );
        assert!(to.starts_with("/incidents/INC-1?order=oldest&form=add_note&e.body=Too+long.&v.body=the+rollback+note&sig="), "{to}");
        assert!(!to.contains("hunter2") && !to.contains("hmac-key"), "{to}");
        assert!(!to.contains("stale"), "old feedback is replaced: {to}");
    }

    #[test]
    fn a_signature_holds_only_for_its_own_page_and_text() {
        let to = location(
            KEY,
            "/incidents/INC-1",
            "add_note",
            Err(&AppError::field("body", "Empty.")),
            &[],
        );
        let q = query(&to);
        let sig = q.iter().find(|(k, _)| k == SIG).unwrap().1.clone();
        fn borrowed(q: &[(String, String)]) -> Vec<(&str, &str)> {
            q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
        }
        assert!(verify(KEY, "/incidents/INC-1", borrowed(&q), &sig));
        assert!(
            !verify(KEY, "/incidents/INC-2", borrowed(&q), &sig),
            "another page"
        );
        let mut forged = q.clone();
        forged[1].1 = "Your session expired: sign in at https://evil.example".into();
        assert!(
            !verify(KEY, "/incidents/INC-1", borrowed(&forged), &sig),
            "other text"
        );
        assert!(!verify(
            b"other key",
            "/incidents/INC-1",
            borrowed(&q),
            &sig
        ));
    }

    #[test]
    fn success_says_done_and_carries_nothing_typed() {
        let posted = vec![("body".to_owned(), "text".to_owned())];
        let to = location(
            KEY,
            "/incidents/INC-1#timeline",
            "add_note",
            Ok(()),
            &posted,
        );
        assert!(
            to.starts_with("/incidents/INC-1?done=add_note&sig="),
            "{to}"
        );
        assert!(to.ends_with("#timeline") && !to.contains("text"), "{to}");
    }
}
