//! `/api/v1` beyond incidents: action items, plans and runs, the board and the postmortem.

use axum::http::{StatusCode, header};
use nightwatch::model::Role;
use serde_json::json;

use crate::support::{PASSWORD, TestApp, token, user};

async fn incident(app: &TestApp, secret: &str) {
    let (status, _, body) = app
        .api(
            "POST",
            "/api/v1/incidents",
            Some(secret),
            Some(json!({
                "title": "Queue backlog", "severity": "sev2", "services": ["billing"]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

db_test! {
    async fn action_items_are_created_read_and_moved(db) {
        user(&db.pool, "bob", Role::Responder, PASSWORD).await;
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        incident(&app, &ci).await;
        let due = (chrono::Utc::now() + chrono::Duration::days(7)).format("%Y-%m-%d").to_string();
        let item = json!({"source": "INC-1", "title": "Alert on queue depth", "owner": "bob",
            "due_on": due, "priority": "p2", "kind": "preventive"});
        let (status, headers, created) = app.api("POST", "/api/v1/action-items", Some(&ci), Some(item)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let location = headers[header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(location, format!("/api/v1/action-items/{}", created["id"].as_str().unwrap()));
        let (status, _, moved) = app.api("PATCH", &location, Some(&ci), Some(json!({"state": "doing"}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(moved["state"], "doing");
        let (_, _, list) = app.api("GET", "/api/v1/action-items?incident=INC-1&state=open", Some(&ci), None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        let (status, _, body) = app.api("PATCH", &location, Some(&ci), Some(json!({"state": "finished"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "state");
    }
}

db_test! {
    async fn an_item_for_a_non_responder_or_in_the_past_is_refused_beside_its_field(db) {
        user(&db.pool, "erin", Role::Viewer, PASSWORD).await;
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        incident(&app, &ci).await;
        let item = json!({"source": "INC-1", "title": "Rotate the keys", "owner": "erin", "due_on": "2020-01-01", "priority": "p2", "kind": "corrective"});
        let (status, _, body) = app.api("POST", "/api/v1/action-items", Some(&ci), Some(item)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["errors"].as_array().unwrap().iter().any(|e| e["field"] == "due_on" || e["field"] == "owner"), "{body}");
    }
}

db_test! {
    async fn a_plan_is_read_run_and_aborted_through_the_api(db) {
        use nightwatch::model::catalog::{ActionCode, Scene};
        use nightwatch::model::plan::{PlanDraft, Step};
        let cora = user(&db.pool, "cora", Role::Commander, PASSWORD).await;
        let mut gate = Step::new("gate".into(), ActionCode::Wait, None);
        gate.pre_confirm = true;
        let draft = PlanDraft {
            name: "Failover drill".into(), description: String::new(), scene: Scene::Drill,
            service: "checkout".into(), scenario: "region loss".into(), rto_secs: None, rpo_secs: None, schedule: None,
            enabled: true, steps: vec![gate],
        };
        let plan = nightwatch::server::service::plans::create(&db.pool, &cora, draft).await.unwrap();
        let viewer = token(&db.pool, "wall", "viewer", "").await;
        let responder = token(&db.pool, "ci", "responder", "").await;
        let commander = token(&db.pool, "chatops", "commander", "").await;
        let app = TestApp::new(&db);
        let (_, _, plans) = app.api("GET", "/api/v1/plans", Some(&viewer), None).await;
        assert_eq!(plans["items"].as_array().unwrap().len(), 1);
        let (status, _, read) = app.api("GET", &format!("/api/v1/plans/{plan}"), Some(&viewer), None).await;
        assert_eq!(status, StatusCode::OK, "{read}");

        let runs = format!("/api/v1/plans/{plan}/runs");
        let (status, _, _) = app.api("POST", &runs, Some(&viewer), Some(json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, headers, run) = app.api("POST", &runs, Some(&responder), Some(json!({"answers": {}}))).await;
        assert_eq!(status, StatusCode::CREATED, "{run}");
        let location = headers[header::LOCATION].to_str().unwrap().to_owned();
        assert!(location.starts_with("/api/v1/runs/"), "{location}");
        let (status, _, _) = app.api("POST", &format!("{location}/abort"), Some(&responder), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "aborting is for commanders");
        let (status, _, _) = app.api("POST", &format!("{location}/abort"), Some(&commander), None).await;
        assert_eq!(status, StatusCode::OK);
        let mut finished = json!(null);
        for _ in 0..200 {
            let (_, _, now) = app.api("GET", &location, Some(&viewer), None).await;
            if now["summary"]["status"] == "aborted" { finished = now; break; }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(finished["summary"]["status"], "aborted", "{finished}");
        let (_, _, list) = app.api("GET", &format!("/api/v1/runs?plan={plan}"), Some(&viewer), None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        let (status, _, _) = app.api("GET", "/api/v1/runs/RUN-999", Some(&viewer), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

db_test! {
    async fn the_board_answers_its_figures_and_names_a_bad_field(db) {
        let wall = token(&db.pool, "wall", "viewer", "").await;
        let app = TestApp::new(&db);
        let (status, _, board) = app.api("GET", "/api/v1/board", Some(&wall), None).await;
        assert_eq!(status, StatusCode::OK, "{board}");
        assert!(board.is_object());
        let (status, _, body) = app.api("GET", "/api/v1/board?from=yesterday", Some(&wall), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "from");
    }
}

db_test! {
    async fn the_postmortem_is_read_as_json_and_markdown(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        incident(&app, &ci).await;
        let (status, _, _) = app.api("GET", "/api/v1/incidents/INC-1/postmortem", Some(&ci), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "not started yet");
        let rita = user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        nightwatch::server::service::postmortems::open(&db.pool, &rita, nightwatch::model::incident::IncidentNumber(1)).await.unwrap();
        let (status, _, pm) = app.api("GET", "/api/v1/incidents/INC-1/postmortem", Some(&ci), None).await;
        assert_eq!(status, StatusCode::OK, "{pm}");
        assert_eq!(pm["state"], "draft");
        let req = axum::http::Request::get("/api/v1/incidents/INC-1/postmortem.md")
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, format!("Bearer {ci}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/markdown"));
        assert!(crate::support::text(res).await.contains("Queue backlog"));
    }
}
