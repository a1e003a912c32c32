//! Metrics board benchmark: fills a database with N incidents (default 1,000,000, the demo
//! generator's bulk writer; the filled SQLite file is kept and reused for the same N and seed),
//! then starts the real server as a child process on a loopback port and requests the board
//! page one request at a time (server-side rendering included), reporting the median and p95
//! and the server process's peak resident memory (VmHWM).
//!
//!     cargo bench --features ssr --bench board
//!     BENCH_INCIDENTS=100000 BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/nw_bench_board \
//!         cargo bench --features ssr --bench board
//!
//! Prints a Markdown table (the README's figures come from it).

mod support;

use support::{env_num, request, sign_in};

use std::net::SocketAddr;
use std::time::Instant;

use leptos::config::LeptosOptions;
use nightwatch::model::{NewUser, Password, Role, Username};
use nightwatch::server::config::Config;
use nightwatch::server::router::build_router;
use nightwatch::server::service::accounts;
use nightwatch::server::{AppState, db, demo};
use tokio::io::AsyncBufReadExt;

const PASSWORD: &str = "bench viewer password";

fn summary(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at =
        |p: f64| values[((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    (
        at(0.5),
        at(0.95),
        values.last().copied().unwrap_or(f64::NAN),
    )
}

/// The child: serve the router over `url` on a free loopback port, print the address.
async fn serve(url: String) {
    let pool = db::connect(&url, 10).await.expect("connect");
    let options = LeptosOptions::builder().output_name("nightwatch").build();
    let state = AppState::new(pool, options, Config::for_database(url));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening {}", listener.local_addr().unwrap());
    axum::serve(listener, build_router(state)).await.unwrap();
}

/// `BENCH_QUERIES=1`: each of the default view's queries alone, one at a time on the pool —
/// where the board's time goes (`BENCH_QUERIES=all`: the all-time view's, by month).
async fn queries(pool: &sqlx::AnyPool, runs: usize, all_time: bool) {
    use nightwatch::model::board::{BoardQuery, buckets};
    use nightwatch::model::metrics::Measure;
    use nightwatch::server::repo::metrics::{self as repo, Breakdown};
    let today = chrono::Utc::now().date_naive();
    let query = if all_time {
        BoardQuery {
            from: (today - chrono::Duration::days(365 * 12))
                .format("%Y-%m-%d")
                .to_string(),
            period: "month".to_owned(),
            ..BoardQuery::default()
        }
    } else {
        BoardQuery::default()
    };
    let request = query.check(today).unwrap();
    let filter = &request.filter;
    let points = buckets(request.period, request.first, request.last);
    let text = today.format("%Y-%m-%d").to_string();
    let view = if all_time {
        "all-time view"
    } else {
        "default view"
    };
    println!("| query ({view}) | median ms |");
    println!("|---|---|");
    macro_rules! time {
        ($name:expr, $call:expr) => {{
            let mut times = Vec::new();
            for _ in 0..runs {
                let t = Instant::now();
                $call.await.unwrap();
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            println!("| {} | {:.1} |", $name, summary(times).0);
        }};
    }
    time!(
        "MTTA statistics",
        repo::duration_stats(pool, Measure::Mtta, filter)
    );
    time!(
        "MTTR statistics",
        repo::duration_stats(pool, Measure::Mttr, filter)
    );
    time!("recurrence", repo::recurrence(pool, filter));
    time!(
        "by severity",
        repo::count_by(pool, Breakdown::Severity, filter)
    );
    time!(
        "by service",
        repo::count_by(pool, Breakdown::Service, filter)
    );
    time!("drill runs", repo::drill_stats(pool, filter));
    time!("action items", repo::action_figures(pool, filter, &text));
    time!("status", repo::count_by(pool, Breakdown::Status, filter));
    time!("trend", repo::trend(pool, filter, &points));
    time!(
        "the whole board (from the monthly rollups where the range has whole months)",
        nightwatch::server::service::metrics::board(pool, &request, today)
    );
    time!(
        "the whole board counted from every incident (no rollups)",
        nightwatch::server::service::metrics::Boards::with_slots(16)
            .without_rollups()
            .view(pool, &request, today)
    );
    println!();
}

fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Ok(url) = std::env::var("BENCH_BOARD_SERVE") {
        return serve(url).await;
    }
    let incidents = env_num("BENCH_INCIDENTS", 1_000_000);
    let requests = env_num("BENCH_REQUESTS", 40);
    let seed = 7;
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let path = std::env::temp_dir().join(format!("nw-bench-board-{incidents}-{seed}.db"));
        format!("sqlite://{}", path.display())
    });
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let pool = db::connect(&url, 4).await.expect("connect");
    db::migrate(&pool).await.expect("migrate");
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
        .fetch_one(&pool)
        .await
        .unwrap();
    if existing == 0 {
        let t = Instant::now();
        demo::fill(&pool, incidents, seed).await.expect("fill");
        let secs = t.elapsed().as_secs_f64();
        let rows: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM incident_events) + (SELECT COUNT(*) FROM incident_services) \
             + (SELECT COUNT(*) FROM incident_tags) + (SELECT COUNT(*) FROM action_items) \
             + (SELECT COUNT(*) FROM postmortems)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        eprintln!(
            "filled {incidents} incidents (+{rows} timeline, service, tag, action item and postmortem rows) in {secs:.0} s: {:.0} incidents/s",
            incidents as f64 / secs
        );
        // What the server's start-up does after a bulk load (SQLite), and what autovacuum does
        // soon after one (PostgreSQL: statistics, and the visibility map index-only scans need).
        db::optimize(&pool).await.unwrap();
        if backend == "PostgreSQL" {
            sqlx::query("VACUUM (ANALYZE)")
                .execute(&pool)
                .await
                .unwrap();
        }
    } else {
        assert_eq!(existing as usize, incidents, "{url} holds another data set");
        eprintln!("reusing {existing} incidents in {url}");
    }
    if nightwatch::server::repo::users::find_by_username(&pool, "benchviewer")
        .await
        .unwrap()
        .is_none()
    {
        let new = NewUser {
            username: Username::parse("benchviewer").unwrap(),
            role: Role::Viewer,
            password: Password::parse(PASSWORD).unwrap(),
        };
        accounts::create_user(&pool, &new).await.unwrap();
    }
    if let Ok(which) = std::env::var("BENCH_QUERIES") {
        let runs = if which == "all" { 3 } else { requests };
        queries(&pool, runs, which == "all").await;
    }
    pool.close().await;

    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .env("BENCH_BOARD_SERVE", &url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    let pid = child.id().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr: SocketAddr = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the server's address");
        if let Some(a) = line.strip_prefix("listening ") {
            break a.parse().unwrap();
        }
    };
    let cookie = sign_in(addr, "benchviewer", PASSWORD).await;
    let rss_idle = peak_kib(pid).unwrap_or(0);

    let today = chrono::Utc::now().date_naive();
    let long_ago = (today - chrono::Duration::days(365 * 12)).format("%Y-%m-%d");
    // (name, path, timed requests): the all-time view reads every incident, so fewer.
    let views = [
        (
            "default: last 90 days, by week",
            "/board".to_owned(),
            requests,
        ),
        (
            "last 90 days, service payments",
            "/board?service=payments".to_owned(),
            requests,
        ),
        (
            "last 90 days, SEV2",
            "/board?severity=sev2".to_owned(),
            requests,
        ),
        (
            "all time (12 years), by month",
            format!("/board?from={long_ago}&period=month"),
            (requests / 8).max(5),
        ),
    ];
    println!("| {backend}, {incidents} incidents: view | requests | median ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|");
    for (name, path, requests) in &views {
        let raw = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        );
        // One warm-up request, then `requests` timed ones, one at a time.
        let (status, text) = request(addr, &raw).await;
        assert_eq!(status, 200, "{path}: {text}");
        assert!(
            text.contains("MTTR") && text.contains("<svg"),
            "{path}: not the board"
        );
        let mut times = Vec::new();
        for _ in 0..*requests {
            let t = Instant::now();
            let (status, _) = request(addr, &raw).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(status, 200);
        }
        let (p50, p95, max) = summary(times);
        println!("| {name} | {requests} | {p50:.1} | {p95:.1} | {max:.1} |");
    }
    let peak = peak_kib(pid).unwrap_or(0);
    println!();
    println!(
        "server peak resident memory: {:.1} MiB (after start-up and sign-in: {:.1} MiB)",
        peak as f64 / 1024.0,
        rss_idle as f64 / 1024.0
    );
    child.kill().await.ok();
}
