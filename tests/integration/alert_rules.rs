//! Alert rules: auto-declare once (also with two instances racing), link instead of declaring a
//! duplicate, "Alert linked" / "Alert resolved" on the timeline, the first matching rule decides,
//! silenced events trigger nothing, self-recovery runs once per occurrence with a cooldown, and a
//! person's declare / link / run from an event.

use axum::http::StatusCode;
use chrono::Utc;
use nightwatch::model::Role;
use nightwatch::model::catalog::{ActionCode, Scene};
use nightwatch::model::plan::{ParamValue, PlanDraft, Step};
use nightwatch::server::actor::Actor;
use nightwatch::server::service::plans;
use serde_json::{Value, json};
use sqlx::AnyPool;

use crate::support::{PASSWORD, TestApp, token, user};

/// A generic alert for `service` with `alertname`.
fn alert(name: &str, service: &str, instance: &str, status: &str) -> Value {
    json!({"source": "prometheus", "status": status, "severity": "critical",
        "labels": {"alertname": name, "service": service, "instance": instance, "severity": "critical"},
        "summary": format!("{name} on {instance}")})
}

async fn send(app: &TestApp, secret: &str, body: Value) -> Value {
    let (status, _, answer) = app
        .api("POST", "/api/v1/alerts", Some(secret), Some(body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    answer
}

async fn rule(app: &TestApp, admin: &str, body: Value) -> Value {
    let (status, _, created) = app
        .api("POST", "/api/v1/alert-rules", Some(admin), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn incidents_count(pool: &AnyPool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM incidents")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn event(app: &TestApp, secret: &str, n: i64) -> Value {
    let (status, _, e) = app
        .api(
            "GET",
            &format!("/api/v1/risk-events/{n}"),
            Some(secret),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    e
}

/// A self-recovery plan whose one step waits for a person (a manual check).
async fn recovery_plan(pool: &AnyPool, actor: &Actor) -> i64 {
    let mut step = Step::new("look".into(), ActionCode::ManualCheck, None);
    step.name = "Confirm the queue drains".into();
    step.params.insert(
        "instructions".into(),
        ParamValue::Set("Watch the queue depth".into()),
    );
    plans::create(
        pool,
        actor,
        PlanDraft {
            name: "Restart the consumer".into(),
            description: String::new(),
            scene: Scene::SelfRecovery,
            service: "payments".into(),
            scenario: "consumer stuck".into(),
            rto_secs: None,
            rpo_secs: None,
            schedule: None,
            enabled: true,
            steps: vec![step],
        },
    )
    .await
    .unwrap()
}

db_test! {
    async fn a_rule_declares_one_incident_and_links_later_alerts_of_its_service_to_it(db) {
        let admin = token(&db.pool, "admin", "admin", "").await;
        let app = TestApp::new(&db);
        rule(&app, &admin, json!({"name": "Payments critical", "declare_incident": true,
            "matchers": [{"name": "service", "value": "payments"}],
            "severity_map": {"critical": "sev1"}})).await;
        send(&app, &admin, alert("HighLatency", "payments", "web-1", "firing")).await;
        let first = event(&app, &admin, 1).await;
        assert_eq!(first["incident"], "INC-1");
        // A re-send does not declare again; another alert of the same service links to INC-1.
        send(&app, &admin, alert("HighLatency", "payments", "web-1", "firing")).await;
        send(&app, &admin, alert("ErrorRate", "payments", "web-2", "firing")).await;
        assert_eq!(incidents_count(&db.pool).await, 1);
        assert_eq!(event(&app, &admin, 2).await["incident"], "INC-1");
        let (_, _, incident) = app.api("GET", "/api/v1/incidents/INC-1", Some(&admin), None).await;
        assert_eq!(incident["severity"], "sev1", "{incident}");
        assert!(incident["timestamps"]["acknowledged_at"].is_null(), "a machine does not acknowledge: {incident}");
        // Resolving an alert writes it on the timeline.
        send(&app, &admin, alert("ErrorRate", "payments", "web-2", "resolved")).await;
        let (_, _, timeline) = app.api("GET", "/api/v1/incidents/INC-1/timeline", Some(&admin), None).await;
        let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().map(|e| e["event"]["kind"].as_str().unwrap_or_default()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "alert_linked").count(), 2, "{timeline}");
        assert_eq!(kinds.iter().filter(|k| **k == "alert_resolved").count(), 1, "{timeline}");
        // The incident's page lists both alerts with where each stands.
        user(&db.pool, "vic", Role::Viewer, PASSWORD).await;
        let cookie = app.sign_in("vic", PASSWORD).await;
        let html = crate::support::text(app.get("/incidents/INC-1", Some(&cookie)).await).await;
        let section = html.split("id=\"alerts-title\"").nth(1).expect("an Alerts section");
        assert!(section.contains("href=\"/risks/1\"") && section.contains("href=\"/risks/2\""), "{section}");
        assert!(section.contains("Resolved") && section.contains("Open"), "{section}");
    }
}

db_test! {
    async fn two_instances_racing_on_one_alert_declare_one_incident(db) {
        let admin = token(&db.pool, "admin", "admin", "").await;
        let a = TestApp::new(&db);
        let b = TestApp::another_instance(&db).await;
        rule(&a, &admin, json!({"name": "Payments", "declare_incident": true,
            "matchers": [{"name": "service", "value": "payments"}]})).await;
        let senders = (0..6).map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            let admin = admin.clone();
            async move {
                let body = json!([alert("HighLatency", "payments", &format!("web-{}", i % 3), "firing")]);
                let (status, _, answer) = app.api("POST", "/api/v1/alerts", Some(&admin), Some(body)).await;
                assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
            }
        });
        futures::future::join_all(senders).await;
        assert_eq!(incidents_count(&db.pool).await, 1, "one incident for the service, however many senders");
        let linked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM risk_events WHERE incident_id IS NOT NULL")
            .fetch_one(&db.pool).await.unwrap();
        assert_eq!(linked, 3, "each of the three events is linked to it");
    }
}

db_test! {
    async fn the_first_matching_rule_decides_and_a_silenced_event_triggers_nothing(db) {
        let admin = token(&db.pool, "admin", "admin", "").await;
        let app = TestApp::new(&db);
        rule(&app, &admin, json!({"name": "Staging is noise", "declare_incident": true, "enabled": false,
            "matchers": [{"name": "service", "value": "payments"}]})).await;
        rule(&app, &admin, json!({"name": "Only after three", "declare_incident": true, "after_occurrences": 3,
            "matchers": [{"name": "alertname", "value": "HighLatency"}]})).await;
        rule(&app, &admin, json!({"name": "Everything payments", "declare_incident": true,
            "matchers": [{"name": "service", "value": "payments"}]})).await;
        send(&app, &admin, alert("HighLatency", "payments", "web-1", "firing")).await;
        send(&app, &admin, alert("HighLatency", "payments", "web-1", "firing")).await;
        assert_eq!(incidents_count(&db.pool).await, 0, "the second rule decides, and waits for three");
        send(&app, &admin, alert("HighLatency", "payments", "web-1", "firing")).await;
        assert_eq!(incidents_count(&db.pool).await, 1);
        let ends = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        app.api("POST", "/api/v1/silences", Some(&admin), Some(json!({"matchers": [{"name": "instance", "value": "db-9"}],
            "ends_at": ends, "comment": "migrating"}))).await;
        send(&app, &admin, alert("DiskFull", "payments", "db-9", "firing")).await;
        assert_eq!(incidents_count(&db.pool).await, 1, "a silenced event triggers no rule");
        assert!(event(&app, &admin, 2).await["incident"].is_null());
    }
}

db_test! {
    async fn a_self_recovery_plan_runs_once_per_occurrence_and_waits_for_a_person(db) {
        let eve = user(&db.pool, "eve", Role::Admin, PASSWORD).await;
        let admin = token(&db.pool, "admin", "admin", "").await;
        let app = TestApp::new(&db);
        let plan = recovery_plan(&db.pool, &eve).await;
        rule(&app, &admin, json!({"name": "Consumer stuck", "plan": plan, "cooldown_minutes": 0,
            "matchers": [{"name": "alertname", "value": "QueueStuck"}]})).await;
        send(&app, &admin, alert("QueueStuck", "payments", "q-1", "firing")).await;
        send(&app, &admin, alert("QueueStuck", "payments", "q-1", "firing")).await;
        let runs: Vec<(i64, String)> = sqlx::query_as("SELECT r.number, r.run_trigger FROM runs r ORDER BY r.number")
            .fetch_all(&db.pool).await.unwrap();
        assert_eq!(runs.len(), 1, "once per occurrence: {runs:?}");
        assert_eq!(runs[0].1, "alert");
        let recorded: Vec<i64> = sqlx::query_scalar("SELECT run_number FROM risk_event_runs WHERE event_number = 1")
            .fetch_all(&db.pool).await.unwrap();
        assert_eq!(recorded, vec![runs[0].0], "the run is written on the event");
        // A new occurrence (resolved, then firing again) runs it again: the cooldown is 0.
        send(&app, &admin, alert("QueueStuck", "payments", "q-1", "resolved")).await;
        send(&app, &admin, alert("QueueStuck", "payments", "q-1", "firing")).await;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs").fetch_one(&db.pool).await.unwrap();
        assert_eq!(count, 2);
    }
}

db_test! {
    async fn a_plan_in_its_cooldown_is_not_run_again_for_another_event(db) {
        let eve = user(&db.pool, "eve", Role::Admin, PASSWORD).await;
        let admin = token(&db.pool, "admin", "admin", "").await;
        let app = TestApp::new(&db);
        let plan = recovery_plan(&db.pool, &eve).await;
        rule(&app, &admin, json!({"name": "Consumer stuck", "plan": plan, "cooldown_minutes": 30,
            "matchers": [{"name": "alertname", "value": "QueueStuck"}]})).await;
        send(&app, &admin, alert("QueueStuck", "payments", "q-1", "firing")).await;
        send(&app, &admin, alert("QueueStuck", "payments", "q-2", "firing")).await;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs").fetch_one(&db.pool).await.unwrap();
        assert_eq!(count, 1, "the second event falls in the plan's cooldown");
    }
}

db_test! {
    async fn a_rule_for_a_drill_plan_or_doing_nothing_is_refused(db) {
        let eve = user(&db.pool, "eve", Role::Admin, PASSWORD).await;
        let admin = token(&db.pool, "admin", "admin", "").await;
        let app = TestApp::new(&db);
        let mut step = Step::new("look".into(), ActionCode::ManualCheck, None);
        step.params.insert("instructions".into(), ParamValue::Set("x".into()));
        let drill = plans::create(&db.pool, &eve, PlanDraft {
            name: "Game day".into(), description: String::new(), scene: Scene::Drill, service: "payments".into(),
            scenario: "x".into(), rto_secs: None, rpo_secs: None, schedule: None, enabled: true, steps: vec![step],
        }).await.unwrap();
        let (status, _, body) = app.api("POST", "/api/v1/alert-rules", Some(&admin), Some(json!({"name": "x", "plan": drill,
            "matchers": [{"name": "alertname", "value": "X"}]}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "plan");
        let (status, _, body) = app.api("POST", "/api/v1/alert-rules", Some(&admin), Some(json!({"name": "x",
            "matchers": [{"name": "alertname", "value": "X"}]}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "declare_incident");
        let responder = token(&db.pool, "resp", "responder", "").await;
        let (status, _, _) = app.api("POST", "/api/v1/alert-rules", Some(&responder), Some(json!({"name": "x", "declare_incident": true,
            "matchers": [{"name": "alertname", "value": "X"}]}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Positions stay in 0..=1,000,000: a rule added after the last place goes there too, and
        // what is read back saves again unchanged.
        let (status, _, body) = app.api("POST", "/api/v1/alert-rules", Some(&admin), Some(json!({"name": "x", "declare_incident": true,
            "matchers": [{"name": "alertname", "value": "X"}], "position": 1_000_001}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "position");
        let last = rule(&app, &admin, json!({"name": "last", "declare_incident": true,
            "matchers": [{"name": "alertname", "value": "X"}], "position": 1_000_000})).await;
        let after = rule(&app, &admin, json!({"name": "after", "declare_incident": true,
            "matchers": [{"name": "alertname", "value": "Y"}]})).await;
        assert_eq!((last["position"].as_i64(), after["position"].as_i64()), (Some(1_000_000), Some(1_000_000)));
        let again = json!({"name": "after", "declare_incident": true,
            "matchers": [{"name": "alertname", "value": "Y"}], "position": after["position"]});
        let (status, _, body) = app.api("PUT", &format!("/api/v1/alert-rules/{}", after["id"].as_str().unwrap()), Some(&admin), Some(again)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

db_test! {
    async fn a_person_declares_from_an_event_links_another_and_runs_a_plan(db) {
        let bob = user(&db.pool, "bob", Role::Responder, PASSWORD).await;
        let eve = user(&db.pool, "eve", Role::Admin, PASSWORD).await;
        let sender = token(&db.pool, "am", "viewer", "alerts:write").await;
        let app = TestApp::new(&db);
        send(&app, &sender, json!([alert("HighLatency", "payments", "web-1", "firing"), alert("ErrorRate", "payments", "web-2", "firing")])).await;
        let new = nightwatch::model::incident_input::NewIncident::parse("Payments slow", "", "sev2", "payments", "", "", Utc::now()).unwrap();
        let number = nightwatch::server::service::alert_rules::declare_from_event(&db.pool, &bob, 1, &new).await.unwrap();
        let again = nightwatch::server::service::alert_rules::declare_from_event(&db.pool, &bob, 1, &new).await;
        assert!(matches!(again, Err(nightwatch::model::AppError::Conflict(_))), "{again:?}");
        nightwatch::server::service::alert_rules::link_event(&db.pool, &bob, 2, number).await.unwrap();
        let linked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM risk_events WHERE incident_id IS NOT NULL")
            .fetch_one(&db.pool).await.unwrap();
        assert_eq!(linked, 2);
        let plan = recovery_plan(&db.pool, &eve).await;
        let state = nightwatch::server::AppState::new(db.pool.clone(),
            leptos::config::LeptosOptions::builder().output_name("nightwatch").build(),
            nightwatch::server::config::Config::for_database(db.url.clone()));
        let run = nightwatch::server::service::alert_rules::run_for_event(&state, &bob, 1, plan).await.unwrap();
        let incident: Option<String> = sqlx::query_scalar("SELECT i.number || '' FROM runs r JOIN incidents i ON i.id = r.incident_id WHERE r.number = $1")
            .bind(run).fetch_optional(&db.pool).await.unwrap();
        assert_eq!(incident.as_deref(), Some("1"), "the run is made for the linked incident");
        let viewer = user(&db.pool, "vic", Role::Viewer, PASSWORD).await;
        assert!(nightwatch::server::service::alert_rules::link_event(&db.pool, &viewer, 2, number).await.is_err());
    }
}

db_test! {
    async fn declaring_from_one_event_at_once_makes_one_incident(db) {
        let bob = user(&db.pool, "bob", Role::Responder, PASSWORD).await;
        let sender = token(&db.pool, "am", "viewer", "alerts:write").await;
        let app = TestApp::new(&db);
        send(&app, &sender, json!([alert("HighLatency", "payments", "web-1", "firing")])).await;
        let new = nightwatch::model::incident_input::NewIncident::parse("Payments slow", "", "sev2", "payments", "", "", Utc::now()).unwrap();
        let second = nightwatch::server::db::connect(&db.url, 5).await.unwrap();
        let tries = (0..6).map(|i| {
            let pool = if i % 2 == 0 { db.pool.clone() } else { second.clone() };
            let (bob, new) = (bob.clone(), new.clone());
            async move { nightwatch::server::service::alert_rules::declare_from_event(&pool, &bob, 1, &new).await }
        });
        let results = futures::future::join_all(tries).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.iter().all(|r| matches!(r, Ok(_) | Err(nightwatch::model::AppError::Conflict(_)))), "{results:?}");
        assert_eq!(incidents_count(&db.pool).await, 1);
        second.close().await;
    }
}

/// A Slack channel named `name` hearing `events` (or disabled); its id.
async fn slack(app: &TestApp, admin: &str, name: &str, events: Value, enabled: bool) -> String {
    let (status, _, created) = app
        .api(
            "POST",
            "/api/v1/notification-channels",
            Some(admin),
            Some(json!({"kind": "slack", "name": name, "url": "https://hooks.example.com/services/T0/B0/x",
                "events": events, "enabled": enabled})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

/// The deliveries written for each channel, as (channel name, event, message).
async fn pages(pool: &AnyPool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT c.name, d.event, d.message FROM notification_deliveries d \
         JOIN notification_channels c ON c.id = d.channel_id ORDER BY c.name, d.created_at",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

db_test! {
    async fn a_rule_pages_the_channels_it_names_once_whatever_they_subscribe_to(db) {
        let admin = token(&db.pool, "admin", "admin", "").await;
        let a = TestApp::new(&db);
        let b = TestApp::another_instance(&db).await;
        let oncall = slack(&a, &admin, "db-oncall", json!(["postmortem.published"]), true).await;
        let off = slack(&a, &admin, "db-quiet", json!(["postmortem.published"]), false).await;
        slack(&a, &admin, "audit", json!(["postmortem.published"]), true).await;
        // A channel that does not exist is named as such; a channel is not subscribed to pages.
        let (status, _, body) = a.api("POST", "/api/v1/alert-rules", Some(&admin), Some(json!({"name": "x",
            "matchers": [{"name": "service", "value": "db"}], "notify": ["no-such-channel"]}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "notify", "{body}");
        let created = rule(&a, &admin, json!({"name": "DB on-call", "declare_incident": true, "after_occurrences": 2,
            "matchers": [{"name": "service", "value": "db"}], "notify": [oncall, off]})).await;
        assert_eq!(created["notify_names"], json!(["db-oncall", "db-quiet"]), "{created}");

        send(&a, &admin, alert("ReplicaLag", "db", "db-1", "firing")).await;
        assert!(pages(&db.pool).await.is_empty(), "not due after one receipt");
        // The second and later receipts, through two instances at once: one page.
        let senders = (0..4).map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            let admin = admin.clone();
            async move { send(app, &admin, alert("ReplicaLag", "db", "db-1", "firing")).await }
        });
        futures::future::join_all(senders).await;
        let written = pages(&db.pool).await;
        assert_eq!(written.len(), 1, "one page, to the one enabled channel the rule names: {written:?}");
        let (channel, event, message) = &written[0];
        assert_eq!((channel.as_str(), event.as_str()), ("db-oncall", "alert_rule.fired"));
        let message: Value = serde_json::from_str(message).unwrap();
        assert!(message["title"].as_str().unwrap().starts_with("RISK-1 paged by “DB on-call”: ReplicaLag on db-1"), "{message}");
        assert!(message["text"].as_str().unwrap().ends_with("Linked to INC-1."), "the incident the rule declared: {message}");
        assert_eq!(message["link"], "/risks/1");

        // The channel cannot go while the rule pages through it; off the rule, it can.
        let (status, _, body) = a.api("DELETE", &format!("/api/v1/notification-channels/{oncall}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("“DB on-call”"), "{body}");
        let id = created["id"].as_str().unwrap();
        let (status, _, body) = a.api("PUT", &format!("/api/v1/alert-rules/{id}"), Some(&admin), Some(json!({"name": "DB on-call",
            "declare_incident": true, "matchers": [{"name": "service", "value": "db"}], "notify": [off]}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["notify_names"], json!(["db-quiet"]));
        let (status, _, body) = a.api("DELETE", &format!("/api/v1/notification-channels/{oncall}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        // Deleting the rule lets its last channel go too.
        let (status, _, _) = a.api("DELETE", &format!("/api/v1/alert-rules/{id}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, body) = a.api("DELETE", &format!("/api/v1/notification-channels/{off}"), Some(&admin), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
}

db_test! {
    async fn a_channel_deleted_while_a_rule_names_it_is_refused_by_name_never_a_500(db) {
        use nightwatch::model::AppError;
        use nightwatch::model::alert_rule::RuleInput;
        use nightwatch::server::repo::{alert_rules, notifications};
        let admin = token(&db.pool, "admin", "admin", "").await;
        let app = TestApp::new(&db);
        let channel = slack(&app, &admin, "db-oncall", json!(["postmortem.published"]), true).await;
        let eve = user(&db.pool, "eve", Role::Admin, PASSWORD).await.id.to_string();
        let input: RuleInput = serde_json::from_value(json!({"name": "DB", "matchers": [{"name": "service", "value": "db"}],
            "notify": ["gone-a-moment-ago"]})).unwrap();
        // The save that lost the race to a delete (the service's own check passed before it).
        let mut tx = db.pool.begin().await.unwrap();
        let err = alert_rules::save(&mut tx, "r1", &input, 10, None, &eve, 1).await.unwrap_err();
        assert!(matches!(&err, AppError::Validation(_)) && err.field_message("notify").is_some(), "{err:?}");
        drop(tx);
        // The delete that lost the race to a save.
        let mut tx = db.pool.begin().await.unwrap();
        let mut input = input;
        input.notify = vec![channel.clone()];
        alert_rules::save(&mut tx, "r1", &input, 10, None, &eve, 1).await.unwrap();
        let err = notifications::delete_channel(&mut tx, &channel).await.unwrap_err();
        assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    }
}
