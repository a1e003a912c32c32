//! Incident workflows. Every change claims the incident (version compare-and-set), applies the
//! model's rules, saves the new state and appends its timeline event in one transaction: no
//! change without its event, no event without its change.

use chrono::{DateTime, Utc};
use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::error::Validator;
use crate::model::incident::{
    IncidentNumber, IncidentRole, IncidentStatus, Severity, TransitionError, check_transition,
};
use crate::model::incident_input::{NewIncident, TextError, parse_past_instant, parse_text};
use crate::model::timeline::{EventData, EventId};
use crate::server::db::to_millis;
use crate::server::repo::incidents::{self as repo, IncidentState};
use crate::server::repo::users::{self, UserRecord};

/// Longest note or reason, in characters.
const NOTE_MAX: usize = 10_000;

/// Declares an incident; returns its number.
pub async fn declare(
    pool: &AnyPool,
    actor: &UserRecord,
    new: &NewIncident,
) -> Result<IncidentNumber, AppError> {
    let now = to_millis(Utc::now());
    let mut tx = pool.begin().await?;
    let number = repo::next_number(&mut tx).await?;
    let id = repo::insert(&mut tx, number, new, Some(actor.id), now).await?;
    let event = EventData::Declared {
        title: new.title.clone(),
        severity: new.severity,
        services: new.services.clone(),
    };
    repo::append_event(&mut tx, id, &event, now, now, Some(actor.id), None).await?;
    tx.commit().await?;
    tracing::info!(%number, by = %actor.username, severity = %new.severity, "incident declared");
    Ok(number)
}

fn note(input: &str) -> Result<String, AppError> {
    parse_text(input, true, NOTE_MAX).map_err(|e| {
        AppError::field(
            "note",
            match e {
                TextError::Empty => "Write a note saying why.".to_owned(),
                other => other.to_string(),
            },
        )
    })
}

/// One change to an incident: claims it (refusing a stale `expected` version), lets `apply`
/// change its state and describe the change, counts it as a human response, saves the state and
/// appends the event — all in one transaction, so neither lands without the other. The event
/// happened at `occurred_at` (default: now) and may correct an earlier event.
async fn change<F>(
    pool: &AnyPool,
    actor: &UserRecord,
    number: IncidentNumber,
    expected: Option<i64>,
    (occurred_at, corrects): (Option<DateTime<Utc>>, Option<EventId>),
    apply: F,
) -> Result<(), AppError>
where
    F: FnOnce(&mut IncidentState, DateTime<Utc>) -> Result<EventData, AppError>,
{
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    let mut state = repo::lock_for_change(&mut tx, number, expected, to_millis(now)).await?;
    let event = apply(&mut state, now)?;
    state.timestamps.acknowledge(now);
    repo::save_state(&mut tx, &state).await?;
    let occurred = to_millis(occurred_at.unwrap_or(now));
    repo::append_event(
        &mut tx,
        state.id,
        &event,
        occurred,
        to_millis(now),
        Some(actor.id),
        corrects,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%number, by = %actor.username, kind = event.kind(), "incident changed");
    Ok(())
}

/// Moves an incident to `to` with a note, if the state machine allows it and nobody changed the
/// incident since `expected_version`.
pub async fn transition(
    pool: &AnyPool,
    actor: &UserRecord,
    number: IncidentNumber,
    to: IncidentStatus,
    note_text: &str,
    expected_version: i64,
) -> Result<(), AppError> {
    let note = note(note_text)?;
    // Read before the change: publication is final, so it cannot be undone in between.
    let published = crate::server::repo::postmortems::is_published(pool, number).await?;
    change(
        pool,
        actor,
        number,
        Some(expected_version),
        (None, None),
        |state, now| {
            let from = state.status;
            check_transition(from, to, &note, published).map_err(|e| match e {
                TransitionError::NoteRequired => AppError::field("note", e.to_string()),
                TransitionError::NotAllowed { .. } | TransitionError::PostmortemNotPublished => {
                    AppError::Conflict(e.to_string())
                }
            })?;
            state.timestamps.apply_transition(from, to, now);
            state.status = to;
            Ok(EventData::StatusChanged { from, to, note })
        },
    )
    .await
}

/// Changes the severity, with a note.
pub async fn change_severity(
    pool: &AnyPool,
    actor: &UserRecord,
    number: IncidentNumber,
    to: Severity,
    note_text: &str,
    expected_version: i64,
) -> Result<(), AppError> {
    let note = note(note_text)?;
    change(
        pool,
        actor,
        number,
        Some(expected_version),
        (None, None),
        |state, _| {
            let from = state.severity;
            if from == to {
                return Err(AppError::field(
                    "severity",
                    format!("{number} is already {to}."),
                ));
            }
            state.severity = to;
            Ok(EventData::SeverityChanged { from, to, note })
        },
    )
    .await
}

/// Gives `role` to the user named `username` (blank clears it). A new holder replacing an old
/// one is recorded as a handover.
pub async fn assign_role(
    pool: &AnyPool,
    actor: &UserRecord,
    number: IncidentNumber,
    role: IncidentRole,
    username: &str,
    expected_version: i64,
) -> Result<(), AppError> {
    let name = username.trim().to_ascii_lowercase();
    let holder = if name.is_empty() {
        None
    } else {
        let id = users::responder_id(pool, &name).await?.ok_or_else(|| {
            AppError::field(
                "username",
                format!(
                    "{name:?} cannot hold an incident role: roles go to enabled responders, commanders or admins."
                ),
            )
        })?;
        Some((id, name))
    };
    change(
        pool,
        actor,
        number,
        Some(expected_version),
        (None, None),
        |state, _| {
            let new_id = holder.as_ref().map(|(id, _)| id.clone());
            if state.holder(role).map(str::to_owned) == new_id {
                return Err(AppError::field(
                    "username",
                    "That person already holds this role.",
                ));
            }
            let previous = state.holder_name(role).map(str::to_owned);
            state.set_holder(role, new_id);
            Ok(EventData::RoleAssigned {
                role,
                user: holder.map(|(_, name)| name),
                previous,
            })
        },
    )
    .await
}

/// Records that the impact is mitigated (while mitigating, once).
pub async fn mark_mitigated(
    pool: &AnyPool,
    actor: &UserRecord,
    number: IncidentNumber,
    note_text: &str,
    expected_version: i64,
) -> Result<(), AppError> {
    let note = note(note_text)?;
    change(
        pool,
        actor,
        number,
        Some(expected_version),
        (None, None),
        |state, now| {
            if state.status != IncidentStatus::Mitigating || state.timestamps.mitigated_at.is_some()
            {
                return Err(AppError::Conflict(
                    "Impact can be marked mitigated once, while the incident is mitigating.".into(),
                ));
            }
            state.timestamps.mitigate(now);
            Ok(EventData::Mitigated { note })
        },
    )
    .await
}

/// Adds a note to the timeline; `occurred_at` (UTC, blank for now) may be earlier than now.
/// With `corrects` (an event id of the same incident) the note is a correction of that event:
/// the timeline is append-only, so a mistake is corrected by a new entry pointing at it.
/// Notes need no version: they never conflict with other changes.
pub async fn add_note(
    pool: &AnyPool,
    actor: &UserRecord,
    number: IncidentNumber,
    body: &str,
    occurred_at: &str,
    corrects: Option<&str>,
) -> Result<(), AppError> {
    let mut v = Validator::default();
    let body = v.check(
        "body",
        parse_text(body, true, NOTE_MAX).map_err(|e| e.to_string()),
    );
    let occurred = v.check("occurred_at", parse_past_instant(occurred_at, Utc::now()));
    let corrects = match corrects.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => {
            let found = match text.parse::<EventId>() {
                Ok(id) if repo::event_on_incident(pool, id, number).await? => Ok(id),
                _ => Err("The entry to correct is not on this incident's timeline.".to_owned()),
            };
            v.check("corrects", found)
        }
    };
    v.finish()?;
    let (Some(body), Some(occurred)) = (body, occurred) else {
        return Err(AppError::Internal);
    };
    change(
        pool,
        actor,
        number,
        None,
        (Some(occurred), corrects),
        |_, _| Ok(EventData::NoteAdded { body }),
    )
    .await
}
