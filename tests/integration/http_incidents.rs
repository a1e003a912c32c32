//! Incident server functions and pages through the router: roles, field errors, plain forms.

use axum::http::{StatusCode, header};
use nightwatch::model::incident::{IncidentNumber, IncidentStatus};
use nightwatch::model::incident_views::{IncidentDetail, IncidentPage};
use nightwatch::model::{AppError, Role};
use nightwatch::server::repo::incidents as repo;

use crate::support::{PASSWORD, TestApp, text, user};

const DECLARATION: [(&str, &str); 6] = [
    ("title", "Checkout fails with 502"),
    ("description", "Since 09:10"),
    ("severity", "sev1"),
    ("services", "checkout, payments"),
    ("tags", "eu"),
    ("detected_at", ""),
];

db_test! {
    async fn a_viewer_cannot_declare_and_nothing_is_created(db) {
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("vera", PASSWORD).await;
        let res = app.call("declare_incident", &DECLARATION, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let list = repo::list(&db.pool, &Default::default()).await.unwrap();
        assert!(list.items.is_empty());
    }
}

db_test! {
    async fn bad_declarations_get_field_errors_not_a_500(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("rita", PASSWORD).await;
        let bad = [("title", ""), ("description", ""), ("severity", "sev0"), ("services", ""), ("tags", ""), ("detected_at", "2999-01-01T00:00")];
        let res = app.call("declare_incident", &bad, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let err: AppError = serde_json::from_str(&text(res).await).unwrap();
        for field in ["title", "severity", "services", "detected_at"] {
            assert!(err.field_message(field).is_some(), "{field}: {err:?}");
        }
    }
}

db_test! {
    async fn a_responder_declares_and_a_commander_runs_the_incident(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        user(&db.pool, "cora", Role::Commander, PASSWORD).await;
        let app = TestApp::new(&db);
        let rita = app.sign_in("rita", PASSWORD).await;
        let res = app.call("declare_incident", &DECLARATION, Some(&rita)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let number: IncidentNumber = serde_json::from_str(&text(res).await).unwrap();

        let n = number.to_string();
        let res = app.call("transition_incident", &[("number", &n), ("from", "open"), ("to", "mitigating"), ("note", "x")], Some(&rita)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "a responder may not move the incident");

        let cora = app.sign_in("cora", PASSWORD).await;
        let res = app.call("transition_incident", &[("number", &n), ("from", "open"), ("to", "mitigating"), ("note", "rolling back")], Some(&cora)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.call("transition_incident", &[("number", &n), ("from", "open"), ("to", "mitigating"), ("note", "stale")], Some(&cora)).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "a move from a status it no longer has loses");
        let res = app.call("add_note", &[("number", &n), ("body", "customers notified"), ("occurred_at", "")], Some(&rita)).await;
        assert_eq!(res.status(), StatusCode::OK);

        let res = app.call("get_incident", &[("number", &n)], Some(&cora)).await;
        let detail: IncidentDetail = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(detail.summary.status, IncidentStatus::Mitigating);
        assert_eq!(detail.timeline.len(), 3);

        let res = app.call("list_incidents", &[("status", "active"), ("severity", ""), ("service", "payments"), ("tag", ""), ("q", ""), ("sort", ""), ("after", "")], Some(&rita)).await;
        let page: IncidentPage = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(page.items.len(), 1);
    }
}

db_test! {
    async fn a_plain_form_declaration_opens_the_new_incident(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("rita", PASSWORD).await;
        let res = app.send(app.form_request("declare_incident", &DECLARATION, Some(&cookie), "text/html")).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(res.headers()[header::LOCATION], "/incidents/INC-1");

        let page = app.get("/incidents/INC-1", Some(&cookie)).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = text(page).await;
        for expected in ["INC-1", "Checkout fails with 502", "SEV1", "Open", "Timeline", "Declared as SEV1"] {
            assert!(html.contains(expected), "missing {expected:?}");
        }
        assert!(!html.contains("Start mitigating"), "a responder sees no transition buttons");
        assert!(html.contains("Add a note"));

        let missing = app.get("/incidents/INC-99", Some(&cookie)).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let list = app.get("/incidents?status=open", Some(&cookie)).await;
        assert_eq!(list.status(), StatusCode::OK);
        assert!(text(list).await.contains("Checkout fails with 502"));
    }
}

db_test! {
    async fn the_incident_page_embeds_the_same_data_on_every_load(db) {
        use nightwatch::model::incident_input::NewIncident;
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let new = NewIncident::parse("Payments down", "", "sev1", "payments", "", "", chrono::Utc::now()).unwrap();
        let n = nightwatch::server::service::incidents::declare(&db.pool, &cmdr, &new).await.unwrap();
        let app = TestApp::new(&db);
        let cookie = app.sign_in("cmdr", PASSWORD).await;
        // Every panel's data is read in the request's context: never an error in its place.
        let loads = (0..120).map(|_| {
            let (app, cookie) = (&app, cookie.clone());
            async move { text(app.get(&format!("/incidents/{n}"), Some(&cookie)).await).await }
        });
        for html in futures::future::join_all(loads).await {
            assert!(!html.contains("Internal"), "a panel's data failed to load: {html}");
            assert!(html.contains("Run a plan") && html.contains("Roles"), "the panels rendered");
        }
    }
}
