//! Incident benchmark: fills SQLite with N incidents (default 100,000) and measures, through the
//! real router on a loopback port, the incident list page under concurrency and the throughput
//! of `declare_incident`.
//!
//!     cargo bench --features ssr --bench incidents
//!     BENCH_INCIDENTS=1000000 BENCH_CONCURRENCY=16 cargo bench --features ssr --bench incidents
//!
//! Prints a Markdown table (the README's figures come from it).

mod support;

use support::{Stats, env_num, load, request};

use std::net::SocketAddr;
use std::time::Instant;

use leptos::config::LeptosOptions;
use nightwatch::model::{NewUser, Password, Role, Username};
use nightwatch::server::config::Config;
use nightwatch::server::router::build_router;
use nightwatch::server::service::accounts;
use nightwatch::server::{AppState, db, demo};

fn get(path: &str, cookie: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
}

fn post(path: &str, body: &str, cookie: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn api(method: &str, path: &str, body: &str, token: &str, extra: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n{extra}\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Runs `total` requests made by `make(i)` from `concurrency` clients.
async fn load_made(
    addr: SocketAddr,
    total: usize,
    concurrency: usize,
    make: impl Fn(usize) -> String,
) -> Stats {
    load(addr, (0..total).map(make).collect(), concurrency).await
}

fn row(name: &str, s: &Stats) {
    println!(
        "| {name} | {} | {:.0} | {:.1} | {:.1} | {:.1} |",
        s.count,
        s.count as f64 / s.wall.as_secs_f64(),
        s.p50.as_secs_f64() * 1000.0,
        s.p95.as_secs_f64() * 1000.0,
        s.p99.as_secs_f64() * 1000.0
    );
}

#[tokio::main]
async fn main() {
    let n = env_num("BENCH_INCIDENTS", 100_000);
    let concurrency = env_num("BENCH_CONCURRENCY", 8);
    let requests = env_num("BENCH_REQUESTS", 400);
    let dir = std::env::temp_dir().join(format!("nightwatch-bench-{}", std::process::id()));
    let url = format!("sqlite://{}/bench.db", dir.display());
    let pool = db::connect(&url, 10).await.expect("open");
    db::migrate(&pool).await.expect("migrate");

    let t = Instant::now();
    demo::fill(&pool, n, 42).await.expect("fill");
    let fill = t.elapsed();
    let new = NewUser {
        username: Username::parse("bench").unwrap(),
        role: Role::Commander,
        password: Password::parse("bench password").unwrap(),
    };
    accounts::create_user(&pool, &new).await.expect("user");

    let options = LeptosOptions::builder().output_name("nightwatch").build();
    let mut config = Config::for_database(url.clone());
    config.api_rate_per_minute = u32::MAX;
    let state = AppState::new(pool.clone(), options, config);
    let app = build_router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (status, login) = request(
        addr,
        &post("/api/login", "username=bench&password=bench+password", ""),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned();

    // A cursor deep into the list, for a later page.
    let (_, first) = request(
        addr,
        &post(
            "/api/list_incidents",
            "status=&severity=&service=&tag=&q=&sort=&after=",
            &cookie,
        ),
    )
    .await;
    let next = first
        .split("\"next\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("")
        .to_owned();

    println!(
        "\nIncident benchmark: {n} incidents on SQLite, {concurrency} concurrent clients, {requests} requests per row"
    );
    println!(
        "(filled in {:.1} s, {:.0} incidents/s with their timelines)\n",
        fill.as_secs_f64(),
        n as f64 / fill.as_secs_f64()
    );
    println!("| request | count | req/s | median ms | p95 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    for (name, path) in [
        (
            "GET /incidents (page 1, server-rendered)",
            "/incidents".to_owned(),
        ),
        (
            "GET /incidents?status=active",
            "/incidents?status=active".to_owned(),
        ),
        (
            "GET /incidents?severity=sev1&sort=severity",
            "/incidents?severity=sev1&sort=severity".to_owned(),
        ),
        (
            "GET /incidents?service=payments",
            "/incidents?service=payments".to_owned(),
        ),
        (
            "GET /incidents (page 2, keyset)",
            format!("/incidents?after={next}"),
        ),
    ] {
        let s = load_made(addr, requests, concurrency, |_| get(&path, &cookie)).await;
        row(name, &s);
    }
    for (name, body) in [
        (
            "POST /api/list_incidents (no filter)",
            "status=&severity=&service=&tag=&q=&sort=&after=",
        ),
        (
            "POST /api/list_incidents (service=payments)",
            "status=&severity=&service=payments&tag=&q=&sort=&after=",
        ),
    ] {
        let s = load_made(addr, requests, concurrency, |_| {
            post("/api/list_incidents", body, &cookie)
        })
        .await;
        row(name, &s);
    }
    let s = load_made(addr, requests, concurrency, |i| {
        post(
            "/api/declare_incident",
            &format!("title=Bench+incident+{i}&description=&severity=sev3&services=bench&tags=load&detected_at="),
            &cookie,
        )
    })
    .await;
    row("POST /api/declare_incident", &s);

    // The REST API, with a commander token (rate limit lifted for the benchmark).
    let new = nightwatch::model::api_token::NewToken::parse("bench", "commander", "", "").unwrap();
    let token = nightwatch::server::service::tokens::create(&pool, None, &new)
        .await
        .expect("token")
        .token;
    let (_, first) = request(addr, &api("GET", "/api/v1/incidents", "", &token, "")).await;
    let next_api = first
        .split("\"next\":\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("/api/v1/incidents")
        .to_owned();
    for (name, path) in [
        (
            "GET /api/v1/incidents (page 1)",
            "/api/v1/incidents".to_owned(),
        ),
        (
            "GET /api/v1/incidents?status=active&severity=sev1",
            "/api/v1/incidents?status=active&severity=sev1".to_owned(),
        ),
        ("GET /api/v1/incidents (page 2, next link)", next_api),
        (
            "GET /api/v1/incidents/{number}",
            format!("/api/v1/incidents/INC-{}", n / 2),
        ),
    ] {
        let s = load_made(addr, requests, concurrency, |_| {
            api("GET", &path, "", &token, "")
        })
        .await;
        row(name, &s);
    }
    let declaration = |i: usize| {
        format!(r#"{{"title":"API bench incident {i}","severity":"sev3","services":["bench"]}}"#)
    };
    let s = load_made(addr, requests, concurrency, |i| {
        api("POST", "/api/v1/incidents", &declaration(i), &token, "")
    })
    .await;
    row("POST /api/v1/incidents", &s);
    let s = load_made(addr, requests, concurrency, |i| {
        api(
            "POST",
            "/api/v1/incidents",
            &declaration(i),
            &token,
            &format!("Idempotency-Key: bench-{i}\r\n"),
        )
    })
    .await;
    row("POST /api/v1/incidents (Idempotency-Key)", &s);
    pool.close().await;
    if std::env::var_os("BENCH_KEEP_DB").is_some() {
        println!("\nkept the database: {url}");
    } else {
        let _ = std::fs::remove_dir_all(dir);
    }
}
