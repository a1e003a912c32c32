//! The yardstick for `scripts/load.sh`: an axum "Hello, World!" on the same runtime settings as
//! `nightwatch serve` (tokio's multi-threaded runtime, one worker per core), so the server's
//! throughput can be reported as a share of what axum itself does on the same machine and run.
//!
//!     cargo run --release --no-default-features --features ssr --example hello -- 127.0.0.1:3999

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3999".to_owned());
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
    axum::serve(listener, app).await.expect("serve");
}
