//! Postmortem server functions through the router: roles, version conflicts, publication.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use nightwatch::model::Role;
use nightwatch::model::postmortem::{Postmortem, PostmortemState};

use crate::support::{PASSWORD, TestApp, call_json, text, user};

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

/// A plain HTML form post (JavaScript off) to `path`.
async fn post_form(
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
    cookie: &str,
) -> axum::http::Response<Body> {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let req = Request::post(path)
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

fn location(res: &axum::http::Response<Body>) -> &str {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

db_test! {
    async fn the_form_saves_without_javascript_and_a_stale_post_is_kept_not_applied(db) {
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let rita = app.sign_in("rita", PASSWORD).await;
        app.call("declare_incident", &[("title", "Queue stuck"), ("description", ""), ("severity", "sev2"), ("services", "jobs"), ("tags", ""), ("detected_at", "")], Some(&rita)).await;
        app.call("open_postmortem", &[("number", "INC-1")], Some(&rita)).await;
        let path = "/incidents/INC-1/postmortem/save";

        let form = [("version", "1"), ("summary", "Workers stalled"), ("root_causes", "lock leak\nno alert"), ("why_0", "Why did jobs stall?"), ("because_0", "A lock leaked"), ("why_1", "Why did it leak?"), ("because_1", "No timeout"), ("op", "up:1")];
        let res = post_form(&app, path, &form, &rita).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/incidents/INC-1/postmortem#whys");
        let res = app.call("get_postmortem", &[("number", "INC-1")], Some(&rita)).await;
        let page: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(page["postmortem"]["version"], 2);
        assert_eq!(page["postmortem"]["doc"]["root_causes"], serde_json::json!(["lock leak", "no alert"]));
        assert_eq!(page["postmortem"]["doc"]["whys"][0]["why"], "Why did it leak?", "the Move up button was applied");

        let stale = [("version", "1"), ("summary", "An older tab's text")];
        let res = post_form(&app, path, &stale, &rita).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "back to the form, which shows both versions");
        let res = app.call("get_postmortem", &[("number", "INC-1")], Some(&rita)).await;
        let page: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(page["postmortem"]["doc"]["summary"], "Workers stalled", "nothing overwritten");
        assert_eq!(page["unsaved"]["doc"]["summary"], "An older tab's text", "the author's text is kept");

        let res = post_form(&app, path, &[("intent", "discard")], &rita).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = app.call("get_postmortem", &[("number", "INC-1")], Some(&rita)).await;
        let page: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
        assert!(page["unsaved"].is_null());

        let vera = app.sign_in("vera", PASSWORD).await;
        let res = post_form(&app, path, &[("version", "2"), ("summary", "viewer")], &vera).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
}

db_test! {
    async fn a_plain_form_save_that_the_database_refuses_is_not_reported_saved(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let rita = app.sign_in("rita", PASSWORD).await;
        app.call("declare_incident", &[("title", "Queue stuck"), ("description", ""), ("severity", "sev2"), ("services", "jobs"), ("tags", ""), ("detected_at", "")], Some(&rita)).await;
        app.call("open_postmortem", &[("number", "INC-1")], Some(&rita)).await;
        crate::support::fail_every(&db, "BEFORE UPDATE ON postmortems").await;
        let res = post_form(&app, "/incidents/INC-1/postmortem/save", &[("version", "1"), ("summary", "Workers stalled")], &rita).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!location(&res).contains("saved"), "{}", location(&res));
    }
}

db_test! {
    async fn a_json_save_keeps_to_the_chain_limit_and_to_its_own_timeline(db) {
        user(&db.pool, "rita", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let rita = app.sign_in("rita", PASSWORD).await;
        for title in ["Queue stuck", "Disk full"] {
            app.call("declare_incident", &[("title", title), ("description", ""), ("severity", "sev2"), ("services", "jobs"), ("tags", ""), ("detected_at", "")], Some(&rita)).await;
        }
        app.call("open_postmortem", &[("number", "INC-1")], Some(&rita)).await;
        let whys: Vec<_> = (0..40).map(|i| serde_json::json!({"why": format!("why {i}"), "because": "b"})).collect();
        let (status, body) = call_json(&app, "save_postmortem", serde_json::json!({"number": "INC-1", "doc": {"whys": whys}, "version": 1}), &rita).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("whys"), "{body}");

        let other = nightwatch::server::repo::incidents::event_ids(&db.pool, nightwatch::model::incident::IncidentNumber(2)).await.unwrap();
        let (status, body) = call_json(&app, "save_postmortem", serde_json::json!({"number": "INC-1", "doc": {"key_moments": [other[0].to_string()]}, "version": 1}), &rita).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("key_moments"), "{body}");
        let res = app.call("get_postmortem", &[("number", "INC-1")], Some(&rita)).await;
        let page: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(page["postmortem"]["version"], 1, "nothing refused was stored");
    }
}

db_test! {
    async fn the_markdown_download_has_every_section(db) {
        user(&db.pool, "cora", Role::Commander, PASSWORD).await;
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let cora = app.sign_in("cora", PASSWORD).await;
        app.call("declare_incident", &[("title", "Checkout | down"), ("description", ""), ("severity", "sev1"), ("services", "checkout"), ("tags", ""), ("detected_at", "")], Some(&cora)).await;
        let vera = app.sign_in("vera", PASSWORD).await;
        assert_eq!(app.get("/incidents/INC-1/postmortem.md", Some(&vera)).await.status(), StatusCode::NOT_FOUND, "nothing to download before it starts");
        app.call("open_postmortem", &[("number", "INC-1")], Some(&cora)).await;
        let doc = serde_json::json!({"summary": "Card payments failed.", "went_well": ["Fast rollback"], "whys": [{"why": "Why did payments fail?", "because": "The gateway certificate expired"}]});
        let (status, _) = call_json(&app, "save_postmortem", serde_json::json!({"number": "INC-1", "doc": doc, "version": 1}), &cora).await;
        assert_eq!(status, StatusCode::OK);
        app.call("create_action_item", &[("number", "INC-1"), ("title", "Alert on certificate expiry"), ("owner", "cora"), ("due_on", "2030-01-01"), ("priority", "p1"), ("kind", "preventive")], Some(&cora)).await;

        let res = app.get("/incidents/INC-1/postmortem.md", Some(&vera)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().contains("INC-1-postmortem.md"));
        let md = text(res).await;
        assert!(md.starts_with("# Postmortem: INC-1 Checkout | down"), "{md}");
        for section in ["## Summary", "## Impact", "## Timeline", "## Root causes", "## Contributing factors", "## 5 whys", "## Lessons", "### What went well", "### What went wrong", "### Where we got lucky", "## Corrective and preventive actions"] {
            assert!(md.contains(&format!("\n{section}\n")), "missing {section}:\n{md}");
        }
        assert!(md.contains("1. **Why did payments fail?**\n   - The gateway certificate expired\n"), "{md}");
        assert!(md.contains("| Alert on certificate expiry | Preventive | P1 | cora | 2030-01-01 | To do |"), "{md}");
        assert!(md.contains("- Fast rollback"));
        assert!(md.contains("Declared as SEV1"), "the timeline is imported");
        assert_eq!(app.get("/incidents/INC-1/postmortem.md", None).await.status(), StatusCode::SEE_OTHER, "sign-in first");
    }
}

db_test! {
    async fn the_postmortem_and_action_pages_render_on_the_server(db) {
        user(&db.pool, "cora", Role::Commander, PASSWORD).await;
        let app = TestApp::new(&db);
        let cora = app.sign_in("cora", PASSWORD).await;
        app.call("declare_incident", &[("title", "Search slow"), ("description", ""), ("severity", "sev3"), ("services", "search"), ("tags", ""), ("detected_at", "")], Some(&cora)).await;
        let html = text(app.get("/incidents/INC-1/postmortem", Some(&cora)).await).await;
        assert!(html.contains("Start the postmortem"), "{html}");
        app.call("open_postmortem", &[("number", "INC-1")], Some(&cora)).await;
        let html = text(app.get("/incidents/INC-1/postmortem", Some(&cora)).await).await;
        for label in ["What happened", "Root causes", "Why 5", "Because 1", "What went well", "Add an action item", "Send for review"] {
            assert!(html.contains(label), "missing {label}");
        }
        let html = text(app.get("/actions?mine=1", Some(&cora)).await).await;
        assert!(html.contains("No action items match."));
    }
}

db_test! {
    async fn text_refused_because_the_postmortem_was_published_stays_visible_until_dismissed(db) {
        user(&db.pool, "cora", Role::Commander, PASSWORD).await;
        let app = TestApp::new(&db);
        let cora = app.sign_in("cora", PASSWORD).await;
        app.call("declare_incident", &[("title", "DNS outage"), ("description", ""), ("severity", "sev1"), ("services", "edge"), ("tags", ""), ("detected_at", "")], Some(&cora)).await;
        app.call("open_postmortem", &[("number", "INC-1")], Some(&cora)).await;
        for (to, version) in [("in_review", "1"), ("published", "2")] {
            let res = app.call("change_postmortem_state", &[("number", "INC-1"), ("to", to), ("version", version)], Some(&cora)).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        let late = [("version", "1"), ("summary", "Typed in a tab left open")];
        let res = post_form(&app, "/incidents/INC-1/postmortem/save", &late, &cora).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let html = text(app.get("/incidents/INC-1/postmortem", Some(&cora)).await).await;
        assert!(html.contains("Your changes were not saved"));
        assert!(html.contains("Typed in a tab left open"), "the refused text is shown");
        assert!(html.contains("published and can no longer change"));

        post_form(&app, "/incidents/INC-1/postmortem/save", &[("intent", "discard")], &cora).await;
        let html = text(app.get("/incidents/INC-1/postmortem", Some(&cora)).await).await;
        assert!(!html.contains("Your changes were not saved"));
    }
}
