//! The public REST API under `/api/v1`, for machines: monitoring, chat bots, CI, scripts.
//!
//! Authentication is explicit and only by bearer token (`Authorization: Bearer nw_…`): the
//! browser's session cookie opens nothing here, so the API needs no cross-site defence of its
//! own. Requests are rate limited per token; a POST with an `Idempotency-Key` is answered once
//! and replayed on retry; every error is an RFC 9457 problem document. Handlers are thin twins
//! of the server functions: they parse, check the role and call the same service functions.

pub mod action_items;
pub mod alerts;
pub mod board;
pub mod incidents;
pub mod notifications;
pub mod openapi;
pub mod plans;
mod problem;
pub mod risks;

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

pub use problem::Problem;

use crate::model::api_token::TokenScope;
use crate::model::{AppError, Role};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::repo::idempotency;

/// Largest request body the API reads.
pub const BODY_LIMIT: usize = 1 << 20;

/// Largest alert delivery read: an Alertmanager group of a few thousand alerts (it is also the
/// largest body any part of the server reads).
pub const ALERT_BODY_LIMIT: usize = crate::server::input_guard::BODY_LIMIT;

/// One route of the API: its method, its path under `/api/v1` and its handler. Every route is
/// declared through [`route`], so the list the router is built from is the list the contract
/// test compares with the OpenAPI description.
pub struct Route {
    method: Method,
    path: &'static str,
    handler: MethodRouter<AppState>,
    public: bool,
}

/// A route needing a token.
pub(crate) fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method the router can filter on");
    Route {
        method,
        path,
        handler: on(filter, handler),
        public: false,
    }
}

fn table() -> Vec<Route> {
    let mut all = Vec::new();
    all.extend(incidents::routes());
    all.extend(action_items::routes());
    all.extend(plans::routes());
    all.extend(board::routes());
    all.extend(alerts::routes());
    all.extend(risks::routes());
    all.extend(notifications::routes());
    all.push(Route {
        public: true,
        ..route(Method::GET, "/openapi.json", openapi::json)
    });
    all
}

/// Every route of the API as (lower-case method, full path), for the contract test.
pub fn route_list() -> Vec<(String, String)> {
    table()
        .into_iter()
        .map(|r| {
            (
                r.method.as_str().to_ascii_lowercase(),
                format!("/api/v1{}", r.path),
            )
        })
        .collect()
}

/// The `/api/v1` router (nested by `build_router`).
pub fn router(state: AppState) -> Router<AppState> {
    let (public, guarded): (Vec<Route>, Vec<Route>) = table().into_iter().partition(|r| r.public);
    let mut router = Router::new();
    for r in guarded {
        router = router.route(r.path, r.handler);
    }
    let mut router = router
        .fallback(|| async {
            Problem::new(
                StatusCode::NOT_FOUND,
                "There is no such API path: the operations are listed at /api/docs.",
            )
        })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "This path does not take that method: the operations are listed at /api/docs.",
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), idempotent))
        .layer(middleware::from_fn_with_state(state, authenticate));
    // After the layers: these (the description) are public, they open nothing.
    for r in public {
        router = router.route(r.path, r.handler);
    }
    router
}

/// The caller of an API request: the token's actor, checked for `role`.
pub fn caller(actor: &Actor, role: Role) -> Result<Actor, Problem> {
    crate::server::auth::check_role(Some(actor.clone()), role).map_err(Problem::from)
}

/// Resolves the bearer token into the request's `Actor` (an extension), or answers 401 with
/// `WWW-Authenticate: Bearer`; then takes one request from the token's rate allowance (429 with
/// `Retry-After` when spent). A token scoped to `alerts:write` reaches only the alert intake.
async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut authorizations = req.headers().get_all(header::AUTHORIZATION).iter();
    let header_value = match (authorizations.next(), authorizations.next()) {
        (Some(one), None) => one.to_str().ok().map(str::trim),
        (Some(_), Some(_)) => {
            return Problem::unauthorized(
                "Send one Authorization header, not several.",
                Some("invalid_request"),
            )
            .into_response();
        }
        _ => None,
    };
    let bearer = header_value.and_then(|v| {
        v.split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned())
    });
    let intake = is_alert_intake(req.uri().path());
    // PagerDuty's Events API carries its key in the body (`routing_key`), not in a header.
    let (bearer, req) = match bearer {
        None if intake && req.uri().path().ends_with("/alerts/events-v2") => {
            let (parts, body) = req.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, ALERT_BODY_LIMIT).await else {
                return Problem::too_large_for(ALERT_BODY_LIMIT).into_response();
            };
            let key = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("routing_key")?.as_str().map(|k| k.trim().to_owned()));
            (key, Request::from_parts(parts, Body::from(bytes)))
        }
        other => (other, req),
    };
    let mut req = req;
    let Some(bearer) = bearer else {
        return Problem::unauthorized(
            "Send an API token: Authorization: Bearer nw_… (an admin creates one under Admin → API tokens).",
            None,
        )
        .into_response();
    };
    let actor = match crate::server::service::tokens::authenticate(
        &state.pool,
        &bearer,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(Ok(actor)) => actor,
        Ok(Err(refusal)) => {
            tracing::warn!(reason = ?refusal, path = %req.uri().path(), "API token refused");
            return Problem::unauthorized(refusal.message(), Some("invalid_token")).into_response();
        }
        Err(e) => return Problem::from(e).into_response(),
    };
    let token = actor
        .token
        .as_ref()
        .expect("a token's actor names its token");
    let limiter = if intake {
        &state.alert_limiter
    } else {
        &state.api_limiter
    };
    if let Err(wait) = limiter.take(&token.id, Instant::now()) {
        tracing::warn!(token = %token.name, "API token over its rate limit");
        return Problem::from(AppError::TooManyRequests {
            retry_after_secs: (wait.as_secs_f64().ceil() as u64).max(1),
        })
        .into_response();
    }
    if token.scope == TokenScope::AlertsWrite && !intake {
        return Problem::forbidden("This token may only send alerts (scope alerts:write).")
            .into_response();
    }
    req.extensions_mut().insert(actor);
    next.run(req).await
}

/// Whether `path` (as the nested router sees it) is the alert intake, the one place a token
/// scoped to `alerts:write` may reach.
fn is_alert_intake(path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    path == "/alerts" || path.starts_with("/alerts/")
}

/// A POST with an `Idempotency-Key` header is answered once per token and key: a retry within
/// a day gets the first success back (status, `Location` and body) and changes nothing; the same
/// key with another request is refused (422), and a retry while the first is still being
/// answered is told to wait (409, `Retry-After`). Refusals and failures are not kept: they
/// changed nothing, so the request may be fixed and sent again under the same key.
async fn idempotent(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let keys: Vec<&HeaderValue> = req.headers().get_all("idempotency-key").iter().collect();
    if keys.is_empty() || req.method() != Method::POST {
        return next.run(req).await;
    }
    // A key that is not plain visible ASCII, or two keys, is refused rather than ignored: a
    // retry the server could not recognise would create the thing twice.
    let key = match keys.as_slice() {
        [one] => String::from_utf8_lossy(one.as_bytes()).trim().to_owned(),
        _ => String::new(),
    };
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Problem::from(AppError::field(
            "Idempotency-Key",
            "Use 1 to 255 visible ASCII characters (a UUID is a good key).",
        ))
        .into_response();
    }
    let Some(token) = req
        .extensions()
        .get::<Actor>()
        .and_then(|a| a.token.as_ref())
        .map(|t| t.id.clone())
    else {
        return next.run(req).await;
    };
    let limit = if is_alert_intake(req.uri().path()) {
        ALERT_BODY_LIMIT
    } else {
        BODY_LIMIT
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return Problem::too_large_for(limit).into_response();
    };
    // The same JSON with other spacing or key order is the same request.
    let canonical = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| serde_json::to_vec(&v).ok())
        .unwrap_or_else(|| bytes.to_vec());
    let fingerprint = format!(
        "{} {} {}",
        parts.method,
        parts.uri.path(),
        hex::encode(Sha256::digest(&canonical))
    );
    match idempotency::claim(&state.pool, &token, &key, &fingerprint).await {
        Err(e) => return Problem::from(e).into_response(),
        Ok(Some(first)) if first.fingerprint != fingerprint => {
            return Problem::from(AppError::field(
                "Idempotency-Key",
                "This key was used for another request: use a new key for each new request.",
            ))
            .into_response();
        }
        Ok(Some(first)) => return replay(first),
        Ok(None) => {}
    }
    // The request is answered and its key settled in a task of its own: a client that gives up
    // half-way must not leave the key claimed with nothing done (its retry would wait forever).
    let task = tokio::spawn(async move {
        let res = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        let (parts, body) = res.into_parts();
        let body = axum::body::to_bytes(body, 16 << 20).await.ok();
        match body {
            // Only a success is kept: a refusal (4xx) or a failure (5xx) changed nothing, so the
            // caller may fix the request and send it again under the same key.
            Some(body) if parts.status.is_success() => {
                let location = parts
                    .headers
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok());
                let text = String::from_utf8_lossy(&body);
                if let Err(e) = idempotency::store(
                    &state.pool,
                    &token,
                    &key,
                    parts.status.as_u16(),
                    location,
                    &text,
                )
                .await
                {
                    tracing::warn!(error = e.summary(), "could not keep an idempotent answer");
                }
                Some((parts, body))
            }
            other => {
                if let Err(e) = idempotency::release(&state.pool, &token, &key).await {
                    tracing::warn!(error = e.summary(), "could not release an idempotency key");
                }
                other.map(|body| (parts, body))
            }
        }
    });
    let Ok(Some((parts, body))) = task.await else {
        return Problem::from(AppError::Internal).into_response();
    };
    Response::from_parts(parts, Body::from(body))
}

/// The first answer again, for a retried request.
fn replay(first: idempotency::StoredAnswer) -> Response {
    let Some(status) = first
        .status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
    else {
        let mut res = Problem::from(AppError::Conflict(
            "The first request with this Idempotency-Key is still being answered: retry in a moment."
                .into(),
        ))
        .into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return res;
    };
    let mut res = (status, first.body.unwrap_or_default()).into_response();
    let content_type = if status.is_success() {
        "application/json"
    } else {
        problem::CONTENT_TYPE
    };
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Some(location) = first.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    res
}

/// A JSON request body of at most `LIMIT` bytes; what cannot be read is a problem naming the
/// field (by its path in the document) and what is wrong with it, never a bare 400 or a 500.
pub struct ApiJson<T, const LIMIT: usize = BODY_LIMIT>(pub T);

impl<T: DeserializeOwned, S: Send + Sync, const LIMIT: usize> FromRequest<S> for ApiJson<T, LIMIT> {
    type Rejection = Problem;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Problem> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                let t = t.split(';').next().unwrap_or("").trim();
                t.eq_ignore_ascii_case("application/json") || t.ends_with("+json")
            });
        if !json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the body as JSON with Content-Type: application/json.",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), LIMIT)
            .await
            .map_err(|_| Problem::too_large_for(LIMIT))?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(value) => match de.end() {
                Ok(()) => Ok(Self(value)),
                Err(e) => Err(AppError::BadRequest(format!(
                    "The body is not one JSON document: {e}"
                ))
                .into()),
            },
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    return Err(AppError::BadRequest(format!(
                        "The body is not valid JSON: {inner}"
                    ))
                    .into());
                }
                // serde's message ends with the position, which says nothing a field name does not.
                let message = inner.to_string();
                let message = message
                    .split(" at line ")
                    .next()
                    .unwrap_or(&message)
                    .to_owned();
                let field = if path == "." {
                    missing_field(&message)
                } else {
                    path
                };
                Err(AppError::field(&field, message).into())
            }
        }
    }
}

/// The field a "missing field `x`" or "unknown field `x`" message names, else the whole body
/// (`.`).
pub(crate) fn missing_field(message: &str) -> String {
    message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))
        .and_then(|rest| rest.split('`').next())
        .unwrap_or(".")
        .to_owned()
}

/// A query string; what cannot be read is a 400 problem saying what, never a bare text answer.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + schemars::JsonSchema + 'static, S: Send + Sync> FromRequestParts<S>
    for ApiQuery<T>
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        // A mistyped filter (`stauts=open`) would otherwise be ignored and answer everything.
        let known = query_names::<T>();
        let query = parts.uri.query().unwrap_or("");
        let mut unknown: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, _)| k.into_owned())
            .filter(|k| !known.contains(k))
            .collect();
        unknown.dedup();
        if !unknown.is_empty() {
            let expected = known.join(", ");
            return Err(AppError::Validation(
                unknown
                    .into_iter()
                    .map(|field| crate::model::error::FieldError {
                        message: format!(
                            "Not a parameter of this operation; it takes: {expected}."
                        ),
                        field,
                    })
                    .collect(),
            )
            .into());
        }
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Self(q.0))
            .map_err(|e| AppError::BadRequest(e.body_text()).into())
    }
}

/// The query parameters `T` takes (its properties), worked out once per type.
fn query_names<T: schemars::JsonSchema + 'static>() -> std::sync::Arc<Vec<String>> {
    use std::any::TypeId;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashMap<TypeId, Arc<Vec<String>>>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    names
        .entry(TypeId::of::<T>())
        .or_insert_with(|| {
            let schema = schemars::schema_for!(T).to_value();
            Arc::new(
                schema["properties"]
                    .as_object()
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default(),
            )
        })
        .clone()
}

/// A 201 Created with `Location` and the created resource.
pub fn created(location: &str, body: impl serde::Serialize) -> Response {
    let mut res = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(missing_field("missing field `note`"), "note");
        assert_eq!(
            missing_field("unknown field `based_on_verison`, expected one of `to`, `note`"),
            "based_on_verison"
        );
        assert_eq!(missing_field("invalid type: integer `5`"), ".");
    }
}
