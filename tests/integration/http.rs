//! HTTP through the real router: health, metrics, sign-in, roles, sessions, cross-site refusal.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use nightwatch::model::{AppError, Role, UserView};
use nightwatch::server::repo::users;

use crate::support::{PASSWORD, TestApp, session_cookie, session_set_cookie, text, user};

db_test! {
    async fn healthz_answers_200_while_the_database_answers_and_503_after(db) {
        let app = TestApp::new(&db);
        let res = app.get("/healthz", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["database"], "ok");

        db.pool.close().await;
        let res = app.get("/healthz", None).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(body["status"], "unavailable");
    }
}

db_test! {
    async fn metrics_count_requests_by_route_and_show_the_pool(db) {
        let app = TestApp::new(&db);
        app.get("/healthz", None).await;
        let res = app.get("/metrics", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = text(res).await;
        assert!(body.contains("http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"), "{body}");
        assert!(body.contains("http_request_duration_seconds_bucket"), "{body}");
        assert!(body.contains("db_pool_connections{state=\"idle\"}"), "{body}");
    }
}

db_test! {
    async fn signing_in_sets_an_http_only_lax_cookie(db) {
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let res = app.call("login", &[("username", "alice"), ("password", PASSWORD)], None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = session_set_cookie(&res).expect("a session cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");

        let me = app.call("current_user", &[], Some(&session_cookie(&res).unwrap())).await;
        let me: Option<UserView> = serde_json::from_str(&text(me).await).unwrap();
        assert_eq!(me.unwrap().username, "alice");
    }
}

db_test! {
    async fn signing_in_again_rotates_the_session_id(db) {
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let first = app.sign_in("alice", PASSWORD).await;
        let res = app.call("login", &[("username", "alice"), ("password", PASSWORD)], Some(&first)).await;
        let second = session_cookie(&res).expect("a new cookie");
        assert_ne!(first, second);
        let stale = app.call("current_user", &[], Some(&first)).await;
        let stale: Option<UserView> = serde_json::from_str(&text(stale).await).unwrap();
        assert_eq!(stale, None, "the pre-rotation id no longer signs anyone in");
    }
}

db_test! {
    async fn a_wrong_password_answers_401_with_no_session(db) {
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let res = app.call("login", &[("username", "alice"), ("password", "wrong password!")], None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(session_cookie(&res).is_none());
        let err: AppError = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(err, AppError::Unauthorized);
    }
}

db_test! {
    async fn a_plain_form_sign_in_is_sent_on_to_the_page_it_asked_for(db) {
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let req = app.form_request(
            "login",
            &[("username", "alice"), ("password", PASSWORD), ("next", "/admin/users")],
            None,
            "text/html",
        );
        let res = app.send(req).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(res.headers()[header::LOCATION], "/admin/users");
        assert!(session_cookie(&res).is_some());
    }
}

db_test! {
    async fn a_plain_form_with_a_wrong_password_goes_back_with_the_error_and_the_username(db) {
        let app = TestApp::new(&db);
        let mut req = app.form_request("login", &[("username", "xavier"), ("password", "wrong password")], None, "text/html");
        req.headers_mut().insert(header::REFERER, "http://localhost/login?next=%2Fboard".parse().unwrap());
        let res = app.send(req).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert!(location.starts_with("/login?next=%2Fboard&form=login&ek=unauthorized&e=&v.username=xavier&sig="), "{location}");
        assert!(!location.contains("__err") && !location.contains("wrong+password"), "readable, and no password: {location}");
        let page = text(app.get(&location, None).await).await;
        assert!(page.contains("value=\"xavier\""), "the username is typed again");
    }
}

db_test! {
    async fn a_viewer_calling_an_admin_server_function_gets_403_and_nothing_changes(db) {
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("vera", PASSWORD).await;
        let res = app
            .call("create_user", &[("username", "mallory"), ("role", "admin"), ("password", PASSWORD)], Some(&cookie))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(users::find_by_username(&db.pool, "mallory").await.unwrap().is_none());
        let vera = users::find_by_username(&db.pool, "vera").await.unwrap().unwrap();
        let res = app
            .call("change_user_role", &[("user_id", &vera.id.to_string()), ("role", "admin")], Some(&cookie))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let vera = users::find_by_username(&db.pool, "vera").await.unwrap().unwrap();
        assert_eq!(vera.role, Role::Viewer);
    }
}

db_test! {
    async fn server_functions_refuse_callers_who_are_not_signed_in(db) {
        let app = TestApp::new(&db);
        let res = app.call("list_users", &[], None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

db_test! {
    async fn an_admin_manages_users_through_the_server_functions(db) {
        user(&db.pool, "root", Role::Admin, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("root", PASSWORD).await;
        let res = app
            .call("create_user", &[("username", "Grace"), ("role", "commander"), ("password", PASSWORD)], Some(&cookie))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let grace: UserView = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!((grace.username.as_str(), grace.role), ("grace", Role::Commander));

        let id = grace.id.to_string();
        let res = app.call("change_user_role", &[("user_id", &id), ("role", "responder")], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.call("set_user_disabled", &[("user_id", &id), ("disabled", "true")], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);

        let list = app.call("list_users", &[], Some(&cookie)).await;
        let list: Vec<UserView> = serde_json::from_str(&text(list).await).unwrap();
        let grace = list.iter().find(|u| u.username == "grace").unwrap();
        assert_eq!(grace.role, Role::Responder);
        assert!(grace.disabled);
    }
}

db_test! {
    async fn bad_input_gets_field_errors_not_a_500(db) {
        user(&db.pool, "root", Role::Admin, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("root", PASSWORD).await;
        let res = app
            .call("create_user", &[("username", "x"), ("role", "overlord"), ("password", "short")], Some(&cookie))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let err: AppError = serde_json::from_str(&text(res).await).unwrap();
        assert!(err.field_message("username").is_some(), "{err:?}");
        assert!(err.field_message("role").is_some(), "{err:?}");
        assert!(err.field_message("password").is_some(), "{err:?}");

        let res = app.call("change_user_role", &[("user_id", "not-a-uuid"), ("role", "viewer")], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = app.call("create_user", &[("username", "only-a-name")], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "missing arguments are the caller's fault");
    }
}

db_test! {
    async fn a_session_survives_a_server_restart(db) {
        user(&db.pool, "alice", Role::Responder, PASSWORD).await;
        let before = TestApp::new(&db);
        let cookie = before.sign_in("alice", PASSWORD).await;
        drop(before);

        // A new process: a new pool on the same database, a new router, no memory of the old one.
        let pool = nightwatch::server::db::connect(&db.url, 2).await.unwrap();
        let after = TestApp::new(&crate::support::TestDb { pool: pool.clone(), url: db.url.clone() });
        let res = after.call("current_user", &[], Some(&cookie)).await;
        let me: Option<UserView> = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(me.map(|u| u.username), Some("alice".to_owned()));
        pool.close().await;
    }
}

db_test! {
    async fn a_password_reset_ends_the_users_sessions(db) {
        user(&db.pool, "root", Role::Admin, PASSWORD).await;
        let hank = user(&db.pool, "hank", Role::Responder, PASSWORD).await;
        let app = TestApp::new(&db);
        let hank_cookie = app.sign_in("hank", PASSWORD).await;
        let admin = app.sign_in("root", PASSWORD).await;
        let res = app
            .call("reset_user_password", &[("user_id", &hank.id.to_string()), ("password", "a fresh secret!")], Some(&admin))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.call("current_user", &[], Some(&hank_cookie)).await;
        let me: Option<UserView> = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(me, None);
    }
}

db_test! {
    async fn a_cross_origin_post_is_refused_and_changes_nothing(db) {
        user(&db.pool, "root", Role::Admin, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("root", PASSWORD).await;
        let form = [("username", "planted"), ("role", "admin"), ("password", PASSWORD)];

        let mut by_origin = app.form_request("create_user", &form, Some(&cookie), "application/json");
        by_origin.headers_mut().insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert_eq!(app.send(by_origin).await.status(), StatusCode::FORBIDDEN);

        let mut by_fetch_metadata = app.form_request("create_user", &form, Some(&cookie), "application/json");
        by_fetch_metadata.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert_eq!(app.send(by_fetch_metadata).await.status(), StatusCode::FORBIDDEN);

        let mut by_referer = app.form_request("create_user", &form, Some(&cookie), "application/json");
        by_referer.headers_mut().insert(header::REFERER, "http://evil.example/page".parse().unwrap());
        assert_eq!(app.send(by_referer).await.status(), StatusCode::FORBIDDEN);

        assert!(users::find_by_username(&db.pool, "planted").await.unwrap().is_none());

        let mut same_site = app.form_request("create_user", &form, Some(&cookie), "application/json");
        same_site.headers_mut().insert(header::ORIGIN, "http://localhost".parse().unwrap());
        assert_eq!(app.send(same_site).await.status(), StatusCode::OK);
    }
}

db_test! {
    async fn pages_send_signed_out_visitors_to_sign_in(db) {
        let app = TestApp::new(&db);
        let res = app.get("/admin/users?tab=1", None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()[header::LOCATION], "/login?next=%2Fadmin%2Fusers%3Ftab%3D1");
        let res = app.get("/login", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = text(res).await;
        assert!(html.contains("Sign in"), "{html}");
    }
}

db_test! {
    async fn the_shell_renders_on_the_server_with_the_user_and_navigation(db) {
        user(&db.pool, "root", Role::Admin, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("root", PASSWORD).await;
        let res = app.get("/", Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = text(res).await;
        for expected in ["Incidents", "Plans", "Runs", "Action items", "Metrics", "Admin", "root", "Sign out"] {
            assert!(html.contains(expected), "missing {expected:?} in {html}");
        }
        let res = app.get("/admin/users", Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = text(res).await;
        assert!(html.contains("Create a user"), "{html}");
    }
}

db_test! {
    async fn a_viewer_sees_why_the_admin_page_is_closed(db) {
        user(&db.pool, "vera", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("vera", PASSWORD).await;
        let res = app.get("/admin/users", Some(&cookie)).await;
        let status = res.status();
        let html = text(res).await;
        assert!(html.contains("Only admins can manage users."), "{html}");
        assert!(!html.contains("Create a user"));
        assert!(!html.contains(">Admin</a>"), "no Admin link for a viewer");
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

db_test! {
    async fn signing_out_ends_the_session(db) {
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("alice", PASSWORD).await;
        let res = app.call("logout", &[], Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.get("/", Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn unknown_server_functions_are_not_a_500() {
    crate::support::with_db(crate::support::Backend::Sqlite, |db| async move {
        let app = TestApp::new(&db);
        let req = Request::post("/api/no_such_fn")
            .header(header::HOST, "localhost")
            .body(Body::empty())
            .unwrap();
        let status = app.send(req).await.status();
        assert!(status.is_client_error(), "{status}");
    })
    .await;
}

db_test! {
    async fn pages_finish_while_other_routers_are_being_built(db) {
        // Building a router generates the route list, which renders the app with resource loading
        // suppressed process-wide; a page whose resources first poll in that window used to
        // never finish (leptos-rs/leptos#4773). Tests build routers concurrently all the time.
        user(&db.pool, "alice", Role::Viewer, PASSWORD).await;
        let app = TestApp::new(&db);
        let cookie = app.sign_in("alice", PASSWORD).await;
        for _ in 0..15 {
            let builder = {
                let db = db.clone();
                tokio::task::spawn_blocking(move || {
                    for _ in 0..3 {
                        drop(TestApp::new(&db));
                    }
                })
            };
            let pages = (0..4).map(|_| {
                tokio::time::timeout(std::time::Duration::from_secs(20), async {
                    text(app.get("/incidents", Some(&cookie)).await).await
                })
            });
            for page in futures::future::join_all(pages).await {
                let html = page.expect("the page finished within 20 s");
                assert!(html.contains("Incidents"), "{html}");
            }
            builder.await.unwrap();
        }
    }
}

db_test! {
    async fn pages_and_json_are_compressed_as_asked_and_pages_are_never_kept_by_a_proxy(db) {
        let app = TestApp::new(&db);
        // Gzip, whatever else the browser accepts (brotli on the fly costs more CPU than it saves).
        for accepted in ["gzip, deflate, br, zstd", "gzip"] {
            let req = Request::get("/login")
                .header(header::HOST, "localhost")
                .header(header::ACCEPT_ENCODING, accepted)
                .body(Body::empty())
                .unwrap();
            let res = app.send(req).await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
            assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache, private");
            assert!(res.headers()[header::VARY].to_str().unwrap().to_lowercase().contains("accept-encoding"));
        }
        // Without Accept-Encoding, as it was.
        let res = app.get("/login", None).await;
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
        let page = text(res).await;
        assert!(page.contains("<link rel=\"stylesheet\" href=\"/pkg/nightwatch"), "the shell links the stylesheet");
        // The OpenAPI document (JSON) too.
        let req = Request::get("/api/v1/openapi.json")
            .header(header::HOST, "localhost")
            .header(header::ACCEPT_ENCODING, "gzip, br")
            .body(Body::empty())
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
    }
}
