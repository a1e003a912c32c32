//! The drill scheduler on both databases: a due time fires once, the next one is computed, missed
//! due times after downtime fire once (shown in the history), concurrency policies (forbid,
//! allow, replace), open parameters answered by defaults or refused with a reason, pause and
//! resume, two schedulers racing for 200 due times (each fired exactly once), scores stored
//! when runs end, and reviews with their action items.

use std::time::Duration;

use chrono::{DateTime, Duration as Span, DurationRound, Utc};
use nightwatch::model::action_item::{ItemSource, NewActionItem};
use nightwatch::model::catalog::{ActionCode, Scene};
use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
use nightwatch::model::run::{Decision, RunStatus, Trigger};
use nightwatch::model::schedule::{Concurrency, PlanSchedule, ScheduleOutcome};
use nightwatch::model::score::Verdict;
use nightwatch::model::{AppError, Role};
use nightwatch::server::actor::Actor;
use nightwatch::server::db::{self, to_millis};
use nightwatch::server::jobs::executor::{Executor, ExecutorSettings};
use nightwatch::server::jobs::scheduler::Scheduler;
use nightwatch::server::repo::action_items::{self as item_repo, ActionFilter};
use nightwatch::server::repo::runs as run_repo;
use nightwatch::server::repo::schedules as repo;
use nightwatch::server::service::{action_items, plans, runs};
use sqlx::AnyPool;

use crate::support::{PASSWORD, user};

fn settings() -> ExecutorSettings {
    crate::support::executor_settings(4)
}

fn wait_step() -> Step {
    let mut s = Step::new("settle".into(), ActionCode::Wait, None);
    s.params
        .insert("duration".into(), ParamValue::Set("10ms".into()));
    s
}

fn manual_step() -> Step {
    let mut s = Step::new("look".into(), ActionCode::ManualCheck, None);
    s.params.insert(
        "instructions".into(),
        ParamValue::Set("Is the standby serving?".into()),
    );
    s
}

fn drill(name: &str, cron: &str, concurrency: Concurrency, steps: Vec<Step>) -> PlanDraft {
    PlanDraft {
        name: name.into(),
        description: String::new(),
        scene: Scene::Drill,
        service: "checkout".into(),
        scenario: "primary lost".into(),
        rto_secs: None,
        rpo_secs: None,
        enabled: true,
        steps,
        schedule: Some(PlanSchedule {
            cron: cron.into(),
            zone: "Europe/Berlin".into(),
            concurrency,
        }),
    }
}

/// Sets plan `number`'s next due time by hand (as if the scheduler had been away).
async fn make_due(pool: &AnyPool, number: i64, at: DateTime<Utc>) {
    sqlx::query("UPDATE plans SET next_due_at = $1 WHERE number = $2")
        .bind(to_millis(at))
        .bind(number)
        .execute(pool)
        .await
        .unwrap();
}

fn minute(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Span::minutes(1)).unwrap()
}

async fn wait_until_status(pool: &AnyPool, number: i64, status: RunStatus) {
    for _ in 0..200 {
        let run = run_repo::find(pool, number).await.unwrap().unwrap();
        if run.summary.status == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {number} never became {status:?}");
}

async fn setup(pool: &AnyPool) -> (Actor, Executor, Scheduler) {
    let owner = user(pool, "rita", Role::Responder, PASSWORD).await;
    let executor = Executor::new(pool.clone(), settings());
    let scheduler = Scheduler::new(pool.clone(), executor.clone());
    (owner, executor, scheduler)
}

db_test! {
    async fn a_saved_schedule_is_due_next_at_its_cron_time_and_pause_resume_clear_and_restore_it(db) {
        let (rita, _, _) = setup(&db.pool).await;
        let before = Utc::now();
        let n = plans::create(&db.pool, &rita, drill("Weekday failover", "0 9 * * MON-FRI", Concurrency::Forbid, vec![wait_step()])).await.unwrap();
        let state = repo::state(&db.pool, n).await.unwrap().unwrap();
        let expected = drill("", "0 9 * * MON-FRI", Concurrency::Forbid, vec![]).schedule.unwrap().next_after(before).unwrap();
        let due = state.next_due_at.unwrap();
        assert_eq!(due, expected);
        assert!(!state.paused);

        plans::set_paused(&db.pool, &rita, n, true).await.unwrap();
        let paused = repo::state(&db.pool, n).await.unwrap().unwrap();
        assert!(paused.paused && paused.next_due_at.is_none());
        plans::set_paused(&db.pool, &rita, n, false).await.unwrap();
        assert_eq!(repo::state(&db.pool, n).await.unwrap().unwrap().next_due_at, Some(due));

        // Only drills are scheduled; a viewer cannot pause.
        let mut emergency = drill("Not a drill", "0 9 * * *", Concurrency::Forbid, vec![wait_step()]);
        emergency.scene = Scene::Emergency;
        let err = plans::create(&db.pool, &rita, emergency).await.unwrap_err();
        assert!(matches!(&err, AppError::Validation(e) if e[0].field == "schedule.cron"), "{err:?}");
        let vic = user(&db.pool, "vic", Role::Viewer, PASSWORD).await;
        assert_eq!(plans::set_paused(&db.pool, &vic, n, true).await, Err(AppError::Forbidden));
        let bad = drill("Bad", "0 9 * *", Concurrency::Forbid, vec![wait_step()]);
        let err = plans::create(&db.pool, &rita, bad).await.unwrap_err();
        assert!(matches!(&err, AppError::Validation(e) if e[0].field == "schedule.cron"), "{err:?}");
    }
}

db_test! {
    async fn a_due_time_fires_once_and_the_run_is_scored_when_it_ends(db) {
        let (rita, _, scheduler) = setup(&db.pool).await;
        let n = plans::create(&db.pool, &rita, drill("Every minute", "* * * * *", Concurrency::Forbid, vec![wait_step()])).await.unwrap();
        let now = Utc::now();
        let due = minute(now);
        make_due(&db.pool, n, due).await;

        let tick = scheduler.tick(now).await.unwrap();
        assert_eq!((tick.claimed, tick.started), (1, 1), "{tick:?}");
        // The same instant again: nothing is due any more.
        assert_eq!(scheduler.tick(now).await.unwrap().claimed, 0);
        let state = repo::state(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(state.next_due_at, Some(due + Span::minutes(1)));

        let events = repo::events(&db.pool, n, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].outcome, events[0].missed, events[0].due_at), (ScheduleOutcome::Started, 0, due));
        let run = events[0].run.unwrap();
        wait_until_status(&db.pool, run, RunStatus::Passed).await;
        let view = run_repo::find(&db.pool, run).await.unwrap().unwrap();
        assert_eq!(view.summary.trigger, Trigger::Schedule);
        assert_eq!(view.summary.triggered_by, None);
        assert_eq!((view.summary.score, view.summary.verdict), (Some(100), Some(Verdict::Pass)));
        let record = run_repo::record(&db.pool, n).await.unwrap();
        assert_eq!((record.scored, record.passed, record.mean_score), (1, 1, Some(100.0)));
    }
}

db_test! {
    async fn after_downtime_missed_due_times_fire_once_and_the_skip_is_recorded(db) {
        let (rita, _, scheduler) = setup(&db.pool).await;
        let n = plans::create(&db.pool, &rita, drill("Every minute", "* * * * *", Concurrency::Forbid, vec![wait_step()])).await.unwrap();
        let now = Utc::now();
        // The scheduler was away for ten minutes.
        make_due(&db.pool, n, minute(now) - Span::minutes(10)).await;

        let tick = scheduler.tick(now).await.unwrap();
        assert_eq!(tick.started, 1);
        assert_eq!(scheduler.tick(now).await.unwrap().claimed, 0);
        let events = repo::events(&db.pool, n, 10).await.unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].missed, 10);
        assert_eq!(events[0].due_at, minute(now) - Span::minutes(10));
        let next = repo::state(&db.pool, n).await.unwrap().unwrap().next_due_at.unwrap();
        assert!(next > now && next <= now + Span::minutes(1), "{next}");
        let runs = run_repo::list(&db.pool, Some(n), 10).await.unwrap();
        assert_eq!(runs.len(), 1);
    }
}

db_test! {
    async fn forbid_skips_while_a_run_is_active_allow_overlaps_and_replace_aborts_the_active_runs(db) {
        let (rita, _, scheduler) = setup(&db.pool).await;
        let n = plans::create(&db.pool, &rita, drill("Manual drill", "* * * * *", Concurrency::Forbid, vec![manual_step()])).await.unwrap();
        let now = Utc::now();
        let fire = |at: DateTime<Utc>| {
            let pool = db.pool.clone();
            let scheduler = scheduler.clone();
            async move {
                make_due(&pool, n, at).await;
                scheduler.tick(at).await.unwrap()
            }
        };
        // The first run waits for a person's verdict: it stays active.
        assert_eq!(fire(now).await.started, 1);
        let first = run_repo::list(&db.pool, Some(n), 10).await.unwrap()[0].number;
        wait_until_status(&db.pool, first, RunStatus::WaitingForConfirmation).await;

        let tick = fire(now + Span::seconds(1)).await;
        assert_eq!((tick.claimed, tick.skipped, tick.started), (1, 1, 0));
        let events = repo::events(&db.pool, n, 10).await.unwrap();
        assert_eq!(events[0].outcome, ScheduleOutcome::Skipped);
        assert!(events[0].reason.contains(&format!("Run #{first}")), "{}", events[0].reason);

        let mut allow = drill("Manual drill", "* * * * *", Concurrency::Allow, vec![manual_step()]);
        allow.steps[0].id = "look".into();
        plans::update(&db.pool, &rita, n, allow.clone(), 1).await.unwrap();
        assert_eq!(fire(now + Span::seconds(2)).await.started, 1);
        let active: Vec<i64> = run_repo::list(&db.pool, Some(n), 10).await.unwrap().iter()
            .filter(|r| !r.status.is_finished()).map(|r| r.number).collect();
        assert_eq!(active.len(), 2, "allow runs beside the active one");

        let mut replace = allow;
        replace.schedule.as_mut().unwrap().concurrency = Concurrency::Replace;
        plans::update(&db.pool, &rita, n, replace, 2).await.unwrap();
        assert_eq!(fire(now + Span::seconds(3)).await.started, 1);
        for number in &active {
            wait_until_status(&db.pool, *number, RunStatus::Aborted).await;
            let run = run_repo::find(&db.pool, *number).await.unwrap().unwrap();
            assert!(run.summary.aborted_by.unwrap().contains("schedule"));
        }
        let newest = run_repo::list(&db.pool, Some(n), 1).await.unwrap().remove(0);
        assert!(!newest.status.is_finished(), "the replacing run is live: {newest:?}");
        wait_until_status(&db.pool, newest.number, RunStatus::WaitingForConfirmation).await;
        let started = run_repo::find(&db.pool, newest.number).await.unwrap().unwrap().summary.started_at.unwrap();
        for number in &active {
            let ended = run_repo::find(&db.pool, *number).await.unwrap().unwrap().summary.finished_at.unwrap();
            assert!(started >= ended, "the replacing run started at {started} while run #{number} ran until {ended}");
        }
    }
}

db_test! {
    async fn open_parameters_take_their_defaults_or_the_due_time_is_refused_with_the_reason(db) {
        let (rita, _, scheduler) = setup(&db.pool).await;
        let mut check = Step::new("check".into(), ActionCode::HttpRequest, None);
        check.name = "Health check".into();
        check.params.insert("url".into(), ParamValue::AskAtRun);
        let refused = plans::create(&db.pool, &rita, drill("No default", "* * * * *", Concurrency::Forbid, vec![check])).await.unwrap();
        let mut webhook = Step::new("hook".into(), ActionCode::Webhook, None);
        webhook.params.insert("url".into(), ParamValue::Set("http://127.0.0.1:9/hook".into()));
        webhook.params.insert("payload".into(), ParamValue::AskAtRun);
        let defaulted = plans::create(&db.pool, &rita, drill("Defaults", "* * * * *", Concurrency::Forbid, vec![webhook])).await.unwrap();
        let now = Utc::now();
        make_due(&db.pool, refused, now).await;
        make_due(&db.pool, defaulted, now).await;

        let tick = scheduler.tick(now).await.unwrap();
        assert_eq!((tick.claimed, tick.started, tick.refused), (2, 1, 1), "{tick:?}");
        let event = repo::events(&db.pool, refused, 1).await.unwrap().remove(0);
        assert_eq!(event.outcome, ScheduleOutcome::Refused);
        assert!(event.reason.contains("Health check") && event.reason.contains("URL") && event.reason.contains("no default"), "{}", event.reason);
        assert!(run_repo::list(&db.pool, Some(refused), 10).await.unwrap().is_empty());
        let run = repo::events(&db.pool, defaulted, 1).await.unwrap()[0].run.unwrap();
        let view = run_repo::find(&db.pool, run).await.unwrap().unwrap();
        assert_eq!(view.params[0]["payload"], "{}");
    }
}

db_test! {
    async fn two_schedulers_racing_for_200_due_times_fire_each_exactly_once(db) {
        let (rita, _, _) = setup(&db.pool).await;
        // Two instances: separate pools and executors on one database.
        let other_pool = db::connect(&db.url, 5).await.unwrap();
        let a = Scheduler::new(db.pool.clone(), Executor::new(db.pool.clone(), settings()));
        let b = Scheduler::new(other_pool.clone(), Executor::new(other_pool.clone(), settings()));
        let now = Utc::now();
        let mut numbers = Vec::new();
        for i in 0..50 {
            let n = plans::create(&db.pool, &rita, drill(&format!("Drill {i}"), "* * * * *", Concurrency::Allow, vec![wait_step()])).await.unwrap();
            numbers.push(n);
        }
        // Four rounds of 50 due times each: 200 due times in all.
        let mut claimed = (0, 0);
        for round in 0..4 {
            let due = minute(now) - Span::minutes(10 - round);
            for n in &numbers {
                make_due(&db.pool, *n, due).await;
            }
            let (ta, tb) = tokio::join!(
                async { let mut c = 0; for _ in 0..3 { c += a.tick(now).await.unwrap().claimed; } c },
                async { let mut c = 0; for _ in 0..3 { c += b.tick(now).await.unwrap().claimed; } c },
            );
            claimed.0 += ta;
            claimed.1 += tb;
        }
        println!("instance A claimed {}, instance B claimed {}", claimed.0, claimed.1);
        assert_eq!(claimed.0 + claimed.1, 200);
        let (events, distinct, runs): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(DISTINCT plan_id || ':' || CAST(due_at AS TEXT)), \
             (SELECT COUNT(*) FROM runs WHERE run_trigger = 'schedule') FROM schedule_events WHERE outcome = 'started'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!((events, distinct, runs), (200, 200, 200));
        other_pool.close().await;
    }
}

db_test! {
    async fn a_finished_run_is_reviewed_with_action_items_and_leaves_its_owners_to_do_list(db) {
        let (rita, executor, scheduler) = setup(&db.pool).await;
        let n = plans::create(&db.pool, &rita, drill("Reviewed drill", "* * * * *", Concurrency::Forbid, vec![manual_step()])).await.unwrap();
        make_due(&db.pool, n, Utc::now()).await;
        scheduler.tick(Utc::now()).await.unwrap();
        let run = run_repo::list(&db.pool, Some(n), 1).await.unwrap()[0].number;
        wait_until_status(&db.pool, run, RunStatus::WaitingForConfirmation).await;

        let err = runs::review(&db.pool, &rita, run, "too early", "").await.unwrap_err();
        assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
        runs::decide(&db.pool, &rita, run, 0, Decision::Fail, "standby never took traffic").await.unwrap();
        executor.wake(run);
        wait_until_status(&db.pool, run, RunStatus::Failed).await;
        let view = run_repo::find(&db.pool, run).await.unwrap().unwrap();
        assert_eq!((view.summary.score, view.summary.verdict), (Some(80), Some(Verdict::Fail)));

        let todo = run_repo::unreviewed(&db.pool, rita.id).await.unwrap();
        assert_eq!(todo.iter().map(|r| r.number).collect::<Vec<_>>(), [run]);
        let err = runs::review(&db.pool, &rita, run, "  ", "").await.unwrap_err();
        assert!(matches!(&err, AppError::Validation(e) if e[0].field == "findings"), "{err:?}");
        let vic = user(&db.pool, "vic", Role::Viewer, PASSWORD).await;
        assert_eq!(runs::review(&db.pool, &vic, run, "x", "").await, Err(AppError::Forbidden));
        runs::review(&db.pool, &rita, run, "The standby had no capacity.", "Reserve standby capacity.").await.unwrap();
        runs::review(&db.pool, &rita, run, "The standby had no warm capacity.", "Reserve it.").await.unwrap();
        let review = run_repo::review(&db.pool, run).await.unwrap().unwrap();
        assert_eq!(review.findings, "The standby had no warm capacity.");
        assert_eq!(review.reviewed_by, "rita");
        assert!(run_repo::unreviewed(&db.pool, rita.id).await.unwrap().is_empty());
        assert!(run_repo::find(&db.pool, run).await.unwrap().unwrap().summary.reviewed);

        let due = (Utc::now() + Span::days(7)).date_naive().format("%Y-%m-%d").to_string();
        let item = NewActionItem::parse("Reserve warm standby capacity", "rita", &due, "p2", "preventive").unwrap();
        action_items::create(&db.pool, &rita, ItemSource::Run(run), &item).await.unwrap();
        let items = item_repo::list(&db.pool, &ActionFilter { run: Some(run), ..Default::default() }).await.unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!((items[0].run, items[0].incident), (Some(run), None));
        let missing = action_items::create(&db.pool, &rita, ItemSource::Run(9999), &item).await;
        assert_eq!(missing, Err(AppError::NotFound));
    }
}
