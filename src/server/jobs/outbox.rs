//! The notification outbox worker, one loop per instance: it claims due deliveries with a lease
//! (so one delivery is sent by one worker at a time, whichever instance), sends them side by side
//! outside any transaction — rendered and signed for their channel's kind, through the network
//! policy, with connect and total timeouts and a bounded read of the answer — and records every
//! attempt: delivered, retried on the schedule, or dead.

use std::time::Duration;

use chrono::Utc;
use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::notification::{
    ChannelKind, Message, TestOutcome, accepted, retry_after, retryable,
};
use crate::server::db::to_millis;
use crate::server::jobs::steps::{self, HttpLimits};
use crate::server::netpolicy::Reach;
use crate::server::repo::notifications::{self as repo, Attempt, Claimed, Next, Sending};
use crate::server::signing;

/// Deliveries claimed per tick (sent side by side).
pub const BATCH: i64 = 16;

/// How long a claimed delivery is held: far longer than one send may take.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// How long delivered and dead deliveries stay in the log (pending ones stay until they end).
pub const LOG_KEPT: chrono::Duration = chrono::Duration::days(30);

/// Characters of an answer kept with an attempt.
const EXCERPT: usize = 500;

/// The outbox worker of one instance.
#[derive(Clone)]
pub struct Outbox {
    pool: AnyPool,
    reach: Reach,
    limits: HttpLimits,
    public_url: Option<String>,
    me: String,
}

impl Outbox {
    /// A worker sending through `reach`, with links made absolute from `public_url`.
    pub fn new(pool: AnyPool, reach: Reach, public_url: Option<String>) -> Self {
        Self {
            pool,
            reach,
            limits: HttpLimits {
                connect: Duration::from_secs(5),
                total: Duration::from_secs(10),
                max_body: 64 * 1024,
            },
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            me: uuid::Uuid::now_v7().to_string(),
        }
    }

    /// With other limits (tests).
    pub fn with_limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Claims and sends what is due now; returns how many deliveries were attempted.
    pub async fn tick(&self) -> Result<usize, AppError> {
        let now = Utc::now();
        let claimed = repo::claim(
            &self.pool,
            &self.me,
            to_millis(now),
            to_millis(now + LEASE),
            BATCH,
        )
        .await?;
        let count = claimed.len();
        let mut sends = tokio::task::JoinSet::new();
        for delivery in claimed {
            let worker = self.clone();
            sends.spawn(async move { worker.deliver(delivery).await });
        }
        while let Some(result) = sends.join_next().await {
            if let Ok(Err(e)) = result {
                tracing::warn!(
                    error = e.summary(),
                    "a notification attempt could not be recorded"
                );
            }
        }
        Ok(count)
    }

    /// Sends one delivery and records the attempt.
    async fn deliver(&self, d: Claimed) -> Result<(), AppError> {
        let started = Utc::now();
        let channel = repo::sending(&self.pool, &d.channel_id).await?;
        let (status, response, error) = match &channel {
            None => (
                None,
                String::new(),
                Some("the channel no longer exists".to_owned()),
            ),
            Some(c) if !c.enabled => (
                None,
                String::new(),
                Some("the channel is disabled".to_owned()),
            ),
            Some(c) => {
                self.send(c.kind, &c.url, c.secret.as_deref(), &d.message)
                    .await
            }
        };
        let ended = Utc::now();
        let attempt = Attempt {
            at: to_millis(started),
            status,
            duration_ms: (ended - started).num_milliseconds(),
            response,
            error: error.clone(),
        };
        let gone = channel.as_ref().is_none_or(|c| !c.enabled);
        let next = match (&error, status) {
            (None, _) => Next::Delivered,
            (Some(_), _) if gone => Next::Dead,
            (Some(_), Some(code)) if !retryable(code) && !(200..300).contains(&code) => Next::Dead,
            (Some(_), _) => retry_after(d.attempts + 1, ended - d.created_at)
                .map_or(Next::Dead, |wait| Next::RetryAt(to_millis(ended + wait))),
        };
        let recorded =
            repo::finish_attempt(&self.pool, (&d.id, &d.channel_id), &self.me, &attempt, next)
                .await?;
        if !recorded {
            tracing::warn!(delivery = %d.id, "a delivery's lease ran out while it was sent: another worker has it");
        }
        metrics::counter!("nightwatch_notification_attempts_total",
            "outcome" => if error.is_none() { "delivered" } else { "failed" })
        .increment(1);
        match next {
            Next::Delivered => {}
            Next::RetryAt(_) => {
                tracing::info!(delivery = %d.id, error = ?error, "a notification will be retried")
            }
            Next::Dead => {
                tracing::warn!(delivery = %d.id, error = ?error, "a notification could not be delivered: it is dead")
            }
        }
        Ok(())
    }

    /// Sends `message` to a channel at once, outside the outbox (an admin's test message), and
    /// says how it went.
    pub async fn send_now(&self, channel: &Sending, message: &Message) -> TestOutcome {
        let started = Utc::now();
        let (status, response, error) = self
            .send(
                channel.kind,
                &channel.url,
                channel.secret.as_deref(),
                message,
            )
            .await;
        TestOutcome {
            delivered: error.is_none(),
            status,
            response,
            error,
            duration_ms: (Utc::now() - started).num_milliseconds(),
        }
    }

    /// Renders, signs and POSTs `message` for a channel: (status, the answer's start, why it
    /// failed if it did).
    async fn send(
        &self,
        kind: ChannelKind,
        url: &str,
        secret: Option<&str>,
        message: &Message,
    ) -> (Option<u16>, String, Option<String>) {
        let mut message = message.clone();
        if message.link.starts_with('/')
            && let Some(base) = &self.public_url
        {
            message.link = format!("{base}{}", message.link);
        }
        let mut body = message.body(kind);
        let now = Utc::now();
        let mut url = url.to_owned();
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        match (kind, secret) {
            (ChannelKind::Feishu, Some(secret)) => {
                body["timestamp"] = now.timestamp().to_string().into();
                body["sign"] = signing::feishu(secret, now.timestamp()).into();
            }
            (ChannelKind::Dingtalk, Some(secret)) => {
                let ms = now.timestamp_millis();
                let glue = if url.contains('?') { '&' } else { '?' };
                url = format!(
                    "{url}{glue}timestamp={ms}&sign={}",
                    signing::dingtalk(secret, ms)
                );
            }
            _ => {}
        }
        let text = body.to_string();
        if kind == ChannelKind::Webhook {
            let secrets: Vec<&str> = secret
                .map(|s| s.split_whitespace().collect())
                .unwrap_or_default();
            let Some(signature) =
                signing::standard_webhooks(&secrets, &message.id, now.timestamp(), &text)
            else {
                return (
                    None,
                    String::new(),
                    Some("the webhook has no usable whsec_ secret".to_owned()),
                );
            };
            headers.push(("webhook-id".to_owned(), message.id.clone()));
            headers.push(("webhook-timestamp".to_owned(), now.timestamp().to_string()));
            headers.push(("webhook-signature".to_owned(), signature));
        }
        match steps::exchange(
            &self.reach,
            reqwest::Method::POST,
            &url,
            &headers,
            Some(text),
            &self.limits,
        )
        .await
        {
            Err(error) => (None, String::new(), Some(error)),
            Ok(answer) => {
                let code = answer.status.as_u16();
                let said = String::from_utf8_lossy(&answer.body);
                let excerpt: String = said.chars().take(EXCERPT).collect();
                let error = if answer.status.is_success() {
                    accepted(kind, &said).err()
                } else {
                    Some(format!("answered {code}"))
                };
                (Some(code), excerpt, error)
            }
        }
    }

    /// The loop: a tick every second (sooner after a full batch).
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let pause = match self.tick().await {
                    Ok(n) if n as i64 >= BATCH => Duration::from_millis(10),
                    Ok(_) => Duration::from_secs(1),
                    Err(e) => {
                        tracing::warn!(
                            error = e.summary(),
                            "an outbox tick failed; it tries again"
                        );
                        Duration::from_secs(5)
                    }
                };
                tokio::time::sleep(pause).await;
            }
        })
    }
}
