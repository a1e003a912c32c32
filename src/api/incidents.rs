//! Incident server functions: declare, list, read, and every change a commander or responder makes.

use leptos::prelude::*;

use crate::model::AppError;
use crate::model::incident::IncidentNumber;
use crate::model::incident_views::{IncidentDetail, IncidentPage};

#[cfg(feature = "ssr")]
use super::ssr::parse_number;

/// Declares an incident (responder+). A plain form post is sent on to the new incident's page.
#[server(endpoint = "declare_incident")]
pub async fn declare_incident(
    title: String,
    description: String,
    severity: String,
    services: String,
    tags: String,
    detected_at: String,
    #[server(default)] impact_started_at: String,
) -> Result<IncidentNumber, AppError> {
    use crate::model::Role;
    use crate::model::incident_input::NewIncident;
    use crate::server::{auth, service::incidents};
    let actor = auth::require_role(Role::Responder).await?;
    let new = NewIncident::parse_with_impact(
        &title,
        &description,
        &severity,
        &services,
        &tags,
        &detected_at,
        &impact_started_at,
        chrono::Utc::now(),
    )?;
    let state = auth::app_state()?;
    let number = incidents::declare(&state.pool, &actor, &new).await?;
    super::ssr::redirect_plain_form(&format!("/incidents/{number}"));
    Ok(number)
}

/// One page of the incident list (viewer+).
#[server(endpoint = "list_incidents")]
pub async fn list_incidents(
    status: String,
    severity: String,
    service: String,
    tag: String,
    q: String,
    sort: String,
    after: String,
) -> Result<IncidentPage, AppError> {
    use crate::model::Role;
    use crate::model::incident_views::IncidentFilter;
    use crate::server::{auth, repo::incidents};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    let filter = IncidentFilter {
        status,
        severity,
        service,
        tag,
        q,
        sort,
        after,
    };
    incidents::list(&state.pool, &filter).await
}

/// One incident with its timeline (viewer+).
#[server(endpoint = "get_incident")]
pub async fn get_incident(number: String) -> Result<IncidentDetail, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo::incidents};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    incidents::find_detail(&state.pool, parse_number(&number)?)
        .await?
        .ok_or(AppError::NotFound)
}

/// A stamp that moves whenever the incident or its timeline changes, polled by open pages (viewer+).
#[server(endpoint = "incident_version")]
pub async fn incident_version(number: String) -> Result<i64, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo::incidents};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    incidents::change_stamp(&state.pool, parse_number(&number)?)
        .await?
        .ok_or(AppError::NotFound)
}

/// Moves an incident from status `from` (what the page showed) to `to` with a note
/// (commander+). Refused as a conflict only if the status is no longer `from`.
#[server(endpoint = "transition_incident")]
pub async fn transition_incident(
    number: String,
    from: String,
    to: String,
    note: String,
) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::model::incident::IncidentStatus;
    use crate::server::{auth, service::incidents};
    let actor = auth::require_role(Role::Commander).await?;
    let from: IncidentStatus = AppError::parse_field("from", &from)?;
    let to: IncidentStatus = AppError::parse_field("to", &to)?;
    let state = auth::app_state()?;
    incidents::transition(&state.pool, &actor, parse_number(&number)?, from, to, &note).await
}

/// Changes an incident's severity from `from` (what the page showed) with a note (commander+).
#[server(endpoint = "change_severity")]
pub async fn change_severity(
    number: String,
    from: String,
    severity: String,
    note: String,
) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::model::incident::Severity;
    use crate::server::{auth, service::incidents};
    let actor = auth::require_role(Role::Commander).await?;
    let from: Severity = AppError::parse_field("from", &from)?;
    let severity: Severity = AppError::parse_field("severity", &severity)?;
    let state = auth::app_state()?;
    incidents::change_severity(
        &state.pool,
        &actor,
        parse_number(&number)?,
        from,
        severity,
        &note,
    )
    .await
}

/// Gives a role on an incident to `username`, taking it from `holder` (who held it when the page
/// was loaded; blank for nobody); a blank username clears it (commander+).
#[server(endpoint = "assign_role")]
pub async fn assign_role(
    number: String,
    role: String,
    holder: String,
    username: String,
) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::model::incident::IncidentRole;
    use crate::server::{auth, service::incidents};
    let actor = auth::require_role(Role::Commander).await?;
    let role: IncidentRole = AppError::parse_field("role", &role)?;
    let state = auth::app_state()?;
    incidents::assign_role(
        &state.pool,
        &actor,
        parse_number(&number)?,
        role,
        &holder,
        &username,
    )
    .await
}

/// Records when customer impact began, at or before detection; blank clears it (commander+).
#[server(endpoint = "set_impact_start")]
pub async fn set_impact_start(number: String, impact_started_at: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::incidents};
    let actor = auth::require_role(Role::Commander).await?;
    let state = auth::app_state()?;
    incidents::set_impact_start(
        &state.pool,
        &actor,
        parse_number(&number)?,
        &impact_started_at,
    )
    .await
}

/// Records that the impact is mitigated (commander+).
#[server(endpoint = "mark_mitigated")]
pub async fn mark_mitigated(number: String, note: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::incidents};
    let actor = auth::require_role(Role::Commander).await?;
    let state = auth::app_state()?;
    incidents::mark_mitigated(&state.pool, &actor, parse_number(&number)?, &note).await
}

/// Adds a note to the timeline, optionally about an earlier moment, optionally correcting an
/// earlier entry (responder+). A plain form post goes back to the incident page.
#[server(endpoint = "add_note")]
pub async fn add_note(
    number: String,
    body: String,
    occurred_at: String,
    corrects: Option<String>,
) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::incidents};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    let number = parse_number(&number)?;
    incidents::add_note(
        &state.pool,
        &actor,
        number,
        &body,
        &occurred_at,
        corrects.as_deref(),
    )
    .await?;
    super::ssr::redirect_plain_form(&format!("/incidents/{number}"));
    Ok(())
}

/// Usernames of enabled users who can hold an incident role (responder+), for pickers.
#[server(endpoint = "list_responders")]
pub async fn list_responders() -> Result<Vec<String>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo::users};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    users::responders(&state.pool).await
}
