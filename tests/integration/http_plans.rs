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
