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
        assert!(html.contains("Kill a node") && html.contains("stored secret"), "the plan page renders");
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
            service: "checkout".into(), scenario: "region loss".into(), rto_secs: None, rpo_secs: None,
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
        assert!(location(&res).contains("run_error=Running+a+plan+needs+the+responder+role"), "{}", location(&res));

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
            let body = text(app.call("get_run", &[("number", &number.to_string())], Some(&vera)).await).await;
            serde_json::from_str::<RunView>(&body).unwrap()
        };
        for _ in 0..100 {
            if run().await.summary.status == RunStatus::WaitingForConfirmation { break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(run().await.params[1]["url"], "https://checkout.example/health");
        let html = text(app.get(&to, Some(&vera)).await).await;
        assert!(html.contains("Failover drill") && html.contains("Waiting for confirmation"), "the run page renders");
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
