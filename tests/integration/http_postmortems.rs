//! Postmortem server functions through the router: roles, version conflicts, publication.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use nightwatch::model::Role;
use nightwatch::model::postmortem::{Postmortem, PostmortemState};

use crate::support::{PASSWORD, TestApp, text, user};

/// A JSON call to a server function declared with `input = Json`.
async fn call_json(
    app: &TestApp,
    endpoint: &str,
    body: serde_json::Value,
    cookie: &str,
) -> (StatusCode, String) {
    let req = Request::post(format!("/api/{endpoint}"))
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.send(req).await;
    (res.status(), text(res).await)
}

db_test! {
    async fn authors_save_by_version_and_commanders_publish(db) {
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        user(&db.pool, "cora", Role::Commander, PASSWORD).await;
        let app = TestApp::new(&db);
        let cora = app.sign_in("cora", PASSWORD).await;
        let declared = app
            .call("declare_incident", &[("title", "Checkout down"), ("description", ""), ("severity", "sev1"), ("services", "checkout"), ("tags", ""), ("detected_at", "")], Some(&cora))
            .await;
        assert_eq!(declared.status(), StatusCode::OK);

        let vera = app.sign_in("vera", PASSWORD).await;
        let res = app.call("open_postmortem", &[("number", "INC-1")], Some(&vera)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "a viewer cannot start a postmortem");

        let rita = app.sign_in("rita", PASSWORD).await;
        let res = app.call("open_postmortem", &[("number", "INC-1")], Some(&rita)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let opened: Postmortem = serde_json::from_str(&text(res).await).unwrap();

        let doc = serde_json::json!({"summary": "Pool exhausted", "whys": [{"why": "Why?", "because": "Because."}]});
        let (status, body) = call_json(&app, "save_postmortem", serde_json::json!({"number": "INC-1", "doc": doc, "version": opened.version}), &rita).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let saved: Postmortem = serde_json::from_str(&body).unwrap();
        assert_eq!(saved.doc.summary, "Pool exhausted");

        let (status, _) = call_json(&app, "save_postmortem", serde_json::json!({"number": "INC-1", "doc": {"summary": "stale"}, "version": opened.version}), &rita).await;
        assert_eq!(status, StatusCode::CONFLICT);

        let res = app.call("change_postmortem_state", &[("number", "INC-1"), ("to", "in_review"), ("version", &saved.version.to_string())], Some(&rita)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "review states are for commanders");
        let res = app.call("change_postmortem_state", &[("number", "INC-1"), ("to", "in_review"), ("version", &saved.version.to_string())], Some(&cora)).await;
        let in_review: Postmortem = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(in_review.state, PostmortemState::InReview);
        assert_eq!(in_review.doc.summary, "Pool exhausted", "nothing was overwritten by the stale save");
    }
}
