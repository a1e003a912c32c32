//! The notification outbox worker, one loop per instance: it claims due deliveries with a lease
//! (so one delivery is sent by one worker at a time, whichever instance), sends them side by side
//! outside any transaction — rendered and signed for their channel's kind, through the network
//! policy, with connect and total timeouts and a bounded read of the answer — and records every
//! attempt: delivered, retried on the schedule, or dead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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

/// Deliveries sent side by side by one worker.
pub const BATCH: i64 = 16;

/// Deliveries to one channel in flight at once from one worker (a slow receiver holds no more).
pub const PER_CHANNEL: i64 = 4;

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
    /// The executor, which knows the addresses this server listens on: a channel may not point
    /// at Nightwatch itself, as a plan step may not.
    own: Option<crate::server::jobs::executor::Executor>,
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
            own: None,
        }
    }

    /// Refuses to send to the addresses `executor` says this server listens on.
    pub fn knowing_self(mut self, executor: crate::server::jobs::executor::Executor) -> Self {
        self.own = Some(executor);
        self
    }

    /// Where a send may go now.
    fn reach(&self) -> Reach {
        let mut reach = self.reach.clone();
        if let Some(executor) = &self.own {
            reach.own = executor.own_addrs();
        }
        reach
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
            (to_millis(now), to_millis(now + LEASE)),
            BATCH,
            &[],
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
            Some(c) if !c.enabled => {
                // Disabled after the claim: its backlog waits, no attempt is counted.
                repo::release(&self.pool, &d.id, &self.me).await?;
                return Ok(());
            }
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
        let gone = channel.is_none();
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
            &self.reach(),
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

    /// The loop: keeps up to [`BATCH`] sends in flight, at most [`PER_CHANNEL`] to any one
    /// channel, claiming more as sends finish — so a receiver that never answers holds four
    /// slots for ten seconds, and every other channel goes on.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let slots = Arc::new(tokio::sync::Semaphore::new(BATCH as usize));
            let busy: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
            let finished = Arc::new(tokio::sync::Notify::new());
            loop {
                let free = slots.available_permits();
                let full: Vec<String> = busy
                    .lock()
                    .map(|b| {
                        b.iter()
                            .filter(|(_, n)| **n >= PER_CHANNEL as usize)
                            .map(|(c, _)| c.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                let now = Utc::now();
                let claimed = if free == 0 {
                    Ok(Vec::new())
                } else {
                    repo::claim(
                        &self.pool,
                        &self.me,
                        (to_millis(now), to_millis(now + LEASE)),
                        free as i64,
                        &full,
                    )
                    .await
                };
                let pause = match claimed {
                    Ok(list) => {
                        let got = list.len();
                        for delivery in list {
                            let Ok(permit) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let channel = delivery.channel_id.clone();
                            if let Ok(mut b) = busy.lock() {
                                *b.entry(channel.clone()).or_default() += 1;
                            }
                            let (worker, busy, finished) =
                                (self.clone(), busy.clone(), finished.clone());
                            tokio::spawn(async move {
                                if let Err(e) = worker.deliver(delivery).await {
                                    tracing::warn!(
                                        error = e.summary(),
                                        "a notification attempt could not be recorded"
                                    );
                                }
                                if let Ok(mut b) = busy.lock()
                                    && let Some(n) = b.get_mut(&channel)
                                {
                                    *n -= 1;
                                    if *n == 0 {
                                        b.remove(&channel);
                                    }
                                }
                                drop(permit);
                                finished.notify_one();
                            });
                        }
                        if got > 0 && got == free {
                            Duration::from_millis(10)
                        } else {
                            Duration::from_secs(1)
                        }
                    }
                    Err(e) => {
                        tracing::warn!(
                            error = e.summary(),
                            "claiming notifications failed; it tries again"
                        );
                        Duration::from_secs(5)
                    }
                };
                // A finished send frees a slot: claim again at once rather than after the pause.
                let _ = tokio::time::timeout(pause, finished.notified()).await;
            }
        })
    }
}
