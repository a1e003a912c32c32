//! The notification outbox on both databases, against receivers in the test that verify what
//! they get: a declared incident writes its deliveries in its own transaction (a rolled-back one
//! writes none); a signed webhook arrives with a Standard Webhooks signature the receiver checks;
//! Feishu's and DingTalk's signatures are checked as those platforms do; a receiver that is down
//! gets a retry, one that refuses (4xx) a dead delivery; a lease held by a worker that died runs
//! out and another worker sends it; two workers racing send each delivery once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use chrono::Utc;
use nightwatch::model::AppError;
use nightwatch::model::Role;
use nightwatch::model::incident::Severity;
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::notification::{ChannelInput, ChannelKind, ChannelView, NotifyEvent};
use nightwatch::server::actor::Actor;
use nightwatch::server::db::to_millis;
use nightwatch::server::jobs::outbox::Outbox;
use nightwatch::server::netpolicy::{NetPolicy, Reach};
use nightwatch::server::repo::notifications as repo;
use nightwatch::server::service::{incidents, notifications};
use sqlx::AnyPool;

use crate::support::{PASSWORD, user};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What a receiver got: (path, headers, query, body).
pub(crate) type Got = Arc<
    Mutex<
        Vec<(
            String,
            HashMap<String, String>,
            HashMap<String, String>,
            String,
        )>,
    >,
>;

/// A receiver answering `status` with `answer`, keeping every request.
pub(crate) async fn receiver(status: StatusCode, answer: &'static str) -> (String, Got) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (format!("http://{addr}"), serve(listener, status, answer))
}

/// A receiver answering `status` from now on at `addr` (one that was down until now).
pub(crate) async fn receiver_at(addr: std::net::SocketAddr, status: StatusCode) -> Got {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    serve(listener, status, "")
}

fn serve(listener: tokio::net::TcpListener, status: StatusCode, answer: &'static str) -> Got {
    let got: Got = Arc::default();
    let app = Router::new()
        .route(
            "/{*path}",
            post(
                move |State(got): State<Got>,
                      axum::extract::Path(path): axum::extract::Path<String>,
                      Query(query): Query<HashMap<String, String>>,
                      headers: HeaderMap,
                      body: String| async move {
                    let headers = headers
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                        .collect();
                    got.lock().unwrap().push((path, headers, query, body));
                    (status, answer)
                },
            ),
        )
        .with_state(got.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    got
}

fn channel(kind: ChannelKind, url: String, secret: Option<&str>) -> ChannelInput {
    ChannelInput {
        kind,
        name: format!("{} channel", kind.as_str()),
        url,
        secret: secret.map(str::to_owned),
        events: vec![NotifyEvent::IncidentDeclared],
        services: vec![],
        min_severity: None,
        enabled: true,
    }
}

fn outbox(pool: &AnyPool) -> Outbox {
    Outbox::new(
        pool.clone(),
        Reach::default(),
        Some("https://nightwatch.example/".into()),
    )
}

fn incident(title: &str) -> NewIncident {
    NewIncident {
        title: title.into(),
        description: String::new(),
        severity: Severity::Sev1,
        services: vec!["checkout".into()],
        tags: vec![],
        detected_at: Utc::now(),
        impact_started_at: None,
    }
}

async fn deliveries(pool: &AnyPool) -> Vec<(String, String, i64)> {
    sqlx::query_as(
        "SELECT id, state, attempts FROM notification_deliveries ORDER BY created_at, id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Saves a new channel as `actor` under the default network policy.
async fn save(
    pool: &AnyPool,
    actor: &Actor,
    input: &ChannelInput,
) -> Result<ChannelView, AppError> {
    notifications::save_channel(pool, &NetPolicy::default(), actor, None, input).await
}

/// The events of every delivery written so far, in order.
async fn events(pool: &AnyPool) -> Vec<String> {
    sqlx::query_scalar("SELECT event FROM notification_deliveries ORDER BY created_at, id")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn admin(pool: &AnyPool) -> Actor {
    user(pool, "ada", Role::Admin, PASSWORD).await
}

db_test! {
    async fn a_declared_incident_reaches_a_signed_webhook_once_and_a_rolled_back_one_never(db) {
        let ada = admin(&db.pool).await;
        let (url, got) = receiver(StatusCode::NO_CONTENT, "").await;
        save(&db.pool, &ada, &channel(ChannelKind::Webhook, format!("{url}/hook"), Some(SECRET))).await.unwrap();
        // A declaration that rolls back leaves no delivery behind.
        let mut tx = db.pool.begin().await.unwrap();
        incidents::declare_in(&mut tx, &ada, &incident("Rolled back")).await.unwrap();
        drop(tx);
        assert!(deliveries(&db.pool).await.is_empty());

        let number = incidents::declare(&db.pool, &ada, &incident("Checkout down")).await.unwrap();
        let queued = deliveries(&db.pool).await;
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].1, "pending");
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 1);
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 0, "nothing is sent twice");
        let sent = got.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        let (_, headers, _, body) = &sent[0];
        assert_eq!(headers["webhook-id"], queued[0].0, "the message id is the delivery's");
        // The receiver's check, as Standard Webhooks describes it.
        let key = base64::engine::general_purpose::STANDARD.decode(&SECRET[6..]).unwrap();
        let signed = format!("{}.{}.{}", headers["webhook-id"], headers["webhook-timestamp"], body);
        let expected = format!("v1,{}", {
            use hmac::Mac;
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
            mac.update(signed.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        });
        assert_eq!(headers["webhook-signature"], expected);
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["type"], "incident.declared");
        assert_eq!(json["data"]["incident"], number.to_string());
        assert_eq!(json["url"], format!("https://nightwatch.example/incidents/{number}"));
        let after = deliveries(&db.pool).await;
        assert_eq!((after[0].1.as_str(), after[0].2), ("delivered", 1));
    }
}

db_test! {
    async fn feishu_and_dingtalk_get_their_signatures_and_a_non_zero_code_is_retried(db) {
        let ada = admin(&db.pool).await;
        let (feishu_url, feishu) = receiver(StatusCode::OK, r#"{"code":0,"msg":"success"}"#).await;
        let (ding_url, ding) = receiver(StatusCode::OK, r#"{"errcode":310000,"errmsg":"sign not match"}"#).await;
        save(&db.pool, &ada, &channel(ChannelKind::Feishu, format!("{feishu_url}/open-apis/bot/v2/hook/x"), Some("feishu-secret"))).await.unwrap();
        save(&db.pool, &ada, &channel(ChannelKind::Dingtalk, format!("{ding_url}/robot/send?access_token=t"), Some("SECret"))).await.unwrap();
        incidents::declare(&db.pool, &ada, &incident("Payments slow")).await.unwrap();
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 2);

        let (_, _, _, body) = feishu.lock().unwrap()[0].clone();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let ts: i64 = json["timestamp"].as_str().unwrap().parse().unwrap();
        assert_eq!(json["sign"], nightwatch::server::signing::feishu("feishu-secret", ts));
        let (_, _, query, _) = ding.lock().unwrap()[0].clone();
        assert_eq!(query["access_token"], "t");
        let ms: i64 = query["timestamp"].parse().unwrap();
        let decoded: String = url::form_urlencoded::parse(format!("s={}", nightwatch::server::signing::dingtalk("SECret", ms)).as_bytes())
            .next().unwrap().1.into_owned();
        assert_eq!(query["sign"], decoded, "the sign DingTalk recomputes");

        let mut states: Vec<(String, i64)> = deliveries(&db.pool).await.into_iter().map(|(_, s, a)| (s, a)).collect();
        states.sort();
        assert_eq!(states, [("delivered".to_owned(), 1), ("pending".to_owned(), 1)], "DingTalk's errcode is a failure, retried");
        let due: i64 = sqlx::query_scalar("SELECT due_at FROM notification_deliveries WHERE state = 'pending'")
            .fetch_one(&db.pool).await.unwrap();
        let wait = due - to_millis(Utc::now());
        assert!((3_000..=6_000).contains(&wait), "the first retry is 5 s later: {wait}");
        let error: Option<String> = sqlx::query_scalar("SELECT error FROM notification_attempts WHERE error IS NOT NULL")
            .fetch_one(&db.pool).await.unwrap();
        assert_eq!(error.as_deref(), Some("errcode 310000: sign not match"));
    }
}

db_test! {
    async fn a_receiver_down_gets_a_retry_one_refusing_gets_a_dead_delivery(db) {
        let ada = admin(&db.pool).await;
        let (refusing, _) = receiver(StatusCode::BAD_REQUEST, "no such hook").await;
        save(&db.pool, &ada, &channel(ChannelKind::Slack, format!("{refusing}/services/x"), None)).await.unwrap();
        // Nothing listens on port 9 of the loopback.
        save(&db.pool, &ada, &ChannelInput { name: "down".into(), ..channel(ChannelKind::Wecom, "http://127.0.0.1:9/cgi-bin/webhook/send?key=k".into(), None) }).await.unwrap();
        incidents::declare(&db.pool, &ada, &incident("Queue backlog")).await.unwrap();
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 2);
        let rows: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT c.kind, d.state, d.attempts, d.last_error FROM notification_deliveries d \
             JOIN notification_channels c ON c.id = d.channel_id ORDER BY c.kind")
            .fetch_all(&db.pool).await.unwrap();
        assert_eq!(rows[0].0, "slack");
        assert_eq!((rows[0].1.as_str(), rows[0].2), ("dead", 1), "a 400 is not retried");
        assert_eq!(rows[0].3.as_deref(), Some("answered 400"));
        assert_eq!((rows[1].1.as_str(), rows[1].2), ("pending", 1), "a refused connection is retried");
        let attempts: Vec<(Option<i64>, String)> = sqlx::query_as(
            "SELECT status_code, response FROM notification_attempts ORDER BY status_code")
            .fetch_all(&db.pool).await.unwrap();
        assert!(attempts.contains(&(Some(400), "no such hook".to_owned())), "{attempts:?}");
    }
}

db_test! {
    async fn a_dead_workers_lease_runs_out_and_two_workers_send_each_delivery_once(db) {
        let ada = admin(&db.pool).await;
        let (url, got) = receiver(StatusCode::OK, "ok").await;
        save(&db.pool, &ada, &channel(ChannelKind::Slack, format!("{url}/services/x"), None)).await.unwrap();
        incidents::declare(&db.pool, &ada, &incident("First")).await.unwrap();
        // A worker claims it and dies before sending.
        let now = to_millis(Utc::now());
        let held = repo::claim(&db.pool, "dead-worker", (now, now + 60_000), 16, &[]).await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 0, "the lease holds");
        sqlx::query("UPDATE notification_deliveries SET locked_until = $1").bind(now - 1).execute(&db.pool).await.unwrap();
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 1, "taken over once the lease ran out");
        assert_eq!(got.lock().unwrap().len(), 1);

        // Forty deliveries, two workers ticking at once: each sent once.
        for i in 0..40 {
            incidents::declare(&db.pool, &ada, &incident(&format!("Storm {i}"))).await.unwrap();
        }
        let (a, b) = (outbox(&db.pool), outbox(&db.pool));
        // Each tick takes at most four of one channel's deliveries.
        for _ in 0..30 {
            let (x, y) = tokio::join!(a.tick(), b.tick());
            if x.unwrap() + y.unwrap() == 0 {
                break;
            }
        }
        let sent = got.lock().unwrap().clone();
        assert_eq!(sent.len(), 41);
        let mut texts: Vec<&str> = sent.iter().map(|(_, _, _, body)| body.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), 41, "no delivery sent twice");
        assert!(deliveries(&db.pool).await.iter().all(|(_, state, attempts)| state == "delivered" && *attempts == 1));
    }
}

/// A channel hearing `events`, to a receiver that takes everything.
fn hearing(url: &str, events: &[NotifyEvent]) -> ChannelInput {
    ChannelInput {
        events: events.to_vec(),
        ..channel(ChannelKind::Slack, format!("{url}/services/x"), None)
    }
}

db_test! {
    async fn each_move_severity_change_new_commander_and_published_postmortem_is_announced(db) {
        use nightwatch::model::incident::{IncidentRole, IncidentStatus};
        use nightwatch::model::postmortem::PostmortemState;
        use nightwatch::server::service::postmortems;
        let ada = admin(&db.pool).await;
        user(&db.pool, "grace", Role::Commander, PASSWORD).await;
        let (url, got) = receiver(StatusCode::OK, "ok").await;
        save(&db.pool, &ada, &hearing(&url, &[
            NotifyEvent::IncidentStatusChanged, NotifyEvent::IncidentSeverityChanged,
            NotifyEvent::IncidentCommanderChanged, NotifyEvent::PostmortemPublished,
        ])).await.unwrap();
        let n = incidents::declare(&db.pool, &ada, &incident("Checkout down")).await.unwrap();
        assert!(events(&db.pool).await.is_empty(), "this channel does not hear declarations");
        incidents::change_severity(&db.pool, &ada, n, Severity::Sev1, Severity::Sev2, "contained").await.unwrap();
        incidents::assign_role(&db.pool, &ada, n, IncidentRole::Scribe, "", "grace").await.unwrap();
        incidents::assign_role(&db.pool, &ada, n, IncidentRole::Commander, "", "grace").await.unwrap();
        incidents::add_note(&db.pool, &ada, n, "a note tells nobody", "", None).await.unwrap();
        incidents::transition(&db.pool, &ada, n, IncidentStatus::Open, IncidentStatus::Mitigating, "rolling back").await.unwrap();
        incidents::transition(&db.pool, &ada, n, IncidentStatus::Mitigating, IncidentStatus::Recovered, "healthy").await.unwrap();
        let pm = postmortems::open(&db.pool, &ada, n).await.unwrap();
        let pm = postmortems::change_state(&db.pool, &ada, n, PostmortemState::InReview, pm.version).await.unwrap();
        postmortems::change_state(&db.pool, &ada, n, PostmortemState::Published, pm.version).await.unwrap();
        assert_eq!(events(&db.pool).await, [
            "incident.severity_changed", "incident.commander_changed", "incident.status_changed",
            "incident.status_changed", "postmortem.published",
        ], "a scribe and a note are not announced");
        while outbox(&db.pool).tick().await.unwrap() > 0 {}
        // Sent side by side: in any order.
        let texts: Vec<String> = got.lock().unwrap().iter().map(|(_, _, _, body)| body.clone()).collect();
        assert_eq!(texts.len(), 5);
        for expected in ["downgraded: Checkout down (SEV2)", "SEV1 → SEV2 by ada: contained", "grace is commanding",
                         "Open → Mitigating by ada: rolling back", "/incidents/INC-1/postmortem/report"] {
            assert!(texts.iter().any(|t| t.contains(expected)), "{expected} in {texts:?}");
        }
    }
}

db_test! {
    async fn an_alert_opening_and_resolving_is_announced_unless_it_is_silenced(db) {
        use nightwatch::model::alert::{AlertAction, IncomingAlert};
        use nightwatch::model::matcher::{Matcher, NewSilence};
        use nightwatch::server::service::alerts;
        let ada = admin(&db.pool).await;
        let (url, _) = receiver(StatusCode::OK, "ok").await;
        save(&db.pool, &ada, &hearing(&url, &[NotifyEvent::RiskEventOpened, NotifyEvent::RiskEventResolved])).await.unwrap();
        let alert = |fingerprint: &str, action| IncomingAlert {
            source: "monitor".into(),
            fingerprint: fingerprint.into(),
            action,
            labels: [("alertname".to_owned(), "DiskFull".to_owned()), ("instance".to_owned(), fingerprint.to_owned())].into(),
            annotations: Default::default(),
            summary: format!("Disk full on {fingerprint}"),
            severity: Severity::Sev2,
            starts_at: None,
            url: None,
        };
        alerts::ingest(&db.pool, &ada, vec![alert("db-1", AlertAction::Fire), alert("db-2", AlertAction::Fire)]).await.unwrap();
        assert_eq!(events(&db.pool).await, ["risk_event.opened", "risk_event.opened"]);
        alerts::ingest(&db.pool, &ada, vec![alert("db-1", AlertAction::Fire)]).await.unwrap();
        assert_eq!(events(&db.pool).await.len(), 2, "a re-send of a firing alert is no news");
        alerts::ingest(&db.pool, &ada, vec![alert("db-1", AlertAction::Resolve)]).await.unwrap();
        assert_eq!(events(&db.pool).await.len(), 3);
        let silence = NewSilence {
            matchers: vec![Matcher { name: "instance".into(), value: "db-3".into(), is_regex: false, is_equal: true }],
            starts_at: None,
            ends_at: Utc::now() + chrono::Duration::hours(1),
            comment: "maintenance".into(),
        };
        alerts::create_silence(&db.pool, &ada, &silence).await.unwrap();
        alerts::ingest(&db.pool, &ada, vec![alert("db-3", AlertAction::Fire)]).await.unwrap();
        alerts::ingest(&db.pool, &ada, vec![alert("db-3", AlertAction::Resolve)]).await.unwrap();
        assert_eq!(events(&db.pool).await.len(), 3, "a silenced alert stays quiet");
        let message: String = sqlx::query_scalar("SELECT message FROM notification_deliveries ORDER BY created_at LIMIT 1")
            .fetch_one(&db.pool).await.unwrap();
        let message: serde_json::Value = serde_json::from_str(&message).unwrap();
        assert_eq!(message["title"], "RISK-1 opened: Disk full on db-1 (SEV2)");
        assert_eq!(message["link"], "/risks/1");
    }
}

db_test! {
    async fn a_run_waiting_for_a_person_and_a_finished_run_are_announced(db) {
        use std::collections::BTreeMap;
        use nightwatch::model::catalog::{ActionCode, Scene};
        use nightwatch::model::plan::{PlanDraft, Step};
        use nightwatch::model::run::{Awaiting, RunStatus, Trigger};
        use nightwatch::server::service::{plans, runs};
        let ada = admin(&db.pool).await;
        let (url, _) = receiver(StatusCode::OK, "ok").await;
        save(&db.pool, &ada, &hearing(&url, &[NotifyEvent::RunWaiting, NotifyEvent::RunFinished])).await.unwrap();
        let mut step = Step::new("look".into(), ActionCode::ManualCheck, None);
        step.name = "Dashboards green".into();
        step.params.insert("instructions".into(), nightwatch::model::plan::ParamValue::Set("Is it green?".into()));
        let plan = plans::create(&db.pool, &ada, PlanDraft {
            name: "Failover drill".into(), description: String::new(), scene: Scene::Drill,
            service: "checkout".into(), scenario: "primary lost".into(), rto_secs: Some(300),
            rpo_secs: None, schedule: None, enabled: true, steps: vec![step],
        }).await.unwrap();
        let run = runs::create(&db.pool, Some(&ada), plan, Trigger::Manual, &BTreeMap::new(), None).await.unwrap();
        assert!(runs::wait_for_person(&db.pool, run.number, 0, "Dashboards green", Awaiting::Verdict).await.unwrap());
        assert!(runs::finish(&db.pool, run.number, RunStatus::Aborted, Utc::now()).await.unwrap());
        assert!(!runs::finish(&db.pool, run.number, RunStatus::Passed, Utc::now()).await.unwrap(), "an ended run ends once");
        assert_eq!(events(&db.pool).await, ["run.waiting", "run.finished"], "announced once each");
        let messages: Vec<String> = sqlx::query_scalar("SELECT message FROM notification_deliveries ORDER BY created_at, id")
            .fetch_all(&db.pool).await.unwrap();
        let waiting: serde_json::Value = serde_json::from_str(&messages[0]).unwrap();
        assert!(waiting["text"].as_str().unwrap().contains("a responder or above may pass or fail"), "{waiting}");
        assert_eq!(waiting["service"], "checkout", "channels filter runs by their plan's service");
        let finished: serde_json::Value = serde_json::from_str(&messages[1]).unwrap();
        assert_eq!(finished["title"], format!("Run #{} of Failover drill aborted", run.number));
    }
}

db_test! {
    async fn the_daily_reminder_and_overdue_items_reach_channels_once_however_often_the_day_is_sent(db) {
        use std::sync::Arc;
        use nightwatch::model::action_item::{ItemSource, NewActionItem};
        use nightwatch::server::jobs::reminders::{ChannelSender, ReminderSender, send_day};
        use nightwatch::server::service::action_items;
        let ada = admin(&db.pool).await;
        let (url, _) = receiver(StatusCode::OK, "ok").await;
        save(&db.pool, &ada, &hearing(&url, &[NotifyEvent::Reminder, NotifyEvent::ActionItemOverdue])).await.unwrap();
        let n = incidents::declare(&db.pool, &ada, &incident("Checkout down")).await.unwrap();
        let today = Utc::now().date_naive();
        for (title, days) in [("Add pool alarm", -2), ("Old chore", -30), ("Soon", 1)] {
            let due = (today + chrono::Duration::days(days)).to_string();
            let new = NewActionItem::parse(title, "ada", &due, "p2", "corrective").unwrap();
            action_items::create(&db.pool, &ada, ItemSource::Incident(n), &new).await.unwrap();
        }
        let senders: Vec<Arc<dyn ReminderSender>> = vec![Arc::new(ChannelSender::new(db.pool.clone()))];
        send_day(&db.pool, &senders, today).await.unwrap();
        send_day(&db.pool, &senders, today).await.unwrap();
        let mut got = events(&db.pool).await;
        got.sort();
        assert_eq!(got, ["action_item.overdue", "reminder.daily"],
            "one digest; only the item overdue this week is news; a second send writes nothing");
        let digest: String = sqlx::query_scalar("SELECT message FROM notification_deliveries WHERE event = 'reminder.daily'")
            .fetch_one(&db.pool).await.unwrap();
        let digest: serde_json::Value = serde_json::from_str(&digest).unwrap();
        assert_eq!(digest["title"], "Reminder for ada: 2 overdue, 1 due soon");
    }
}

db_test! {
    async fn the_log_forgets_ended_deliveries_after_a_while_but_never_a_pending_one(db) {
        let ada = admin(&db.pool).await;
        let (url, _) = receiver(StatusCode::OK, "ok").await;
        save(&db.pool, &ada, &channel(ChannelKind::Slack, format!("{url}/services/x"), None)).await.unwrap();
        save(&db.pool, &ada, &ChannelInput { name: "down".into(), ..channel(ChannelKind::Slack, "http://127.0.0.1:9/x".into(), None) }).await.unwrap();
        incidents::declare(&db.pool, &ada, &incident("Checkout down")).await.unwrap();
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 2);
        let now = to_millis(Utc::now());
        assert_eq!(repo::prune(&db.pool, now - 60_000).await.unwrap(), 0, "nothing ended that long ago");
        assert_eq!(repo::prune(&db.pool, now + 1_000).await.unwrap(), 1);
        let left = deliveries(&db.pool).await;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].1, "pending", "the one still being retried stays");
        let attempts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification_attempts")
            .fetch_one(&db.pool).await.unwrap();
        assert_eq!(attempts, 1, "the ended delivery's attempts went with it");
    }
}

db_test! {
    async fn a_channel_may_not_point_at_nightwatch_itself(db) {
        use nightwatch::server::jobs::executor::Executor;
        use nightwatch::server::repo::notifications::Sending;
        let (url, got) = receiver(StatusCode::OK, "ok").await;
        let executor = Executor::new(db.pool.clone(), crate::support::executor_settings(1));
        // As if this server listened where the receiver does (and on every address).
        let port = url.rsplit(':').next().unwrap().parse::<u16>().unwrap();
        executor.set_own_addrs(vec![format!("0.0.0.0:{port}").parse().unwrap()]);
        let outbox = outbox(&db.pool).knowing_self(executor);
        for target in [format!("{url}/metrics"), format!("http://localhost:{port}/x"), format!("http://0.0.0.0:{port}/x")] {
            let sending = Sending { name: "self".into(), kind: ChannelKind::Slack, url: target.clone(), secret: None, enabled: true };
            let outcome = outbox.send_now(&sending, &nightwatch::model::notification::test_message("self", "ada")).await;
            assert!(!outcome.delivered, "{target}");
            assert!(outcome.error.as_deref().unwrap_or("").contains("itself"), "{target}: {outcome:?}");
        }
        assert!(got.lock().unwrap().is_empty(), "nothing reached it");
    }
}

db_test! {
    async fn a_disabled_channel_keeps_its_backlog_and_is_not_failing(db) {
        let ada = admin(&db.pool).await;
        let (url, got) = receiver(StatusCode::OK, "ok").await;
        let saved = save(&db.pool, &ada, &channel(ChannelKind::Slack, format!("{url}/services/x"), None)).await.unwrap();
        let mut paused = channel(ChannelKind::Slack, String::new(), None);
        paused.enabled = false;
        incidents::declare(&db.pool, &ada, &incident("While paused")).await.unwrap();
        notifications::save_channel(&db.pool, &NetPolicy::default(), &ada, Some(&saved.id), &paused).await.unwrap();
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 0, "a disabled channel's deliveries wait");
        incidents::declare(&db.pool, &ada, &incident("Not heard")).await.unwrap();
        let view = notifications::channel(&db.pool, &ada, &saved.id).await.unwrap();
        assert_eq!((view.health.pending, view.health.failures, view.failing()), (1, 0, false));
        paused.enabled = true;
        notifications::save_channel(&db.pool, &NetPolicy::default(), &ada, Some(&saved.id), &paused).await.unwrap();
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 1, "enabled again, the backlog goes out");
        assert_eq!(got.lock().unwrap().len(), 1, "and what was declared while it was off was never written");
    }
}

/// A receiver that answers 200 after `delay`.
async fn slow_receiver(delay: std::time::Duration) -> String {
    let app = Router::new().route(
        "/{*path}",
        post(move || async move {
            tokio::time::sleep(delay).await;
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

db_test! {
    async fn a_receiver_that_never_answers_does_not_hold_up_the_other_channels(db) {
        let ada = admin(&db.pool).await;
        let slow = slow_receiver(std::time::Duration::from_secs(30)).await;
        let (fast, got) = receiver(StatusCode::OK, "ok").await;
        save(&db.pool, &ada, &ChannelInput { name: "blackhole".into(), ..channel(ChannelKind::Slack, format!("{slow}/x"), None) }).await.unwrap();
        for i in 0..20 {
            incidents::declare(&db.pool, &ada, &incident(&format!("Storm {i}"))).await.unwrap();
        }
        save(&db.pool, &ada, &channel(ChannelKind::Slack, format!("{fast}/x"), None)).await.unwrap();
        for i in 0..20 {
            incidents::declare(&db.pool, &ada, &incident(&format!("Later {i}"))).await.unwrap();
        }
        let worker = outbox(&db.pool)
            .with_limits(nightwatch::server::jobs::steps::HttpLimits { total: std::time::Duration::from_secs(20), ..Default::default() })
            .spawn();
        let started = std::time::Instant::now();
        while got.lock().unwrap().len() < 20 && started.elapsed() < std::time::Duration::from_secs(15) {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        worker.abort();
        assert_eq!(got.lock().unwrap().len(), 20, "the healthy channel got everything while the other hung");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    }
}

db_test! {
    async fn a_delivery_still_failing_a_day_after_its_first_attempt_is_dead(db) {
        let ada = admin(&db.pool).await;
        // Nothing listens on port 9 of the loopback.
        save(&db.pool, &ada, &channel(ChannelKind::Slack, "http://127.0.0.1:9/x".into(), None)).await.unwrap();
        incidents::declare(&db.pool, &ada, &incident("Long outage")).await.unwrap();
        let day_ago = to_millis(Utc::now() - chrono::Duration::hours(24));
        sqlx::query("UPDATE notification_deliveries SET created_at = $1, attempts = 20").bind(day_ago).execute(&db.pool).await.unwrap();
        assert_eq!(outbox(&db.pool).tick().await.unwrap(), 1);
        let after = deliveries(&db.pool).await;
        assert_eq!((after[0].1.as_str(), after[0].2), ("dead", 21), "no retry after a day of them");
    }
}
