//! Postmortem services on both databases: drafts saved by version, review states, and
//! publication unlocking the incident's `reviewed` status.

use chrono::Utc;
use nightwatch::model::incident::{IncidentNumber, IncidentRole, IncidentStatus, Severity};
use nightwatch::model::incident_input::NewIncident;
use nightwatch::model::postmortem::{PostmortemDoc, PostmortemState, Why, WhyChain};
use nightwatch::model::timeline::EventData;
use nightwatch::model::{AppError, Role};
use nightwatch::server::actor::Actor;
use nightwatch::server::repo::incidents as incident_repo;
use nightwatch::server::repo::postmortems as postmortem_repo;
use nightwatch::server::service::{incidents, postmortems};
use sqlx::AnyPool;

use crate::support::{PASSWORD, user};

async fn recovered_incident(pool: &AnyPool, cmdr: &Actor) -> IncidentNumber {
    let new =
        NewIncident::parse("Checkout down", "", "sev1", "checkout", "", "", Utc::now()).unwrap();
    let n = incidents::declare(pool, cmdr, &new).await.unwrap();
    for (from, to, note) in [
        (IncidentStatus::Open, IncidentStatus::Mitigating, "rollback"),
        (
            IncidentStatus::Mitigating,
            IncidentStatus::Recovered,
            "healthy",
        ),
    ] {
        incidents::transition(pool, cmdr, n, from, to, note)
            .await
            .unwrap();
    }
    n
}

fn doc(summary: &str) -> PostmortemDoc {
    PostmortemDoc {
        summary: summary.to_owned(),
        root_causes: vec!["Connection pool too small".into()],
        whys: WhyChain::new(vec![Why {
            why: "Why did checkout fail?".into(),
            because: "The pool ran dry".into(),
        }])
        .unwrap(),
        ..Default::default()
    }
}

db_test! {
    async fn a_stale_save_is_refused_and_nothing_is_overwritten(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let n = recovered_incident(&db.pool, &cmdr).await;
        let opened = postmortems::open(&db.pool, &cmdr, n).await.unwrap();
        assert_eq!((opened.state, opened.version), (PostmortemState::Draft, 1));

        let first = postmortems::save(&db.pool, &cmdr, n, &doc("First author's text"), opened.version).await.unwrap();
        assert_eq!(first.version, 2);
        let second = postmortems::save(&db.pool, &cmdr, n, &doc("Second author's text"), opened.version).await;
        assert!(matches!(&second, Err(AppError::Conflict(m)) if m.contains("Your text is kept")), "{second:?}");

        let stored = postmortems::open(&db.pool, &cmdr, n).await.unwrap();
        assert_eq!(stored.doc.summary, "First author's text");
        assert_eq!(stored.version, 2);
    }
}

db_test! {
    async fn publishing_lets_the_incident_be_reviewed_and_not_before(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let n = recovered_incident(&db.pool, &cmdr).await;
        let pm = postmortems::open(&db.pool, &cmdr, n).await.unwrap();
        let pm = postmortems::save(&db.pool, &cmdr, n, &doc("Summary"), pm.version).await.unwrap();

        let early = incidents::transition(&db.pool, &cmdr, n, IncidentStatus::Recovered, IncidentStatus::Reviewed, "done").await;
        assert!(matches!(early, Err(AppError::Conflict(_))), "{early:?}");

        let skip = postmortems::change_state(&db.pool, &cmdr, n, PostmortemState::Published, pm.version).await;
        assert!(matches!(skip, Err(AppError::Conflict(_))), "a draft goes through review first");
        let pm = postmortems::change_state(&db.pool, &cmdr, n, PostmortemState::InReview, pm.version).await.unwrap();
        let pm = postmortems::change_state(&db.pool, &cmdr, n, PostmortemState::Published, pm.version).await.unwrap();
        assert_eq!(pm.state, PostmortemState::Published);

        let detail = incident_repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert!(detail.postmortem_published);
        assert!(matches!(detail.timeline.last().unwrap().data, EventData::PostmortemPublished));
        incidents::transition(&db.pool, &cmdr, n, IncidentStatus::Recovered, IncidentStatus::Reviewed, "review complete").await.unwrap();
        let detail = incident_repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(detail.summary.status, IncidentStatus::Reviewed);
        assert!(detail.timestamps.reviewed_at.is_some());

        let frozen = postmortems::save(&db.pool, &cmdr, n, &doc("late edit"), pm.version).await;
        assert!(matches!(&frozen, Err(AppError::Conflict(m)) if m.contains("published")), "{frozen:?}");
    }
}

db_test! {
    async fn a_reviewed_incident_refuses_every_change_to_its_record(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let n = recovered_incident(&db.pool, &cmdr).await;
        let pm = postmortems::open(&db.pool, &cmdr, n).await.unwrap();
        let pm = postmortems::save(&db.pool, &cmdr, n, &doc("Summary"), pm.version).await.unwrap();
        let pm = postmortems::change_state(&db.pool, &cmdr, n, PostmortemState::InReview, pm.version).await.unwrap();
        postmortems::change_state(&db.pool, &cmdr, n, PostmortemState::Published, pm.version).await.unwrap();
        incidents::transition(&db.pool, &cmdr, n, IncidentStatus::Recovered, IncidentStatus::Reviewed, "review complete").await.unwrap();
        let before = incident_repo::find_detail(&db.pool, n).await.unwrap().unwrap();

        let closed = |r: Result<(), AppError>| matches!(&r, Err(AppError::Conflict(m)) if m.contains("reviewed and closed"));
        assert!(closed(incidents::add_note(&db.pool, &cmdr, n, "late note", "", None).await.map(|_| ())));
        assert!(closed(incidents::change_severity(&db.pool, &cmdr, n, before.summary.severity, Severity::Sev1, "late").await));
        assert!(closed(incidents::assign_role(&db.pool, &cmdr, n, IncidentRole::Scribe, "", "cmdr").await));
        assert!(closed(incidents::set_impact_start(&db.pool, &cmdr, n, "2001-01-01T00:00").await));

        let after = incident_repo::find_detail(&db.pool, n).await.unwrap().unwrap();
        assert_eq!(after.timeline.len(), before.timeline.len(), "nothing was written");
        assert_eq!(after.summary.severity, before.summary.severity);
        assert_eq!(after.timestamps.impact_started_at, before.timestamps.impact_started_at);
    }
}

db_test! {
    async fn an_oversized_section_is_a_field_error(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let n = recovered_incident(&db.pool, &cmdr).await;
        let pm = postmortems::open(&db.pool, &cmdr, n).await.unwrap();
        let big = PostmortemDoc { summary: "x".repeat(20_001), ..Default::default() };
        let err = postmortems::save(&db.pool, &cmdr, n, &big, pm.version).await.unwrap_err();
        assert!(err.field_message("summary").is_some());
    }
}

db_test! {
    async fn a_refused_save_is_kept_for_its_author_until_they_save_or_discard(db) {
        let cmdr = user(&db.pool, "cmdr", Role::Commander, PASSWORD).await;
        let other = user(&db.pool, "other", Role::Responder, PASSWORD).await;
        let n = recovered_incident(&db.pool, &cmdr).await;
        let opened = postmortems::open(&db.pool, &cmdr, n).await.unwrap();
        postmortems::save(&db.pool, &other, n, &doc("Theirs"), opened.version).await.unwrap();

        let refused = postmortems::save(&db.pool, &cmdr, n, &doc("Mine"), opened.version).await;
        assert!(matches!(refused, Err(AppError::Conflict(_))));
        let kept = postmortem_repo::find_draft(&db.pool, n, cmdr.id).await.unwrap().expect("the author's text is kept");
        assert_eq!((kept.doc.summary.as_str(), kept.based_on), ("Mine", opened.version));
        assert!(kept.reason.contains("Someone else saved"), "{}", kept.reason);
        assert!(postmortem_repo::find_draft(&db.pool, n, other.id).await.unwrap().is_none(), "kept for its author only");

        let current = postmortems::open(&db.pool, &cmdr, n).await.unwrap();
        assert_eq!(current.doc.summary, "Theirs", "nothing was overwritten");
        postmortems::save(&db.pool, &cmdr, n, &kept.doc, current.version).await.unwrap();
        assert!(postmortem_repo::find_draft(&db.pool, n, cmdr.id).await.unwrap().is_none(), "a good save forgets it");

        let too_long = PostmortemDoc { impact: "x".repeat(20_001), ..doc("Long") };
        let saved = postmortems::open(&db.pool, &cmdr, n).await.unwrap();
        let err = postmortems::save(&db.pool, &cmdr, n, &too_long, saved.version).await.unwrap_err();
        assert!(err.field_message("impact").is_some());
        let kept = postmortem_repo::find_draft(&db.pool, n, cmdr.id).await.unwrap().unwrap();
        assert!(kept.reason.starts_with("impact:"), "{}", kept.reason);
        postmortems::discard_draft(&db.pool, &cmdr, n).await.unwrap();
        assert!(postmortem_repo::find_draft(&db.pool, n, cmdr.id).await.unwrap().is_none());
    }
}
