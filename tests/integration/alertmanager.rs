//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) posting its webhook to a
//! Nightwatch server: an alert given to Alertmanager becomes a risk event, and its resolution
//! resolves it. Skipped (with a note) where the binary is not installed, except under CI, where
//! `make setup-e2e` installs it.

use std::time::Duration;

use serde_json::json;

use crate::support::{TestApp, token};

const BINARY: &str = "/usr/bin/prometheus-alertmanager";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills Alertmanager when the test ends, whichever way it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

db_test! {
    async fn alertmanager_delivers_firing_and_resolved_alerts_as_risk_events(db) {
        if !std::path::Path::new(BINARY).exists() {
            assert!(std::env::var_os("CI").is_none(), "{BINARY} must be installed under CI (make setup-e2e)");
            eprintln!("skipped: {BINARY} is not installed (apt-get install prometheus-alertmanager)");
            return;
        }
        let secret = token(&db.pool, "alertmanager", "viewer", "alerts:write").await;
        // Nightwatch, served on a real port.
        let app = TestApp::new(&db);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let nightwatch = listener.local_addr().unwrap();
        let router = app.router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        // Alertmanager, configured as the README says.
        let dir = std::env::temp_dir().join(format!("nw-am-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            "route:\n  receiver: nightwatch\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: nightwatch\n    webhook_configs:\n      - url: http://{nightwatch}/api/v1/alerts/alertmanager\n        send_resolved: true\n        http_config:\n          authorization:\n            credentials: {secret}\n"
        );
        std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
        let port = free_port();
        let _am = Running(
            std::process::Command::new(BINARY)
                .arg(format!("--config.file={}", dir.join("alertmanager.yml").display()))
                .arg(format!("--storage.path={}", dir.display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--cluster.listen-address=")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("start alertmanager"),
        );
        let client = reqwest::Client::new();
        let api = format!("http://127.0.0.1:{port}/api/v2/alerts");
        let alert = |ends: Option<chrono::DateTime<chrono::Utc>>| {
            let mut a = json!([{
                "labels": {"alertname": "HighLatency", "service": "checkout", "instance": "web-1", "severity": "critical"},
                "annotations": {"summary": "p99 latency over 2 s"},
                "startsAt": (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339(),
                "generatorURL": "http://prometheus:9090/graph"
            }]);
            if let Some(ends) = ends {
                a[0]["endsAt"] = json!(ends.to_rfc3339());
            }
            a
        };
        wait_for("alertmanager to start", || {
            let client = client.clone();
            let url = format!("http://127.0.0.1:{port}/-/ready");
            async move { client.get(url).send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
        let res = client.post(&api).header("content-type", "application/json").body(alert(None).to_string()).send().await.unwrap();
        assert!(res.status().is_success(), "{:?}", res.text().await);
        let pool = db.pool.clone();
        wait_for("the firing alert to reach Nightwatch", || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM risk_events WHERE source = 'alertmanager' AND resolved_at IS NULL AND service = 'checkout'")
                    .fetch_one(&pool).await.unwrap_or(0) == 1
            }
        })
        .await;
        let severity: String = sqlx::query_scalar("SELECT severity FROM risk_events").fetch_one(&db.pool).await.unwrap();
        assert_eq!(severity, "sev1");
        let res = client.post(&api).header("content-type", "application/json").body(alert(Some(chrono::Utc::now())).to_string()).send().await.unwrap();
        assert!(res.status().is_success());
        wait_for("the resolution to reach Nightwatch", || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM risk_events WHERE resolved_at IS NOT NULL")
                    .fetch_one(&pool).await.unwrap_or(0) == 1
            }
        })
        .await;
        let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM risk_events").fetch_one(&db.pool).await.unwrap();
        assert_eq!(events, 1, "one event, resolved: no duplicate from re-sends");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
