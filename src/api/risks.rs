//! Risk board server functions: the board and one event (viewer+), and what a responder does
//! from an event — acknowledge, silence, declare an incident, link one, run a plan.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::AppError;
use crate::model::alert::{RiskBoard, RiskEvent};
use crate::model::matcher::Silence;

/// Everything the page of one event shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskDetail {
    /// The event.
    pub event: RiskEvent,
    /// Its latest receipts (when, and what each said), newest first.
    pub received: Vec<(chrono::DateTime<chrono::Utc>, String)>,
    /// Runs started for it.
    pub runs: Vec<i64>,
    /// The silence muting it, if one does.
    pub silence: Option<Silence>,
    /// Matchers that pick it out, one per line (a new silence starts from them).
    pub matchers: String,
    /// Incidents it can be linked to (open or mitigating): number and title.
    pub open_incidents: Vec<(String, String)>,
    /// Plans it can run (self-recovery and emergency, enabled): number and name.
    pub plans: Vec<(i64, String)>,
}

/// The risk board: one tab's events with every tab's count (viewer+).
#[server(endpoint = "risk_board")]
pub async fn get_risk_board(
    status: String,
    service: String,
    severity: String,
    source: String,
    q: String,
) -> Result<RiskBoard, AppError> {
    use crate::model::Role;
    use crate::model::alert::RiskQuery;
    use crate::server::repo::risk_events;
    use crate::server::{auth, service::alerts};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    let blank = |s: String| (!s.trim().is_empty()).then_some(s);
    let filter = RiskQuery {
        status: blank(status),
        service: blank(service),
        severity: blank(severity),
        source: blank(source),
        q: blank(q),
    }
    .check()?;
    let stamp = risk_events::stamp(&state.pool).await?;
    let events = alerts::list(&state.pool, &filter).await?;
    let (open, acknowledged, silenced) = risk_events::counts(&state.pool, &filter).await?;
    Ok(RiskBoard {
        capped: events.len() as i64 >= risk_events::LIST_CAP,
        events,
        counts: crate::model::alert::RiskCounts {
            open,
            acknowledged,
            silenced,
        },
        stamp,
        as_of: chrono::Utc::now(),
    })
}

/// What changes whenever any event changes (viewer+): the board polls it.
#[server(endpoint = "risk_board_stamp")]
pub async fn risk_board_stamp() -> Result<String, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo::risk_events};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    risk_events::stamp(&state.pool).await
}

#[cfg(feature = "ssr")]
fn parse_risk(number: &str) -> Result<i64, AppError> {
    crate::model::alert::parse_risk_number(number).ok_or(AppError::NotFound)
}

/// One event with what its page offers (viewer+).
#[server(endpoint = "get_risk")]
pub async fn get_risk(number: String) -> Result<RiskDetail, AppError> {
    use crate::model::Role;
    use crate::model::catalog::Scene;
    use crate::model::matcher::{format_matchers, matchers_for};
    use crate::server::repo::{incidents, plans, risk_events};
    use crate::server::{auth, service::alert_rules, service::alerts};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    let number = parse_risk(&number)?;
    let event = alerts::read(&state.pool, number).await?;
    let silence = match &event.silenced_by {
        Some(id) => alerts::silence(&state.pool, id).await.ok(),
        None => None,
    };
    let matchers = format_matchers(&matchers_for(&event.labels));
    Ok(RiskDetail {
        received: risk_events::received_for(&state.pool, number, 20).await?,
        runs: alert_rules::runs_of(&state.pool, number).await?,
        open_incidents: incidents::active_titles(&state.pool).await?,
        plans: plans::list(&state.pool)
            .await?
            .into_iter()
            .filter(|p| p.enabled && matches!(p.scene, Scene::SelfRecovery | Scene::Emergency))
            .map(|p| (p.number, p.name))
            .collect(),
        silence,
        matchers,
        event,
    })
}

/// Acknowledges an event (responder+): someone is on it.
#[server(endpoint = "acknowledge_risk")]
pub async fn acknowledge_risk(number: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::alerts};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    alerts::acknowledge(&state.pool, &actor, parse_risk(&number)?).await?;
    Ok(())
}

/// Silences what matches `matchers` (prefilled from an event's labels) for `hours` (responder+).
#[server(endpoint = "silence_risk")]
pub async fn silence_risk(
    number: String,
    matchers: String,
    hours: String,
    comment: String,
) -> Result<(), AppError> {
    let number = parse_risk(&number)?;
    super::alerting::silence_from_form(&matchers, &hours, comment).await?;
    super::ssr::redirect_plain_form(&format!("/risks/{number}"));
    Ok(())
}

/// Declares an incident from an event, linked to it (responder+); returns its number.
#[server(endpoint = "declare_from_risk")]
pub async fn declare_from_risk(
    number: String,
    title: String,
    severity: String,
    services: String,
) -> Result<crate::model::incident::IncidentNumber, AppError> {
    use crate::model::Role;
    use crate::model::incident_input::NewIncident;
    use crate::server::{auth, service::alert_rules};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    let number = parse_risk(&number)?;
    let new = NewIncident::parse(
        &title,
        &format!("Declared from RISK-{number}."),
        &severity,
        &services,
        "alert",
        "",
        chrono::Utc::now(),
    )?;
    let incident = alert_rules::declare_from_event(&state.pool, &actor, number, &new).await?;
    super::ssr::redirect_plain_form(&format!("/incidents/{incident}"));
    Ok(incident)
}

/// Links an event to an open incident (responder+).
#[server(endpoint = "link_risk")]
pub async fn link_risk(number: String, incident: String) -> Result<(), AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::alert_rules};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    let number = parse_risk(&number)?;
    let incident = incident
        .parse()
        .map_err(|_| AppError::field("incident", "Choose an incident."))?;
    alert_rules::link_event(&state.pool, &actor, number, incident).await?;
    super::ssr::redirect_plain_form(&format!("/risks/{number}"));
    Ok(())
}

/// Runs a self-recovery or emergency plan for an event (responder+); returns the run's number.
#[server(endpoint = "run_plan_for_risk")]
pub async fn run_plan_for_risk(number: String, plan: String) -> Result<i64, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::alert_rules};
    let actor = auth::require_role(Role::Responder).await?;
    let state = auth::app_state()?;
    let number = parse_risk(&number)?;
    let plan: i64 = plan
        .trim()
        .trim_start_matches("PLAN-")
        .parse()
        .map_err(|_| AppError::field("plan", "Choose a plan."))?;
    let run = alert_rules::run_for_event(&state, &actor, number, plan).await?;
    super::ssr::redirect_plain_form(&format!("/runs/{run}"));
    Ok(run)
}

/// Every inspection with its latest runs, pass rate and open risk event (viewer+).
#[server(endpoint = "inspections")]
pub async fn get_inspections() -> Result<Vec<crate::model::inspection::Inspection>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, service::inspections};
    let actor = auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    inspections::list(&state.pool, &actor).await
}

/// The alerts (risk events) linked to incident `number`, newest first (viewer+).
#[server(endpoint = "incident_alerts")]
pub async fn incident_alerts(number: String) -> Result<Vec<RiskEvent>, AppError> {
    use crate::model::Role;
    use crate::server::{auth, repo::risk_events};
    auth::require_role(Role::Viewer).await?;
    let state = auth::app_state()?;
    let number = super::ssr::parse_number(&number)?;
    risk_events::of_incident(&state.pool, number.0).await
}
