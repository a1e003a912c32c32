//! Response headers that keep a page safe even if some text were to slip through unescaped: a
//! Content-Security-Policy whose scripts must carry the nonce of their own response, no framing,
//! no MIME sniffing, no referrer leaving the site.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::use_context;

/// The policy of a rendered page. Scripts run only from this site's files or with `nonce` (the
/// hydration script and the data Leptos embeds for it), WebAssembly may compile, styles come
/// from the stylesheet (style attributes are allowed: charts position their bars with them).
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The policy of every other answer (JSON, files, redirects): nothing may run or embed it.
pub const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Runs while a page renders (and around every server function): puts the page's policy, with
/// the nonce Leptos gave this response's scripts, on the response.
pub fn provide_page_policy() {
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&page_policy(&nonce)) {
        res.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Adds the headers every answer carries. Only an HTML page keeps the policy its render set; every
/// other answer (and a page that set none) gets the strict default.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    add_headers(res.headers_mut());
    res
}

fn add_headers(h: &mut HeaderMap) {
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if !html || !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_POLICY),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A page is the signed-in user's own and changes with every move: a browser asks again
    // each time (a 304 when unchanged is not offered, but nothing stale is shown) and no shared
    // proxy keeps it.
    if html && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, private"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_runs_only_scripts_with_its_nonce_or_from_this_site() {
        let policy = page_policy("abc123");
        let scripts = policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap();
        assert_eq!(
            scripts,
            "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"
        );
        assert!(!scripts.contains("unsafe-inline"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn a_policy_set_by_the_page_is_kept() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("page"),
        );
        add_headers(&mut h);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], "page");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "same-origin");
    }

    #[test]
    fn other_answers_get_the_strict_policy_even_if_a_render_set_one() {
        let mut h = HeaderMap::new();
        add_headers(&mut h);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], DEFAULT_POLICY);
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("page"),
        );
        add_headers(&mut h);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], DEFAULT_POLICY);
    }
}
