//! Plan server functions through the router: roles, validation messages by field, secrets masked.

use axum::http::StatusCode;
use nightwatch::model::Role;
use nightwatch::model::plan::PlanView;

use crate::support::{PASSWORD, TestApp, call_json, text, user};

db_test! {
    async fn responders_write_plans_viewers_read_them_and_secrets_stay_on_the_server(db) {
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let vera = app.sign_in("vera", PASSWORD).await;
        let rita = app.sign_in("rita", PASSWORD).await;
        let plan = |url: &str| serde_json::json!({"plan": {
            "name": "Cache node loss", "description": "", "scene": "drill", "service": "cache",
            "scenario": "a node dies", "rto_secs": 300, "rpo_secs": null, "enabled": true,
            "steps": [{"id": "s1", "action": "webhook", "name": "Kill a node", "timeout_secs": 60,
                       "pre_confirm": true, "on_failure": "abort", "weight": 20, "phase": null,
                       "params": {"url": {"set": url}, "payload": {"set": "{}"}, "expect_status": {"set": "200"},
                                  "secret": {"set": "hmac-key-123"}}}]
        }});

        let (status, _) = call_json(&app, "create_plan", plan("https://chaos.example/f"), &vera).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "viewers only read plans");
        let (status, body) = call_json(&app, "create_plan", plan("chaos"), &rita).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("steps.0.url"), "{body}");
        let (status, body) = call_json(&app, "create_plan", plan("https://chaos.example/f"), &rita).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let number: i64 = serde_json::from_str(&body).unwrap();

        let res = app.call("get_plan", &[("number", &number.to_string())], Some(&vera)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = text(res).await;
        assert!(!body.contains("hmac-key-123"), "a secret is never sent back");
        let view: PlanView = serde_json::from_str(&body).unwrap();
        assert_eq!((view.number, view.version), (number, 1));

        let html = text(app.get(&format!("/plans/{number}"), Some(&vera)).await).await;
        assert!(html.contains("Kill a node") && html.contains("shown to responders and up"), "a viewer reads the steps, not their values");
        assert!(!html.contains("chaos.example"), "no URL for a viewer");
        let html = text(app.get(&format!("/plans/{number}"), Some(&rita)).await).await;
        assert!(html.contains("chaos.example") && html.contains("stored secret"), "a responder reads the values, secrets masked");
        assert!(text(app.get("/plans", Some(&vera)).await).await.contains("Cache node loss"));
    }
}

fn plain_post(
    path: &str,
    form: &[(&str, &str)],
    cookie: &str,
) -> axum::http::Request<axum::body::Body> {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    axum::http::Request::post(path)
        .header("host", "localhost")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(axum::body::Body::from(body))
        .unwrap()
}

fn location(res: &axum::http::Response<axum::body::Body>) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

db_test! {
    async fn run_now_asks_the_open_parameters_and_people_answer_and_abort_through_the_router(db) {
        use nightwatch::model::catalog::{ActionCode, Scene};
        use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
        use nightwatch::model::run::{RunStatus, RunView};
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let cora = user(&db.pool, "cora", Role::Commander, PASSWORD).await;
        let mut gate = Step::new("gate".into(), ActionCode::Wait, None);
        gate.pre_confirm = true;
        let mut check = Step::new("check".into(), ActionCode::HttpRequest, None);
        check.params.insert("url".into(), ParamValue::AskAtRun);
        let draft = PlanDraft {
            name: "Failover drill".into(), description: String::new(), scene: Scene::Drill,
            service: "checkout".into(), scenario: "region loss".into(), rto_secs: None, rpo_secs: None, schedule: None,
            enabled: true, steps: vec![gate, check],
        };
        let plan = nightwatch::server::service::plans::create(&db.pool, &cora, draft).await.unwrap();
        let app = TestApp::new(&db);
        let vera = app.sign_in("vera", PASSWORD).await;
        let rita = app.sign_in("rita", PASSWORD).await;
        let cora = app.sign_in("cora", PASSWORD).await;
        let run_path = format!("/plans/{plan}/run");

        let res = app.send(plain_post(&run_path, &[("steps.1.url", "https://checkout.example/health")], &vera)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(location(&res).contains("form=run_plan&ek=conflict&e=Running+a+plan+needs+the+responder+role"), "{}", location(&res));

        let res = app.send(plain_post(&run_path, &[("steps.1.url", "not a url")], &rita)).await;
        let back = location(&res);
        assert!(back.starts_with(&format!("/plans/{plan}?")) && back.ends_with("#run"), "{back}");
        assert!(back.contains("e.steps.1.url=") && back.contains("v.steps.1.url=not+a+url"), "the message and the typed value come back: {back}");
        let page = text(app.get(back.trim_end_matches("#run"), Some(&rita)).await).await;
        assert!(page.contains("A URL starting with http:// or https://.") && page.contains("value=\"not a url\""), "shown beside the field");

        let res = app.send(plain_post(&run_path, &[("steps.1.url", "https://checkout.example/health")], &rita)).await;
        let to = location(&res);
        assert!(to.starts_with("/runs/"), "{to}");
        let number: i64 = to.trim_start_matches("/runs/").parse().unwrap();
        let run = || async {
            let body = text(app.call("get_run", &[("number", &number.to_string())], Some(&rita)).await).await;
            serde_json::from_str::<RunView>(&body).unwrap()
        };
        for _ in 0..100 {
            if run().await.summary.status == RunStatus::WaitingForConfirmation { break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(run().await.params[1]["url"], "https://checkout.example/health");
        let html = text(app.get(&to, Some(&vera)).await).await;
        assert!(html.contains("Failover drill") && html.contains("Waiting for a commander to confirm"), "the run page renders");
        assert!(text(app.get("/runs", Some(&vera)).await).await.contains(&format!("Run #{number}")));
        assert!(text(app.get(&format!("/plans/{plan}"), Some(&vera)).await).await.contains(&format!("Run #{number}")), "the plan's history");

        let decide = |who: &str, decision: &str| {
            let (n, who, decision) = (number.to_string(), who.to_owned(), decision.to_owned());
            let app = &app;
            async move { app.call("decide_step", &[("number", &n), ("index", "0"), ("decision", &decision), ("note", "")], Some(&who)).await.status() }
        };
        assert_eq!(decide(&rita, "confirm").await, StatusCode::FORBIDDEN, "gates are for commanders");
        assert_eq!(decide(&cora, "pass").await, StatusCode::CONFLICT, "a gate is not a check");
        let res = app.call("abort_run", &[("number", &number.to_string())], Some(&rita)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.call("abort_run", &[("number", &number.to_string())], Some(&cora)).await;
        assert_eq!(res.status(), StatusCode::OK);
        for _ in 0..100 {
            if run().await.summary.status.is_finished() { break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(run().await.summary.status, RunStatus::Aborted);
    }
}

db_test! {
    async fn schedules_and_reviews_through_the_router_check_roles_and_answer_with_field_messages(db) {
        use nightwatch::model::catalog::{ActionCode, Scene};
        use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
        use nightwatch::model::run::Trigger;
        use nightwatch::model::schedule::{Concurrency, PlanSchedule};
        use nightwatch::server::service::{plans, runs};
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        let rita = user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let mut wait = Step::new("w".into(), ActionCode::Wait, None);
        wait.params.insert("duration".into(), ParamValue::Set("1ms".into()));
        let draft = PlanDraft {
            name: "Nightly drill".into(), description: String::new(), scene: Scene::Drill,
            service: "cache".into(), scenario: "node lost".into(), rto_secs: None, rpo_secs: None,
            enabled: true, steps: vec![wait],
            schedule: Some(PlanSchedule { cron: "0 3 * * *".into(), zone: "Asia/Shanghai".into(), concurrency: Concurrency::Forbid }),
        };
        let plan = plans::create(&db.pool, &rita, draft).await.unwrap();
        let app = TestApp::new(&db);
        let vera = app.sign_in("vera", PASSWORD).await;
        let rita_cookie = app.sign_in("rita", PASSWORD).await;
        let n = plan.to_string();

        // Everyone reads the schedule; the next five runs are 03:00 in Shanghai (19:00 UTC).
        let body = text(app.call("plan_activity", &[("number", &n)], Some(&vera)).await).await;
        let activity: nightwatch::api::plans::PlanActivity = serde_json::from_str(&body).unwrap();
        assert_eq!(activity.upcoming.len(), 5);
        assert!(activity.upcoming.iter().all(|t| t.format("%H:%M").to_string() == "19:00"), "{body}");
        // Only responders pause.
        let res = app.call("set_schedule_paused", &[("number", &n), ("paused", "true")], Some(&vera)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.call("set_schedule_paused", &[("number", &n), ("paused", "true")], Some(&rita_cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = text(app.call("plan_activity", &[("number", &n)], Some(&vera)).await).await;
        assert!(body.contains(r#""paused":true"#) && body.contains(r#""upcoming":[]"#), "{body}");

        // A finished run's review: viewers read, responders write, findings required.
        let prepared = runs::create(&db.pool, Some(&rita), plan, Trigger::Manual, &Default::default(), None).await.unwrap();
        let number = prepared.number.to_string();
        let res = app.call("save_run_review", &[("number", &number), ("findings", "early"), ("changes", "")], Some(&rita_cookie)).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "not before the run has finished");
        sqlx::query("UPDATE runs SET status = 'passed'").execute(&db.pool).await.unwrap();
        let res = app.call("save_run_review", &[("number", &number), ("findings", "x"), ("changes", "")], Some(&vera)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.call("save_run_review", &[("number", &number), ("findings", " "), ("changes", "")], Some(&rita_cookie)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(text(res).await.contains("findings"));
        let res = app.call("save_run_review", &[("number", &number), ("findings", "Refill took 40 s"), ("changes", "Pre-warm")], Some(&rita_cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = text(app.call("run_review", &[("number", &number)], Some(&vera)).await).await;
        assert!(body.contains("Refill took 40 s") && body.contains(r#""reviewed_by":"rita""#), "{body}");
        let res = app.call("create_action_item", &[("number", &format!("RUN-{number}")), ("title", "Pre-warm the cache"), ("owner", "rita"), ("due_on", "2030-01-01"), ("priority", "p2"), ("kind", "preventive")], Some(&vera)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.call("create_action_item", &[("number", &format!("RUN-{number}")), ("title", "Pre-warm the cache"), ("owner", "rita"), ("due_on", "2030-01-01"), ("priority", "p2"), ("kind", "preventive")], Some(&rita_cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = text(app.call("run_review", &[("number", &number)], Some(&vera)).await).await;
        assert!(body.contains("Pre-warm the cache"), "{body}");
    }
}
