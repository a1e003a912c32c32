//! API tokens through the router: who gets in, who is turned away and how, on both databases.

use axum::http::{StatusCode, header};
use nightwatch::model::Role;
use nightwatch::model::api_token::{NewToken, TokenText};
use nightwatch::server::config::Config;
use nightwatch::server::service::tokens;

use crate::support::{PASSWORD, TestApp, token, user};

db_test! {
    async fn a_request_without_a_token_is_challenged(db) {
        let app = TestApp::new(&db);
        let (status, headers, body) = app.api("GET", "/api/v1/incidents", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer realm=\"nightwatch\"");
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(body["status"], 401);
        assert!(body["detail"].as_str().unwrap().contains("Bearer"));
    }
}

db_test! {
    async fn a_session_cookie_opens_nothing_in_the_api(db) {
        user(&db.pool, "ada", Role::Admin, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("ada", PASSWORD).await;
        let res = app.get("/api/v1/incidents", Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

db_test! {
    async fn a_mistyped_an_unknown_and_a_revoked_token_are_refused(db) {
        let live = token(&db.pool, "grafana-prod", "viewer", "").await;
        let app = TestApp::new(&db);
        let (status, _, _) = app.api("GET", "/api/v1/incidents", Some(&live), None).await;
        assert_eq!(status, StatusCode::OK);

        let mut mistyped = live.clone();
        mistyped.replace_range(5..6, if &live[5..6] == "a" { "b" } else { "a" });
        let (status, headers, _) = app.api("GET", "/api/v1/incidents", Some(&mistyped), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(headers[header::WWW_AUTHENTICATE].to_str().unwrap().contains("invalid_token"));

        let unknown = TokenText::from_random(&"0".repeat(32)).unwrap();
        let (status, _, body) = app.api("GET", "/api/v1/incidents", Some(unknown.expose()), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body["detail"].as_str().unwrap().contains("not known"));

        tokens::revoke(&db.pool, None, "grafana-prod", None).await.unwrap();
        let (status, _, body) = app.api("GET", "/api/v1/incidents", Some(&live), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "revocation takes effect on the next request");
        assert!(body["detail"].as_str().unwrap().contains("revoked"));
    }
}

db_test! {
    async fn an_expired_token_is_refused(db) {
        let secret = token(&db.pool, "old-ci", "responder", "").await;
        sqlx::query("UPDATE api_tokens SET expires_at = 1000 WHERE name = 'old-ci'")
            .execute(&db.pool)
            .await
            .unwrap();
        let app = TestApp::new(&db);
        let (status, _, body) = app.api("GET", "/api/v1/incidents", Some(&secret), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body["detail"].as_str().unwrap().contains("expired"));
    }
}

db_test! {
    async fn a_role_too_low_is_forbidden_and_changes_nothing(db) {
        let viewer = token(&db.pool, "dashboard", "viewer", "").await;
        let app = TestApp::new(&db);
        let declaration = serde_json::json!({"title": "Disk full", "severity": "sev2", "services": ["db"]});
        let (status, headers, _) = app.api("POST", "/api/v1/incidents", Some(&viewer), Some(declaration)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        let (_, _, list) = app.api("GET", "/api/v1/incidents", Some(&viewer), None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 0);
    }
}

db_test! {
    async fn an_alerts_only_token_reaches_nothing_else(db) {
        let alerts = token(&db.pool, "alertmanager", "admin", "alerts:write").await;
        let app = TestApp::new(&db);
        let (status, _, body) = app.api("GET", "/api/v1/incidents", Some(&alerts), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body["detail"].as_str().unwrap().contains("alerts"));
    }
}

db_test! {
    async fn a_token_over_its_rate_is_told_when_to_retry(db) {
        let secret = token(&db.pool, "chatty", "viewer", "").await;
        let mut config = Config::for_database(db.url.clone());
        config.api_rate_per_minute = 3;
        let app = TestApp::with_config(&db, config);
        for _ in 0..3 {
            let (status, _, _) = app.api("GET", "/api/v1/incidents", Some(&secret), None).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, headers, body) = app.api("GET", "/api/v1/incidents", Some(&secret), None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers[header::RETRY_AFTER], "20");
        assert_eq!(body["status"], 429);
    }
}

db_test! {
    async fn a_token_name_is_taken_until_revoked_then_its_account_carries_on(db) {
        let first = token(&db.pool, "ci", "responder", "").await;
        let again = NewToken::parse("ci", "commander", "", "").unwrap();
        let err = tokens::create(&db.pool, None, &again).await.unwrap_err();
        assert!(err.field_message("name").is_some(), "{err:?}");
        tokens::revoke(&db.pool, None, "ci", None).await.unwrap();
        let second = tokens::create(&db.pool, None, &again).await.unwrap();
        assert_ne!(second.token, first);
        assert_eq!(second.view.role, Role::Commander);
        let list = tokens::list(&db.pool).await.unwrap();
        assert_eq!(list.len(), 2);
        assert!(list[0].revoked_at.is_none() && list[1].revoked_at.is_some(), "live first");
    }
}

db_test! {
    async fn only_an_admin_person_creates_tokens(db) {
        let cora = user(&db.pool, "cora", Role::Commander, PASSWORD).await;
        let new = NewToken::parse("bot", "viewer", "", "30").unwrap();
        assert_eq!(
            tokens::create(&db.pool, Some(&cora), &new).await.unwrap_err(),
            nightwatch::model::AppError::Forbidden
        );
        let ada = user(&db.pool, "ada", Role::Admin, PASSWORD).await;
        let created = tokens::create(&db.pool, Some(&ada), &new).await.unwrap();
        assert!(created.token.starts_with("nw_"));
        assert_eq!(created.view.created_by.as_deref(), Some("ada"));
        assert!(created.view.expires_at.is_some());
        let stored: String = sqlx::query_scalar("SELECT secret_hash FROM api_tokens WHERE name = 'bot'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert!(!stored.contains(&created.token[3..]), "only a hash is kept");
    }
}

db_test! {
    async fn a_tokens_account_is_neither_a_person_nor_a_role_holder(db) {
        user(&db.pool, "ada", Role::Admin, PASSWORD).await;
        token(&db.pool, "pager", "admin", "").await;
        let people = nightwatch::server::repo::users::list(&db.pool).await.unwrap();
        assert_eq!(people.iter().map(|p| p.username.as_str()).collect::<Vec<_>>(), ["ada"]);
        let holders = nightwatch::server::repo::users::responders(&db.pool).await.unwrap();
        assert_eq!(holders, ["ada"]);
        let app = TestApp::new(&db);
        let res = app.call("login", &[("username", "token:pager"), ("password", "")], None).await;
        assert!(res.status().is_client_error());
    }
}

db_test! {
    async fn last_use_is_recorded(db) {
        let secret = token(&db.pool, "probe", "viewer", "").await;
        let app = TestApp::new(&db);
        assert!(tokens::list(&db.pool).await.unwrap()[0].last_used_at.is_none());
        app.api("GET", "/api/v1/board", Some(&secret), None).await;
        assert!(tokens::list(&db.pool).await.unwrap()[0].last_used_at.is_some());
    }
}
