//! HTTP steps against a local test server: passed and failed assertions, the latency bound, the
//! total timeout, the body size cap, an unreachable host.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use nightwatch::server::jobs::steps::{HttpCheck, HttpLimits, run_http_check};
use nightwatch::server::netpolicy::Reach;

async fn serve() -> String {
    let app = Router::new()
        .route("/ok", get(|| async { "all healthy" }))
        .route(
            "/teapot",
            get(|| async { (axum::http::StatusCode::IM_A_TEAPOT, "short and stout") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "finally"
            }),
        )
        .route("/big", get(|| async { "x".repeat(300_000) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn check(url: String, extra: &[(&str, &str)]) -> HttpCheck {
    let mut params = BTreeMap::from([
        ("url".to_owned(), url),
        ("expect_status".to_owned(), "200".to_owned()),
    ]);
    for (k, v) in extra {
        params.insert((*k).to_owned(), (*v).to_owned());
    }
    HttpCheck::from_params(&params).unwrap()
}

#[tokio::test]
async fn assertions_pass_and_fail_on_status_body_and_latency() {
    let base = serve().await;
    let limits = HttpLimits::default();
    let http = Reach::default();

    let ok = run_http_check(
        &http,
        &check(format!("{base}/ok"), &[("body_contains", "healthy")]),
        &limits,
    )
    .await;
    assert!(ok.passed, "{ok:?}");
    assert!(ok.output.contains("200 OK") && ok.output.contains("all healthy"));

    let teapot = run_http_check(&http, &check(format!("{base}/teapot"), &[]), &limits).await;
    assert!(!teapot.passed);
    assert_eq!(
        teapot.error.as_deref(),
        Some("expected status 200, got 418")
    );

    let missing = run_http_check(
        &http,
        &check(format!("{base}/ok"), &[("body_contains", "degraded")]),
        &limits,
    )
    .await;
    assert!(
        missing
            .error
            .unwrap()
            .contains("does not contain \"degraded\"")
    );

    let slow = run_http_check(
        &http,
        &check(format!("{base}/slow"), &[("max_latency", "200ms")]),
        &limits,
    )
    .await;
    assert!(!slow.passed);
    assert!(slow.error.unwrap().contains("more than 200 ms"));
}

#[tokio::test]
async fn the_total_timeout_and_the_size_cap_bound_every_request() {
    let base = serve().await;
    let limits = HttpLimits {
        total: Duration::from_millis(300),
        max_body: 1000,
        ..HttpLimits::default()
    };
    let http = Reach::default();
    let started = std::time::Instant::now();
    let slow = run_http_check(&http, &check(format!("{base}/slow"), &[]), &limits).await;
    assert!(!slow.passed);
    assert!(
        slow.error
            .unwrap()
            .contains("no complete answer within 0.3 s")
    );
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "gave up at the limit"
    );

    let big = run_http_check(&http, &check(format!("{base}/big"), &[]), &limits).await;
    assert!(big.passed, "{:?}", big.error);
    assert!(big.output.contains("body cut at 1000 bytes"));
    assert!(big.output.len() < 2000);

    let nowhere = run_http_check(&http, &check("http://127.0.0.1:9/".into(), &[]), &limits).await;
    assert!(nowhere.error.unwrap().starts_with("request failed"));
}
