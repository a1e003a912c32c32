//! The `nightwatch` binary itself: first start prints the initial admin password once, SIGTERM
//! stops it cleanly, `user create` and `migrate` work from the command line.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_nightwatch");

fn temp_db() -> (String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("nightwatch-cli-{}", uuid::Uuid::new_v4()));
    (format!("sqlite://{}/nw.db", dir.display()), dir)
}

fn nightwatch(db_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("NIGHTWATCH_DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .env_remove("NIGHTWATCH_ADDR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Starts `serve` on a free port; returns the child, the stdout lines up to "listening", and the
/// address it listens on.
async fn start(db_url: &str) -> (Child, Vec<String>, String) {
    let mut child = nightwatch(db_url)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let addr = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line.clone());
            if let Some(addr) = line.strip_prefix("Nightwatch is listening on http://") {
                return addr.to_owned();
            }
        }
        panic!("serve exited before listening: {seen:?}");
    })
    .await
    .expect("serve starts within 30 s");
    (child, seen, addr)
}

async fn get(addr: &str, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    out
}

/// Sends SIGTERM and waits for a clean exit.
async fn stop(mut child: Child) {
    let pid = child.id().unwrap().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("stops within 15 s of SIGTERM")
        .unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

#[tokio::test]
async fn serve_prints_the_initial_admin_password_once_across_restarts() {
    let (url, dir) = temp_db();
    let (first, lines, addr) = start(&url).await;
    let passwords: Vec<_> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("initial admin password: "))
        .collect();
    assert_eq!(passwords.len(), 1, "{lines:?}");
    assert_eq!(passwords[0].len(), 20);
    let health = get(&addr, "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    stop(first).await;

    let (second, lines, _) = start(&url).await;
    assert!(
        !lines.iter().any(|l| l.contains("initial admin password")),
        "{lines:?}"
    );
    stop(second).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn user_create_takes_the_password_from_stdin_and_refuses_a_taken_name() {
    let (url, dir) = temp_db();
    let create = |stdin_password: &'static str| {
        let mut cmd = nightwatch(&url);
        cmd.args([
            "user",
            "create",
            "--username",
            "Bob",
            "--role",
            "commander",
            "--password-stdin",
        ])
        .stdin(Stdio::piped());
        async move {
            let mut child = cmd.spawn().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(stdin_password.as_bytes()).await.unwrap();
            drop(stdin);
            child.wait_with_output().await.unwrap()
        }
    };
    let out = create("bob's long password\n").await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "created user bob (commander)"
    );

    let again = create("another long password\n").await;
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already taken"),
        "{again:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn user_create_generates_a_password_and_rejects_unknown_roles() {
    let (url, dir) = temp_db();
    let out = nightwatch(&url)
        .args(["user", "create", "--username", "carol", "--role", "viewer"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap();
    assert_eq!(password.len(), 20);

    let bad = nightwatch(&url)
        .args(["user", "create", "--username", "dan", "--role", "root"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("unknown role"),
        "{bad:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn migrate_applies_the_migrations_and_exits() {
    let (url, dir) = temp_db();
    let out = nightwatch(&url).arg("migrate").output().await.unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "migrations applied"
    );
    assert!(dir.join("nw.db").is_file());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn demo_data_fills_an_empty_database_once() {
    let (url, dir) = temp_db();
    let out = nightwatch(&url)
        .args(["demo-data", "--incidents", "25", "--seed", "3"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Demo data: 25 incidents"), "{stdout}");
    let last: Vec<&str> = stdout.lines().rev().take(6).collect();
    assert!(
        last.iter().any(|l| l.contains("password: "))
            && last.iter().any(|l| l.contains("admin (admin)")),
        "the credentials, the admin's included, are the last lines: {stdout}"
    );

    let pool = nightwatch::server::db::connect(&url, 1).await.unwrap();
    let page = nightwatch::server::repo::incidents::list(&pool, &Default::default())
        .await
        .unwrap();
    let total: i64 = page.counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 25);
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM incident_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        events >= 25 * 2,
        "every incident has a story: {events} events"
    );
    pool.close().await;

    let again = nightwatch(&url).arg("demo-data").output().await.unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("empty"),
        "{again:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn token_create_prints_the_token_last_and_it_opens_the_api_until_revoked() {
    let (url, dir) = temp_db();
    let out = nightwatch(&url)
        .args([
            "token",
            "create",
            "--name",
            "grafana-prod",
            "--role",
            "viewer",
            "--expires-days",
            "30",
        ])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout.lines().last().unwrap().to_owned();
    assert!(
        token.starts_with("nw_") && token.len() == 41,
        "the token alone on the last line: {stdout}"
    );

    let bad = nightwatch(&url)
        .args(["token", "create", "--name", "bad name", "--role", "boss"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("name") && stderr.contains("role"),
        "every field named: {stderr}"
    );

    let list = nightwatch(&url)
        .args(["token", "list"])
        .output()
        .await
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("grafana-prod") && listed.contains(&token[..9]) && listed.contains("live"),
        "{listed}"
    );
    assert!(!listed.contains(&token), "never the secret: {listed}");

    let (child, _, addr) = start(&url).await;
    let call = |auth: String| {
        let addr = addr.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let req = format!(
                "GET /api/v1/incidents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {auth}\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            stream.read_to_string(&mut out).await.unwrap();
            out
        }
    };
    assert!(call(token.clone()).await.starts_with("HTTP/1.1 200"));
    let revoke = nightwatch(&url)
        .args(["token", "revoke", "grafana-prod"])
        .output()
        .await
        .unwrap();
    assert!(revoke.status.success(), "{revoke:?}");
    assert!(
        call(token.clone()).await.starts_with("HTTP/1.1 401"),
        "the running server refuses it at once"
    );
    let again = nightwatch(&url)
        .args(["token", "revoke", "grafana-prod"])
        .output()
        .await
        .unwrap();
    assert!(!again.status.success());
    stop(child).await;
    std::fs::remove_dir_all(dir).unwrap();
}
