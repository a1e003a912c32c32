//! Notification outbox benchmark, on SQLite (or `BENCH_DATABASE_URL`, PostgreSQL):
//!
//! 1. Throughput: `BENCH_DELIVERIES` deliveries waiting in the outbox, sent by `BENCH_WORKERS`
//!    outbox workers (as on that many instances) to a receiver on the loopback that verifies
//!    nothing and answers 204 at once. Checks that the receiver got every message exactly once.
//! 2. What an event's outbox row adds to `declare_incident`: `BENCH_DECLARES` declarations by 8
//!    concurrent callers with no channel, one channel, and five channels that want them.
//!
//! Run it with:
//!
//! ```sh
//! cargo bench --features ssr --bench notifications
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/nw_bench cargo bench --features ssr --bench notifications
//! ```
//!
//! Prints Markdown tables (the README's figures come from them).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use nightwatch::model::incident::{IncidentNumber, Severity};
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::notification::{ChannelInput, ChannelKind, IncidentFacts, NotifyEvent};
use nightwatch::model::{NewUser, Password, Role, Username};
use nightwatch::server::actor::Actor;
use nightwatch::server::db;
use nightwatch::server::jobs::outbox::Outbox;
use nightwatch::server::netpolicy::{NetPolicy, Reach};
use nightwatch::server::service::{accounts, incidents, notifications};
use sqlx::AnyPool;

/// Channels the throughput run spreads its deliveries over.
const CHANNELS: usize = 4;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fresh database named `name` (SQLite in a temporary folder unless `BENCH_DATABASE_URL`).
async fn database(name: &str) -> (AnyPool, String) {
    sqlx::any::install_default_drivers();
    let url = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => {
            let url = format!("{url}_{name}");
            let _ = <sqlx::Any as sqlx::migrate::MigrateDatabase>::drop_database(&url).await;
            url
        }
        Err(_) => {
            let dir = std::env::temp_dir()
                .join(format!("nightwatch-bench-notify-{}", std::process::id()));
            format!("sqlite://{}/{name}.db", dir.display())
        }
    };
    let pool = db::connect(&url, 10).await.expect("open");
    db::migrate(&pool).await.expect("migrate");
    (pool, url)
}

async fn admin(pool: &AnyPool) -> Actor {
    let new = NewUser {
        username: Username::parse("ada").unwrap(),
        role: Role::Admin,
        password: Password::parse("correct horse battery").unwrap(),
    };
    Actor::person(&accounts::create_user(pool, &new).await.expect("admin"))
}

/// A receiver answering 204 to every POST, keeping each `webhook-id`.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    use axum::routing::post;
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap| {
            let keep = keep.clone();
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                keep.lock().unwrap().push(id);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

fn channel(name: &str, url: &str) -> ChannelInput {
    ChannelInput {
        kind: ChannelKind::Webhook,
        name: name.into(),
        url: url.into(),
        secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
        events: vec![NotifyEvent::IncidentDeclared],
        services: vec![],
        min_severity: None,
        enabled: true,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let deliveries = env_num("BENCH_DELIVERIES", 5_000) / CHANNELS * CHANNELS;
    let workers = env_num("BENCH_WORKERS", 2);
    let declares = env_num("BENCH_DECLARES", 2_000);
    let backend = if std::env::var("BENCH_DATABASE_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    };

    // 1. Throughput, with the worker loop every instance runs, over four channels (a worker
    // keeps at most four sends to one channel in flight).
    let (pool, _) = database("outbox").await;
    let ada = admin(&pool).await;
    let (url, got) = receiver().await;
    for i in 0..CHANNELS {
        notifications::save_channel(
            &pool,
            &NetPolicy::default(),
            &ada,
            None,
            &channel(&format!("audit {i}"), &url),
        )
        .await
        .expect("channel");
    }
    let message = IncidentFacts {
        number: IncidentNumber(1),
        title: "Checkout down".into(),
        severity: Severity::Sev2,
        services: vec!["checkout".into()],
    }
    .declared("bench", "2026-11-29T03:00:00Z");
    let mut written = 0;
    while written < deliveries {
        let batch = ((deliveries - written) / CHANNELS).min(250);
        let mut tx = pool.begin().await.unwrap();
        written += notifications::notify_all(&mut tx, &vec![message.clone(); batch])
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..workers {
        // Each worker on a pool of its own, as another instance would be.
        let own = db::connect(&pool_url(), 10).await.unwrap();
        handles.push(Outbox::new(own, Reach::default(), None).spawn());
    }
    loop {
        let delivered: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notification_deliveries WHERE state = 'delivered'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if delivered as usize >= deliveries {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed();
    for h in handles {
        h.abort();
    }
    let ids = got.lock().unwrap().clone();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), deliveries, "every delivery sent");
    assert_eq!(distinct.len(), deliveries, "none sent twice");
    println!(
        "\n{backend}: outbox throughput ({workers} workers, 16 sends in flight each, {CHANNELS} channels)\n"
    );
    println!("| deliveries | seconds | deliveries/s |\n|---|---|---|");
    println!(
        "| {deliveries} | {:.2} | {:.0} |",
        wall.as_secs_f64(),
        deliveries as f64 / wall.as_secs_f64()
    );

    // 2. What the outbox adds to a declaration.
    println!("\n{backend}: declare_incident, 8 concurrent callers, {declares} declarations\n");
    println!(
        "| channels wanting it | declarations/s | median ms | p95 ms | p99 ms |\n|---|---|---|---|---|"
    );
    for channels in [0usize, 1, 5] {
        let (pool, _) = database(&format!("declare_{channels}")).await;
        let ada = admin(&pool).await;
        for i in 0..channels {
            notifications::save_channel(
                &pool,
                &NetPolicy::default(),
                &ada,
                None,
                &channel(&format!("hook {i}"), "http://127.0.0.1:9/hook"),
            )
            .await
            .unwrap();
        }
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let latencies = Arc::new(Mutex::new(Vec::with_capacity(declares)));
        let started = Instant::now();
        let mut callers = Vec::new();
        for _ in 0..8 {
            let (pool, ada, next, latencies) =
                (pool.clone(), ada.clone(), next.clone(), latencies.clone());
            callers.push(tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < declares {
                    let new = NewIncident {
                        title: "Checkout down".into(),
                        description: String::new(),
                        severity: Severity::Sev2,
                        services: vec!["checkout".into()],
                        tags: vec![],
                        detected_at: Utc::now(),
                        impact_started_at: None,
                    };
                    let t = Instant::now();
                    incidents::declare(&pool, &ada, &new)
                        .await
                        .expect("declare");
                    latencies.lock().unwrap().push(t.elapsed());
                }
            }));
        }
        for c in callers {
            c.await.unwrap();
        }
        let wall = started.elapsed();
        let mut l = latencies.lock().unwrap().clone();
        l.sort();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification_deliveries")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(
            rows as usize,
            declares * channels,
            "one delivery per channel per declaration"
        );
        println!(
            "| {channels} | {:.0} | {:.1} | {:.1} | {:.1} |",
            declares as f64 / wall.as_secs_f64(),
            percentile(&l, 0.5),
            percentile(&l, 0.95),
            percentile(&l, 0.99)
        );
    }
}

/// The URL `pool` was opened with (the benchmark opens one per worker, as instances would).
fn pool_url() -> String {
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => format!("{url}_outbox"),
        Err(_) => {
            let dir = std::env::temp_dir()
                .join(format!("nightwatch-bench-notify-{}", std::process::id()));
            format!("sqlite://{}/outbox.db", dir.display())
        }
    }
}
