//! Test harness: a fresh database per test on either backend, and a client for the router.

use std::future::Future;
use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use nightwatch::model::{NewUser, Password, Role, Username};
use nightwatch::server::actor::Actor;
use nightwatch::server::config::Config;
use nightwatch::server::repo::users::UserRecord;
use nightwatch::server::router::build_router;
use nightwatch::server::service::accounts;
use nightwatch::server::{AppState, db};
use sqlx::{AnyPool, Connection};
use tower::ServiceExt;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database for one test.
#[derive(Clone)]
pub struct TestDb {
    /// A migrated pool.
    pub pool: AnyPool,
    /// Its URL (to open a second pool, as a restarted server would).
    pub url: String,
}

enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// Creates an empty database (not migrated) and says how to remove it.
async fn create_empty(backend: Backend) -> Option<(String, Cleanup)> {
    sqlx::any::install_default_drivers();
    match backend {
        Backend::Sqlite => {
            let path =
                std::env::temp_dir().join(format!("nightwatch-test-{}.db", uuid::Uuid::new_v4()));
            Some((
                format!("sqlite://{}", path.display()),
                Cleanup::Sqlite(path),
            ))
        }
        Backend::Postgres => {
            let Ok(admin_url) = std::env::var("NIGHTWATCH_TEST_POSTGRES_URL") else {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "NIGHTWATCH_TEST_POSTGRES_URL must be set under CI: the PostgreSQL suite may not be skipped"
                );
                eprintln!("skipped: NIGHTWATCH_TEST_POSTGRES_URL is not set");
                return None;
            };
            let name = format!("nightwatch_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&admin_url)
                .await
                .expect("connect to NIGHTWATCH_TEST_POSTGRES_URL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create a test database");
            conn.close().await.ok();
            let mut url = url::Url::parse(&admin_url).expect("a postgres:// URL");
            url.set_path(&name);
            Some((url.to_string(), Cleanup::Postgres { admin_url, name }))
        }
    }
}

async fn cleanup(cleanup: Cleanup) {
    match cleanup {
        Cleanup::Sqlite(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        Cleanup::Postgres { admin_url, name } => {
            if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
                conn.close().await.ok();
            }
        }
    }
}

/// Runs `test` against a fresh, migrated database on `backend`, then removes the database — also
/// when the test panics (the panic is passed on).
pub async fn with_db<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(backend, true, test).await;
}

/// As [`with_db`], but the database is left empty (no migrations).
pub async fn with_empty_db<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run(backend, false, test).await;
}

async fn run<F, Fut>(backend: Backend, migrate: bool, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((url, undo)) = create_empty(backend).await else {
        return;
    };
    let pool = db::connect(&url, 5).await.expect("open the test database");
    if migrate {
        db::migrate(&pool).await.expect("migrate the test database");
    }
    let outcome = tokio::spawn(test(TestDb {
        pool: pool.clone(),
        url,
    }))
    .await;
    pool.close().await;
    cleanup(undo).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Creates a user with a known password; returns them as the `Actor` services take.
pub async fn user(pool: &AnyPool, name: &str, role: Role, password: &str) -> Actor {
    Actor::from(person(pool, name, role, password).await)
}

/// Creates a user with a known password; returns the stored row.
pub async fn person(pool: &AnyPool, name: &str, role: Role, password: &str) -> UserRecord {
    let new = NewUser {
        username: Username::parse(name).unwrap(),
        role,
        password: Password::parse(password).unwrap(),
    };
    accounts::create_user(pool, &new).await.unwrap()
}

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// The app as a test client: the real router over the test database.
pub struct TestApp {
    pub router: Router,
}

impl TestApp {
    pub fn new(db: &TestDb) -> Self {
        Self::with_config(db, Config::for_database(db.url.clone()))
    }

    /// The app with its own configuration.
    pub fn with_config(db: &TestDb, config: Config) -> Self {
        Self::on_pool(db.pool.clone(), config)
    }

    /// A second instance on the same database: its own pool and router, as another server
    /// process would have.
    pub async fn another_instance(db: &TestDb) -> Self {
        let pool = db::connect(&db.url, 5).await.expect("a second pool");
        Self::on_pool(pool, Config::for_database(db.url.clone()))
    }

    /// The app over a pool of the caller's (one it may close, say).
    pub fn on_pool(pool: AnyPool, config: Config) -> Self {
        let options = LeptosOptions::builder().output_name("nightwatch").build();
        let state = AppState::new(pool, options, config);
        Self {
            router: build_router(state),
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.unwrap()
    }

    /// GET `path`, with a session cookie if given.
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response<Body> {
        let mut req = Request::get(path).header(header::HOST, "localhost");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// POST a url-encoded form to a server function as the hydrated client does.
    pub async fn call(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Response<Body> {
        self.send(self.form_request(endpoint, form, cookie, "application/json"))
            .await
    }

    /// A url-encoded POST to a server function, with the given `Accept`.
    pub fn form_request(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        accept: &str,
    ) -> Request<Body> {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = Request::post(format!("/api/{endpoint}"))
            .header(header::HOST, "localhost")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, accept);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        req.body(Body::from(body)).unwrap()
    }

    /// Signs in and returns the `name=value` session cookie.
    pub async fn sign_in(&self, username: &str, password: &str) -> String {
        let res = self
            .call(
                "login",
                &[("username", username), ("password", password)],
                None,
            )
            .await;
        assert_eq!(res.status(), 200, "sign-in of {username} failed");
        session_cookie(&res).expect("a session cookie after sign-in")
    }
}

/// The `name=value` part of the session cookie a response sets, if any.
pub fn session_cookie(res: &Response<Body>) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("nightwatch_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The whole `Set-Cookie` header of the session cookie.
pub fn session_set_cookie(res: &Response<Body>) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("nightwatch_session="))
        .map(str::to_owned)
}

/// A token made as `nightwatch token create` makes it; returns its secret.
pub async fn token(pool: &AnyPool, name: &str, role: &str, scope: &str) -> String {
    let new = nightwatch::model::api_token::NewToken::parse(name, role, scope, "").unwrap();
    nightwatch::server::service::tokens::create(pool, None, &new)
        .await
        .unwrap()
        .token
}

impl TestApp {
    /// A REST API request with a bearer token and an optional JSON body; the answer's status,
    /// headers and body (parsed as JSON, `Null` when empty or not JSON).
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
        self.api_with(method, path, token, body, &[]).await
    }

    /// As [`TestApp::api`], with extra headers.
    pub async fn api_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.send(req).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = text(res).await;
        (
            status,
            headers,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        )
    }
}

/// The body as text.
pub async fn text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A JSON call to a server function declared with `input = Json`.
pub async fn call_json(
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

/// Makes every `event` (`BEFORE INSERT ON incident_events`, `BEFORE UPDATE ON postmortems`) fail
/// from now on, as a database that refuses a write would, on either backend.
pub async fn fail_every(db: &TestDb, event: &str) {
    let name = format!("fail_{}", uuid::Uuid::new_v4().simple());
    if db.url.starts_with("sqlite") {
        sqlx::query(&format!(
            "CREATE TRIGGER {name} {event} BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ))
        .execute(&db.pool)
        .await
        .unwrap();
    } else {
        sqlx::query(&format!(
            "CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
        ))
        .execute(&db.pool)
        .await
        .unwrap();
        sqlx::query(&format!(
            "CREATE TRIGGER {name} {event} FOR EACH ROW EXECUTE FUNCTION {name}()"
        ))
        .execute(&db.pool)
        .await
        .unwrap();
    }
}

/// An executor's settings for tests: `workers` workers, quick polls and heartbeats, the default
/// network policy, no self-target.
pub fn executor_settings(workers: usize) -> nightwatch::server::jobs::executor::ExecutorSettings {
    nightwatch::server::jobs::executor::ExecutorSettings {
        workers,
        limits: nightwatch::server::jobs::steps::HttpLimits::default(),
        allow_self_target: false,
        networks: Default::default(),
        poll_every: std::time::Duration::from_millis(50),
        heartbeat_every: std::time::Duration::from_millis(100),
        stale_after: chrono::Duration::seconds(60),
    }
}
