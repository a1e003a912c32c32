//! Postmortem workflows: start one, save drafts without ever overwriting someone else's save,
//! move it through review, and record its publication on the incident's timeline.

use chrono::Utc;
use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::incident::IncidentNumber;
use crate::model::postmortem::{
    ImpactDurations, Postmortem, PostmortemDoc, PostmortemPage, PostmortemState, UnsavedDraft,
    WhyChain,
};
use crate::model::timeline::{EventData, EventId};
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::repo::incidents as incident_repo;
use crate::server::repo::postmortems as repo;

/// Longest text of one section or list entry.
const TEXT_MAX: usize = 20_000;
/// Most entries in one list section.
const LIST_MAX: usize = 50;
/// Largest refused document kept as its author's unsaved draft.
const DRAFT_MAX_BYTES: usize = 1 << 20;

/// The incident's postmortem, started as an empty draft the first time it is opened.
pub async fn open(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
) -> Result<Postmortem, AppError> {
    if let Some(existing) = repo::find(pool, number).await? {
        return Ok(existing);
    }
    let incident = incident_repo::find_detail(pool, number)
        .await?
        .ok_or(AppError::NotFound)?;
    repo::insert_draft(
        pool,
        &incident.summary.id.to_string(),
        actor.id,
        to_millis(Utc::now()),
    )
    .await?;
    repo::find(pool, number).await?.ok_or(AppError::Internal)
}

/// Checks section sizes, naming the first section that is too long, and that the key moments are
/// entries of this incident's timeline (`timeline`: its entries' ids), each once.
fn check_doc(doc: &PostmortemDoc, timeline: &[EventId]) -> Result<(), AppError> {
    if doc.whys.links().len() > WhyChain::MAX {
        return Err(AppError::field(
            "whys",
            format!("A 5-whys chain has at most {} steps.", WhyChain::MAX),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(stray) = doc
        .key_moments
        .iter()
        .find(|m| !timeline.contains(m) || !seen.insert(**m))
    {
        return Err(AppError::field(
            "key_moments",
            format!("{stray} is not an entry of this incident's timeline, or is picked twice."),
        ));
    }
    let too_long = |text: &str| text.chars().count() > TEXT_MAX;
    for (field, text) in [("summary", &doc.summary), ("impact", &doc.impact)] {
        if too_long(text) {
            return Err(AppError::field(
                field,
                format!("At most {TEXT_MAX} characters."),
            ));
        }
    }
    for (field, list) in [
        ("root_causes", &doc.root_causes),
        ("contributing_factors", &doc.contributing_factors),
        ("went_well", &doc.went_well),
        ("went_wrong", &doc.went_wrong),
        ("got_lucky", &doc.got_lucky),
    ] {
        if list.len() > LIST_MAX || list.iter().any(|t| too_long(t)) {
            return Err(AppError::field(
                field,
                format!("At most {LIST_MAX} entries of {TEXT_MAX} characters."),
            ));
        }
    }
    if doc
        .whys
        .links()
        .iter()
        .any(|w| too_long(&w.why) || too_long(&w.because))
    {
        return Err(AppError::field(
            "whys",
            format!("At most {TEXT_MAX} characters per step."),
        ));
    }
    Ok(())
}

/// The conflict a stale save or move gets: the caller keeps their text and is shown both.
async fn stale(pool: &AnyPool, number: IncidentNumber) -> AppError {
    match repo::find(pool, number).await {
        Ok(Some(current)) if current.state == PostmortemState::Published => {
            AppError::Conflict("This postmortem is published and can no longer change.".into())
        }
        Ok(Some(current)) => AppError::Conflict(format!(
            "Someone else saved this postmortem after you loaded it (it is now at version {}). \
             Your text is kept: compare it with theirs and save again.",
            current.version
        )),
        Ok(None) => AppError::NotFound,
        Err(e) => e,
    }
}

/// Saves the document if nobody saved since `based_on`. A save that cannot be stored (someone
/// else saved first, or a section is too long) is kept for its author and answered with the
/// reason: nothing is overwritten and nothing typed is lost.
pub async fn save(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
    doc: &PostmortemDoc,
    based_on: i64,
) -> Result<Postmortem, AppError> {
    let current = repo::find(pool, number).await?.ok_or(AppError::NotFound)?;
    let timeline = incident_repo::event_ids(pool, number).await?;
    let refused = match check_doc(doc, &timeline) {
        Err(invalid) => Some(invalid),
        Ok(()) => {
            let mut tx = pool.begin().await?;
            let now = to_millis(Utc::now());
            if repo::save(&mut tx, number, doc, current.state, based_on, actor.id, now).await? {
                repo::drop_draft(&mut tx, number, actor.id).await?;
                tx.commit().await?;
                None
            } else {
                drop(tx);
                Some(stale(pool, number).await)
            }
        }
    };
    let Some(error) = refused else {
        return repo::find(pool, number).await?.ok_or(AppError::Internal);
    };
    // A refused text is kept for its author — within reason: one far past every limit is not
    // stored anywhere.
    let size = serde_json::to_vec(doc).map_or(usize::MAX, |j| j.len());
    if size > DRAFT_MAX_BYTES {
        return Err(error);
    }
    let draft = UnsavedDraft {
        doc: doc.clone(),
        based_on,
        reason: error.summary(),
    };
    repo::keep_draft(pool, number, actor.id, &draft, to_millis(Utc::now())).await?;
    Err(error)
}

/// Forgets what `actor` could not save (they chose the stored version instead).
pub async fn discard_draft(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
) -> Result<(), AppError> {
    let mut conn = pool.acquire().await?;
    repo::drop_draft(&mut conn, number, actor.id).await
}

/// Moves the postmortem to `to` (if its review allows it and nobody saved since `based_on`).
/// Publishing records an event on the incident's timeline in the same transaction.
pub async fn change_state(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
    to: PostmortemState,
    based_on: i64,
) -> Result<Postmortem, AppError> {
    let current = repo::find(pool, number).await?.ok_or(AppError::NotFound)?;
    if !current.state.next().contains(&to) {
        return Err(AppError::Conflict(format!(
            "A postmortem that is {} cannot move to {}.",
            current.state.label().to_lowercase(),
            to.label().to_lowercase()
        )));
    }
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let saved = repo::save(
        &mut tx,
        number,
        &current.doc,
        to,
        based_on,
        actor.id,
        to_millis(now),
    )
    .await?;
    if !saved {
        drop(tx);
        return Err(stale(pool, number).await);
    }
    if to == PostmortemState::Published {
        let state = incident_repo::lock_for_change(&mut tx, number, true, to_millis(now)).await?;
        incident_repo::append_event(
            &mut tx,
            state.id,
            &EventData::PostmortemPublished,
            to_millis(now),
            to_millis(now),
            Some(actor.id),
            None,
        )
        .await?;
        let facts = incident_repo::facts(&mut tx, number).await?;
        crate::server::service::notifications::notify(
            &mut tx,
            &facts.postmortem_published(&actor.username),
        )
        .await?;
    }
    tx.commit().await?;
    repo::find(pool, number).await?.ok_or(AppError::Internal)
}

/// What the postmortem page shows: the incident with its timeline, its postmortem, the impact
/// durations, what `actor` could not save, the action items and who may own one.
pub async fn page(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
) -> Result<PostmortemPage, AppError> {
    use crate::server::repo::{action_items, incidents, users};
    let incident = incidents::find_detail(pool, number)
        .await?
        .ok_or(AppError::NotFound)?;
    let postmortem = repo::find(pool, number).await?;
    let unsaved = repo::find_draft(pool, number, actor.id).await?;
    let durations = ImpactDurations::from_timestamps(&incident.timestamps);
    let filter = action_items::ActionFilter {
        incident: Some(number),
        ..Default::default()
    };
    Ok(PostmortemPage {
        incident,
        postmortem,
        durations,
        unsaved,
        actions: action_items::list(pool, &filter).await?,
        people: users::responders(pool).await?,
    })
}

/// The published-or-not report as Markdown, with the file name to save it under.
pub async fn markdown(
    pool: &AnyPool,
    number: IncidentNumber,
) -> Result<(String, String), AppError> {
    use crate::server::export;
    use crate::server::repo::{action_items, incidents};
    let incident = incidents::find_detail(pool, number)
        .await?
        .ok_or(AppError::NotFound)?;
    let postmortem = repo::find(pool, number).await?.ok_or(AppError::NotFound)?;
    let filter = action_items::ActionFilter {
        incident: Some(number),
        ..Default::default()
    };
    let actions = action_items::list(pool, &filter).await?;
    let durations = ImpactDurations::from_timestamps(&incident.timestamps);
    let body = export::postmortem_markdown(&incident, &postmortem, &durations, &actions);
    Ok((export::file_name(&incident), body))
}
