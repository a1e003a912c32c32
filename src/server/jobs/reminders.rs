//! The daily reminder job: at the configured time (UTC), every owner of an overdue or soon-due
//! action item gets one reminder listing those items — whether or not the incident they came
//! from is closed. The day is claimed in the database first, so with several instances on one
//! PostgreSQL the reminders go out once. Delivery sits behind [`ReminderSender`]: the reminders
//! are recorded for the app's badge and list, and written to the notification channels' outbox.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::action_item::ActionItemView;
use crate::model::notification::{action_item_overdue, reminder};
use crate::model::reminder::{DUE_SOON_DAYS, ReminderReason, reminder_reason};
use crate::server::db::to_millis;
use crate::server::repo::action_items::{self as items, ActionFilter};
use crate::server::repo::reminders as repo;
use crate::server::service::notifications::notify_once;

/// The job's name in `job_runs`.
pub const JOB: &str = "action_item_reminders";

/// One owner's reminder for one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The owner's username.
    pub owner: String,
    /// The day of the reminder.
    pub on: NaiveDate,
    /// The items, each with why it is included, soonest due first.
    pub items: Vec<(ActionItemView, ReminderReason)>,
}

/// A boxed future, so senders can be kept as trait objects.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), AppError>> + Send + 'a>>;

/// Delivers a digest to its owner. The one seam where outgoing notifications plug in.
pub trait ReminderSender: Send + Sync {
    /// Delivers `digest`; must be safe to call twice for the same day.
    fn send<'a>(&'a self, digest: &'a Digest) -> SendFuture<'a>;
}

/// Records reminders in the database: the app shows them as a badge and a list to their owner.
pub struct InAppSender {
    pool: AnyPool,
}

impl InAppSender {
    /// A sender writing to `pool`.
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }
}

impl ReminderSender for InAppSender {
    fn send<'a>(&'a self, digest: &'a Digest) -> SendFuture<'a> {
        Box::pin(async move {
            let now = to_millis(Utc::now());
            for (item, reason) in &digest.items {
                repo::record(
                    &self.pool,
                    &item.id.to_string(),
                    &digest.owner,
                    *reason,
                    item.due_on,
                    digest.on,
                    now,
                )
                .await?;
            }
            Ok(())
        })
    }
}

/// Sends reminders through the notification channels: each owner's digest as one
/// `reminder.daily` message, and each item that became overdue in the last week as one
/// `action_item.overdue` message. Keyed by day, owner and item, so a second send of a day
/// writes nothing new.
pub struct ChannelSender {
    pool: AnyPool,
}

impl ChannelSender {
    /// A sender writing to `pool`'s outbox.
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }
}

/// How long after its due date an item that became overdue is still announced (a server
/// that was down on the day still says it; a channel added later is not flooded with old ones).
const OVERDUE_NEWS_DAYS: u64 = 7;

impl ReminderSender for ChannelSender {
    fn send<'a>(&'a self, digest: &'a Digest) -> SendFuture<'a> {
        Box::pin(async move {
            let items: Vec<(String, String, bool)> = digest
                .items
                .iter()
                .map(|(item, reason)| {
                    (
                        item.title.clone(),
                        item.due_on.to_string(),
                        *reason == ReminderReason::Overdue,
                    )
                })
                .collect();
            let on = digest.on.to_string();
            // No transaction: each message is keyed, so a send cut off half way is finished by
            // the next one, and on SQLite a transaction that reads the channels first could not
            // wait for the write lock.
            let mut conn = self.pool.acquire().await?;
            notify_once(
                &mut conn,
                &reminder(&digest.owner, &on, &items),
                &format!("reminder:{on}:{}", digest.owner),
            )
            .await?;
            let recent = digest.on.checked_sub_days(Days::new(OVERDUE_NEWS_DAYS));
            for (item, reason) in &digest.items {
                if *reason != ReminderReason::Overdue || recent.is_some_and(|r| item.due_on < r) {
                    continue;
                }
                let (from, link) = match (item.incident, item.run) {
                    (Some(n), _) => (n.to_string(), format!("/incidents/{n}/postmortem")),
                    (None, Some(run)) => (format!("run #{run}"), format!("/runs/{run}")),
                    (None, None) => ("no incident".to_owned(), "/actions".to_owned()),
                };
                let message = action_item_overdue(
                    &item.id.to_string(),
                    &item.title,
                    &item.owner,
                    &item.due_on.to_string(),
                    (&from, &link),
                );
                notify_once(
                    &mut conn,
                    &message,
                    &format!("overdue:{}:{}", item.id, item.due_on),
                )
                .await?;
            }
            Ok(())
        })
    }
}

/// The digests for `today`: every open item overdue or due within two days, grouped by owner.
pub async fn digests(pool: &AnyPool, today: NaiveDate) -> Result<Vec<Digest>, AppError> {
    let filter = ActionFilter {
        state: "open".into(),
        due_until: today.checked_add_days(Days::new(DUE_SOON_DAYS as u64)),
        uncapped: true,
        ..Default::default()
    };
    let mut by_owner: BTreeMap<String, Vec<(ActionItemView, ReminderReason)>> = BTreeMap::new();
    for item in items::list(pool, &filter).await? {
        if let Some(reason) = reminder_reason(item.due_on, item.state, today) {
            by_owner
                .entry(item.owner.clone())
                .or_default()
                .push((item, reason));
        }
    }
    Ok(by_owner
        .into_iter()
        .map(|(owner, items)| Digest {
            owner,
            on: today,
            items,
        })
        .collect())
}

/// What sending a day's digests came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Owners with a digest that day.
    pub owners: usize,
    /// Deliveries that failed (a sender refused a digest).
    pub failed: usize,
}

/// Sends `today`'s digests through every sender. A sender that fails is logged and does not
/// stop the others; the failures are counted.
pub async fn send_day(
    pool: &AnyPool,
    senders: &[Arc<dyn ReminderSender>],
    today: NaiveDate,
) -> Result<Sent, AppError> {
    let digests = digests(pool, today).await?;
    let mut failed = 0;
    for digest in &digests {
        for sender in senders {
            if let Err(e) = sender.send(digest).await {
                failed += 1;
                tracing::warn!(owner = %digest.owner, error = %e, "a reminder could not be sent");
            }
        }
    }
    Ok(Sent {
        owners: digests.len(),
        failed,
    })
}

/// The next time the job is due after `now`: today at `at` if that is still ahead, else tomorrow.
pub fn next_run(now: DateTime<Utc>, at: NaiveTime) -> DateTime<Utc> {
    let today = now.date_naive().and_time(at).and_utc();
    if today > now {
        today
    } else {
        today + chrono::Duration::days(1)
    }
}

/// Runs today's reminders if their time has passed and no instance ran them yet; returns how
/// many owners were reminded. When a reminder could not be sent, the day is given back and the
/// answer is an error: the next call sends the day again (senders ignore what they already
/// delivered).
pub async fn run_if_due(
    pool: &AnyPool,
    senders: &[Arc<dyn ReminderSender>],
    now: DateTime<Utc>,
    at: NaiveTime,
) -> Result<Option<usize>, AppError> {
    let today = now.date_naive();
    let claimed_at = to_millis(now);
    if now.time() < at || !repo::claim_day(pool, JOB, today, claimed_at).await? {
        return Ok(None);
    }
    let sent = send_day(pool, senders, today).await;
    let done = matches!(sent, Ok(Sent { failed: 0, .. }));
    repo::settle_day(pool, JOB, today, claimed_at, done, to_millis(Utc::now())).await?;
    match sent? {
        Sent { owners, failed: 0 } => {
            tracing::info!(%today, owners, "action item reminders sent");
            Ok(Some(owners))
        }
        Sent { failed, .. } => Err(AppError::Conflict(format!(
            "{failed} reminders for {today} could not be sent; the day is tried again"
        ))),
    }
}

/// Every way a reminder goes out: in the app, and through the notification channels.
pub fn senders(pool: &AnyPool) -> Vec<Arc<dyn ReminderSender>> {
    vec![
        Arc::new(InAppSender::new(pool.clone())),
        Arc::new(ChannelSender::new(pool.clone())),
    ]
}

/// The job's loop: at start-up (catching up a day whose time has passed) and then daily.
pub fn spawn(pool: AnyPool, at: NaiveTime) -> tokio::task::JoinHandle<()> {
    let senders = senders(&pool);
    tokio::spawn(async move {
        loop {
            let now = Utc::now();
            if let Err(e) = run_if_due(&pool, &senders, now, at).await {
                tracing::warn!(error = %e, "the reminder job failed; it tries again later");
            }
            // Wake at the next run time, and at least hourly (clock changes, failed runs).
            let wait = (next_run(Utc::now(), at) - Utc::now())
                .to_std()
                .unwrap_or_default()
                .min(std::time::Duration::from_secs(3600));
            tokio::time::sleep(wait + std::time::Duration::from_secs(1)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_next_run_is_today_if_still_ahead_else_tomorrow() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        assert_eq!(
            next_run(at("2026-11-23T08:00:00Z"), nine),
            at("2026-11-23T09:00:00Z")
        );
        assert_eq!(
            next_run(at("2026-11-23T09:00:00Z"), nine),
            at("2026-11-24T09:00:00Z")
        );
        assert_eq!(
            next_run(at("2026-11-23T23:59:00Z"), nine),
            at("2026-11-24T09:00:00Z")
        );
    }
}
