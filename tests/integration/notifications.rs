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
use nightwatch::model::Role;
use nightwatch::model::incident::Severity;
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::notification::{ChannelInput, ChannelKind, NotifyEvent};
use nightwatch::server::actor::Actor;
use nightwatch::server::db::to_millis;
use nightwatch::server::jobs::outbox::Outbox;
use nightwatch::server::netpolicy::Reach;
use nightwatch::server::repo::notifications as repo;
use nightwatch::server::service::{incidents, notifications};
use sqlx::AnyPool;

use crate::support::{PASSWORD, user};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What a receiver got: (path, headers, query, body).
type Got = Arc<
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
async fn receiver(status: StatusCode, answer: &'static str) -> (String, Got) {
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), got)
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

async fn admin(pool: &AnyPool) -> Actor {
    user(pool, "ada", Role::Admin, PASSWORD).await
}

db_test! {
    async fn a_declared_incident_reaches_a_signed_webhook_once_and_a_rolled_back_one_never(db) {
        let ada = admin(&db.pool).await;
        let (url, got) = receiver(StatusCode::NO_CONTENT, "").await;
        notifications::save_channel(&db.pool, &ada, None, &channel(ChannelKind::Webhook, format!("{url}/hook"), Some(SECRET))).await.unwrap();
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
        notifications::save_channel(&db.pool, &ada, None, &channel(ChannelKind::Feishu, format!("{feishu_url}/open-apis/bot/v2/hook/x"), Some("feishu-secret"))).await.unwrap();
        notifications::save_channel(&db.pool, &ada, None, &channel(ChannelKind::Dingtalk, format!("{ding_url}/robot/send?access_token=t"), Some("SECret"))).await.unwrap();
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
        notifications::save_channel(&db.pool, &ada, None, &channel(ChannelKind::Slack, format!("{refusing}/services/x"), None)).await.unwrap();
        // Nothing listens on port 9 of the loopback.
        notifications::save_channel(&db.pool, &ada, None, &ChannelInput { name: "down".into(), ..channel(ChannelKind::Wecom, "http://127.0.0.1:9/cgi-bin/webhook/send?key=k".into(), None) }).await.unwrap();
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
        notifications::save_channel(&db.pool, &ada, None, &channel(ChannelKind::Slack, format!("{url}/services/x"), None)).await.unwrap();
        incidents::declare(&db.pool, &ada, &incident("First")).await.unwrap();
        // A worker claims it and dies before sending.
        let now = to_millis(Utc::now());
        let held = repo::claim(&db.pool, "dead-worker", now, now + 60_000, 16).await.unwrap();
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
        for _ in 0..6 {
            let (x, y) = tokio::join!(a.tick(), b.tick());
            x.unwrap();
            y.unwrap();
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
