//! The daily reminder job on both databases: exactly the right items, closed incidents included,
//! once per day however often or wherever it runs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Days, NaiveDate, NaiveTime, Utc};
use nightwatch::model::Role;
use nightwatch::model::action_item::{ActionState, ItemSource, NewActionItem};
use nightwatch::model::incident::IncidentStatus;
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::reminder::ReminderReason;
use nightwatch::server::jobs::reminders::{
    Digest, InAppSender, ReminderSender, SendFuture, digests, run_if_due, send_day,
};
use nightwatch::server::repo::reminders as repo;
use nightwatch::server::service::{action_items, incidents};

use crate::support::{PASSWORD, user};

fn due(today: NaiveDate, offset: i64) -> String {
    let day = if offset >= 0 {
        today.checked_add_days(Days::new(offset as u64))
    } else {
        today.checked_sub_days(Days::new((-offset) as u64))
    };
    day.unwrap().format("%Y-%m-%d").to_string()
}

/// Records digests instead of delivering them: the seam webhooks will plug into.
#[derive(Default)]
struct Recorder(Mutex<Vec<Digest>>);

impl ReminderSender for Recorder {
    fn send<'a>(&'a self, digest: &'a Digest) -> SendFuture<'a> {
        self.0.lock().unwrap().push(digest.clone());
        Box::pin(async { Ok(()) })
    }
}

db_test! {
    async fn reminders_pick_exactly_the_overdue_and_soon_due_items_even_of_closed_incidents(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let owen = user(&db.pool, "owen", Role::Responder, PASSWORD).await;
        let today = NaiveDate::from_ymd_opt(2030, 3, 10).unwrap();
        let new = NewIncident::parse("Disk full", "", "sev3", "db", "", "", Utc::now()).unwrap();
        let n = incidents::declare(&db.pool, &cmdr, &new).await.unwrap();
        let mut ids = std::collections::HashMap::new();
        for (title, owner, offset) in [
            ("Overdue", "owen", -3), ("Due today", "owen", 0), ("Due in two days", "cmdr", 2),
            ("Due in three days", "owen", 3), ("Overdue but done", "owen", -1),
        ] {
            let item = NewActionItem::parse(title, owner, &due(today, offset), "p2", "corrective").unwrap();
            ids.insert(title, action_items::create(&db.pool, &cmdr, ItemSource::Incident(n), &item).await.unwrap());
        }
        action_items::set_state(&db.pool, ids["Overdue but done"], ActionState::Done).await.unwrap();
        // Close the incident: its open action items are still owed, and still reminded.
        for (from, to, note) in [(IncidentStatus::Open, IncidentStatus::Mitigating, "m"), (IncidentStatus::Mitigating, IncidentStatus::Recovered, "r")] {
            incidents::transition(&db.pool, &cmdr, n, from, to, note).await.unwrap();
        }

        let got: Vec<(String, Vec<(String, ReminderReason)>)> = digests(&db.pool, today).await.unwrap().into_iter()
            .map(|d| (d.owner, d.items.into_iter().map(|(i, r)| (i.title, r)).collect()))
            .collect();
        assert_eq!(got, vec![
            ("cmdr".to_owned(), vec![("Due in two days".to_owned(), ReminderReason::DueSoon)]),
            ("owen".to_owned(), vec![("Overdue".to_owned(), ReminderReason::Overdue), ("Due today".to_owned(), ReminderReason::DueSoon)]),
        ]);

        let recorder = Arc::new(Recorder::default());
        let senders: Vec<Arc<dyn ReminderSender>> = vec![Arc::new(InAppSender::new(db.pool.clone())), recorder.clone()];
        assert_eq!(send_day(&db.pool, &senders, today).await.unwrap().owners, 2, "two owners reminded");
        assert_eq!(recorder.0.lock().unwrap().len(), 2, "every sender gets every digest");
        send_day(&db.pool, &senders, today).await.unwrap();
        let owens = repo::unseen(&db.pool, owen.id).await.unwrap();
        assert_eq!(owens.len(), 2, "a second run the same day records nothing new");
        assert_eq!(repo::count_unseen(&db.pool, owen.id).await.unwrap(), 2);
        repo::mark_seen(&db.pool, owen.id, 1).await.unwrap();
        assert_eq!(repo::count_unseen(&db.pool, owen.id).await.unwrap(), 0);
        assert_eq!(repo::count_unseen(&db.pool, cmdr.id).await.unwrap(), 1);
    }
}

db_test! {
    async fn the_daily_run_waits_for_its_time_and_happens_once_per_day(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let new = NewIncident::parse("Cert expired", "", "sev2", "edge", "", "", Utc::now()).unwrap();
        let n = incidents::declare(&db.pool, &cmdr, &new).await.unwrap();
        let today = Utc::now().date_naive();
        let item = NewActionItem::parse("Renew", "cmdr", &due(today, 0), "p1", "corrective").unwrap();
        action_items::create(&db.pool, &cmdr, ItemSource::Incident(n), &item).await.unwrap();
        let senders: Vec<Arc<dyn ReminderSender>> = vec![Arc::new(InAppSender::new(db.pool.clone()))];
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let morning = today.and_hms_opt(8, 59, 0).unwrap().and_utc();
        let later = today.and_hms_opt(9, 30, 0).unwrap().and_utc();

        assert_eq!(run_if_due(&db.pool, &senders, morning, nine).await.unwrap(), None, "not before its time");
        // Two instances asking at once: one runs the day.
        let (a, b) = tokio::join!(run_if_due(&db.pool, &senders, later, nine), run_if_due(&db.pool, &senders, later, nine));
        let runs = [a.unwrap(), b.unwrap()];
        assert_eq!(runs.iter().filter(|r| r.is_some()).count(), 1, "{runs:?}");
        assert_eq!(run_if_due(&db.pool, &senders, later, nine).await.unwrap(), None, "once per day");
        assert_eq!(repo::count_unseen(&db.pool, cmdr.id).await.unwrap(), 1);
    }
}

/// Refuses its first deliveries, as a chat service that is down would.
struct Flaky(AtomicUsize);

impl ReminderSender for Flaky {
    fn send<'a>(&'a self, _digest: &'a Digest) -> SendFuture<'a> {
        let down = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        Box::pin(async move {
            if down {
                Err(nightwatch::model::AppError::Internal)
            } else {
                Ok(())
            }
        })
    }
}

db_test! {
    async fn a_day_whose_reminders_could_not_all_be_sent_is_sent_again(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let new = NewIncident::parse("Cert expired", "", "sev2", "edge", "", "", Utc::now()).unwrap();
        let n = incidents::declare(&db.pool, &cmdr, &new).await.unwrap();
        let today = Utc::now().date_naive();
        let item = NewActionItem::parse("Renew", "cmdr", &due(today, 0), "p1", "corrective").unwrap();
        action_items::create(&db.pool, &cmdr, ItemSource::Incident(n), &item).await.unwrap();
        let flaky = Arc::new(Flaky(AtomicUsize::new(1)));
        let senders: Vec<Arc<dyn ReminderSender>> = vec![Arc::new(InAppSender::new(db.pool.clone())), flaky];
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let later = today.and_hms_opt(9, 30, 0).unwrap().and_utc();

        assert!(run_if_due(&db.pool, &senders, later, nine).await.is_err(), "a failed delivery is reported");
        assert_eq!(run_if_due(&db.pool, &senders, later, nine).await.unwrap(), Some(1), "the day is tried again");
        assert_eq!(run_if_due(&db.pool, &senders, later, nine).await.unwrap(), None, "and then it is done");
        assert_eq!(repo::count_unseen(&db.pool, cmdr.id).await.unwrap(), 1, "the in-app reminder is recorded once");
    }
}
