//! Inspections on both databases: a scheduled inspection whose check fails raises one risk event
//! (source `inspection`, labels plan / service / failed step), a second failure updates it, a
//! pass resolves it, the next failure opens a new occurrence; a silence mutes it like any alert;
//! the inspection list shows the history and pass rate; the migration that allowed the scene
//! keeps existing plans and runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use chrono::Utc;
use nightwatch::model::Role;
use nightwatch::model::alert::{RiskFilter, RiskStatus};
use nightwatch::model::catalog::{ActionCode, Scene};
use nightwatch::model::matcher::{NewSilence, parse_matchers};
use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
use nightwatch::model::run::RunStatus;
use nightwatch::model::schedule::{Concurrency, PlanSchedule};
use nightwatch::server::actor::Actor;
use nightwatch::server::db::to_millis;
use nightwatch::server::jobs::executor::{Executor, ExecutorSettings};
use nightwatch::server::jobs::scheduler::Scheduler;
use nightwatch::server::repo::runs as run_repo;
use nightwatch::server::service::{alerts, inspections, plans};
use sqlx::AnyPool;

use crate::support::{PASSWORD, user};

/// A service whose `/check` answers 200 or 503 as the switch says.
async fn service(healthy: Arc<AtomicBool>) -> String {
    let app = Router::new().route(
        "/check",
        get(move || {
            let up = healthy.load(Ordering::SeqCst);
            async move {
                if up {
                    (StatusCode::OK, "ready")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "down")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn settings() -> ExecutorSettings {
    crate::support::executor_settings(2)
}

fn inspection(base: &str) -> PlanDraft {
    let mut ping = Step::new("ping".into(), ActionCode::Wait, None);
    ping.name = "Settle".into();
    ping.params
        .insert("duration".into(), ParamValue::Set("10ms".into()));
    let mut check = Step::new("check".into(), ActionCode::HttpRequest, None);
    check.name = "Checkout is ready".into();
    check
        .params
        .insert("url".into(), ParamValue::Set(format!("{base}/check")));
    PlanDraft {
        name: "Checkout health".into(),
        description: String::new(),
        scene: Scene::Inspection,
        service: "checkout".into(),
        scenario: String::new(),
        rto_secs: None,
        rpo_secs: None,
        enabled: true,
        steps: vec![ping, check],
        schedule: Some(PlanSchedule {
            cron: "*/5 * * * *".into(),
            zone: "UTC".into(),
            concurrency: Concurrency::Forbid,
        }),
    }
}

/// Makes plan `number` due now, lets the scheduler fire it, and waits for the run to end.
async fn scheduled_run(pool: &AnyPool, scheduler: &Scheduler, number: i64) -> RunStatus {
    let now = Utc::now();
    sqlx::query("UPDATE plans SET next_due_at = $1 WHERE number = $2")
        .bind(to_millis(now) - 1)
        .bind(number)
        .execute(pool)
        .await
        .unwrap();
    let tick = scheduler.tick(now).await.unwrap();
    assert_eq!(tick.started, 1, "{tick:?}");
    let run = run_repo::list(pool, Some(number), 1).await.unwrap()[0].number;
    for _ in 0..200 {
        let view = run_repo::find(pool, run).await.unwrap().unwrap();
        if view.summary.status.is_finished() {
            // The result reaches intake just after the run ends.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return view.summary.status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {run} never ended");
}

async fn inspection_events(pool: &AnyPool) -> Vec<nightwatch::model::alert::RiskEvent> {
    let mut events = Vec::new();
    for status in RiskStatus::ALL {
        let filter = RiskFilter {
            status: *status,
            service: None,
            severity: None,
            source: Some("inspection".into()),
            q: None,
        };
        events.extend(alerts::list(pool, &filter).await.unwrap());
    }
    events.sort_by_key(|e| e.id);
    events
}

db_test! {
    async fn a_failed_inspection_raises_its_event_a_pass_resolves_it_and_the_page_counts_them(db) {
        let healthy = Arc::new(AtomicBool::new(false));
        let base = service(healthy.clone()).await;
        let rita = user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let executor = Executor::new(db.pool.clone(), settings());
        let scheduler = Scheduler::new(db.pool.clone(), executor.clone());
        let number = plans::create(&db.pool, &rita, inspection(&base)).await.unwrap();

        assert_eq!(scheduled_run(&db.pool, &scheduler, number).await, RunStatus::Failed);
        let events = inspection_events(&db.pool).await;
        assert_eq!(events.len(), 1, "{events:?}");
        let first = &events[0];
        assert_eq!(first.status, RiskStatus::Open);
        assert_eq!(first.fingerprint, format!("plan-{number}"));
        assert_eq!(first.labels["alertname"], "InspectionFailed");
        assert_eq!(first.labels["plan"], "Checkout health");
        assert_eq!(first.labels["service"], "checkout");
        assert_eq!(first.labels["failed_step"], "2. Checkout is ready");
        assert_eq!(first.service.as_deref(), Some("checkout"));
        assert!(first.summary.contains("expected status 200, got 503"), "{}", first.summary);

        // Failing again updates the same event.
        assert_eq!(scheduled_run(&db.pool, &scheduler, number).await, RunStatus::Failed);
        let events = inspection_events(&db.pool).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].count, 2);

        let listed = inspections::list(&db.pool, &rita).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].failing.as_ref().map(|f| f.0), Some(first.id));
        assert_eq!(listed[0].failing.as_ref().map(|f| f.2.as_str()), Some("2. Checkout is ready"));

        // A pass resolves it.
        healthy.store(true, Ordering::SeqCst);
        assert_eq!(scheduled_run(&db.pool, &scheduler, number).await, RunStatus::Passed);
        let events = inspection_events(&db.pool).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].status, RiskStatus::Resolved);

        // The next failure is a new occurrence, and a silence mutes it like any alert's.
        let sam = Actor::person(&crate::support::person(&db.pool, "sam", Role::Responder, PASSWORD).await);
        alerts::create_silence(&db.pool, &sam, &NewSilence {
            matchers: parse_matchers("alertname=\"InspectionFailed\"\nservice=\"checkout\"").unwrap(),
            starts_at: None,
            ends_at: Utc::now() + chrono::Duration::hours(1),
            comment: "Maintenance window".into(),
        }).await.unwrap();
        healthy.store(false, Ordering::SeqCst);
        assert_eq!(scheduled_run(&db.pool, &scheduler, number).await, RunStatus::Failed);
        let events = inspection_events(&db.pool).await;
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[1].status, RiskStatus::Silenced);

        let listed = inspections::list(&db.pool, &rita).await.unwrap();
        let page = &listed[0];
        assert_eq!(page.history.len(), 4);
        assert_eq!(page.history[0].status, RunStatus::Failed, "newest first");
        assert_eq!((page.passed, page.decided), (1, 4));
        assert_eq!(page.pass_rate(), Some(25.0));
        assert_eq!(page.failing.as_ref().map(|f| f.0), Some(events[1].id));
        assert!(page.schedule.is_some());

        // Intake refuses the source from anyone else.
        let outsider: nightwatch::model::alert::GenericAlert = serde_json::from_value(serde_json::json!({
            "source": "inspection", "fingerprint": format!("plan-{number}"), "status": "resolved",
        })).unwrap();
        assert!(outsider.read("").is_err());
    }
}

db_test! {
    async fn an_inspection_not_run_yet_is_listed_to_a_viewer_with_no_verdict(db) {
        let rita = user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let vic = user(&db.pool, "vic", Role::Viewer, PASSWORD).await;
        let mut draft = inspection("http://127.0.0.1:9");
        draft.schedule = None;
        plans::create(&db.pool, &rita, draft).await.unwrap();
        let listed = inspections::list(&db.pool, &vic).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].history.is_empty() && listed[0].failing.is_none());
        assert_eq!(listed[0].pass_rate(), None);
        assert!(inspection_events(&db.pool).await.is_empty());
    }
}
