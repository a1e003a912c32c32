//! Scheduler benchmark: N enabled drill plans (default 10,000) with schedules spread over the
//! hour. Measures the cost of a scheduler tick when nothing is due (the steady state: one range
//! read of the next-due index) and when a batch is due, then the firing delay — scheduled due
//! time → run created, and → run started — with the real scheduler loop and executor running.
//!
//!     cargo bench --features ssr --bench scheduler
//!     BENCH_PLANS=10000 BENCH_FIRE=200 cargo bench --features ssr --bench scheduler
//!     BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/nw_bench cargo bench --features ssr --bench scheduler
//!
//! Prints a Markdown table (the README's figures come from it).

mod support;

use support::env_num;

use std::time::{Duration, Instant};

use chrono::Utc;
use nightwatch::model::catalog::{ActionCode, Scene};
use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
use nightwatch::model::schedule::{Concurrency, PlanSchedule};
use nightwatch::model::{NewUser, Password, Role, Username};
use nightwatch::server::db::{self, to_millis};
use nightwatch::server::jobs::executor::{Executor, ExecutorSettings};
use nightwatch::server::jobs::scheduler::Scheduler;
use nightwatch::server::jobs::steps::HttpLimits;
use nightwatch::server::repo::plans as plan_repo;
use nightwatch::server::service::accounts;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    (
        percentile(&values, 50.0),
        percentile(&values, 95.0),
        values.last().copied().unwrap_or(f64::NAN),
    )
}

fn drill(i: usize) -> PlanDraft {
    let mut step = Step::new("settle".into(), ActionCode::Wait, None);
    step.params
        .insert("duration".into(), ParamValue::Set("10ms".into()));
    PlanDraft {
        name: format!("Drill {i}"),
        description: String::new(),
        scene: Scene::Drill,
        service: format!("service-{}", i % 50),
        scenario: "benchmark".into(),
        rto_secs: None,
        rpo_secs: None,
        enabled: true,
        steps: vec![step],
        // Spread over the hour: second and minute from the plan's index.
        schedule: Some(PlanSchedule {
            cron: format!("{} {} * * * *", i % 60, (i / 60) % 60),
            zone: "Europe/Berlin".into(),
            concurrency: Concurrency::Allow,
        }),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let plans = env_num("BENCH_PLANS", 10_000);
    let fire = env_num("BENCH_FIRE", 200);
    let dir = std::env::temp_dir().join(format!("nw-bench-sched-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.display()));
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let pool = db::connect(&url, 8).await.unwrap();
    db::migrate(&pool).await.unwrap();
    let new = NewUser {
        username: Username::parse("bench").unwrap(),
        role: Role::Responder,
        password: Password::parse("bench password").unwrap(),
    };
    let owner = accounts::create_user(&pool, &new).await.unwrap();

    let started = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    for i in 0..plans {
        plan_repo::insert(&mut tx, &drill(i), owner.id, to_millis(Utc::now()))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    eprintln!(
        "{plans} plans written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let settings = ExecutorSettings {
        workers: 4,
        limits: HttpLimits::default(),
        allow_self_target: false,
        networks: Default::default(),
        poll_every: Duration::from_millis(100),
        heartbeat_every: Duration::from_secs(10),
        stale_after: chrono::Duration::seconds(60),
    };
    let executor = Executor::new(pool.clone(), settings);
    let scheduler = Scheduler::new(pool.clone(), executor.clone());

    // Nothing due: what every instance pays every tick. Plans are due later in the hour, so a
    // tick at "now minus a day" finds none without touching them.
    let quiet = Utc::now() - chrono::Duration::days(1);
    let mut idle = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        let tick = scheduler.tick(quiet).await.unwrap();
        idle.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(tick.due, 0);
    }
    let (idle50, idle95, _) = summary(idle);

    // A batch due at once: claimed, recorded and started in one tick each.
    let batch = 100.min(plans);
    sqlx::query("UPDATE plans SET next_due_at = $1 WHERE number <= $2")
        .bind(to_millis(Utc::now()))
        .bind(batch as i64)
        .execute(&pool)
        .await
        .unwrap();
    let t = Instant::now();
    let tick = scheduler.tick(Utc::now()).await.unwrap();
    let busy_ms = t.elapsed().as_secs_f64() * 1000.0;
    // Plans whose own schedule comes due meanwhile are in the batch too.
    assert!(tick.started >= batch, "{tick:?}");
    let batch = tick.started;

    // Firing delay with the real loop: `fire` plans due over the next few seconds.
    let loop_handle = scheduler.clone().spawn();
    let base = Utc::now() + chrono::Duration::seconds(2);
    for i in 0..fire {
        let due = base + chrono::Duration::milliseconds((i as i64) * 15);
        sqlx::query("UPDATE plans SET next_due_at = $1 WHERE number = $2")
            .bind(to_millis(due))
            .bind((batch + 1 + i) as i64)
            .execute(&pool)
            .await
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let last_due = base + chrono::Duration::milliseconds((fire as i64) * 15);
    loop {
        let started: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM schedule_events e JOIN runs r ON r.id = e.run_id \
             WHERE e.due_at >= $1 AND r.started_at IS NOT NULL",
        )
        .bind(to_millis(base))
        .fetch_one(&pool)
        .await
        .unwrap();
        let settled = Utc::now() > last_due + chrono::Duration::seconds(3);
        if (settled && started as usize >= fire) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    loop_handle.abort();
    let rows: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT e.due_at, r.created_at, r.started_at FROM schedule_events e JOIN runs r ON r.id = e.run_id \
         WHERE e.due_at >= $1 AND e.due_at <= $2",
    )
    .bind(to_millis(base))
    .bind(to_millis(last_due))
    .fetch_all(&pool)
    .await
    .unwrap();
    // The injected due times and those of plans whose own schedule came due meanwhile.
    assert!(rows.len() >= fire, "every due time fired once");
    let fired = rows.len();
    let created: Vec<f64> = rows.iter().map(|(d, c, _)| (c - d) as f64).collect();
    let started: Vec<f64> = rows
        .iter()
        .filter_map(|(d, _, s)| s.map(|s| (s - d) as f64))
        .collect();
    let (c50, c95, cmax) = summary(created);
    let (s50, s95, smax) = summary(started);

    let plan: Vec<(i64, i64, i64, String)> = if backend == "SQLite" {
        sqlx::query_as(
            "EXPLAIN QUERY PLAN SELECT id FROM plans WHERE next_due_at <= 0 ORDER BY next_due_at LIMIT 200",
        )
        .fetch_all(&pool)
        .await
        .unwrap_or_default()
    } else {
        Vec::new()
    };

    println!("| Scheduler, {plans} enabled plans ({backend}) | Figure |");
    println!("|---|---|");
    println!("| Tick with nothing due, median / p95 | {idle50:.2} ms / {idle95:.2} ms |");
    println!(
        "| Tick with {batch} plans due (claim + record + create each run) | {busy_ms:.0} ms ({:.2} ms per due time) |",
        busy_ms / batch as f64
    );
    println!(
        "| Firing delay, due time → run created, median / p95 / max ({fired} due times: {fire} set 15 ms apart, the rest the plans' own) | {c50:.0} / {c95:.0} / {cmax:.0} ms |"
    );
    println!(
        "| Firing delay, due time → first step started, median / p95 / max | {s50:.0} / {s95:.0} / {smax:.0} ms |"
    );
    for (_, _, _, detail) in plan {
        println!("| SQLite query plan of the due-plans read | {detail} |");
    }
    pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
