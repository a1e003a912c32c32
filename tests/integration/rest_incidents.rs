//! `/api/v1/incidents` through the router: the same rules as the pages, answered as JSON and
//! problem documents.

use axum::http::{StatusCode, header};
use serde_json::json;

use crate::support::{TestApp, token};

fn declaration() -> serde_json::Value {
    json!({
        "title": "Checkout fails with 502",
        "description": "Since 09:10",
        "severity": "sev1",
        "services": ["checkout", "payments"],
        "tags": ["eu"]
    })
}

db_test! {
    async fn a_declaration_is_created_with_its_location(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        let (status, headers, body) = app.api("POST", "/api/v1/incidents", Some(&ci), Some(declaration())).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(headers[header::LOCATION], "/api/v1/incidents/INC-1");
        assert_eq!(body["number"], "INC-1");
        assert_eq!(body["status"], "open");
        assert_eq!(body["services"], json!(["checkout", "payments"]));
        let (status, _, read) = app.api("GET", "/api/v1/incidents/1", Some(&ci), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read["title"], "Checkout fails with 502");
    }
}

db_test! {
    async fn a_bad_declaration_names_each_field(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        let bad = json!({"title": "", "severity": "sev0", "services": [], "detected_at": "2999-01-01T00:00:00Z"});
        let (status, headers, body) = app.api("POST", "/api/v1/incidents", Some(&ci), Some(bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        for field in ["title", "severity", "services", "detected_at"] {
            assert!(fields.contains(&field), "{field} in {body}");
        }
    }
}

db_test! {
    async fn a_malformed_body_is_a_problem_not_a_500(db) {
        let ci = token(&db.pool, "ci", "commander", "").await;
        let app = TestApp::new(&db);
        app.api("POST", "/api/v1/incidents", Some(&ci), Some(declaration())).await;
        let (status, _, body) = app.api("POST", "/api/v1/incidents/INC-1/transitions", Some(&ci), Some(json!({"to": 5}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "to");
        let (status, _, body) = app.api("POST", "/api/v1/incidents/INC-1/transitions", Some(&ci), Some(json!({"to": "mitigating"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "note");
        let req = axum::http::Request::post("/api/v1/incidents")
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, format!("Bearer {ci}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from("{\"title\": "))
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let (status, _, _) = app.api_with("POST", "/api/v1/incidents", Some(&ci), None, &[("content-type", "text/plain")]).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}

db_test! {
    async fn a_commander_token_runs_the_incident_and_the_timeline_names_it(db) {
        let bot = token(&db.pool, "chatops", "commander", "").await;
        let app = TestApp::new(&db);
        app.api("POST", "/api/v1/incidents", Some(&bot), Some(declaration())).await;
        let (status, _, body) = app.api("POST", "/api/v1/incidents/INC-1/transitions", Some(&bot),
            Some(json!({"to": "mitigating", "note": "rolling back"}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "mitigating");
        let (status, _, _) = app.api("POST", "/api/v1/incidents/INC-1/severity", Some(&bot),
            Some(json!({"severity": "sev2", "note": "only EU"}))).await;
        assert_eq!(status, StatusCode::OK);
        let (status, headers, entry) = app.api("POST", "/api/v1/incidents/INC-1/notes", Some(&bot),
            Some(json!({"body": "error rate back under 1%"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{entry}");
        assert_eq!(headers[header::LOCATION], "/api/v1/incidents/INC-1/timeline");
        assert_eq!(entry["event"]["kind"], "note_added");
        let (_, _, timeline) = app.api("GET", "/api/v1/incidents/INC-1/timeline", Some(&bot), None).await;
        let items = timeline["items"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert!(items.iter().all(|e| e["author"] == "via token chatops"), "{timeline}");
    }
}

db_test! {
    async fn a_move_not_allowed_or_based_on_a_stale_version_is_a_conflict(db) {
        let bot = token(&db.pool, "chatops", "commander", "").await;
        let app = TestApp::new(&db);
        let (_, _, incident) = app.api("POST", "/api/v1/incidents", Some(&bot), Some(declaration())).await;
        let version = incident["version"].as_i64().unwrap();
        let (status, _, body) = app.api("POST", "/api/v1/incidents/INC-1/transitions", Some(&bot),
            Some(json!({"to": "reviewed", "note": "x"}))).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        app.api("POST", "/api/v1/incidents/INC-1/severity", Some(&bot), Some(json!({"severity": "sev3", "note": "smaller"}))).await;
        let (status, _, body) = app.api("POST", "/api/v1/incidents/INC-1/transitions", Some(&bot),
            Some(json!({"to": "mitigating", "note": "x", "based_on_version": version}))).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body["detail"].as_str().unwrap().contains("version"), "{body}");
        let (_, _, now) = app.api("GET", "/api/v1/incidents/INC-1", Some(&bot), None).await;
        assert_eq!(now["status"], "open", "the refused move changed nothing");
    }
}

db_test! {
    async fn roles_go_to_people_and_are_cleared_with_null(db) {
        crate::support::user(&db.pool, "alice", nightwatch::model::Role::Commander, crate::support::PASSWORD).await;
        let bot = token(&db.pool, "chatops", "commander", "").await;
        let app = TestApp::new(&db);
        app.api("POST", "/api/v1/incidents", Some(&bot), Some(declaration())).await;
        let (status, _, body) = app.api("POST", "/api/v1/incidents/INC-1/roles", Some(&bot),
            Some(json!({"role": "commander", "username": "alice"}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["commander"], "alice");
        let (status, _, body) = app.api("POST", "/api/v1/incidents/INC-1/roles", Some(&bot),
            Some(json!({"role": "scribe", "username": "token:chatops"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a token holds no role: {body}");
        let (status, _, body) = app.api("POST", "/api/v1/incidents/INC-1/roles", Some(&bot),
            Some(json!({"role": "commander", "username": null}))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["commander"].is_null());
        let (status, _, body) = app.api("POST", "/api/v1/incidents/INC-1/roles", Some(&bot),
            Some(json!({"role": "commander", "username": null}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["errors"][0]["message"].as_str().unwrap().starts_with("Nobody holds this role"), "{body}");
    }
}

db_test! {
    async fn the_list_pages_with_a_next_link_and_filters(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        for i in 0..30 {
            let mut d = declaration();
            d["title"] = json!(format!("Incident {i}"));
            d["severity"] = json!(if i % 2 == 0 { "sev2" } else { "sev3" });
            let (status, _, _) = app.api("POST", "/api/v1/incidents", Some(&ci), Some(d)).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let mut seen = Vec::new();
        let mut next = Some("/api/v1/incidents?severity=sev2".to_owned());
        while let Some(url) = next {
            let (status, headers, page) = app.api("GET", &url, Some(&ci), None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            for item in page["items"].as_array().unwrap() {
                assert_eq!(item["severity"], "sev2");
                seen.push(item["number"].as_str().unwrap().to_owned());
            }
            next = page["next"].as_str().map(str::to_owned);
            if let Some(n) = &next {
                assert!(n.contains("severity=sev2"), "the next link keeps the filters: {n}");
                assert_eq!(headers[header::LINK], format!("<{n}>; rel=\"next\""));
            }
        }
        assert_eq!(seen.len(), 15);
        let unique: std::collections::BTreeSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), 15, "no incident twice across pages");
        let (status, _, body) = app.api("GET", "/api/v1/incidents?severity=sev9", Some(&ci), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
}

db_test! {
    async fn an_unknown_incident_or_path_is_a_404_problem(db) {
        let ci = token(&db.pool, "ci", "viewer", "").await;
        let app = TestApp::new(&db);
        for path in ["/api/v1/incidents/INC-404", "/api/v1/incidents/nonsense", "/api/v1/nothing-here"] {
            let (status, headers, body) = app.api("GET", path, Some(&ci), None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
            assert_eq!(body["status"], 404);
        }
    }
}

db_test! {
    async fn a_retried_declaration_with_the_same_key_creates_one_incident(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        let key = [("idempotency-key", "3f1c9b2e-retry")];
        let (first, h1, b1) = app.api_with("POST", "/api/v1/incidents", Some(&ci), Some(declaration()), &key).await;
        let (second, h2, b2) = app.api_with("POST", "/api/v1/incidents", Some(&ci), Some(declaration()), &key).await;
        assert_eq!(first, StatusCode::CREATED);
        assert_eq!(second, StatusCode::CREATED);
        assert_eq!(b1, b2);
        assert_eq!(h1[header::LOCATION], h2[header::LOCATION]);
        assert_eq!(h2["idempotent-replayed"], "true");
        let (_, _, list) = app.api("GET", "/api/v1/incidents", Some(&ci), None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);

        let mut other = declaration();
        other["title"] = json!("Another outage");
        let (status, _, body) = app.api_with("POST", "/api/v1/incidents", Some(&ci), Some(other), &key).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a key reused for another request: {body}");
    }
}

db_test! {
    async fn two_instances_answer_a_retried_key_once(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let a = TestApp::new(&db);
        let b = TestApp::another_instance(&db).await;
        let key = [("idempotency-key", "same-on-both")];
        let (ra, rb) = tokio::join!(
            a.api_with("POST", "/api/v1/incidents", Some(&ci), Some(declaration()), &key),
            b.api_with("POST", "/api/v1/incidents", Some(&ci), Some(declaration()), &key),
        );
        let statuses = [ra.0, rb.0];
        assert!(statuses.contains(&StatusCode::CREATED), "{statuses:?}");
        assert!(
            statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
            "{statuses:?}"
        );
        let (_, _, list) = a.api("GET", "/api/v1/incidents", Some(&ci), None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "created once");
    }
}

db_test! {
    async fn a_body_with_something_after_its_json_is_refused(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        let body = format!("{}{}", declaration(), declaration());
        let req = axum::http::Request::post("/api/v1/incidents")
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, format!("Bearer {ci}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(body))
            .unwrap();
        assert_eq!(app.send(req).await.status(), StatusCode::BAD_REQUEST);
        let (_, _, list) = app.api("GET", "/api/v1/incidents", Some(&ci), None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing created");
    }
}

db_test! {
    async fn an_idempotency_key_the_server_cannot_read_is_refused_not_ignored(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        let req = |key: &'static [u8]| {
            axum::http::Request::post("/api/v1/incidents")
                .header(header::HOST, "localhost")
                .header(header::AUTHORIZATION, format!("Bearer {ci}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header("idempotency-key", axum::http::HeaderValue::from_bytes(key).unwrap())
                .body(axum::body::Body::from(declaration().to_string()))
                .unwrap()
        };
        assert_eq!(app.send(req(b"cl\xc3\xa9")).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _, _) = app.api_with("POST", "/api/v1/incidents", Some(&ci), Some(declaration()),
            &[("idempotency-key", "a"), ("idempotency-key", "b")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "two keys");
        let (_, _, list) = app.api("GET", "/api/v1/incidents", Some(&ci), None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 0);
    }
}

db_test! {
    async fn a_refused_request_keeps_no_answer_so_the_fixed_one_goes_through_under_its_key(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let app = TestApp::new(&db);
        let key = [("idempotency-key", "fix-and-retry")];
        let mut bad = declaration();
        bad["title"] = json!("");
        let (status, _, _) = app.api_with("POST", "/api/v1/incidents", Some(&ci), Some(bad), &key).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _, _) = app.api_with("POST", "/api/v1/incidents", Some(&ci), Some(declaration()), &key).await;
        assert_eq!(status, StatusCode::CREATED);
        // The same JSON spaced and ordered otherwise is the same request: replayed.
        let req = axum::http::Request::post("/api/v1/incidents")
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, format!("Bearer {ci}"))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", "fix-and-retry")
            .body(axum::body::Body::from(
                r#"{ "tags": ["eu"], "services": ["checkout", "payments"], "severity": "sev1",
                     "description": "Since 09:10", "title": "Checkout fails with 502" }"#,
            ))
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.headers()["idempotent-replayed"], "true");
    }
}

db_test! {
    async fn a_claim_left_unsettled_by_a_crashed_instance_is_taken_over(db) {
        let ci = token(&db.pool, "ci", "responder", "").await;
        let token_id: String = sqlx::query_scalar("SELECT id FROM api_tokens WHERE name = 'ci'")
            .fetch_one(&db.pool).await.unwrap();
        let long_ago = chrono::Utc::now().timestamp_millis() - 120_000;
        sqlx::query("INSERT INTO idempotency_keys (token_id, idem_key, fingerprint, created_at) VALUES ($1, 'orphan', 'x', $2)")
            .bind(&token_id).bind(long_ago).execute(&db.pool).await.unwrap();
        let app = TestApp::new(&db);
        let (status, _, body) = app.api_with("POST", "/api/v1/incidents", Some(&ci), Some(declaration()), &[("idempotency-key", "orphan")]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

db_test! {
    async fn a_mistyped_query_parameter_or_method_is_a_problem(db) {
        let ci = token(&db.pool, "ci", "viewer", "").await;
        let app = TestApp::new(&db);
        let (status, _, body) = app.api("GET", "/api/v1/incidents?stauts=open", Some(&ci), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "stauts");
        let (status, headers, body) = app.api("DELETE", "/api/v1/incidents", Some(&ci), None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(body["status"], 405);
    }
}
