//! Plans on both databases: the catalog copied at start-up (idempotent, concurrent, retiring
//! what the code dropped), plans created and edited as versions, stale edits refused, secrets kept.

use nightwatch::model::catalog::{ActionCode, Scene};
use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
use nightwatch::model::{AppError, Role};
use nightwatch::server::repo::catalog;
use nightwatch::server::service::plans;

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
