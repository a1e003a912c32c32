//! The run executor on both databases, against a local test HTTP server: steps in order with
//! their state written as they go, failed assertions, timeouts, poll-until success and deadline,
//! webhook signatures, secrets masked, gates and manual checks waiting for people, abort, the
//! self-target guard, an incident's timeline, and a killed executor's run interrupted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use chrono::Utc;
use nightwatch::model::catalog::{ActionCode, Scene};
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::plan::{OnFailure, ParamValue, PlanDraft, Step};
use nightwatch::model::run::{Decision, RunStatus, RunView, StepStatus, Trigger};
use nightwatch::model::timeline::EventData;
use nightwatch::model::{AppError, Role};
use nightwatch::server::actor::Actor;
use nightwatch::server::jobs::executor::{Executor, ExecutorSettings};
use nightwatch::server::jobs::steps::{HttpLimits, signature};
use nightwatch::server::netpolicy::NetPolicy;
use nightwatch::server::repo::runs as run_repo;
use nightwatch::server::service::{incidents, plans, runs};
use sqlx::AnyPool;

use crate::support::{PASSWORD, user};

/// What the test server saw of webhook calls: (signature header, body).
type Seen = Arc<std::sync::Mutex<Vec<(String, String)>>>;

async fn target() -> (String, Seen, std::net::SocketAddr) {
    let seen: Seen = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let hook_seen = seen.clone();
    let app = Router::new()
        .route("/ok", get(|| async { "all healthy" }))
        .route(
            "/down",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down") }),
        )
        .route(
            // Unhealthy for its first three calls, then healthy: a failover being watched.
            "/recovering",
            get(move || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 3 {
                        (StatusCode::SERVICE_UNAVAILABLE, "failing over")
                    } else {
                        (StatusCode::OK, "serving from standby")
                    }
                }
            }),
        )
        .route(
            "/hook",
            post(move |headers: HeaderMap, body: String| {
                let seen = hook_seen.clone();
                async move {
                    let sig = headers
                        .get("x-nightwatch-signature")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    seen.lock().unwrap().push((sig, body));
                    // Echoes the secret, as a careless receiver might: the output must mask it.
                    (StatusCode::ACCEPTED, "fault injected for key s3cret-key")
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen, addr)
}

fn settings() -> ExecutorSettings {
    ExecutorSettings {
        workers: 2,
        limits: HttpLimits::default(),
        allow_self_target: false,
        networks: NetPolicy::default(),
        poll_every: Duration::from_millis(50),
        heartbeat_every: Duration::from_millis(100),
        stale_after: chrono::Duration::seconds(60),
    }
}

fn step(id: &str, action: ActionCode, params: &[(&str, &str)]) -> Step {
    let mut s = Step::new(id.into(), action, None);
    s.name = id.into();
    for (k, v) in params {
        s.params.insert((*k).into(), ParamValue::Set((*v).into()));
    }
    s
}

async fn plan(pool: &AnyPool, actor: &Actor, steps: Vec<Step>) -> i64 {
    let draft = PlanDraft {
        name: "Checkout failover".into(),
        description: String::new(),
        scene: Scene::Emergency,
        service: "checkout".into(),
        scenario: "primary lost".into(),
        rto_secs: Some(300),
        rpo_secs: None,
        schedule: None,
        enabled: true,
        steps,
    };
    plans::create(pool, actor, draft).await.unwrap()
}

async fn start(
    pool: &AnyPool,
    executor: &Executor,
    actor: &Actor,
    plan: i64,
) -> (i64, tokio::task::JoinHandle<()>) {
    let prepared = runs::create(
        pool,
        Some(actor),
        plan,
        Trigger::Manual,
        &BTreeMap::new(),
        None,
    )
    .await
    .unwrap();
    let number = prepared.number;
    (number, executor.submit(prepared))
}

async fn run(pool: &AnyPool, number: i64) -> RunView {
    run_repo::find(pool, number).await.unwrap().unwrap()
}

/// Waits (up to 10 s) until the run satisfies `ready`.
async fn until(pool: &AnyPool, number: i64, ready: impl Fn(&RunView) -> bool) -> RunView {
    for _ in 0..200 {
        let view = run(pool, number).await;
        if ready(&view) {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "run {number} never got there: {:?}",
        run(pool, number).await
    );
}

fn statuses(view: &RunView) -> Vec<StepStatus> {
    view.steps.iter().map(|s| s.status).collect()
}

db_test! {
    async fn a_step_waits_for_a_person_in_the_same_write_as_its_run(db) {
        // A page drawn between two writes saw a "running" run whose step already waited for
        // its reader, and without JavaScript stopped refreshing itself on that status.
        use nightwatch::model::run::Awaiting;
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let number = plan(&db.pool, &eve, vec![step("look", ActionCode::ManualCheck, &[("instructions", "Is it green?")])]).await;
        let prepared = runs::create(&db.pool, Some(&eve), number, Trigger::Manual, &BTreeMap::new(), None).await.unwrap();
        let run_number = prepared.number;
        assert!(run_repo::set_status(&db.pool, run_number, RunStatus::Running, Utc::now()).await.unwrap());
        assert!(runs::wait_for_person(&db.pool, run_number, 0, "look", Awaiting::Verdict).await.unwrap());
        let view = run(&db.pool, run_number).await;
        assert_eq!(view.summary.status, RunStatus::WaitingForConfirmation);
        assert_eq!(statuses(&view), [StepStatus::WaitingForConfirmation]);
        assert_eq!(view.steps[0].awaiting, Some(Awaiting::Verdict));
        assert!(view.waits_for(Role::Responder), "the page stops refreshing only for a run that says it waits");

        // Answered, but not yet taken up by the executor: the run still says it waits, and
        // asks nobody anything more (the page without JavaScript goes back to refreshing
        // itself until the run moves on, instead of showing "waiting" for good).
        runs::decide(&db.pool, &eve, run_number, 0, Decision::Pass, "all green").await.unwrap();
        let view = run(&db.pool, run_number).await;
        assert_eq!(view.summary.status, RunStatus::WaitingForConfirmation);
        assert!(!view.waits_for(Role::Responder) && !view.waits_for(Role::Admin));

        // A run that ended meanwhile is left as it ended, its step included.
        assert!(runs::finish(&db.pool, run_number, RunStatus::Aborted, Utc::now()).await.unwrap());
        assert!(!runs::wait_for_person(&db.pool, run_number, 0, "look", Awaiting::Verdict).await.unwrap());
        assert_eq!(run(&db.pool, run_number).await.summary.status, RunStatus::Aborted);
    }
}

db_test! {
    async fn steps_run_in_order_webhooks_are_signed_polls_wait_for_recovery_and_secrets_are_masked(db) {
        let (base, seen, _) = target().await;
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let steps = vec![
            step("inject", ActionCode::Webhook, &[("url", &format!("{base}/hook")), ("payload", r#"{"fault":"kill-primary"}"#), ("secret", "s3cret-key"), ("expect_status", "202")]),
            step("settle", ActionCode::Wait, &[("duration", "100ms")]),
            step("watch", ActionCode::PollUntil, &[("url", &format!("{base}/recovering")), ("interval", "100ms"), ("deadline", "5s"), ("body_contains", "standby")]),
            step("check", ActionCode::HttpRequest, &[("url", &format!("{base}/ok")), ("body_contains", "healthy")]),
        ];
        let number = plan(&db.pool, &eve, steps).await;
        let executor = Executor::new(db.pool.clone(), settings());
        let (run_number, handle) = start(&db.pool, &executor, &eve, number).await;
        handle.await.unwrap();

        let view = run(&db.pool, run_number).await;
        assert_eq!(view.summary.status, RunStatus::Passed, "{view:?}");
        assert_eq!(statuses(&view), [StepStatus::Passed; 4]);
        assert!(view.steps.iter().all(|s| s.started_at.is_some() && s.finished_at.is_some()));
        assert!(view.steps.windows(2).all(|w| w[0].finished_at <= w[1].started_at), "in order");
        assert!(view.steps[2].output.starts_with("held on call 4"), "{}", view.steps[2].output);

        let calls = seen.lock().unwrap().clone();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].1, r#"{"fault":"kill-primary"}"#);
        assert_eq!(calls[0].0, signature("s3cret-key", calls[0].1.as_bytes()), "HMAC-SHA256 of the body");
        assert!(view.steps[0].output.contains("fault injected for key ******"), "{}", view.steps[0].output);
        let everything = format!("{view:?}");
        assert!(!everything.contains("s3cret-key"), "the secret never comes back");
    }
}

db_test! {
    async fn a_failed_step_stops_the_run_unless_it_may_continue_and_timeouts_and_deadlines_fail(db) {
        let (base, _, _) = target().await;
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let executor = Executor::new(db.pool.clone(), settings());

        let mut tolerated = step("optional check", ActionCode::HttpRequest, &[("url", &format!("{base}/down"))]);
        tolerated.on_failure = OnFailure::Continue;
        let mut slow = step("too slow", ActionCode::Wait, &[("duration", "10s")]);
        slow.timeout_secs = 1;
        let deadline = step("never recovers", ActionCode::PollUntil, &[("url", &format!("{base}/down")), ("interval", "100ms"), ("deadline", "400ms")]);
        let after = step("after", ActionCode::Wait, &[("duration", "1s")]);

        let only_tolerated = plan(&db.pool, &eve, vec![tolerated.clone(), after.clone()]).await;
        let (n, handle) = start(&db.pool, &executor, &eve, only_tolerated).await;
        handle.await.unwrap();
        let view = run(&db.pool, n).await;
        assert_eq!(statuses(&view), [StepStatus::Failed, StepStatus::Passed], "the run went on");
        assert_eq!(view.summary.status, RunStatus::Failed, "a tolerated failure still fails the run");

        let number = plan(&db.pool, &eve, vec![tolerated, deadline, after.clone()]).await;
        let (first, handle) = start(&db.pool, &executor, &eve, number).await;
        handle.await.unwrap();
        let view = run(&db.pool, first).await;
        assert_eq!(view.summary.status, RunStatus::Failed);
        assert_eq!(statuses(&view), [StepStatus::Failed, StepStatus::Failed, StepStatus::Pending], "the run went on after the tolerated failure, then stopped");
        assert_eq!(view.steps[0].error.as_deref(), Some("expected status 200, got 503"));
        let error = view.steps[1].error.clone().unwrap();
        assert!(error.starts_with("did not hold within 400 ms after"), "{error}");
        assert!(view.steps[1].output.contains("503"), "the last answer is shown");

        let number = plan(&db.pool, &eve, vec![slow, after]).await;
        let started = std::time::Instant::now();
        let (second, handle) = start(&db.pool, &executor, &eve, number).await;
        handle.await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5), "the step's timeout cut it off");
        let view = run(&db.pool, second).await;
        assert_eq!(statuses(&view), [StepStatus::Failed, StepStatus::Pending]);
        assert!(view.steps[0].error.as_deref().unwrap().contains("timeout of 1 s"));
    }
}

db_test! {
    async fn gates_and_manual_checks_wait_for_people_who_may_confirm_skip_pass_or_fail(db) {
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let rick = user(&db.pool, "rick", Role::Responder, PASSWORD).await;
        let executor = Executor::new(db.pool.clone(), settings());
        let mut gated = step("switch traffic", ActionCode::Wait, &[("duration", "10ms")]);
        gated.pre_confirm = true;
        let mut skipped = step("drain old region", ActionCode::Wait, &[("duration", "10ms")]);
        skipped.pre_confirm = true;
        let check = step("dashboards green", ActionCode::ManualCheck, &[("instructions", "Look at the checkout dashboard")]);
        let number = plan(&db.pool, &eve, vec![gated, skipped, check]).await;
        let (n, handle) = start(&db.pool, &executor, &eve, number).await;

        let view = until(&db.pool, n, |v| v.summary.status == RunStatus::WaitingForConfirmation).await;
        assert_eq!(view.waiting_step().map(|s| s.index), Some(0));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(run(&db.pool, n).await.steps[0].status, StepStatus::WaitingForConfirmation, "nothing runs unconfirmed");

        let refused = runs::decide(&db.pool, &rick, n, 0, Decision::Confirm, "").await.unwrap_err();
        assert_eq!(refused, AppError::Forbidden, "confirming is for commanders");
        let wrong = runs::decide(&db.pool, &eve, n, 0, Decision::Pass, "").await.unwrap_err();
        assert!(matches!(wrong, AppError::Conflict(_)), "a gate takes confirm or skip");
        runs::decide(&db.pool, &eve, n, 0, Decision::Confirm, "go").await.unwrap();
        executor.wake(n);
        let again = runs::decide(&db.pool, &eve, n, 0, Decision::Confirm, "").await.unwrap_err();
        assert!(matches!(again, AppError::Conflict(_)), "answered once");

        until(&db.pool, n, |v| v.waiting_step().is_some_and(|s| s.index == 1)).await;
        runs::decide(&db.pool, &eve, n, 1, Decision::Skip, "not needed today").await.unwrap();

        let view = until(&db.pool, n, |v| v.waiting_step().is_some_and(|s| s.index == 2)).await;
        assert_eq!(view.steps[2].status, StepStatus::WaitingForConfirmation);
        let blank = runs::decide(&db.pool, &rick, n, 2, Decision::Fail, " ").await.unwrap_err();
        assert!(blank.field_message("note").is_some(), "a failed check needs a comment");
        runs::decide(&db.pool, &rick, n, 2, Decision::Pass, "p99 back under 300 ms").await.unwrap();
        handle.await.unwrap();

        let view = run(&db.pool, n).await;
        assert_eq!(view.summary.status, RunStatus::Passed);
        assert_eq!(statuses(&view), [StepStatus::Passed, StepStatus::Skipped, StepStatus::Passed]);
        assert_eq!(view.steps[0].output, "Confirmed by eve: go\nwaited 10ms");
        assert_eq!(view.steps[1].output, "Skipped by eve: not needed today");
        assert_eq!(view.steps[2].output, "Marked passed by rick: p99 back under 300 ms");
        assert_eq!(view.steps[2].decided_by.as_deref(), Some("rick"));
    }
}

db_test! {
    async fn an_abort_cuts_off_the_running_step_and_the_rest(db) {
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let rick = user(&db.pool, "rick", Role::Responder, PASSWORD).await;
        let executor = Executor::new(db.pool.clone(), settings());
        let number = plan(&db.pool, &eve, vec![
            step("first", ActionCode::Wait, &[("duration", "10ms")]),
            step("long", ActionCode::Wait, &[("duration", "1h")]),
            step("never", ActionCode::Wait, &[("duration", "1s")]),
        ]).await;
        let (n, handle) = start(&db.pool, &executor, &eve, number).await;
        until(&db.pool, n, |v| v.steps[1].status == StepStatus::Running).await;
        assert_eq!(runs::abort(&db.pool, &rick, n).await.unwrap_err(), AppError::Forbidden);
        runs::abort(&db.pool, &eve, n).await.unwrap();
        // Not woken: the executor finds the request in the database (as from another instance).
        tokio::time::timeout(Duration::from_secs(5), handle).await.expect("aborted promptly").unwrap();
        let view = run(&db.pool, n).await;
        assert_eq!(view.summary.status, RunStatus::Aborted);
        assert_eq!(view.summary.aborted_by.as_deref(), Some("eve"));
        assert_eq!(statuses(&view), [StepStatus::Passed, StepStatus::Aborted, StepStatus::Aborted]);
        assert!(matches!(runs::abort(&db.pool, &eve, n).await.unwrap_err(), AppError::Conflict(_)));
    }
}

db_test! {
    async fn a_step_may_not_call_nightwatch_itself_by_any_spelling_of_its_address_unless_allowed(db) {
        let (base, _, addr) = target().await;
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let port = addr.port();
        let guarded = Executor::new(db.pool.clone(), settings());
        guarded.set_own_addrs(vec![addr]);
        for host in ["localhost", "0.0.0.0", "0", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "127.1"] {
            let number = plan(&db.pool, &eve, vec![step("self", ActionCode::HttpRequest, &[("url", &format!("http://{host}:{port}/ok"))])]).await;
            let (n, handle) = start(&db.pool, &guarded, &eve, number).await;
            handle.await.unwrap();
            let view = run(&db.pool, n).await;
            assert_eq!(view.summary.status, RunStatus::Failed, "{host}");
            assert!(view.steps[0].error.as_deref().unwrap().contains("NIGHTWATCH_ALLOW_SELF_TARGET"), "{host}: {:?}", view.steps[0].error);
        }

        let number = plan(&db.pool, &eve, vec![step("self", ActionCode::HttpRequest, &[("url", &format!("{base}/ok"))])]).await;
        let allowed = Executor::new(db.pool.clone(), ExecutorSettings { allow_self_target: true, ..settings() });
        allowed.set_own_addrs(vec![addr]);
        let (n, handle) = start(&db.pool, &allowed, &eve, number).await;
        handle.await.unwrap();
        assert_eq!(run(&db.pool, n).await.summary.status, RunStatus::Passed);
    }
}

db_test! {
    async fn steps_reach_only_the_networks_the_policy_allows(db) {
        let (base, _, _) = target().await;
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let metadata = plan(&db.pool, &eve, vec![step("metadata", ActionCode::HttpRequest, &[("url", "http://169.254.169.254/latest/meta-data/")])]).await;
        let local = plan(&db.pool, &eve, vec![step("local", ActionCode::PollUntil, &[("url", &format!("{base}/ok")), ("interval", "500ms"), ("deadline", "2s")])]).await;
        let by_default = Executor::new(db.pool.clone(), settings());
        let (n, handle) = start(&db.pool, &by_default, &eve, metadata).await;
        handle.await.unwrap();
        let view = run(&db.pool, n).await;
        assert_eq!(view.summary.status, RunStatus::Failed);
        assert!(view.steps[0].error.as_deref().unwrap().contains("NIGHTWATCH_STEP_DENY"), "{:?}", view.steps[0].error);
        let (n, handle) = start(&db.pool, &by_default, &eve, local).await;
        handle.await.unwrap();
        assert_eq!(run(&db.pool, n).await.summary.status, RunStatus::Passed, "loopback is allowed by default");

        let strict = NetPolicy::from_lists("10.0.0.0/8", "").unwrap();
        let strict = Executor::new(db.pool.clone(), ExecutorSettings { networks: strict, ..settings() });
        let (n, handle) = start(&db.pool, &strict, &eve, local).await;
        handle.await.unwrap();
        let view = run(&db.pool, n).await;
        assert_eq!(view.summary.status, RunStatus::Failed);
        assert!(view.steps[0].error.as_deref().unwrap().contains("NIGHTWATCH_STEP_ALLOW"), "{:?}", view.steps[0].error);
    }
}

db_test! {
    async fn a_run_for_an_incident_writes_its_steps_on_the_incident_timeline(db) {
        let (base, _, _) = target().await;
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let detected = (Utc::now() - chrono::Duration::minutes(5)).format("%Y-%m-%dT%H:%M:%S").to_string();
        let new = NewIncident::parse("Checkout down", "", "sev1", "checkout", "", &detected, Utc::now()).unwrap();
        let incident = incidents::declare(&db.pool, &eve, &new).await.unwrap();
        let number = plan(&db.pool, &eve, vec![
            step("restart pods", ActionCode::Webhook, &[("url", &format!("{base}/hook")), ("expect_status", "202")]),
            step("health", ActionCode::HttpRequest, &[("url", &format!("{base}/down"))]),
        ]).await;
        let executor = Executor::new(db.pool.clone(), settings());
        let stamp = |pool: AnyPool| async move { nightwatch::server::repo::incidents::change_stamp(&pool, incident).await.unwrap().unwrap() };
        let before = stamp(db.pool.clone()).await;
        let version_before = nightwatch::server::repo::incidents::version(&db.pool, incident)
            .await
            .unwrap()
            .unwrap();
        let prepared = runs::create(&db.pool, Some(&eve), number, Trigger::Incident, &BTreeMap::new(), Some(incident)).await.unwrap();
        let n = prepared.number;
        executor.submit(prepared).await.unwrap();

        let view = run(&db.pool, n).await;
        assert_eq!(view.summary.incident, Some(incident.to_string()));
        let detail = nightwatch::server::repo::incidents::find_detail(&db.pool, incident).await.unwrap().unwrap();
        let runs_on_timeline: Vec<String> = detail.timeline.iter().filter(|e| e.data.run() == Some(n)).map(|e| e.data.headline()).collect();
        assert_eq!(runs_on_timeline, [
            format!("Run #{n} of “Checkout failover” started"),
            format!("Run #{n}: step “restart pods” passed"),
            format!("Run #{n}: step “health” failed"),
            format!("Run #{n} of “Checkout failover” failed"),
        ]);
        let after = stamp(db.pool.clone()).await;
        assert!(after > before, "open incident pages notice the run's entries");
        assert_eq!(after, detail.change_stamp(), "the server's stamp is the model's");
        assert_eq!(detail.version, version_before, "runs leave the version alone");
        let failed = detail.timeline.iter().find(|e| matches!(e.data, EventData::RunStepEnded { status: StepStatus::Failed, .. })).unwrap();
        assert_eq!(failed.data.text(), Some("expected status 200, got 503"));
    }
}

db_test! {
    async fn a_killed_executor_leaves_its_run_interrupted_with_completed_steps_kept(db) {
        let (base, _, _) = target().await;
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let number = plan(&db.pool, &eve, vec![
            step("check", ActionCode::HttpRequest, &[("url", &format!("{base}/ok"))]),
            step("long", ActionCode::Wait, &[("duration", "1h")]),
            step("never", ActionCode::Wait, &[("duration", "1s")]),
        ]).await;
        let first = Executor::new(db.pool.clone(), settings());
        let (n, handle) = start(&db.pool, &first, &eve, number).await;
        until(&db.pool, n, |v| v.steps[1].status == StepStatus::Running).await;

        let second = Executor::new(db.pool.clone(), ExecutorSettings { stale_after: chrono::Duration::milliseconds(300), ..settings() });
        first.housekeeping().await.unwrap();
        assert_eq!(second.housekeeping().await.unwrap(), 0, "a live executor's run is left alone");

        handle.abort(); // the process dies: no more steps, no more heartbeats
        let _ = handle.await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(second.housekeeping().await.unwrap(), 1);
        let view = run(&db.pool, n).await;
        assert_eq!(view.summary.status, RunStatus::Interrupted);
        assert_eq!(statuses(&view), [StepStatus::Passed, StepStatus::Interrupted, StepStatus::Pending]);
        assert!(view.steps[0].output.contains("all healthy"), "completed steps are kept");
        assert_eq!(second.housekeeping().await.unwrap(), 0, "once");
    }
}

db_test! {
    async fn a_run_waiting_for_a_person_leaves_its_worker_to_other_runs(db) {
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let one_worker = Executor::new(db.pool.clone(), ExecutorSettings { workers: 1, ..settings() });
        let waiting = plan(&db.pool, &eve, vec![step("look", ActionCode::ManualCheck, &[("instructions", "Is it green?")])]).await;
        let quick = plan(&db.pool, &eve, vec![step("pause", ActionCode::Wait, &[("duration", "100ms")])]).await;
        let (first, first_handle) = start(&db.pool, &one_worker, &eve, waiting).await;
        for _ in 0..100 {
            if run(&db.pool, first).await.summary.status == RunStatus::WaitingForConfirmation { break; }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (second, handle) = start(&db.pool, &one_worker, &eve, quick).await;
        tokio::time::timeout(Duration::from_secs(5), handle).await
            .expect("the second run ran while the first waited for a person").unwrap();
        assert_eq!(run(&db.pool, second).await.summary.status, RunStatus::Passed);
        runs::decide(&db.pool, &eve, first, 0, Decision::Pass, "green").await.unwrap();
        one_worker.wake(first);
        first_handle.await.unwrap();
        assert_eq!(run(&db.pool, first).await.summary.status, RunStatus::Passed, "and it took a worker again to finish");
    }
}
