//! Plans on both databases: the catalog copied at start-up (idempotent, concurrent, retiring
//! what the code dropped), plans created and edited as versions, stale edits refused, secrets kept.

use nightwatch::model::catalog::{ActionCode, Scene};
use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
use nightwatch::model::{AppError, Role};
use std::collections::BTreeMap;

use chrono::Utc;
use nightwatch::model::run::{RunStatus, StepStatus, Trigger};
use nightwatch::server::repo::catalog;
use nightwatch::server::repo::runs::{self as run_repo, StepUpdate};
use nightwatch::server::service::{plans, runs};

use crate::support::{PASSWORD, user};

fn drill(name: &str) -> PlanDraft {
    let mut hook = Step::new("hook".into(), ActionCode::Webhook, None);
    hook.params.insert(
        "url".into(),
        ParamValue::Set("https://chaos.example/faults".into()),
    );
    hook.params
        .insert("secret".into(), ParamValue::Set("s3cret".into()));
    let mut check = Step::new("check".into(), ActionCode::HttpRequest, None);
    check.params.insert("url".into(), ParamValue::AskAtRun);
    PlanDraft {
        name: name.into(),
        description: "Kill one checkout pod and watch it come back".into(),
        scene: Scene::Drill,
        service: "checkout".into(),
        scenario: "pod loss".into(),
        rto_secs: Some(300),
        rpo_secs: None,
        schedule: None,
        enabled: true,
        steps: vec![
            hook,
            Step::new("wait".into(), ActionCode::Wait, None),
            check,
        ],
    }
}

db_test! {
    async fn the_catalog_sync_is_idempotent_concurrent_and_retires_what_the_code_dropped(db) {
        sqlx::query("INSERT INTO catalog_actions (code, name, description, category, scenes, display_order, params, settings, synced_at) \
                     VALUES ('reboot_host', 'Reboot host', '', 'infrastructure', '[]', 1, '[]', '[]', 0)")
            .execute(&db.pool).await.unwrap();
        let (a, b) = tokio::join!(catalog::sync(&db.pool, 10), catalog::sync(&db.pool, 10));
        a.unwrap();
        b.unwrap();
        catalog::sync(&db.pool, 20).await.unwrap();
        let stored = catalog::list(&db.pool).await.unwrap();
        assert_eq!(stored.len(), ActionCode::ALL.len() + 1);
        let old = stored.iter().find(|a| a.code == "reboot_host").unwrap();
        assert_eq!((old.name.as_str(), old.retired_at), ("Reboot host", Some(10)), "kept readable, retired once");
        assert!(stored.iter().filter(|a| a.code != "reboot_host").all(|a| a.retired_at.is_none()));
    }
}

db_test! {
    async fn every_edit_is_a_new_version_and_a_stale_edit_is_refused(db) {
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let number = plans::create(&db.pool, &eve, drill("Pod loss")).await.unwrap();
        let v1 = plans::view(&db.pool, number, None).await.unwrap();
        assert_eq!((v1.version, v1.current_version), (1, 1));
        assert_eq!(v1.plan.steps[0].params["secret"], ParamValue::StoredSecret, "secrets never leave the server");

        let mut edit = v1.plan.clone();
        edit.steps.swap(0, 1);
        edit.name = "Pod loss, slower".into();
        assert_eq!(plans::update(&db.pool, &eve, number, edit.clone(), 1).await.unwrap(), 2);
        let stale = plans::update(&db.pool, &eve, number, edit, 1).await;
        assert!(matches!(stale, Err(AppError::Conflict(_))), "{stale:?}");

        let stored = nightwatch::server::repo::plans::find(&db.pool, number, None).await.unwrap().unwrap();
        assert_eq!(stored.version, 2);
        assert_eq!(stored.plan.steps[1].params["secret"], ParamValue::Set("s3cret".into()), "the secret followed its step");
        let old = plans::view(&db.pool, number, Some(1)).await.unwrap();
        assert_eq!((old.version, old.current_version, old.plan.name.as_str()), (1, 2, "Pod loss"), "old versions stay readable");
        let list = nightwatch::server::repo::plans::list(&db.pool).await.unwrap();
        assert_eq!((list.len(), list[0].name.as_str(), list[0].version), (1, "Pod loss, slower", 2));
    }
}

db_test! {
    async fn an_invalid_plan_is_refused_with_its_fields_and_nothing_is_written(db) {
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let mut bad = drill("Broken");
        bad.steps[0].params.insert("url".into(), ParamValue::Set("not a url".into()));
        let err = plans::create(&db.pool, &eve, bad).await.unwrap_err();
        assert!(err.field_message("steps.0.url").is_some(), "{err:?}");
        assert!(nightwatch::server::repo::plans::list(&db.pool).await.unwrap().is_empty());
    }
}

db_test! {
    async fn a_run_records_every_step_uses_answers_without_touching_the_plan_and_masks_secrets(db) {
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let number = plans::create(&db.pool, &eve, drill("Pod loss")).await.unwrap();
        let missing = runs::create(&db.pool, Some(&eve), number, Trigger::Manual, &BTreeMap::new(), None).await.unwrap_err();
        assert!(missing.field_message("steps.2.url").is_some(), "the open parameter must be answered");

        let answers = BTreeMap::from([("steps.2.url".to_owned(), "https://checkout.example/health".to_owned())]);
        let prepared = runs::create(&db.pool, Some(&eve), number, Trigger::Manual, &answers, None).await.unwrap();
        assert_eq!(prepared.params[0]["secret"], "s3cret", "the executor gets the secret");
        assert_eq!(prepared.params[2]["url"], "https://checkout.example/health");

        let run = run_repo::find(&db.pool, prepared.number).await.unwrap().unwrap();
        assert_eq!((run.summary.status, run.summary.plan_version, run.steps.len()), (RunStatus::Pending, 1, 3));
        assert!(run.steps.iter().all(|s| s.status == StepStatus::Pending));
        let stored: String = sqlx::query_scalar("SELECT params FROM runs").fetch_one(&db.pool).await.unwrap();
        assert!(!stored.contains("s3cret") && stored.contains("checkout.example/health"), "{stored}");
        let plan = nightwatch::server::repo::plans::find(&db.pool, number, None).await.unwrap().unwrap();
        assert_eq!(plan.plan.steps[2].params["url"], ParamValue::AskAtRun, "the plan keeps its open parameter");
    }
}

db_test! {
    async fn runs_a_crash_left_unfinished_become_interrupted_and_keep_their_completed_steps(db) {
        let eve = user(&db.pool, "eve", Role::Commander, PASSWORD).await;
        let number = plans::create(&db.pool, &eve, drill("Pod loss")).await.unwrap();
        let answers = BTreeMap::from([("steps.2.url".to_owned(), "https://checkout.example/health".to_owned())]);
        let done = runs::create(&db.pool, Some(&eve), number, Trigger::Manual, &answers, None).await.unwrap().number;
        let cut = runs::create(&db.pool, Some(&eve), number, Trigger::Manual, &answers, None).await.unwrap().number;
        let now = Utc::now();
        runs::finish(&db.pool, done, RunStatus::Passed, now).await.unwrap();
        run_repo::set_status(&db.pool, cut, RunStatus::Running, now).await.unwrap();
        let passed = StepUpdate { output: "202 Accepted".into(), ..StepUpdate::status(StepStatus::Passed) };
        run_repo::set_step(&db.pool, cut, 0, &passed, now).await.unwrap();
        let running = StepUpdate::status(StepStatus::Running);
        run_repo::set_step(&db.pool, cut, 1, &running, now).await.unwrap();

        assert_eq!(runs::interrupt_stale(&db.pool, now - runs::STALE_AFTER).await.unwrap(), 0, "a live run is left alone");
        let later = now + chrono::Duration::seconds(1);
        assert_eq!(runs::interrupt_stale(&db.pool, later).await.unwrap(), 1);
        let run = run_repo::find(&db.pool, cut).await.unwrap().unwrap();
        assert_eq!(run.summary.status, RunStatus::Interrupted);
        assert!(run.summary.started_at.is_some() && run.summary.finished_at.is_some());
        let statuses: Vec<_> = run.steps.iter().map(|s| s.status).collect();
        assert_eq!(statuses, [StepStatus::Passed, StepStatus::Interrupted, StepStatus::Pending]);
        assert_eq!(run.steps[0].output, "202 Accepted", "completed steps are kept");
        assert_eq!(run_repo::find(&db.pool, done).await.unwrap().unwrap().summary.status, RunStatus::Passed);
        assert_eq!(runs::interrupt_stale(&db.pool, later).await.unwrap(), 0, "nothing twice");
        let list = run_repo::list(&db.pool, Some(number), 10).await.unwrap();
        assert_eq!(list.iter().map(|r| r.number).collect::<Vec<_>>(), [cut, done], "newest first");
    }
}
