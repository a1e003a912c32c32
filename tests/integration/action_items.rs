//! Action items on both databases: created from an incident with a timeline event, overdue
//! derived from the due date, filters.

use chrono::{Duration, Utc};
use nightwatch::model::Role;
use nightwatch::model::action_item::{ActionState, ItemSource, NewActionItem};
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::timeline::EventData;
use nightwatch::server::repo::action_items::{self as repo, ActionFilter};
use nightwatch::server::repo::incidents as incident_repo;
use nightwatch::server::service::{action_items, incidents};

use crate::support::{PASSWORD, user};

fn item(title: &str, owner: &str, due_in_days: i64) -> NewActionItem {
    let due = (Utc::now() + Duration::days(due_in_days))
        .format("%Y-%m-%d")
        .to_string();
    NewActionItem::parse(title, owner, &due, "p2", "corrective").unwrap()
}

db_test! {
    async fn an_item_created_from_an_incident_lands_on_its_timeline(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        user(&db.pool, "owen", Role::Responder, PASSWORD).await;
        let new = NewIncident::parse("Pool exhausted", "", "sev2", "orders", "", "", Utc::now()).unwrap();
        let n = incidents::declare(&db.pool, &cmdr, &new).await.unwrap();
        action_items::create(&db.pool, &cmdr, ItemSource::Incident(n), &item("Raise the pool size", "Owen", 7)).await.unwrap();

        let detail = incident_repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert!(matches!(&detail.timeline.last().unwrap().data, EventData::ActionItemCreated { owner, .. } if owner == "owen"));
        let items = repo::list(&db.pool, &ActionFilter { owner: "owen".into(), ..Default::default() }).await.unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!((items[0].incident, items[0].state), (Some(n), ActionState::Todo));

        let err = action_items::create(&db.pool, &cmdr, ItemSource::Incident(n), &item("Nobody's job", "ghost", 1)).await.unwrap_err();
        assert!(err.field_message("owner").is_some());
    }
}

db_test! {
    async fn overdue_is_derived_from_the_due_date_and_done_items_drop_out(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let new = NewIncident::parse("Disk full", "", "sev3", "db", "", "", Utc::now()).unwrap();
        let n = incidents::declare(&db.pool, &cmdr, &new).await.unwrap();
        let late = action_items::create(&db.pool, &cmdr, ItemSource::Incident(n), &item("Late", "cmdr", -2)).await.unwrap();
        action_items::create(&db.pool, &cmdr, ItemSource::Incident(n), &item("Due today", "cmdr", 0)).await.unwrap();
        let finished = action_items::create(&db.pool, &cmdr, ItemSource::Incident(n), &item("Late but done", "cmdr", -3)).await.unwrap();
        action_items::set_state(&db.pool, finished, ActionState::Done).await.unwrap();

        let today = Utc::now().date_naive();
        let overdue = repo::list(&db.pool, &ActionFilter { overdue_on: Some(today), ..Default::default() }).await.unwrap();
        assert_eq!(overdue.iter().map(|i| i.id).collect::<Vec<_>>(), [late]);

        let open = repo::list(&db.pool, &ActionFilter { state: "open".into(), ..Default::default() }).await.unwrap();
        assert_eq!(open.iter().map(|i| i.title.as_str()).collect::<Vec<_>>(), ["Late", "Due today"], "soonest due first");
        let bad = repo::list(&db.pool, &ActionFilter { state: "lost".into(), ..Default::default() }).await;
        assert!(bad.unwrap_err().field_message("state").is_some());
    }
}
