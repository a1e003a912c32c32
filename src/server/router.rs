//! `build_router`: the whole HTTP surface — pages, server functions, health, metrics — and the
//! middleware every request passes (metrics, tracing, cross-site refusal, sessions, sign-in).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::CompressionLevel;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::app::{App, shell};
use crate::model::AppError;
use crate::server::AppState;
use crate::server::auth::SignedIn;
use crate::server::session_store::SqlSessionStore;
use crate::server::{assets, forms, input_guard, metrics, plain_forms, rest, security};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "nightwatch_session";

/// Builds the application router over `state`.
pub fn build_router(state: AppState) -> Router {
    metrics::init();
    let routes = route_list().to_vec();
    let inactivity = time::Duration::try_from(state.config.session_inactivity)
        .unwrap_or(time::Duration::hours(12));
    let sessions = SessionManagerLayer::new(SqlSessionStore::new(state.pool.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(inactivity));

    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .route(
            "/incidents/{number}/postmortem/save",
            post(forms::save_postmortem),
        )
        .route(
            "/incidents/{number}/postmortem.md",
            get(forms::postmortem_markdown),
        )
        .route("/plans/{number}/run", post(forms::run_plan))
        .nest("/api/v1", rest::router(state.clone()))
        .route("/api/docs", get(rest::openapi::page))
        .nest_service(
            &format!("/{}", state.leptos_options.site_pkg_dir),
            assets::service(assets::pkg_dir(&state.leptos_options)),
        )
        .leptos_routes_with_context(&state, routes, security::provide_page_policy, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .route_layer(middleware::from_fn(metrics::tag_route))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(security::provide_page_policy, shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_sign_in,
        ))
        .layer(middleware::from_fn(server_fn_status))
        .layer(sessions)
        .layer(middleware::from_fn(refuse_cross_site))
        // Inside the plain-form layer, so a refused plain post goes back to its page too.
        .layer(middleware::from_fn(input_guard::refuse_nul))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            plain_forms::outcome_in_url,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            plain_forms::verify_feedback,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        // A handler that panics answers 500 (logged) instead of dropping the connection.
        .layer(CatchPanicLayer::custom(panicked))
        // Pages and JSON gzipped at level 4 when the browser accepts it (a 24 KB list page in
        // 0.2 ms, to 4.6 KB). Not brotli: the pure-Rust encoder set up per response cost 2.4 ms
        // of CPU for each page and took 45 % off the list's throughput under load, to save 400
        // bytes (scripts/load.sh). The client's files are served precompressed with brotli at
        // its best and pass through as they are.
        .layer(
            CompressionLayer::new()
                .no_br()
                .quality(CompressionLevel::Precise(4)),
        )
        .layer(middleware::from_fn(security::headers))
        .layer(middleware::from_fn(metrics::track))
        .with_state(state)
}

/// The app's routes, generated once per process. Generating them renders the app with resource
/// loading suppressed through a process-wide flag (leptos_server's `SuppressResourceLoad`): a
/// resource another request first polls in that window never loads and its page never finishes
/// (leptos-rs/leptos#4773). One generation per process keeps the window before any request —
/// tests build many routers in one process, concurrently with other tests' page renders.
fn route_list() -> &'static [AxumRouteListing] {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App))
}

/// `GET /healthz`: 200 when the database answers within two seconds, 503 otherwise. Cheap under
/// load: one check at a time, and its answer stands for a second ([`Health`]), so a load
/// balancer probing every instance many times a second costs one query a second.
async fn healthz(State(state): State<AppState>) -> Response {
    let db_ok = state.health.database_ok(&state.pool).await;
    let body = serde_json::json!({
        "status": if db_ok { "ok" } else { "unavailable" },
        "database": if db_ok { "ok" } else { "unreachable" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Refuses state-changing requests sent by another site (CSRF): `Sec-Fetch-Site` must be
/// `same-origin` or `none` when present, and an `Origin` header (or, without one, a `Referer`)
/// must match `Host`.
async fn refuse_cross_site(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || same_origin(req.headers())
    {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "refused a cross-site request");
    AppError::Forbidden.into_response()
}

/// The answer to a request whose handler panicked.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(%message, "a request handler panicked");
    AppError::Internal.into_response()
}

/// Whether a state-changing request's headers show it came from this site (or from no browser).
fn same_origin(headers: &HeaderMap) -> bool {
    // A header that is present but not readable text counts as a foreign value, never as absent.
    let text = HeaderValue::to_str;
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(text(site), Ok("same-origin" | "none"));
    }
    // Without an `Origin` (old browsers, some privacy settings), a `Referer` must name this site;
    // with neither, the request came from no browser (curl, a script) and passes.
    let Some(url) = headers.get("origin").or_else(|| headers.get("referer")) else {
        return true;
    };
    match (text(url), headers.get("host").map(text)) {
        (Ok(url), Some(Ok(host))) => url.split_once("://").is_some_and(|(_, rest)| {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            authority.eq_ignore_ascii_case(host)
        }),
        _ => false,
    }
}

/// Server functions answer errors with 500 and the encoded `AppError`; give each its own status
/// (401, 403, 422 …) in this one place. Plain-form redirects (3xx) are left as they are.
async fn server_fn_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return AppError::Internal.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.http_status();
        crate::server::error::add_headers(&error, &mut parts.headers);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Paths anyone may load without signing in.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/metrics" | "/favicon.ico" | "/favicon.svg"
    ) || path.starts_with("/pkg/")
        || path.starts_with("/api/")
}

/// Pages need a signed-in user: others are sent to `/login?next=…`; a signed-in user asking for
/// the sign-in page is sent on. Server functions check roles themselves.
async fn require_sign_in(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let signed_in = SignedIn::default();
    req.extensions_mut().insert(signed_in.clone());
    let path = req.uri().path();
    if !matches!(*req.method(), Method::GET | Method::HEAD) || is_public(path) {
        return next.run(req).await;
    }
    let user = match signed_in.user(&state.pool, &session).await {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    match (path == "/login", user.is_some()) {
        (true, true) => {
            let next = query_param(req.uri().query().unwrap_or(""), "next");
            see_other(&crate::api::auth::safe_next(next.as_deref()))
        }
        (true, false) | (false, true) => next.run(req).await,
        (false, false) => {
            let wanted = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            if wanted == "/" {
                see_other("/login")
            } else {
                see_other(&format!("/login?next={}", percent_encode(wanted)))
            }
        }
    }
}

/// A 303 to `location` (after a form post, or to the sign-in page). A location that cannot be
/// a header (a control character slipped in) goes home instead of failing the request.
pub(crate) fn see_other(location: &str) -> Response {
    let location = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The first value of `name` in a URL query string.
fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn percent_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The last database check of `/healthz`.
#[derive(Default)]
pub struct Health {
    last: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl Health {
    /// How long one check's answer stands.
    const FRESH: std::time::Duration = std::time::Duration::from_secs(1);

    /// Whether the database answered `SELECT 1` within two seconds, checked at most once a
    /// second: probes arriving during a check wait for it and share its answer. A closed pool
    /// (the instance shutting down) is unhealthy at once.
    pub async fn database_ok(&self, pool: &sqlx::AnyPool) -> bool {
        if pool.is_closed() {
            return false;
        }
        let mut last = self.last.lock().await;
        if let Some((at, ok)) = *last
            && at.elapsed() < Self::FRESH
        {
            return ok;
        }
        let query = sqlx::query("SELECT 1").execute(pool);
        let ok = matches!(
            tokio::time::timeout(std::time::Duration::from_secs(2), query).await,
            Ok(Ok(_))
        );
        *last = Some((std::time::Instant::now(), ok));
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://a"),
            ("host", "a")
        ])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
    }

    #[test]
    fn origin_must_match_host() {
        assert!(same_origin(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:3000")
        ])));
    }

    #[test]
    fn without_an_origin_the_referer_must_name_this_site() {
        let host = ("host", "127.0.0.1:3000");
        assert!(same_origin(&headers(&[
            ("referer", "http://127.0.0.1:3000/incidents?status=open"),
            host
        ])));
        for foreign in [
            "https://evil.example/post",
            "http://127.0.0.1:3000.evil.example/",
            "http://127.0.0.1:3000@evil.example/",
            "not a url",
        ] {
            assert!(
                !same_origin(&headers(&[("referer", foreign), host])),
                "{foreign}"
            );
        }
        // Values that are not readable text are foreign, not absent.
        for name in ["origin", "referer", "sec-fetch-site"] {
            let mut h = headers(&[host]);
            h.insert(name, HeaderValue::from_bytes(b"http://\xe9vil/").unwrap());
            assert!(!same_origin(&h), "{name}");
        }
        // An Origin decides over a Referer.
        assert!(!same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("referer", "http://127.0.0.1:3000/"),
            host
        ])));
    }

    #[test]
    fn requests_without_browser_headers_pass() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:3000")])));
    }

    #[test]
    fn next_survives_the_round_trip_through_the_login_url() {
        let wanted = "/admin/users?tab=a&b=c d";
        let query = format!("next={}", percent_encode(wanted));
        assert_eq!(query_param(&query, "next").as_deref(), Some(wanted));
    }
}
