//! Alert intake and risk events through `/api/v1`: each wire format from a real sample,
//! deduplication (also from two instances at once), resolve and re-fire, silences, inhibition,
//! acknowledgement, refusals, and 503 while the database is down.

use axum::http::StatusCode;
use nightwatch::model::Role;
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp, token, user};

/// An Alertmanager 0.27 webhook body, as `prometheus-alertmanager` posts it.
fn alertmanager(status: &str, alerts: &[(&str, &str, &str)]) -> Value {
    let alerts: Vec<Value> = alerts
        .iter()
        .map(|(name, instance, alert_status)| {
            json!({
                "status": alert_status,
                "labels": {"alertname": name, "instance": instance, "job": "api", "severity": "critical"},
                "annotations": {"summary": format!("{name} on {instance}")},
                "startsAt": "2026-11-29T01:02:03.456789Z",
                "endsAt": if *alert_status == "resolved" { "2026-11-29T01:12:03Z" } else { "0001-01-01T00:00:00Z" },
                "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
                "fingerprint": nightwatch::model::alert::fingerprint(
                    &[("alertname", *name), ("instance", *instance), ("job", "api"), ("severity", "critical")]
                        .iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()),
            })
        })
        .collect();
    json!({
        "receiver": "nightwatch", "status": status, "alerts": alerts,
        "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {"job": "api"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "version": "4",
        "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0
    })
}

async fn events(app: &TestApp, secret: &str, query: &str) -> Vec<Value> {
    let (status, _, body) = app
        .api(
            "GET",
            &format!("/api/v1/risk-events{query}"),
            Some(secret),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

db_test! {
    async fn an_alertmanager_delivery_opens_an_event_per_alert_and_a_resend_updates_it(db) {
        let am = token(&db.pool, "alertmanager", "viewer", "alerts:write").await;
        let reader = token(&db.pool, "reader", "viewer", "").await;
        let app = TestApp::new(&db);
        let body = alertmanager("firing", &[("HighLatency", "web-1", "firing"), ("HighLatency", "web-2", "firing")]);
        let (status, _, answer) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(body.clone())).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        assert_eq!(answer["opened"], json!([1, 2]));
        let (status, _, answer) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(body)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(answer["opened"], json!([]));
        assert_eq!(answer["updated"], 2);
        let open = events(&app, &reader, "").await;
        assert_eq!(open.len(), 2);
        assert!(open.iter().all(|e| e["count"] == 2 && e["status"] == "open" && e["severity"] == "sev1"));
        assert_eq!(open[0]["service"], "api");
        assert_eq!(open[0]["source"], "alertmanager");
    }
}

db_test! {
    async fn a_resolved_alert_resolves_its_event_and_a_later_firing_opens_a_new_one(db) {
        let am = token(&db.pool, "am", "responder", "").await;
        let app = TestApp::new(&db);
        let fire = alertmanager("firing", &[("DiskFull", "db-1", "firing")]);
        let resolve = alertmanager("resolved", &[("DiskFull", "db-1", "resolved")]);
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(fire.clone())).await;
        let (_, _, answer) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(resolve.clone())).await;
        assert_eq!(answer["resolved"], json!([1]));
        let (_, _, answer) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(resolve)).await;
        assert_eq!(answer["ignored"], 1, "a second resolve touches nothing");
        let (_, _, answer) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(fire)).await;
        assert_eq!(answer["opened"], json!([2]), "a new occurrence");
        assert_eq!(events(&app, &am, "?status=resolved").await.len(), 1);
        assert_eq!(events(&app, &am, "").await.len(), 1);
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts_received").fetch_one(&db.pool).await.unwrap();
        assert_eq!(kept, 4, "every received alert is kept");
    }
}

db_test! {
    async fn one_identity_sent_several_times_in_one_delivery_is_applied_in_turn(db) {
        let am = token(&db.pool, "cron", "viewer", "alerts:write").await;
        let reader = token(&db.pool, "reader", "viewer", "").await;
        let app = TestApp::new(&db);
        let alert = |status: &str, summary: &str| json!({"source": "cron-check", "fingerprint": "backup", "status": status, "summary": summary});
        let resolve = json!({"source": "cron-check", "fingerprint": "backup", "status": "resolved"});
        // Fire, fire again, resolve, fire: one event seen twice and resolved, then a new one.
        let delivery = json!([alert("firing", "first"), alert("firing", "second"), resolve,
            alert("firing", "third"), {"source": "cron-check", "fingerprint": "other", "summary": "beside"}]);
        let (status, _, answer) = app.api("POST", "/api/v1/alerts", Some(&am), Some(delivery)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        assert_eq!(answer["opened"], json!([1, 2, 3]), "{answer}");
        assert_eq!(answer["updated"], 1);
        assert_eq!(answer["resolved"], json!([1]));
        let resolved = events(&app, &reader, "?status=resolved").await;
        assert_eq!(resolved.len(), 1);
        assert_eq!((resolved[0]["count"].as_i64(), resolved[0]["summary"].as_str()), (Some(3), Some("second")));
        let open = events(&app, &reader, "").await;
        let summaries: std::collections::BTreeSet<&str> = open.iter().map(|e| e["summary"].as_str().unwrap()).collect();
        assert_eq!(summaries, ["beside", "third"].into_iter().collect());
        let kept: Vec<(String, Option<i64>)> = sqlx::query_as("SELECT action, event_number FROM alerts_received ORDER BY id")
            .fetch_all(&db.pool).await.unwrap();
        assert_eq!(kept.len(), 5, "every alert kept, each with the event it touched: {kept:?}");
        assert!(kept.iter().all(|(_, e)| e.is_some()), "{kept:?}");
    }
}

db_test! {
    async fn the_same_alerts_sent_by_two_instances_at_once_make_one_event_each(db) {
        let am = token(&db.pool, "am", "viewer", "alerts:write").await;
        let a = TestApp::new(&db);
        let b = TestApp::another_instance(&db).await;
        let names: Vec<String> = (0..40).map(|i| format!("node-{i}")).collect();
        let senders = (0..8).map(|s| {
            let app = if s % 2 == 0 { &a } else { &b };
            let am = am.clone();
            let mut alerts: Vec<(&str, &str, &str)> = names.iter().map(|n| ("NodeDown", n.as_str(), "firing")).collect();
            if s % 3 == 0 {
                alerts.reverse();
            }
            let body = alertmanager("firing", &alerts);
            async move {
                let (status, _, answer) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(body)).await;
                assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
            }
        });
        futures::future::join_all(senders).await;
        let (events, seen): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(seen_count), 0) AS BIGINT) FROM risk_events WHERE resolved_at IS NULL")
            .fetch_one(&db.pool).await.unwrap();
        assert_eq!(events, 40, "one event per alert, none doubled");
        assert_eq!(seen, 8 * 40, "every delivery counted");
    }
}

db_test! {
    async fn a_silence_mutes_what_it_matches_and_ending_it_unmutes(db) {
        let am = token(&db.pool, "am", "responder", "").await;
        let app = TestApp::new(&db);
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(alertmanager("firing", &[
            ("HighLatency", "web-1", "firing"), ("HighLatency", "web-2", "firing")]))).await;
        let ends = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
        let silence = json!({"matchers": [{"name": "instance", "value": "web-1", "is_regex": false, "is_equal": true}],
            "ends_at": ends, "comment": "Rebooting web-1"});
        let (status, headers, created) = app.api("POST", "/api/v1/silences", Some(&am), Some(silence)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["state"], "active");
        let silenced = events(&app, &am, "?status=silenced").await;
        assert_eq!(silenced.len(), 1);
        assert_eq!(silenced[0]["labels"]["instance"], "web-1");
        assert_eq!(silenced[0]["silenced_by"], created["id"]);
        assert_eq!(events(&app, &am, "").await.len(), 1, "the other stays open");
        // A re-send of the silenced alert stays silenced, and is still counted.
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(alertmanager("firing", &[("HighLatency", "web-1", "firing")]))).await;
        let silenced = events(&app, &am, "?status=silenced").await;
        assert_eq!(silenced[0]["count"], 2);
        let location = headers["location"].to_str().unwrap().to_owned();
        let (status, _, ended) = app.api("DELETE", &location, Some(&am), None).await;
        assert_eq!(status, StatusCode::OK, "{ended}");
        assert_eq!(ended["state"], "expired");
        assert!(events(&app, &am, "?status=silenced").await.is_empty());
        assert_eq!(events(&app, &am, "").await.len(), 2);
    }
}

db_test! {
    async fn silences_start_and_end_by_the_clock(db) {
        use nightwatch::server::service::alerts as service;
        let am = token(&db.pool, "am", "responder", "").await;
        let app = TestApp::new(&db);
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(alertmanager("firing", &[
            ("HighLatency", "web-1", "firing"), ("HighLatency", "web-2", "firing")]))).await;
        let now = chrono::Utc::now();
        let starts = now + chrono::Duration::minutes(10);
        let silence = json!({"matchers": [{"name": "instance", "value": "web-1", "is_regex": false, "is_equal": true}],
            "starts_at": starts.to_rfc3339(), "ends_at": (now + chrono::Duration::hours(2)).to_rfc3339(), "comment": "Window"});
        let (status, _, created) = app.api("POST", "/api/v1/silences", Some(&am), Some(silence)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["state"], "pending");
        assert_eq!(service::refresh_mutes_by_clock(&db.pool, now, now + chrono::Duration::minutes(5)).await.unwrap(), 0);
        assert!(events(&app, &am, "?status=silenced").await.is_empty(), "not started yet");
        let later = starts + chrono::Duration::seconds(1);
        assert_eq!(service::refresh_mutes_by_clock(&db.pool, starts - chrono::Duration::seconds(14), later).await.unwrap(), 1);
        let silenced = events(&app, &am, "?status=silenced").await;
        assert_eq!(silenced.len(), 1, "it started by itself");
        // Ending by the clock: only muted events are read, and that one is let go.
        let end = now + chrono::Duration::hours(3);
        assert_eq!(service::refresh_mutes_by_clock(&db.pool, end - chrono::Duration::seconds(15), end).await.unwrap(), 1);
        assert!(events(&app, &am, "?status=silenced").await.is_empty());
        assert_eq!(events(&app, &am, "").await.len(), 2);
    }
}

db_test! {
    async fn a_regex_silence_is_anchored_and_one_that_matches_everything_is_refused(db) {
        let am = token(&db.pool, "am", "responder", "").await;
        let app = TestApp::new(&db);
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(alertmanager("firing", &[
            ("HighLatency", "web-1", "firing"), ("HighLatency", "old-web-1", "firing")]))).await;
        let ends = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        let (status, _, body) = app.api("POST", "/api/v1/silences", Some(&am), Some(json!({
            "matchers": [{"name": "instance", "value": "web-.*", "is_regex": true, "is_equal": true}],
            "ends_at": ends, "comment": "web maintenance"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let silenced = events(&app, &am, "?status=silenced").await;
        assert_eq!(silenced.len(), 1);
        assert_eq!(silenced[0]["labels"]["instance"], "web-1");
        let (status, _, body) = app.api("POST", "/api/v1/silences", Some(&am), Some(json!({
            "matchers": [{"name": "team", "value": ".*", "is_regex": true, "is_equal": true}],
            "ends_at": ends, "comment": "everything"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "matchers");
        let (status, _, body) = app.api("POST", "/api/v1/silences", Some(&am), Some(json!({
            "matchers": [{"name": "instance", "value": "(", "is_regex": true}],
            "ends_at": ends, "comment": "bad"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "matchers[0]");
    }
}

db_test! {
    async fn an_inhibition_rule_mutes_targets_on_the_same_instance_while_the_source_fires(db) {
        let admin = token(&db.pool, "admin", "admin", "").await;
        let app = TestApp::new(&db);
        let (status, _, rule) = app.api("POST", "/api/v1/inhibit-rules", Some(&admin), Some(json!({
            "name": "Node down mutes latency",
            "source_matchers": [{"name": "alertname", "value": "NodeDown"}],
            "target_matchers": [{"name": "alertname", "value": "HighLatency"}],
            "equal": ["instance"]}))).await;
        assert_eq!(status, StatusCode::CREATED, "{rule}");
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&admin), Some(alertmanager("firing", &[
            ("HighLatency", "web-1", "firing"), ("HighLatency", "web-2", "firing")]))).await;
        assert!(events(&app, &admin, "?status=silenced").await.is_empty());
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&admin), Some(alertmanager("firing", &[("NodeDown", "web-1", "firing")]))).await;
        let muted = events(&app, &admin, "?status=silenced").await;
        assert_eq!(muted.len(), 1, "{muted:?}");
        assert_eq!(muted[0]["labels"]["instance"], "web-1");
        assert_eq!(muted[0]["inhibited_by"], 3);
        let open: Vec<String> = events(&app, &admin, "").await.iter().map(|e| e["labels"]["alertname"].as_str().unwrap().to_owned()).collect();
        assert_eq!(open.len(), 2, "the source and the other target stay open: {open:?}");
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&admin), Some(alertmanager("resolved", &[("NodeDown", "web-1", "resolved")]))).await;
        assert!(events(&app, &admin, "?status=silenced").await.is_empty(), "unmuted once the source resolves");
    }
}

db_test! {
    async fn grafana_and_generic_and_events_v2_deliveries_are_taken(db) {
        let am = token(&db.pool, "monitor", "viewer", "alerts:write").await;
        let reader = token(&db.pool, "reader", "viewer", "").await;
        let app = TestApp::new(&db);
        let grafana = json!({"receiver":"nightwatch","status":"firing","orgId":1,"version":"1","groupKey":"{}:{alertname=\"DiskFull\"}",
            "truncatedAlerts":0,"title":"[FIRING:1] DiskFull","state":"alerting","message":"**Firing**",
            "groupLabels":{"alertname":"DiskFull"},"commonLabels":{},"commonAnnotations":{},"externalURL":"https://grafana/",
            "alerts":[{"status":"firing","labels":{"alertname":"DiskFull","grafana_folder":"infra","service":"storage"},
            "annotations":{"summary":"Disk 95% full"},"startsAt":"2026-11-29T01:02:03Z","endsAt":"0001-01-01T00:00:00Z",
            "generatorURL":"https://grafana/alerting/grafana/abc/view","fingerprint":"8d2aa1b2c3d4e5f6",
            "silenceURL":"https://grafana/alerting/silence/new","dashboardURL":"https://grafana/d/x","panelURL":"https://grafana/d/x?viewPanel=2",
            "values":{"B":95.1},"valueString":"[ var='B' labels={} value=95.1 ]"}]});
        let (status, _, answer) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(grafana)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        let generic = json!([{"source": "zabbix", "labels": {"alertname": "CPU", "host": "db1"}, "severity": "high", "summary": "CPU 99%"},
            {"source": "cron-check", "fingerprint": "backup-nightly", "summary": "Backup did not run", "severity": "warning"}]);
        let (status, _, answer) = app.api("POST", "/api/v1/alerts", Some(&am), Some(generic)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        assert_eq!(answer["opened"].as_array().unwrap().len(), 2);
        // Events API v2 with the token as routing_key and no Authorization header.
        let event = json!({"routing_key": am, "event_action": "trigger", "dedup_key": "srv01/disk",
            "payload": {"summary": "Disk full on srv01", "source": "srv01", "severity": "critical", "component": "disk"}});
        let (status, _, answer) = app.api("POST", "/api/v1/alerts/events-v2", None, Some(event)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        assert_eq!(answer["status"], "success");
        assert_eq!(answer["dedup_key"], "srv01/disk");
        let all = events(&app, &reader, "").await;
        assert_eq!(all.len(), 4);
        let sources: std::collections::BTreeSet<&str> = all.iter().map(|e| e["source"].as_str().unwrap()).collect();
        assert_eq!(sources, ["cron-check", "events_v2", "grafana", "zabbix"].into_iter().collect());
        let resolve = json!({"routing_key": am, "event_action": "resolve", "dedup_key": "srv01/disk"});
        let (status, _, _) = app.api("POST", "/api/v1/alerts/events-v2", None, Some(resolve)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(events(&app, &reader, "?source=events_v2&status=resolved").await.len(), 1);
    }
}

db_test! {
    async fn malformed_deliveries_are_refused_naming_what_is_wrong(db) {
        let am = token(&db.pool, "am", "viewer", "alerts:write").await;
        let app = TestApp::new(&db);
        let (status, _, body) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(json!({"version": "4"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "alerts");
        let (status, _, body) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am),
            Some(json!({"alerts": [{"status": "burning", "labels": {"alertname": "X"}}]}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "alerts[0].status");
        let (status, _, body) = app.api("POST", "/api/v1/alerts", Some(&am),
            Some(json!([{"source": "ok", "labels": {"a": "b"}}, {"source": "x", "labels": {"a": "b"}, "sevrity": "high"}]))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "[1].sevrity");
        let (status, _, body) = app.api("POST", "/api/v1/alerts", Some(&am), Some(json!("firing"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, _, body) = app.api("POST", "/api/v1/alerts/events-v2", Some(&am), Some(json!({"event_action": "trigger"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "payload");
        let (status, _, _) = app.api("POST", "/api/v1/alerts/events-v2", None, Some(json!({"routing_key": "nw_nope", "event_action": "trigger"}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts_received").fetch_one(&db.pool).await.unwrap();
        assert_eq!(kept, 0, "nothing of a refused delivery is stored");
    }
}

db_test! {
    async fn a_group_keeps_its_good_alerts_whatever_is_wrong_with_the_others(db) {
        let am = token(&db.pool, "am", "viewer", "alerts:write").await;
        let app = TestApp::new(&db);
        let good = |name: &str| json!({"status": "firing", "labels": {"alertname": name, "weird label": "x"},
            "annotations": {}, "startsAt": "2026-11-29T10:00:00Z", "fingerprint": format!("fp-{name}")});
        let group = json!({"version": 4, "status": "firing", "alerts": [
            good("Good"),
            {"status": "firing", "labels": null},
            {"status": 1, "labels": {"alertname": "X"}},
            null,
            {"status": "firing", "labels": {"alertname": "Nul\u{0}Byte"}, "fingerprint": "fp-nul"},
            {"status": "firing", "labels": {"alertname": "\u{1}"}, "fingerprint": "fp-ctl"},
            good("Also good"),
        ]});
        let (status, _, body) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(group)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        assert_eq!(body["opened"].as_array().unwrap().len(), 4, "{body}");
        let fields: Vec<&str> = body["rejected"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&"alerts[1].labels"), "{fields:?}");
        assert!(fields.contains(&"alerts[2].status"), "{fields:?}");
        assert!(fields.contains(&"alerts[3]"), "{fields:?}");
        assert!(fields.contains(&"alerts[0].labels.weird label"), "a dropped label is said: {fields:?}");
        let summaries: Vec<String> = sqlx::query_scalar("SELECT summary FROM risk_events ORDER BY number")
            .fetch_all(&db.pool).await.unwrap();
        assert!(summaries.iter().all(|s| !s.trim().is_empty() && !s.contains('\u{0}')), "{summaries:?}");
        assert!(summaries.contains(&"Alert".to_owned()), "a name of control characters only: {summaries:?}");
    }
}

db_test! {
    async fn an_alert_token_may_only_send_and_a_viewer_token_may_not_send(db) {
        let am = token(&db.pool, "am", "viewer", "alerts:write").await;
        let viewer = token(&db.pool, "viewer", "viewer", "").await;
        let app = TestApp::new(&db);
        let body = alertmanager("firing", &[("X", "a", "firing")]);
        let (status, _, _) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&viewer), Some(body.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(body)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let (status, _, _) = app.api("GET", "/api/v1/risk-events", Some(&am), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "an alert token reads nothing");
        let (status, _, _) = app.api("POST", "/api/v1/risk-events/1/acknowledge", Some(&viewer), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

db_test! {
    async fn a_responder_acknowledges_an_event_once_and_a_resolved_one_not_at_all(db) {
        user(&db.pool, "bob", Role::Responder, PASSWORD).await;
        let resp = token(&db.pool, "oncall", "responder", "").await;
        let app = TestApp::new(&db);
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&resp), Some(alertmanager("firing", &[("X", "a", "firing"), ("Y", "b", "firing")]))).await;
        let (status, _, event) = app.api("POST", "/api/v1/risk-events/RISK-1/acknowledge", Some(&resp), None).await;
        assert_eq!(status, StatusCode::OK, "{event}");
        assert_eq!(event["status"], "acknowledged");
        assert_eq!(event["acknowledged_by"], "token:oncall");
        let (status, _, again) = app.api("POST", "/api/v1/risk-events/1/acknowledge", Some(&resp), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["acknowledged_at"], event["acknowledged_at"], "a second acknowledgement changes nothing");
        assert_eq!(events(&app, &resp, "?status=acknowledged").await.len(), 1);
        app.api("POST", "/api/v1/alerts/alertmanager", Some(&resp), Some(alertmanager("resolved", &[("Y", "b", "resolved")]))).await;
        let (status, _, body) = app.api("POST", "/api/v1/risk-events/2/acknowledge", Some(&resp), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, _, _) = app.api("POST", "/api/v1/risk-events/99/acknowledge", Some(&resp), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

db_test! {
    async fn intake_answers_503_while_the_database_is_unavailable(db) {
        let am = token(&db.pool, "am", "viewer", "alerts:write").await;
        // A second instance whose database goes away after it authenticated the request: its
        // pool is closed, as when PostgreSQL restarts or the SQLite volume disappears.
        let pool = nightwatch::server::db::connect(&db.url, 2).await.unwrap();
        let app = TestApp::on_pool(pool.clone(), nightwatch::server::config::Config::for_database(db.url.clone()));
        let (status, _, _) = app.api("GET", "/api/v1/risk-events", Some(&am), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "the instance works before");
        pool.close().await;
        let (status, headers, body) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am),
            Some(alertmanager("firing", &[("X", "a", "firing")]))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(headers["retry-after"], "5");
        assert_eq!(body["status"], 503);
    }
}

db_test! {
    async fn alerts_firing_and_resolving_at_once_on_two_instances_are_all_taken(db) {
        let am = token(&db.pool, "am", "viewer", "alerts:write").await;
        let a = TestApp::new(&db);
        let b = TestApp::another_instance(&db).await;
        let senders = (0..8u64).map(|s| {
            let app = if s % 2 == 0 { &a } else { &b };
            let am = am.clone();
            async move {
                let mut seed = s + 1;
                let mut failed = Vec::new();
                for _ in 0..15 {
                    let alerts: Vec<(String, &str)> = (0..5)
                        .map(|_| {
                            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                            let flip = if (seed >> 33) % 2 == 0 { "firing" } else { "resolved" };
                            (format!("flip-{}", (seed >> 40) % 10), flip)
                        })
                        .collect();
                    let list: Vec<(&str, &str, &str)> = alerts.iter().map(|(i, st)| ("Flip", i.as_str(), *st)).collect();
                    let (status, _, answer) = app.api("POST", "/api/v1/alerts/alertmanager", Some(&am), Some(alertmanager("firing", &list))).await;
                    if status != StatusCode::ACCEPTED {
                        failed.push((status, answer));
                    }
                }
                failed
            }
        });
        let failed: Vec<_> = futures::future::join_all(senders).await.into_iter().flatten().collect();
        assert!(failed.is_empty(), "{failed:?}");
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM risk_events WHERE resolved_at IS NULL")
            .fetch_one(&db.pool).await.unwrap();
        assert!(open <= 10, "at most one open event per identity: {open}");
    }
}

/// PostgreSQL refusing connections to the database (`ALLOW_CONNECTIONS false`, SQLSTATE 55000,
/// as during maintenance) and cutting the open ones: intake answers 503, never 500, so
/// Alertmanager retries; once it accepts connections again, the same delivery is taken.
#[tokio::test]
async fn intake_answers_503_while_postgres_refuses_connections() {
    crate::support::with_db(crate::support::Backend::Postgres, |db| async move {
        use sqlx::Connection;
        let am = token(&db.pool, "am", "viewer", "alerts:write").await;
        let app = TestApp::new(&db);
        let name = url::Url::parse(&db.url)
            .unwrap()
            .path()
            .trim_start_matches('/')
            .to_owned();
        let admin_url = std::env::var("NIGHTWATCH_TEST_POSTGRES_URL").unwrap();
        let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
        let refuse = |allow: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}");
        sqlx::query(&refuse(false))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::query(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        let delivery = alertmanager("firing", &[("X", "a", "firing")]);
        for attempt in 0..2 {
            let (status, headers, body) = app
                .api(
                    "POST",
                    "/api/v1/alerts/alertmanager",
                    Some(&am),
                    Some(delivery.clone()),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "attempt {attempt}: {body}"
            );
            assert_eq!(headers["retry-after"], "5");
        }
        sqlx::query(&refuse(true))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.ok();
        let (status, _, body) = app
            .api(
                "POST",
                "/api/v1/alerts/alertmanager",
                Some(&am),
                Some(delivery),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    })
    .await;
}
