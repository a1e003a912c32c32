//! Incident services on both databases: declaration, the state machine against the store,
//! atomic change + event, concurrent transitions, notes and roles, list filters and pages.

use chrono::{Duration, Utc};
use nightwatch::model::incident::{IncidentNumber, IncidentRole, IncidentStatus, Severity};
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::incident_views::IncidentFilter;
use nightwatch::model::timeline::EventData;
use nightwatch::model::{AppError, Role};
use nightwatch::server::actor::Actor;
use nightwatch::server::repo::incidents as repo;
use nightwatch::server::service::incidents as service;
use sqlx::AnyPool;

use crate::support::{PASSWORD, user};

async fn commander(pool: &AnyPool) -> Actor {
    user(pool, "cmdr", Role::Commander, PASSWORD).await
}

async fn declare(
    pool: &AnyPool,
    actor: &Actor,
    title: &str,
    severity: &str,
    services: &str,
    tags: &str,
    ago_min: i64,
) -> IncidentNumber {
    let detected = (Utc::now() - Duration::minutes(ago_min))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let new =
        NewIncident::parse(title, "", severity, services, tags, &detected, Utc::now()).unwrap();
    service::declare(pool, actor, &new).await.unwrap()
}

async fn version(pool: &AnyPool, number: IncidentNumber) -> i64 {
    repo::version(pool, number).await.unwrap().unwrap()
}

db_test! {
    async fn declaring_gives_increasing_numbers_and_a_declared_event(db) {
        let cmdr = commander(&db.pool).await;
        let first = declare(&db.pool, &cmdr, "Checkout errors", "sev2", "payments,checkout", "db", 10).await;
        let second = declare(&db.pool, &cmdr, "Search slow", "sev3", "search", "", 5).await;
        assert_eq!(second.0, first.0 + 1);
        let detail = repo::find_detail(&db.pool, first).await.unwrap().unwrap();
        assert_eq!(detail.summary.status, IncidentStatus::Open);
        assert_eq!(detail.summary.services, ["payments", "checkout"]);
        assert_eq!(detail.timestamps.acknowledged_at, None, "declaring is not acknowledging");
        assert_eq!(detail.timeline.len(), 1);
        assert!(matches!(detail.timeline[0].data, EventData::Declared { severity: Severity::Sev2, .. }));
        assert_eq!(detail.timeline[0].author.as_deref(), Some("cmdr"));
    }
}

db_test! {
    async fn a_walk_through_the_lifecycle_writes_every_step_on_the_timeline(db) {
        let cmdr = commander(&db.pool).await;
        let n = declare(&db.pool, &cmdr, "Checkout errors", "sev1", "payments", "", 30).await;
        service::transition(&db.pool, &cmdr, n, IncidentStatus::Open, IncidentStatus::Mitigating, "rolling back").await.unwrap();
        let after_ack = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        let acked = after_ack.timestamps.acknowledged_at.expect("the first action acknowledges");
        service::transition(&db.pool, &cmdr, n, IncidentStatus::Mitigating, IncidentStatus::Recovered, "error rate normal").await.unwrap();
        service::transition(&db.pool, &cmdr, n, IncidentStatus::Recovered, IncidentStatus::Mitigating, "errors are back").await.unwrap();

        let detail = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(detail.summary.status, IncidentStatus::Mitigating);
        assert_eq!(detail.timestamps.acknowledged_at, Some(acked), "acknowledged once");
        assert!(detail.timestamps.mitigated_at.is_some());
        assert_eq!(detail.timestamps.resolved_at, None, "a reopen clears the recovery");
        let steps: Vec<_> = detail.timeline.iter().map(|e| e.data.headline()).collect();
        assert_eq!(steps, [
            "Declared as SEV1 affecting payments",
            "Status Open → Mitigating",
            "Status Mitigating → Recovered",
            "Reopened: Recovered → Mitigating",
        ]);
        assert_eq!(detail.timeline[3].data.text(), Some("errors are back"));
    }
}

db_test! {
    async fn refused_moves_change_nothing(db) {
        let cmdr = commander(&db.pool).await;
        let n = declare(&db.pool, &cmdr, "Queue backlog", "sev3", "jobs", "", 5).await;
        let v = version(&db.pool, n).await;
        let skip = service::transition(&db.pool, &cmdr, n, IncidentStatus::Open, IncidentStatus::Recovered, "done?").await;
        assert!(matches!(skip, Err(AppError::Conflict(_))), "{skip:?}");
        let no_note = service::transition(&db.pool, &cmdr, n, IncidentStatus::Open, IncidentStatus::Mitigating, " ").await;
        assert!(no_note.unwrap_err().field_message("note").is_some());
        let detail = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(detail.summary.status, IncidentStatus::Open);
        assert_eq!(detail.version, v);
        assert_eq!(detail.timeline.len(), 1);
    }
}

db_test! {
    async fn reviewed_is_refused_until_a_postmortem_is_published(db) {
        let cmdr = commander(&db.pool).await;
        let n = declare(&db.pool, &cmdr, "Disk full", "sev2", "db", "", 5).await;
        for (from, to, note) in [(IncidentStatus::Open, IncidentStatus::Mitigating, "cleaning"), (IncidentStatus::Mitigating, IncidentStatus::Recovered, "space freed")] {
            service::transition(&db.pool, &cmdr, n, from, to, note).await.unwrap();
        }
        let err = service::transition(&db.pool, &cmdr, n, IncidentStatus::Recovered, IncidentStatus::Reviewed, "reviewed").await.unwrap_err();
        assert!(matches!(&err, AppError::Conflict(m) if m.contains("postmortem")), "{err:?}");
    }
}

db_test! {
    async fn a_transition_and_its_event_are_saved_together_or_not_at_all(db) {
        let cmdr = commander(&db.pool).await;
        let n = declare(&db.pool, &cmdr, "Login failures", "sev2", "auth", "", 5).await;
        let v = version(&db.pool, n).await;
        // Make every timeline insert fail, after the incident row was already updated.
        crate::support::fail_every(&db, "BEFORE INSERT ON incident_events").await;
        let res = service::transition(&db.pool, &cmdr, n, IncidentStatus::Open, IncidentStatus::Mitigating, "on it").await;
        assert_eq!(res, Err(AppError::Internal));
        let detail = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(detail.summary.status, IncidentStatus::Open, "no change without its event");
        assert_eq!(detail.version, v);
        assert_eq!(detail.timestamps.acknowledged_at, None);
        assert_eq!(detail.timeline.len(), 1, "no event without its change");
    }
}

db_test! {
    async fn of_two_concurrent_transitions_exactly_one_wins(db) {
        let cmdr = commander(&db.pool).await;
        let n = declare(&db.pool, &cmdr, "Cache stampede", "sev2", "cache", "", 5).await;
        let runs = (0..2).map(|i| {
            let (pool, cmdr) = (db.pool.clone(), cmdr.clone());
            tokio::spawn(async move {
                service::transition(&pool, &cmdr, n, IncidentStatus::Open, IncidentStatus::Mitigating, &format!("attempt {i}")).await
            })
        });
        let results: Vec<_> = futures::future::join_all(runs).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        let loser = results.iter().find(|r| r.is_err()).unwrap();
        assert!(matches!(loser, Err(AppError::Conflict(m)) if m.contains("changed the status")), "{loser:?}");
        let detail = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(detail.timeline.len(), 2);
    }
}

db_test! {
    async fn notes_may_be_backdated_but_not_future_dated(db) {
        let cmdr = commander(&db.pool).await;
        let n = declare(&db.pool, &cmdr, "Latency", "sev3", "api", "", 60).await;
        let earlier = (Utc::now() - Duration::minutes(45)).format("%Y-%m-%dT%H:%M").to_string();
        service::add_note(&db.pool, &cmdr, n, "saw the first alert", &earlier, None).await.unwrap();
        let later = (Utc::now() + Duration::hours(2)).format("%Y-%m-%dT%H:%M").to_string();
        let err = service::add_note(&db.pool, &cmdr, n, "from the future", &later, None).await.unwrap_err();
        assert!(err.field_message("occurred_at").is_some());
        let err = service::add_note(&db.pool, &cmdr, n, "  ", "", None).await.unwrap_err();
        assert!(err.field_message("body").is_some());

        let detail = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        // Entries are in the order things happened: the note is dated before the declaration.
        let note = &detail.timeline[0];
        assert_eq!(note.data.text(), Some("saw the first alert"));
        assert!(matches!(detail.timeline[1].data, EventData::Declared { .. }));
        assert!(note.occurred_at < note.recorded_at - Duration::minutes(40));
        assert!(detail.timestamps.acknowledged_at.is_some(), "a note is a human action");
    }
}

db_test! {
    async fn taking_command_and_handing_over_are_recorded(db) {
        let cmdr = commander(&db.pool).await;
        user(&db.pool, "relief", Role::Commander, PASSWORD).await;
        let n = declare(&db.pool, &cmdr, "Outage", "sev1", "edge", "", 5).await;
        service::assign_role(&db.pool, &cmdr, n, IncidentRole::Commander, "", "cmdr").await.unwrap();
        service::assign_role(&db.pool, &cmdr, n, IncidentRole::Commander, "cmdr", "Relief").await.unwrap();
        let err = service::assign_role(&db.pool, &cmdr, n, IncidentRole::Scribe, "", "nobody").await.unwrap_err();
        assert!(err.field_message("username").is_some());

        let detail = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(detail.summary.commander.as_deref(), Some("relief"));
        let lines: Vec<_> = detail.timeline.iter().skip(1).map(|e| e.data.headline()).collect();
        assert_eq!(lines, ["cmdr is commander", "Commander handed over from cmdr to relief"]);
    }
}

db_test! {
    async fn a_note_between_loading_and_moving_does_not_refuse_the_move(db) {
        let cmdr = commander(&db.pool).await;
        let n = declare(&db.pool, &cmdr, "Checkout errors", "sev2", "checkout", "", 5).await;
        // The commander's page shows Open and SEV2; meanwhile a teammate adds a note and an item.
        service::add_note(&db.pool, &cmdr, n, "teammate: error rate 40%", "", None).await.unwrap();
        let item = nightwatch::model::action_item::NewActionItem::parse("Add an alert", "cmdr", "2030-01-01", "p2", "preventive").unwrap();
        nightwatch::server::service::action_items::create(&db.pool, &cmdr, nightwatch::model::action_item::ItemSource::Incident(n), &item).await.unwrap();
        service::transition(&db.pool, &cmdr, n, IncidentStatus::Open, IncidentStatus::Mitigating, "rolling back").await.unwrap();
        service::change_severity(&db.pool, &cmdr, n, Severity::Sev2, Severity::Sev1, "spreading").await.unwrap();
        service::assign_role(&db.pool, &cmdr, n, IncidentRole::Scribe, "", "cmdr").await.unwrap();
        let detail = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!((detail.summary.status, detail.summary.severity), (IncidentStatus::Mitigating, Severity::Sev1));
    }
}

db_test! {
    async fn a_change_to_the_same_fact_since_loading_is_refused_and_changes_nothing(db) {
        let cmdr = commander(&db.pool).await;
        let n = declare(&db.pool, &cmdr, "Stale", "sev4", "docs", "", 5).await;
        service::transition(&db.pool, &cmdr, n, IncidentStatus::Open, IncidentStatus::Mitigating, "first").await.unwrap();
        service::change_severity(&db.pool, &cmdr, n, Severity::Sev4, Severity::Sev3, "first").await.unwrap();
        service::assign_role(&db.pool, &cmdr, n, IncidentRole::Scribe, "", "cmdr").await.unwrap();
        let before = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        // A second page, loaded before those changes, tries the same facts.
        let moved = service::transition(&db.pool, &cmdr, n, IncidentStatus::Open, IncidentStatus::Mitigating, "second").await;
        assert!(matches!(&moved, Err(AppError::Conflict(m)) if m.contains("status") && m.contains("Mitigating")), "{moved:?}");
        let severity = service::change_severity(&db.pool, &cmdr, n, Severity::Sev4, Severity::Sev2, "second").await;
        assert!(matches!(&severity, Err(AppError::Conflict(m)) if m.contains("severity")), "{severity:?}");
        let role = service::assign_role(&db.pool, &cmdr, n, IncidentRole::Scribe, "", "cmdr").await;
        assert!(matches!(&role, Err(AppError::Conflict(m)) if m.contains("scribe")), "{role:?}");
        let after = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(after.timeline.len(), before.timeline.len());
        assert_eq!(after.version, before.version);
        let missing = service::add_note(&db.pool, &cmdr, IncidentNumber(9999), "x", "", None).await;
        assert_eq!(missing, Err(AppError::NotFound));
    }
}

db_test! {
    async fn the_list_filters_counts_and_pages_without_overlap(db) {
        let cmdr = commander(&db.pool).await;
        for i in 0..30 {
            let (sev, service, tag) = match i % 3 {
                0 => ("sev1", "payments", "db"),
                1 => ("sev2", "search", "network"),
                _ => ("sev3", "payments,search", ""),
            };
            let title = if i == 7 { "Checkout timeouts in EU".to_owned() } else { format!("Incident {i}") };
            declare(&db.pool, &cmdr, &title, sev, service, tag, 100 - i).await;
        }
        let mitigating = IncidentNumber(1);
        service::transition(&db.pool, &cmdr, mitigating, IncidentStatus::Open, IncidentStatus::Mitigating, "x").await.unwrap();

        let all = repo::list(&db.pool, &IncidentFilter::default()).await.unwrap();
        assert_eq!(all.items.len(), 25);
        assert_eq!(all.counts, vec![(IncidentStatus::Open, 29), (IncidentStatus::Mitigating, 1), (IncidentStatus::Recovered, 0), (IncidentStatus::Reviewed, 0)]);
        assert_eq!(all.items[0].number, IncidentNumber(30), "newest detection first");
        let rest = repo::list(&db.pool, &IncidentFilter { after: all.next.clone().unwrap(), ..Default::default() }).await.unwrap();
        assert_eq!(rest.items.len(), 5);
        assert_eq!(rest.next, None);
        let mut seen: Vec<_> = all.items.iter().chain(&rest.items).map(|i| i.number.0).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 30, "pages neither overlap nor skip");

        let count = |f: IncidentFilter| { let pool = db.pool.clone(); async move { repo::list(&pool, &f).await.unwrap().items.len() } };
        assert_eq!(count(IncidentFilter { severity: "sev1".into(), ..Default::default() }).await, 10);
        assert_eq!(count(IncidentFilter { service: "payments".into(), ..Default::default() }).await, 20);
        assert_eq!(count(IncidentFilter { tag: "network".into(), ..Default::default() }).await, 10);
        assert_eq!(count(IncidentFilter { q: "checkout".into(), ..Default::default() }).await, 1);
        assert_eq!(count(IncidentFilter { status: "mitigating".into(), ..Default::default() }).await, 1);
        assert_eq!(count(IncidentFilter { status: "active".into(), severity: "sev1".into(), ..Default::default() }).await, 10);
        // The service filter reads the status copies: they follow every transition.
        let by_service = repo::list(&db.pool, &IncidentFilter { service: "payments".into(), status: "mitigating".into(), ..Default::default() }).await.unwrap();
        assert_eq!(by_service.items.iter().map(|i| i.number).collect::<Vec<_>>(), [mitigating]);
        assert_eq!(by_service.counts[0], (IncidentStatus::Open, 19));
        assert_eq!(by_service.counts[1], (IncidentStatus::Mitigating, 1));
        let service_pages = repo::list(&db.pool, &IncidentFilter { service: "payments".into(), ..Default::default() }).await.unwrap();
        assert_eq!((service_pages.items.len(), service_pages.next), (20, None));

        let by_sev = repo::list(&db.pool, &IncidentFilter { sort: "severity".into(), ..Default::default() }).await.unwrap();
        let next = repo::list(&db.pool, &IncidentFilter { sort: "severity".into(), after: by_sev.next.clone().unwrap(), ..Default::default() }).await.unwrap();
        let sevs: Vec<_> = by_sev.items.iter().chain(&next.items).map(|i| i.severity).collect();
        assert!(sevs.windows(2).all(|w| w[0] <= w[1]), "{sevs:?}");
        assert_eq!(sevs.len(), 30);

        let oldest = repo::list(&db.pool, &IncidentFilter { sort: "oldest".into(), ..Default::default() }).await.unwrap();
        assert_eq!(oldest.items[0].number, IncidentNumber(1));
    }
}

db_test! {
    async fn a_correction_is_a_new_entry_pointing_at_the_one_it_corrects(db) {
        let cmdr = commander(&db.pool).await;
        let n = declare(&db.pool, &cmdr, "Wrong note", "sev3", "api", "", 30).await;
        let other = declare(&db.pool, &cmdr, "Other", "sev4", "web", "", 20).await;
        service::add_note(&db.pool, &cmdr, n, "Restarted db-2", "", None).await.unwrap();
        let detail = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        let wrong = detail.timeline[1].id.to_string();
        service::add_note(&db.pool, &cmdr, n, "It was db-3 that was restarted", "", Some(&wrong)).await.unwrap();

        let detail = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(detail.timeline.len(), 3, "the wrong entry stays; the correction is added");
        assert_eq!(detail.timeline[1].data.text(), Some("Restarted db-2"));
        assert_eq!(detail.timeline[2].corrects, Some(detail.timeline[1].id));

        let foreign = service::add_note(&db.pool, &cmdr, other, "nope", "", Some(&wrong)).await.unwrap_err();
        assert!(foreign.field_message("corrects").is_some(), "{foreign:?}");
        let garbage = service::add_note(&db.pool, &cmdr, n, "nope", "", Some("not-an-id")).await.unwrap_err();
        assert!(garbage.field_message("corrects").is_some());
    }
}

db_test! {
    async fn a_declaration_and_a_move_in_the_callers_transaction_land_or_vanish_with_it(db) {
        let cmdr = commander(&db.pool).await;
        let new = NewIncident::parse("Joined", "", "sev2", "api", "", "", Utc::now()).unwrap();

        let mut tx = db.pool.begin().await.unwrap();
        let n = service::declare_in(&mut tx, &cmdr, &new).await.unwrap();
        service::transition_in(&mut tx, &cmdr, n, (IncidentStatus::Open, IncidentStatus::Mitigating), "on it").await.unwrap();
        tx.rollback().await.unwrap();
        assert!(repo::find_detail(&db.pool, n).await.unwrap().is_none(), "rolled back with the caller");

        let mut tx = db.pool.begin().await.unwrap();
        let n = service::declare_in(&mut tx, &cmdr, &new).await.unwrap();
        service::transition_in(&mut tx, &cmdr, n, (IncidentStatus::Open, IncidentStatus::Mitigating), "on it").await.unwrap();
        tx.commit().await.unwrap();
        let stored = repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(stored.summary.status, IncidentStatus::Mitigating);
        assert_eq!(stored.timeline.len(), 2, "the declaration and the move");
    }
}

/// What `incident_counts` says per (status, severity), and what counting the incidents says.
async fn kept_and_counted(
    pool: &AnyPool,
) -> (Vec<(String, String, i64)>, Vec<(String, String, i64)>) {
    let kept = sqlx::query_as(
        "SELECT status, severity, n FROM incident_counts WHERE n <> 0 ORDER BY status, severity",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let counted = sqlx::query_as(
        "SELECT status, severity, CAST(COUNT(*) AS BIGINT) FROM incidents \
         GROUP BY status, severity ORDER BY status, severity",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (kept, counted)
}

db_test! {
    async fn the_kept_counts_per_status_follow_every_move_made_at_once_on_two_instances(db) {
        use nightwatch::server::demo;
        use IncidentStatus::*;
        // The demo generator's bulk insert counts too (a database filled before the counts
        // existed is counted by their migration).
        demo::fill(&db.pool, 120, 3).await.unwrap();
        let cmdr = commander(&db.pool).await;
        let second = nightwatch::server::db::connect(&db.url, 5).await.unwrap();
        let mut numbers = Vec::new();
        for i in 0..12 {
            let severity = ["sev1", "sev2", "sev3", "sev4"][i % 4];
            numbers.push(declare(&db.pool, &cmdr, &format!("Counted {i}"), severity, "api", "", 5).await);
        }
        // Each incident moved forward and back and its severity changed, half of them through
        // the second instance, all at once: opposite moves cross on the same count rows.
        let moves = numbers.iter().enumerate().map(|(i, &n)| {
            let pool = if i % 2 == 0 { db.pool.clone() } else { second.clone() };
            let cmdr = cmdr.clone();
            async move {
                service::transition(&pool, &cmdr, n, Open, Mitigating, "on it").await.unwrap();
                service::transition(&pool, &cmdr, n, Mitigating, Recovered, "fixed").await.unwrap();
                if i % 3 == 0 {
                    service::transition(&pool, &cmdr, n, Recovered, Mitigating, "relapsed").await.unwrap();
                }
                let from = ["sev1", "sev2", "sev3", "sev4"][i % 4].parse::<Severity>().unwrap();
                let to = if from == Severity::Sev1 { Severity::Sev4 } else { Severity::Sev1 };
                service::change_severity(&pool, &cmdr, n, from, to, "re-rated").await.unwrap();
            }
        });
        futures::future::join_all(moves).await;
        second.close().await;

        let (kept, counted) = kept_and_counted(&db.pool).await;
        assert_eq!(kept, counted);

        // The list's tabs read them, with and without a severity, and say what counting says.
        for severity in ["", "sev1"] {
            let filter = IncidentFilter { severity: severity.into(), ..Default::default() };
            let page = repo::list(&db.pool, &filter).await.unwrap();
            for (status, n) in page.counts {
                let expected = counted
                    .iter()
                    .filter(|(s, sev, _)| s == status.as_str() && (severity.is_empty() || sev == severity))
                    .map(|(.., n)| n)
                    .sum::<i64>();
                assert_eq!(n, expected, "{status:?} {severity}");
            }
        }
    }
}
