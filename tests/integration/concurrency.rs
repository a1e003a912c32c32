//! Concurrency rules with two instances on one database (two pools, two routers), as several
//! servers behind a load balancer run them: SQLite's single writer hides these races, PostgreSQL
//! shows them.

use axum::http::StatusCode;
use chrono::Utc;
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::run::RunStatus;
use nightwatch::model::timeline::EventData;
use nightwatch::model::{AppError, Role};
use nightwatch::server::repo::incidents as incident_repo;
use nightwatch::server::service::{accounts, incidents, runs};

use crate::support::{PASSWORD, TestApp, text, user};

db_test! {
    async fn notes_and_run_entries_written_at_once_from_two_instances_all_land_numbered_once(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let new = NewIncident::parse("Payments down", "", "sev1", "payments", "", "", Utc::now()).unwrap();
        let n = incidents::declare(&db.pool, &cmdr, &new).await.unwrap();
        let (id, _) = incident_repo::id_and_status(&db.pool, n).await.unwrap().unwrap();
        let a = TestApp::new(&db);
        let b = TestApp::another_instance(&db).await;
        let second_pool = nightwatch::server::db::connect(&db.url, 5).await.unwrap();
        let mut clients = Vec::new();
        for c in 0..6 {
            user(&db.pool, &format!("resp{c}"), Role::Responder, PASSWORD).await;
        }
        for c in 0..6 {
            let app = if c % 2 == 0 { &a } else { &b };
            let cookie = app.sign_in(&format!("resp{c}"), PASSWORD).await;
            clients.push(async move {
                let mut failed = Vec::new();
                for i in 0..40 {
                    let body = format!("note {i} from client {c}");
                    let res = app.call("add_note", &[("number", &n.to_string()), ("body", &body), ("occurred_at", "")], Some(&cookie)).await;
                    if res.status() != StatusCode::OK {
                        failed.push((res.status(), text(res).await));
                    }
                }
                failed
            });
        }
        let runs_writing = (0..6).map(|r| {
            let pool = if r % 2 == 0 { db.pool.clone() } else { second_pool.clone() };
            async move {
                let mut failed = Vec::new();
                for step in 0..20 {
                    let data = EventData::RunStepEnded {
                        run: r,
                        step: format!("step {step}"),
                        status: nightwatch::model::run::StepStatus::Passed,
                        detail: "took 0.1 s".into(),
                    };
                    if let Err(e) = runs::record_on_timeline(&pool, id, &data, Utc::now()).await {
                        failed.push(e);
                    }
                }
                failed
            }
        });
        let (notes, entries) = tokio::join!(
            futures::future::join_all(clients),
            futures::future::join_all(runs_writing)
        );
        let notes: Vec<_> = notes.into_iter().flatten().collect();
        let entries: Vec<AppError> = entries.into_iter().flatten().collect();
        assert!(notes.is_empty(), "notes refused: {notes:?}");
        assert!(entries.is_empty(), "run entries lost: {entries:?}");
        let mut seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM incident_events WHERE incident_id = $1")
            .bind(id.to_string())
            .fetch_all(&db.pool)
            .await
            .unwrap();
        seqs.sort_unstable();
        let expected: Vec<i64> = (1..=1 + 240 + 120).collect();
        assert_eq!(seqs, expected, "every entry has its own number, none skipped");
        second_pool.close().await;
    }
}

/// Both admins again, enabled.
async fn two_admins_again(pool: &sqlx::AnyPool, ids: [nightwatch::model::UserId; 2]) {
    for id in ids {
        accounts::set_disabled(pool, id, false).await.unwrap();
        accounts::change_role(pool, id, Role::Admin).await.unwrap();
    }
}

async fn enabled_admins(pool: &sqlx::AnyPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL")
        .fetch_one(pool)
        .await
        .unwrap()
}

db_test! {
    async fn two_admins_demoting_each_other_at_once_on_two_instances_leave_one_admin(db) {
        let ann = user(&db.pool, "ann", Role::Admin, PASSWORD).await;
        let bea = user(&db.pool, "bea", Role::Admin, PASSWORD).await;
        let a = TestApp::new(&db);
        let b = TestApp::another_instance(&db).await;
        let ann_cookie = a.sign_in("ann", PASSWORD).await;
        let bea_cookie = b.sign_in("bea", PASSWORD).await;
        let (ann_id, bea_id) = (ann.id.to_string(), bea.id.to_string());
        for trial in 0..10 {
            two_admins_again(&db.pool, [ann.id, bea.id]).await;
            let demote_bea = [("user_id", bea_id.as_str()), ("role", "responder")];
            let demote_ann = [("user_id", ann_id.as_str()), ("role", "responder")];
            let (first, second) = tokio::join!(
                a.call("change_user_role", &demote_bea, Some(&ann_cookie)),
                b.call("change_user_role", &demote_ann, Some(&bea_cookie)),
            );
            let mut statuses = [first.status(), second.status()];
            statuses.sort();
            // The loser is refused as the last admin, or — demoted a moment earlier — is no
            // longer an admin; either way it changes nothing.
            assert!(matches!(statuses, [StatusCode::OK, StatusCode::FORBIDDEN | StatusCode::CONFLICT]), "trial {trial}: {statuses:?}");
            assert_eq!(enabled_admins(&db.pool).await, 1, "trial {trial}");
        }
    }
}

db_test! {
    async fn two_admins_disabling_each_other_at_once_on_two_instances_leave_one_admin(db) {
        let ann = user(&db.pool, "ann", Role::Admin, PASSWORD).await;
        let bea = user(&db.pool, "bea", Role::Admin, PASSWORD).await;
        let a = TestApp::new(&db);
        let b = TestApp::another_instance(&db).await;
        let (ann_id, bea_id) = (ann.id.to_string(), bea.id.to_string());
        for trial in 0..10 {
            two_admins_again(&db.pool, [ann.id, bea.id]).await;
            // Disabling ends sessions: sign in afresh each trial.
            let ann_cookie = a.sign_in("ann", PASSWORD).await;
            let bea_cookie = b.sign_in("bea", PASSWORD).await;
            let disable_bea = [("user_id", bea_id.as_str()), ("disabled", "true")];
            let disable_ann = [("user_id", ann_id.as_str()), ("disabled", "true")];
            let (first, second) = tokio::join!(
                a.call("set_user_disabled", &disable_bea, Some(&ann_cookie)),
                b.call("set_user_disabled", &disable_ann, Some(&bea_cookie)),
            );
            let mut statuses = [first.status(), second.status()];
            statuses.sort();
            // The loser is refused as the last admin, or — its own account disabled a moment
            // earlier — no longer signed in; either way nothing changes.
            assert!(matches!(statuses, [StatusCode::OK, StatusCode::UNAUTHORIZED | StatusCode::CONFLICT]), "trial {trial}: {statuses:?}");
            assert_eq!(enabled_admins(&db.pool).await, 1, "trial {trial}");
        }
    }
}

db_test! {
    async fn a_run_marked_interrupted_elsewhere_stays_interrupted(db) {
        use nightwatch::model::catalog::{ActionCode, Scene};
        use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
        use nightwatch::model::run::{StepStatus, Trigger};
        use nightwatch::server::jobs::executor::{Executor, ExecutorSettings};
        use nightwatch::server::repo::runs as run_repo;
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let mut steps = Vec::new();
        for i in 0..3 {
            let mut wait = Step::new(format!("wait {i}"), ActionCode::Wait, None);
            wait.params.insert("duration".into(), ParamValue::Set("700ms".into()));
            steps.push(wait);
        }
        let draft = PlanDraft {
            name: "Slow drill".into(), description: String::new(), scene: Scene::Drill, service: "db".into(),
            scenario: String::new(), rto_secs: None, rpo_secs: None, schedule: None, enabled: true, steps,
        };
        let plan = nightwatch::server::service::plans::create(&db.pool, &cmdr, draft).await.unwrap();
        let config = nightwatch::server::config::Config::for_database(db.url.clone());
        let executor = Executor::new(db.pool.clone(), ExecutorSettings::from_config(&config));
        let prepared = runs::create(&db.pool, Some(&cmdr), plan, Trigger::Manual, &Default::default(), None).await.unwrap();
        let number = prepared.number;
        let handle = executor.submit(prepared);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // Another instance's housekeeping decides this executor is gone.
        let marked = run_repo::interrupt_stale(&db.pool, Utc::now() + chrono::Duration::seconds(5), Utc::now()).await.unwrap();
        assert_eq!(marked.len(), 1);
        handle.await.unwrap();
        let run = run_repo::find(&db.pool, number).await.unwrap().unwrap();
        assert_eq!(run.summary.status, RunStatus::Interrupted, "the executor did not flip it back");
        assert!(run.summary.score.is_none(), "an interrupted run has no score");
        let later: Vec<StepStatus> = run.steps[1..].iter().map(|s| s.status).collect();
        assert_eq!(later, [StepStatus::Pending, StepStatus::Pending], "no step ran after the run was taken");
    }
}
