//! Notification channels through `/api/v1/notification-channels` and the admin page's server
//! functions: managed by admins only, secrets and hook tokens never shown back, a test message
//! answered at once, the delivery log by state with "retry now", a failing channel in
//! `/metrics`, and the issue's end-to-end case: a receiver down for 20 seconds while five
//! incidents are declared gets all five, once each, when it is back.

use std::time::Duration;

use axum::http::{StatusCode, header};
use nightwatch::model::Role;
use nightwatch::server::config::Config;
use nightwatch::server::jobs::outbox::Outbox;
use nightwatch::server::netpolicy::{NetPolicy, Reach};
use serde_json::{Value, json};

use crate::notifications::receiver;
use crate::support::{PASSWORD, TestApp, text, token, user};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn webhook(url: &str) -> Value {
    json!({"kind": "webhook", "name": "#ops audit", "url": url, "secret": SECRET,
           "events": ["incident.declared"]})
}

fn declaration(title: &str) -> Value {
    json!({"title": title, "severity": "sev1", "services": ["checkout"]})
}

fn outbox(db: &crate::support::TestDb) -> Outbox {
    Outbox::new(db.pool.clone(), Reach::default(), None)
}

db_test! {
    async fn channels_are_managed_by_admins_and_never_show_a_secret_or_hook_token(db) {
        let admin = token(&db.pool, "ops-admin", "admin", "").await;
        let viewer = token(&db.pool, "reader", "commander", "").await;
        let app = TestApp::new(&db);
        let (url, got) = receiver(StatusCode::OK, "ok").await;
        let (status, headers, created) = app.api("POST", "/api/v1/notification-channels", Some(&admin),
            Some(webhook(&format!("{url}/hooks/abc?token=s3cr3t")))).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(headers[header::LOCATION], format!("/api/v1/notification-channels/{id}"));
        assert_eq!(created["has_secret"], true);
        assert_eq!(created["url"], format!("{url}/…"), "the path and query, where tokens are, are masked");
        let (status, _, _) = app.api("GET", "/api/v1/notification-channels", Some(&viewer), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a commander does not manage channels");
        let (status, _, listed) = app.api("GET", "/api/v1/notification-channels", Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK);
        let listed = listed.to_string();
        assert!(!listed.contains("whsec_") && !listed.contains("s3cr3t"), "{listed}");

        // An edit with a blank URL and no secret keeps both; the test message proves it.
        let mut edit = webhook("");
        edit["secret"] = Value::Null;
        edit["events"] = json!(["incident.declared", "run.finished"]);
        let (status, _, edited) = app.api("PUT", &format!("/api/v1/notification-channels/{id}"), Some(&admin), Some(edit)).await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(edited["events"], json!(["incident.declared", "run.finished"]));
        let (status, _, outcome) = app.api("POST", &format!("/api/v1/notification-channels/{id}/test"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::OK, "{outcome}");
        assert_eq!((outcome["delivered"].as_bool(), outcome["status"].as_i64()), (Some(true), Some(200)), "{outcome}");
        let sent = got.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        let (path, headers, query, body) = &sent[0];
        assert_eq!((path.as_str(), query["token"].as_str()), ("hooks/abc", "s3cr3t"), "sent to the stored URL");
        let signature = nightwatch::server::signing::standard_webhooks(
            &[SECRET], &headers["webhook-id"], headers["webhook-timestamp"].parse().unwrap(), body).unwrap();
        assert_eq!(headers["webhook-signature"], signature, "signed with the stored secret");
        assert!(body.contains("\"type\":\"test\""), "{body}");

        let (status, _, _) = app.api("DELETE", &format!("/api/v1/notification-channels/{id}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, _) = app.api("GET", &format!("/api/v1/notification-channels/{id}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

db_test! {
    async fn a_bad_channel_is_refused_field_by_field(db) {
        let admin = token(&db.pool, "ops-admin", "admin", "").await;
        let mut config = Config::for_database(db.url.clone());
        config.step_networks = NetPolicy::from_lists("", "10.0.0.0/8").unwrap();
        let app = TestApp::with_config(&db, config);
        let refused = |body: Value| {
            let app = &app;
            let admin = admin.clone();
            async move {
                let (status, _, problem) = app.api("POST", "/api/v1/notification-channels", Some(&admin), Some(body)).await;
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
                problem["errors"].as_array().unwrap().iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        let mut no_secret = webhook("https://hooks.example/x");
        no_secret["secret"] = Value::Null;
        assert_eq!(refused(no_secret).await, ["secret"]);
        assert_eq!(refused(webhook("ftp://hooks.example/x")).await, ["url"]);
        assert_eq!(refused(webhook("http://10.1.2.3/hook")).await, ["url"], "the network policy applies");
        let mut slack = webhook("https://hooks.slack.com/services/x");
        slack["kind"] = json!("slack");
        assert_eq!(refused(slack.clone()).await, ["secret"], "Slack signs nothing");
        slack["secret"] = Value::Null;
        slack["events"] = json!([]);
        assert_eq!(refused(slack.clone()).await, ["events"]);
        slack["events"] = json!(["incident.declared"]);
        let (status, _, _) = app.api("POST", "/api/v1/notification-channels", Some(&admin), Some(slack.clone())).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(refused(slack).await, ["name"], "names are unique");
    }
}

db_test! {
    async fn a_dead_delivery_is_found_by_state_and_retried_now_once(db) {
        let admin = token(&db.pool, "ops-admin", "admin", "").await;
        let app = TestApp::new(&db);
        let (url, got) = receiver(StatusCode::NOT_FOUND, "no such hook").await;
        let mut slack = webhook(&format!("{url}/services/x"));
        slack["kind"] = json!("slack");
        slack["secret"] = Value::Null;
        let (_, _, created) = app.api("POST", "/api/v1/notification-channels", Some(&admin), Some(slack)).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let (status, _, _) = app.api("POST", "/api/v1/incidents", Some(&admin), Some(declaration("Checkout down"))).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(outbox(&db).tick().await.unwrap(), 1);
        let log = |state: &'static str| {
            let (app, admin, id) = (&app, admin.clone(), id.clone());
            async move {
                let (status, _, body) = app.api("GET", &format!("/api/v1/notification-channels/{id}/deliveries{state}"), Some(&admin), None).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body["items"].as_array().unwrap().clone()
            }
        };
        let dead = log("?state=dead").await;
        assert_eq!(dead.len(), 1);
        assert_eq!((dead[0]["last_status"].as_i64(), dead[0]["attempts"].as_i64()), (Some(404), Some(1)));
        assert!(dead[0]["title"].as_str().unwrap().starts_with("INC-1 declared"));
        assert!(log("?state=pending").await.is_empty());
        let delivery = dead[0]["id"].as_str().unwrap();
        let retry = format!("/api/v1/notification-channels/{id}/deliveries/{delivery}/retry");
        let (status, _, _) = app.api("POST", &retry, Some(&admin), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, _) = app.api("POST", &retry, Some(&admin), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "only a dead delivery is retried");
        assert_eq!(log("?state=pending").await.len(), 1);
        assert_eq!(outbox(&db).tick().await.unwrap(), 1, "sent again at once");
        assert_eq!(got.lock().unwrap().len(), 2);
        let (status, _, _) = app.api("POST", &format!("/api/v1/notification-channels/{id}/deliveries/msg_nope/retry"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = app.api("GET", &format!("/api/v1/notification-channels/{id}/deliveries?state=lost"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown state is refused, not ignored");
    }
}

db_test! {
    async fn a_channel_that_keeps_failing_is_shown_failing_in_metrics_until_it_delivers(db) {
        let admin = token(&db.pool, "ops-admin", "admin", "").await;
        let app = TestApp::new(&db);
        // Nothing listens on port 9 of the loopback.
        let down = json!({"kind": "wecom", "name": "ops \"war\" room", "url": "http://127.0.0.1:9/cgi-bin/webhook/send?key=wecom-hook-key",
                          "events": ["incident.declared"]});
        app.api("POST", "/api/v1/notification-channels", Some(&admin), Some(down)).await;
        for i in 0..3 {
            app.api("POST", "/api/v1/incidents", Some(&admin), Some(declaration(&format!("Outage {i}")))).await;
        }
        assert_eq!(outbox(&db).tick().await.unwrap(), 3);
        let metrics = text(app.get("/metrics", None).await).await;
        assert!(metrics.contains(r#"nightwatch_notification_channel_failing{channel="ops \"war\" room",kind="wecom"} 1"#), "{metrics}");
        assert!(metrics.contains(r#"nightwatch_notification_deliveries_pending{channel="ops \"war\" room",kind="wecom"} 3"#));
        let (_, _, listed) = app.api("GET", "/api/v1/notification-channels", Some(&admin), None).await;
        let health = &listed["items"][0]["health"];
        assert_eq!(health["failures"], 3);
        assert!(health["last_error"].as_str().unwrap().contains("Connection refused"), "{health}");
        assert!(!listed.to_string().contains("wecom-hook-key"), "an error never repeats the hook's token: {listed}");
    }
}

db_test! {
    async fn a_receiver_down_for_twenty_seconds_gets_all_five_incidents_once_after_it_comes_back(db) {
        let admin = token(&db.pool, "ops-admin", "admin", "").await;
        let app = TestApp::new(&db);
        // The receiver's address, with nothing listening on it yet.
        let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let hook = json!({"kind": "webhook", "name": "audit", "url": format!("http://{addr}/hook"), "secret": SECRET,
                          "events": ["incident.declared"]});
        let (status, _, _) = app.api("POST", "/api/v1/notification-channels", Some(&admin), Some(hook)).await;
        assert_eq!(status, StatusCode::CREATED);
        let worker = outbox(&db).spawn();
        for i in 0..5 {
            let (status, _, _) = app.api("POST", "/api/v1/incidents", Some(&admin), Some(declaration(&format!("Outage {i}")))).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        tokio::time::sleep(Duration::from_secs(20)).await;
        let failed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification_attempts WHERE error IS NOT NULL")
            .fetch_one(&db.pool).await.unwrap();
        assert!(failed >= 5, "each was tried while the receiver was down: {failed}");
        let got = crate::notifications::receiver_at(addr, StatusCode::NO_CONTENT).await;
        let mut delivered = 0;
        for _ in 0..60 {
            delivered = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM notification_deliveries WHERE state = 'delivered'")
                .fetch_one(&db.pool).await.unwrap();
            if delivered == 5 {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        worker.abort();
        assert_eq!(delivered, 5, "all five delivered within a minute of the receiver's return");
        let sent = got.lock().unwrap().clone();
        let mut ids: Vec<&str> = sent.iter().map(|(_, h, _, _)| h["webhook-id"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!((sent.len(), ids.len()), (5, 5), "each once");
        let mut titles: Vec<String> = sent.iter().map(|(_, _, _, body)| {
            serde_json::from_str::<Value>(body).unwrap()["data"]["title"].as_str().unwrap().to_owned()
        }).collect();
        titles.sort();
        assert_eq!(titles, ["Outage 0", "Outage 1", "Outage 2", "Outage 3", "Outage 4"]);
    }
}

db_test! {
    async fn the_admin_page_form_saves_ticked_events_and_never_sends_a_secret_back_in_a_url(db) {
        user(&db.pool, "ada", Role::Admin, PASSWORD).await;
        user(&db.pool, "cole", Role::Commander, PASSWORD).await;
        let app = TestApp::new(&db);
        let ada = app.sign_in("ada", PASSWORD).await;
        let form = [("id", ""), ("kind", "feishu"), ("name", "Feishu ops"),
            ("channel_url", "https://open.feishu.cn/open-apis/bot/v2/hook/tok"), ("secret", "feishu-signing"),
            ("events[0]", "incident.declared"), ("events[5]", "risk_event.opened"),
            ("services", "checkout, payments"), ("min_severity", "sev2"), ("enabled", "on")];
        let res = app.call("save_channel", &form, Some(&ada)).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", text(res).await);
        let res = app.call("list_channels", &[], Some(&ada)).await;
        let listed: Value = serde_json::from_str(&text(res).await).unwrap();
        assert_eq!(listed[0]["events"], json!(["incident.declared", "risk_event.opened"]));
        assert_eq!(listed[0]["services"], json!(["checkout", "payments"]));
        assert_eq!(listed[0]["min_severity"], "sev2");
        assert_eq!(listed[0]["url"], "https://open.feishu.cn/…");

        // A refused plain post comes back with what was typed, but never the secret or the URL.
        let mut bad = form;
        bad[2] = ("name", "Feishu ops");
        bad[4] = ("secret", "another-signing-secret");
        let mut req = app.form_request("save_channel", &bad, Some(&ada), "text/html");
        req.headers_mut().insert(header::REFERER, "http://localhost/admin/notifications".parse().unwrap());
        let res = app.send(req).await;
        assert!(res.status().is_redirection(), "{}", res.status());
        let back = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert!(back.starts_with("/admin/notifications?") && back.contains("Another+channel"), "{back}");
        assert!(back.contains("Feishu+ops") || back.contains("Feishu%20ops"), "what was typed comes back: {back}");
        assert!(!back.contains("another-signing") && !back.contains("tok"), "{back}");

        let cole = app.sign_in("cole", PASSWORD).await;
        let res = app.call("list_channels", &[], Some(&cole)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let page = app.get("/admin/notifications", Some(&cole)).await;
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
        let page = text(app.get("/admin/notifications", Some(&ada)).await).await;
        assert!(page.contains("Feishu ops") && !page.contains("feishu-signing"), "the page lists it, never its secret");
    }
}
