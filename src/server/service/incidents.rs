//! Incident workflows. Every change claims the incident row, applies the model's rules, saves
//! the new state and appends its timeline event in one transaction: no change without its
//! event, no event without its change.
//!
//! Conflicts are per fact. A move says which status it moves from, a severity change which
//! severity it replaces, an assignment who it takes the role from; the change is refused only
//! when that fact changed since the page was loaded. So of two moves made at once exactly one
//! wins, while a teammate's note, an action item or a run's entry never refuses anything.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool};

use crate::model::AppError;
use crate::model::error::Validator;
use crate::model::incident::{
    IncidentNumber, IncidentRole, IncidentStatus, Severity, TransitionError, check_transition,
};
use crate::model::incident_input::{
    NewIncident, TextError, parse_impact_start, parse_past_instant, parse_text,
};
use crate::model::notification::{IncidentFacts, Message};
use crate::model::timeline::{EventData, EventId};
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::repo::incidents::{self as repo, IncidentState};
use crate::server::repo::users;

/// Longest note or reason, in characters.
const NOTE_MAX: usize = 10_000;

/// Declares an incident; returns its number.
pub async fn declare(
    pool: &AnyPool,
    actor: &Actor,
    new: &NewIncident,
) -> Result<IncidentNumber, AppError> {
    let mut tx = pool.begin().await?;
    let number = declare_in(&mut tx, actor, new).await?;
    tx.commit().await?;
    tracing::info!(%number, by = %actor.username, severity = %new.severity, "incident declared");
    Ok(number)
}

/// Declares an incident in the caller's transaction (an alert that declares one writes the
/// alert, the incident and its notifications together); returns its number.
pub async fn declare_in(
    conn: &mut AnyConnection,
    actor: &Actor,
    new: &NewIncident,
) -> Result<IncidentNumber, AppError> {
    let now = to_millis(Utc::now());
    let number = repo::next_number(conn).await?;
    let id = repo::insert(conn, number, new, Some(actor.id), now).await?;
    let event = EventData::Declared {
        title: new.title.clone(),
        severity: new.severity,
        services: new.services.clone(),
    };
    repo::append_event(conn, id, &event, now, now, Some(actor.id), None).await?;
    let facts = IncidentFacts {
        number,
        title: new.title.clone(),
        severity: new.severity,
        services: new.services.clone(),
    };
    let message = facts.declared(&actor.username, &new.detected_at.to_rfc3339());
    crate::server::service::notifications::notify(conn, &message).await?;
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

/// One change to an incident: claims it, lets `apply` check what the caller saw (and whether the
/// postmortem is published) and change its state and describe the change, counts it as a human
/// response, saves the state and appends the event — all in one transaction, so neither lands
/// without the other. `fact` says whether
/// the change is to a fact a page shows (it moves the version on; a note does not). The event
/// happened at `occurred_at` (default: now) and may correct an earlier event.
async fn change<F>(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
    fact: bool,
    at: (Option<DateTime<Utc>>, Option<EventId>),
    apply: F,
) -> Result<EventId, AppError>
where
    F: FnOnce(&mut IncidentState, DateTime<Utc>, bool) -> Result<EventData, AppError>,
{
    let mut tx = pool.begin().await?;
    let event = change_in(&mut tx, actor, number, fact, at, apply).await?;
    tx.commit().await?;
    Ok(event)
}

/// [`change`] in the caller's transaction.
async fn change_in<F>(
    conn: &mut AnyConnection,
    actor: &Actor,
    number: IncidentNumber,
    fact: bool,
    (occurred_at, corrects): (Option<DateTime<Utc>>, Option<EventId>),
    apply: F,
) -> Result<EventId, AppError>
where
    F: FnOnce(&mut IncidentState, DateTime<Utc>, bool) -> Result<EventData, AppError>,
{
    let now = Utc::now();
    // The claim first: on SQLite a transaction that read before its first write could not wait
    // for the write lock.
    let mut state = repo::lock_for_change(conn, number, fact, to_millis(now)).await?;
    if state.status == IncidentStatus::Reviewed {
        return Err(closed(number));
    }
    let published = crate::server::repo::postmortems::is_published(&mut *conn, number).await?;
    let event = apply(&mut state, now, published)?;
    state.timestamps.acknowledge(now);
    repo::save_state(conn, &state).await?;
    let occurred = to_millis(occurred_at.unwrap_or(now));
    let id = repo::append_event(
        conn,
        state.id,
        &event,
        occurred,
        to_millis(now),
        Some(actor.id),
        corrects,
    )
    .await?;
    if let Some(message) = notice(conn, number, &event, &actor.username).await? {
        crate::server::service::notifications::notify(conn, &message).await?;
    }
    tracing::info!(%number, by = %actor.username, kind = event.kind(), "incident changed");
    Ok(id)
}

/// The notification a change sends, if it is one channels subscribe to: a move, a severity
/// change, a new commander.
async fn notice(
    conn: &mut AnyConnection,
    number: IncidentNumber,
    event: &EventData,
    by: &str,
) -> Result<Option<Message>, AppError> {
    let wanted = match event {
        EventData::StatusChanged { .. } | EventData::SeverityChanged { .. } => true,
        EventData::RoleAssigned { role, .. } => *role == IncidentRole::Commander,
        _ => false,
    };
    if !wanted {
        return Ok(None);
    }
    let facts = repo::facts(conn, number).await?;
    Ok(match event {
        EventData::StatusChanged { from, to, note } => {
            Some(facts.status_changed(*from, *to, note, by))
        }
        EventData::SeverityChanged { from, note, .. } => {
            Some(facts.severity_changed(*from, note, by))
        }
        EventData::RoleAssigned { user, previous, .. } => {
            Some(facts.commander_changed(user.as_deref(), previous.as_deref(), by))
        }
        _ => None,
    })
}

/// The refusal of any change to a reviewed incident: its record is what the published
/// postmortem was written from, so it stays as it was reviewed.
pub fn closed(number: IncidentNumber) -> AppError {
    AppError::Conflict(format!(
        "{number} is reviewed and closed: its timeline and facts are final."
    ))
}

/// The refusal of a change whose caller saw `seen` where the incident now has `now`.
fn changed_meanwhile(number: IncidentNumber, what: &str, now: &str) -> AppError {
    AppError::Conflict(format!(
        "Someone else changed the {what} of {number} while you were looking: it is now {now}. \
         Check the timeline, then try again if your change is still needed."
    ))
}

/// Moves an incident from status `from` (what the caller saw) to `to` with a note, if the state
/// machine allows it and the status is still `from`.
pub async fn transition(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
    from: IncidentStatus,
    to: IncidentStatus,
    note_text: &str,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    transition_in(&mut tx, actor, number, (from, to), note_text).await?;
    tx.commit().await?;
    Ok(())
}

/// [`transition`] in the caller's transaction (`moves` is from → to).
pub async fn transition_in(
    conn: &mut AnyConnection,
    actor: &Actor,
    number: IncidentNumber,
    (from, to): (IncidentStatus, IncidentStatus),
    note_text: &str,
) -> Result<(), AppError> {
    let note = note(note_text)?;
    change_in(
        conn,
        actor,
        number,
        true,
        (None, None),
        |state, now, published| {
            let current = state.status;
            if current != from {
                return Err(changed_meanwhile(number, "status", current.label()));
            }
            check_transition(current, to, &note, published).map_err(|e| match e {
                TransitionError::NoteRequired => AppError::field("note", e.to_string()),
                TransitionError::NotAllowed { .. } | TransitionError::PostmortemNotPublished => {
                    AppError::Conflict(e.to_string())
                }
            })?;
            state.timestamps.apply_transition(current, to, now);
            state.status = to;
            Ok(EventData::StatusChanged {
                from: current,
                to,
                note,
            })
        },
    )
    .await?;
    Ok(())
}

/// Changes the severity from `from` (what the caller saw) to `to`, with a note.
pub async fn change_severity(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
    from: Severity,
    to: Severity,
    note_text: &str,
) -> Result<(), AppError> {
    let note = note(note_text)?;
    change(pool, actor, number, true, (None, None), |state, _, _| {
        let current = state.severity;
        if current != from {
            return Err(changed_meanwhile(number, "severity", current.label()));
        }
        if current == to {
            return Err(AppError::field(
                "severity",
                format!("{number} is already {to}."),
            ));
        }
        state.severity = to;
        Ok(EventData::SeverityChanged {
            from: current,
            to,
            note,
        })
    })
    .await?;
    Ok(())
}

/// Gives `role` to the user named `username` (blank clears it), if it is still held by `holder`
/// (what the caller saw; blank for nobody). A new holder replacing an old one is recorded as a
/// handover.
pub async fn assign_role(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
    role: IncidentRole,
    holder: &str,
    username: &str,
) -> Result<(), AppError> {
    let name = username.trim().to_ascii_lowercase();
    let seen = Some(holder.trim().to_ascii_lowercase()).filter(|h| !h.is_empty());
    let new_holder = if name.is_empty() {
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
    change(pool, actor, number, true, (None, None), |state, _, _| {
        let previous = state.holder_name(role).map(str::to_owned);
        if previous != seen {
            let now = previous.as_deref().unwrap_or("nobody");
            return Err(changed_meanwhile(
                number,
                &format!("{} role", role.label().to_lowercase()),
                &format!("held by {now}"),
            ));
        }
        let new_id = new_holder.as_ref().map(|(id, _)| id.clone());
        if state.holder(role).map(str::to_owned) == new_id {
            return Err(AppError::field(
                "username",
                if new_id.is_some() {
                    "That person already holds this role."
                } else {
                    "Nobody holds this role: there is nothing to clear."
                },
            ));
        }
        state.set_holder(role, new_id);
        Ok(EventData::RoleAssigned {
            role,
            user: new_holder.map(|(_, name)| name),
            previous,
        })
    })
    .await?;
    Ok(())
}

/// Records when customer impact began (blank clears it): at or before detection.
pub async fn set_impact_start(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
    impact_started_at: &str,
) -> Result<(), AppError> {
    let now = Utc::now();
    change(pool, actor, number, true, (None, None), |state, _, _| {
        let at = parse_impact_start(impact_started_at, state.timestamps.detected_at, now)
            .map_err(|m| AppError::field("impact_started_at", m))?;
        state.timestamps.impact_started_at = at;
        Ok(EventData::ImpactStartSet { at })
    })
    .await?;
    Ok(())
}

/// Records that the impact is mitigated (while mitigating, once: a second mark is refused).
pub async fn mark_mitigated(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
    note_text: &str,
) -> Result<(), AppError> {
    let note = note(note_text)?;
    change(pool, actor, number, true, (None, None), |state, now, _| {
        if state.status != IncidentStatus::Mitigating || state.timestamps.mitigated_at.is_some() {
            return Err(AppError::Conflict(
                "Impact can be marked mitigated once, while the incident is mitigating.".into(),
            ));
        }
        state.timestamps.mitigate(now);
        Ok(EventData::Mitigated { note })
    })
    .await?;
    Ok(())
}

/// Adds a note to the timeline; `occurred_at` (UTC, blank for now) may be earlier than now.
/// With `corrects` (an event id of the same incident) the note is a correction of that event:
/// the timeline is append-only, so a mistake is corrected by a new entry pointing at it.
/// Notes never conflict with anything, and never make another change conflict.
pub async fn add_note(
    pool: &AnyPool,
    actor: &Actor,
    number: IncidentNumber,
    body: &str,
    occurred_at: &str,
    corrects: Option<&str>,
) -> Result<EventId, AppError> {
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
        false,
        (Some(occurred), corrects),
        |_, _, _| Ok(EventData::NoteAdded { body }),
    )
    .await
}
