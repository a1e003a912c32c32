//! Prometheus metrics of the platform itself: requests by route, latency, database pool use.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::model::notification::ChannelView;
use crate::server::AppState;

/// The route template a request matched, carried out on the response for the outer layer.
#[derive(Clone)]
struct RouteLabel(String);

/// The process-wide recorder (metrics are global by nature; installed once).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &[
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .expect("bucket list is not empty")
            .install_recorder()
            .expect("no other metrics recorder is installed")
    })
}

/// Installs the recorder (idempotent). Call before serving.
pub fn init() {
    handle();
}

/// Inner (route) layer: remembers which route template matched.
pub async fn tag_route(req: Request, next: Next) -> Response {
    let label = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut res = next.run(req).await;
    if let Some(label) = label {
        res.extensions_mut().insert(RouteLabel(label));
    }
    res
}

/// Outer layer: counts and times every request, labelled by route template (or `fallback` for
/// static files and unknown paths, so labels stay bounded).
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method()).to_owned();
    let res = next.run(req).await;
    let route = res
        .extensions()
        .get::<RouteLabel>()
        .map(|l| l.0.clone())
        .unwrap_or_else(|| "fallback".to_owned());
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(start.elapsed().as_secs_f64());
    res
}

/// The method as a label: the standard methods by name, anything else as `other`, so made-up
/// methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`: Prometheus text format. Public unless `NIGHTWATCH_METRICS_TOKEN` is set; then
/// the scraper must send `Authorization: Bearer <token>`.
pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(sent.trim().as_bytes(), token.as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                "a bearer token is required for /metrics\n",
            )
                .into_response();
        }
    }
    init();
    let size = f64::from(state.pool.size());
    let idle = state.pool.num_idle() as f64;
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(size - idle);
    metrics::gauge!("db_pool_max_connections").set(f64::from(state.config.db_max_connections));
    let mut text = handle().render();
    // Written here rather than kept as gauges, so a deleted channel leaves no series behind.
    match crate::server::service::notifications::health(&state.pool).await {
        Ok(channels) => text.push_str(&channel_lines(&channels)),
        Err(e) => tracing::warn!(error = e.summary(), "channel health left out of /metrics"),
    }
    ([("content-type", "text/plain; version=0.0.4")], text).into_response()
}

/// A gauge family about channels: its name, its help, and each channel's value.
type Family = (&'static str, &'static str, fn(&ChannelView) -> i64);

/// The notification channels' health in Prometheus text format.
fn channel_lines(channels: &[ChannelView]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let families: [Family; 4] = [
        (
            "nightwatch_notification_channel_failing",
            "1 when the channel is enabled and its last 3 or more attempts in a row failed.",
            |c| i64::from(c.failing()),
        ),
        (
            "nightwatch_notification_channel_failures",
            "Failed attempts in a row since the channel's last success.",
            |c| c.health.failures,
        ),
        (
            "nightwatch_notification_deliveries_pending",
            "Deliveries waiting to be sent (first time or again).",
            |c| c.health.pending,
        ),
        (
            "nightwatch_notification_deliveries_dead",
            "Deliveries that could not be delivered.",
            |c| c.health.dead,
        ),
    ];
    for (name, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for c in channels {
            let label = c
                .name
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = writeln!(
                out,
                "{name}{{channel=\"{label}\",kind=\"{}\"}} {}",
                c.kind.as_str(),
                value(c)
            );
        }
    }
    out
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        let odd = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "other");
        assert_eq!(method_label(&Method::POST), "POST");
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
