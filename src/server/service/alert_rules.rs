//! What risk events do: alert rules (admin) that declare incidents, run self-recovery plans and
//! page notification channels by themselves, and a person's declare / link / run from an event.
//! Each action claims its place in the database first (one firing per rule and event, one
//! decision per rule and service at a time, one run per plan per cooldown), so several instances
//! evaluating the same event act once.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

use crate::model::alert::{RiskEvent, RiskStatus};
use crate::model::alert_rule::{AlertRule, RuleInput, incident_title};
use crate::model::catalog::Scene;
use crate::model::incident::{IncidentNumber, IncidentStatus};
use crate::model::incident_input::NewIncident;
use crate::model::matcher::MatcherSet;
use crate::model::notification::{RiskFacts, RuleFiring};
use crate::model::run::Trigger;
use crate::model::timeline::EventData;
use crate::model::{AppError, Role};
use crate::server::AppState;
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::repo::alert_rules as repo;
use crate::server::repo::incidents as incident_repo;
use crate::server::repo::plans as plan_repo;
use crate::server::service::{incidents, notifications, runs};

/// Every rule, in order.
pub async fn list(pool: &AnyPool) -> Result<Vec<AlertRule>, AppError> {
    let mut conn = pool.acquire().await?;
    repo::list(&mut conn).await
}

/// The plan a rule or a person may run for an event: a self-recovery or emergency plan.
async fn runnable_plan(
    pool: &AnyPool,
    number: i64,
    field: &str,
) -> Result<plan_repo::StoredPlan, AppError> {
    let plan = plan_repo::find(pool, number, None)
        .await?
        .ok_or_else(|| AppError::field(field, format!("There is no plan PLAN-{number}.")))?;
    if !matches!(plan.plan.scene, Scene::SelfRecovery | Scene::Emergency) {
        return Err(AppError::field(
            field,
            format!(
                "PLAN-{number} is a {} plan: an alert runs self-recovery and emergency plans only.",
                plan.plan.scene.label().to_lowercase()
            ),
        ));
    }
    Ok(plan)
}

/// Saves a rule (admin): `id` `None` makes a new one. Returns it.
pub async fn save(
    pool: &AnyPool,
    actor: &Actor,
    id: Option<&str>,
    input: &RuleInput,
) -> Result<AlertRule, AppError> {
    if !actor.allows(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    input.check()?;
    MatcherSet::compile(&input.matchers, "matchers")?.check_selective("matchers")?;
    let plan_id = match input.plan {
        Some(number) => Some(runnable_plan(pool, number, "plan").await?.id),
        None => None,
    };
    let mut conn = pool.acquire().await?;
    if !input.notify.is_empty() {
        let channels = crate::server::repo::notifications::channels(&mut conn).await?;
        if let Some(missing) = input
            .notify
            .iter()
            .find(|id| !channels.iter().any(|c| &c.id == *id))
        {
            let shown: String = missing.chars().take(40).collect();
            return Err(AppError::field(
                "notify",
                format!("There is no notification channel {shown:?}: it may have been deleted."),
            ));
        }
    }
    let id = match id {
        Some(id) => {
            if !repo::exists(&mut conn, id).await? {
                return Err(AppError::NotFound);
            }
            id.to_owned()
        }
        None => Uuid::now_v7().to_string(),
    };
    let position = repo::position_for(&mut conn, &id, input).await?;
    drop(conn);
    let mut tx = pool.begin().await?;
    repo::save(
        &mut tx,
        &id,
        input,
        position,
        plan_id.as_deref(),
        &actor.id.to_string(),
        to_millis(Utc::now()),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(rule = %id, by = %actor.username, "alert rule saved");
    list(pool)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::Internal)
}

/// Deletes a rule (admin).
pub async fn delete(pool: &AnyPool, actor: &Actor, id: &str) -> Result<(), AppError> {
    if !actor.allows(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let found = repo::delete(&mut tx, id).await?;
    tx.commit().await?;
    if found {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Applies the rules to events `numbers` (every unresolved, unmuted event when `None`): for each
/// event that is firing and not muted, the first enabled rule matching it acts once it is due.
/// Returns how many actions were taken. A failure on one event is logged and the others go on.
pub async fn evaluate(
    state: &AppState,
    numbers: Option<&[i64]>,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let rules: Vec<(AlertRule, MatcherSet)> = list(&state.pool)
        .await?
        .into_iter()
        .filter(|r| r.enabled)
        .filter_map(|r| {
            let set = MatcherSet::compile(&r.matchers, "matchers").ok()?;
            Some((r, set))
        })
        .collect();
    if rules.is_empty() {
        return Ok(0);
    }
    // Named events are read one by one (a delivery's few); by the clock, all in one read.
    let events = match numbers {
        Some(numbers) => {
            let mut events = Vec::with_capacity(numbers.len());
            for number in numbers {
                match crate::server::service::alerts::read(&state.pool, *number).await {
                    Ok(e) => events.push(e),
                    Err(AppError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            events
        }
        None => crate::server::repo::risk_events::unmuted(&state.pool).await?,
    };
    let mut taken = 0;
    for event in events {
        let number = event.id;
        if !matches!(event.status, RiskStatus::Open | RiskStatus::Acknowledged) {
            continue;
        }
        let Some((rule, _)) = rules.iter().find(|(_, set)| set.matches(&event.labels)) else {
            continue;
        };
        if !rule.is_due(event.count, event.first_seen, now) {
            continue;
        }
        let done = repo::firings(&state.pool, number).await?;
        let did = |action: &str| done.iter().any(|(r, a)| *r == rule.id && a == action);
        if rule.declare_incident && !did("declare") && event.incident.is_none() {
            match declare_by_rule(&state.pool, rule, &event).await {
                Ok(true) => taken += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(rule = %rule.name, event = number, error = e.summary(), "an alert rule could not declare")
                }
            }
        }
        if let Some(plan) = rule.plan
            && !did("run")
        {
            match run_by_rule(state, rule, plan, number, now).await {
                Ok(true) => taken += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(rule = %rule.name, event = number, error = e.summary(), "an alert rule could not run its plan")
                }
            }
        }
        // Last, so that the page can name the incident the rule just declared.
        if !rule.notify.is_empty() && !did("notify") {
            match page_by_rule(&state.pool, rule, &event, now).await {
                Ok(true) => taken += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(rule = %rule.name, event = number, error = e.summary(), "an alert rule could not page its channels")
                }
            }
        }
    }
    Ok(taken)
}

/// Declares an incident for `event` by `rule`, or links the event to the open incident the rule
/// declared for the same service. False when another instance took the event first.
async fn declare_by_rule(
    pool: &AnyPool,
    rule: &AlertRule,
    event: &RiskEvent,
) -> Result<bool, AppError> {
    let actor = Actor::alert_rules();
    let now = Utc::now();
    let ms = to_millis(now);
    let mut tx = pool.begin().await?;
    // The claim first (and the transaction's first write, for SQLite's sake).
    if !repo::claim_firing(&mut tx, &rule.id, event.id, "declare", ms).await? {
        return Ok(false);
    }
    let service = event.service.clone().unwrap_or_default();
    repo::lock_service(&mut tx, &rule.id, &service, ms).await?;
    let incident = match repo::open_incident_of(&mut tx, &rule.id, &service).await? {
        Some((id, number)) => {
            tracing::info!(event = event.id, incident = number, rule = %rule.name, "alert linked to the open incident of its rule");
            id
        }
        None => {
            let new = NewIncident::parse(
                &incident_title(event),
                &format!(
                    "Declared by the alert rule “{}” for RISK-{} from {}.",
                    rule.name, event.id, event.source
                ),
                rule.incident_severity(event).as_str(),
                event.service.as_deref().unwrap_or("unknown"),
                "alert",
                &event.first_seen.to_rfc3339(),
                now,
            )?;
            let number = incidents::declare_in(&mut tx, &actor, &new).await?;
            tracing::info!(event = event.id, incident = %number, rule = %rule.name, "incident declared by an alert rule");
            incident_repo::lock_for_change(&mut tx, number, false, ms)
                .await?
                .id
        }
    };
    link_in(&mut tx, event, incident, Some(&actor), ms).await?;
    tx.commit().await?;
    Ok(true)
}

/// Pages the channels `rule` names about `event` (those enabled), through the outbox. False when
/// another instance took the event first.
async fn page_by_rule(
    pool: &AnyPool,
    rule: &AlertRule,
    event: &RiskEvent,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let ms = to_millis(now);
    let mut tx = pool.begin().await?;
    if !repo::claim_firing(&mut tx, &rule.id, event.id, "notify", ms).await? {
        return Ok(false);
    }
    let incident: Option<i64> = sqlx::query_scalar(
        "SELECT i.number FROM risk_events e JOIN incidents i ON i.id = e.incident_id \
         WHERE e.number = $1",
    )
    .bind(event.id)
    .fetch_optional(&mut *tx)
    .await?;
    let message = RiskFacts::of(event).rule_fired(&RuleFiring {
        rule: rule.name.clone(),
        count: event.count,
        minutes_firing: (now - event.first_seen).num_minutes().max(0),
        incident: incident.map(|n| IncidentNumber(n).to_string()),
    });
    let written = notifications::page(&mut tx, &rule.notify, &message).await?;
    tx.commit().await?;
    tracing::info!(event = event.id, rule = %rule.name, channels = written, "alert rule paged its channels");
    Ok(true)
}

/// Links `event` to `incident` and writes "Alert linked" on its timeline, in the caller's
/// transaction.
async fn link_in(
    conn: &mut AnyConnection,
    event: &RiskEvent,
    incident: crate::model::incident::IncidentId,
    actor: Option<&Actor>,
    ms: i64,
) -> Result<(), AppError> {
    repo::link(&mut *conn, event.id, incident, ms).await?;
    let data = EventData::AlertLinked {
        event: event.id,
        summary: event.summary.clone(),
        source: event.source.clone(),
    };
    incident_repo::append_event(conn, incident, &data, ms, ms, actor.map(|a| a.id), None).await?;
    Ok(())
}

/// Runs plan `plan` for event `number` by `rule`, unless the plan is in its cooldown. False when
/// another instance took the event first or the plan is cooling down.
async fn run_by_rule(
    state: &AppState,
    rule: &AlertRule,
    plan: i64,
    number: i64,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let stored = runnable_plan(&state.pool, plan, "plan").await?;
    if !stored.plan.enabled {
        tracing::info!(plan, event = number, rule = %rule.name, "the rule's plan is disabled: not run");
        return Ok(false);
    }
    let ms = to_millis(now);
    let cutoff = to_millis(now - chrono::Duration::minutes(i64::from(rule.cooldown_minutes)));
    let mut tx = state.pool.begin().await?;
    if !repo::claim_firing(&mut tx, &rule.id, number, "run", ms).await? {
        return Ok(false);
    }
    if !repo::claim_cooldown(&mut tx, &stored.id, ms, cutoff).await? {
        // Claimed for this occurrence all the same: a cooled-down plan is not run late.
        tx.commit().await?;
        tracing::info!(plan, event = number, rule = %rule.name, "plan in its alert cooldown: not run");
        return Ok(false);
    }
    let incident = linked_incident(&mut tx, number).await?;
    let actor = Actor::alert_rules();
    let prepared = runs::insert(
        &mut tx,
        stored,
        Some(&actor),
        Trigger::Alert,
        &BTreeMap::new(),
        incident,
    )
    .await?;
    repo::record_run(&mut tx, number, prepared.number, Some(&rule.id), ms).await?;
    tx.commit().await?;
    tracing::info!(run = prepared.number, event = number, rule = %rule.name, "plan run by an alert rule");
    state.executor.submit(prepared);
    Ok(true)
}

/// The incident event `number` is linked to, when it is still open to timeline entries.
async fn linked_incident(
    conn: &mut AnyConnection,
    number: i64,
) -> Result<Option<crate::model::incident::IncidentId>, AppError> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT i.id, i.status FROM risk_events e JOIN incidents i ON i.id = e.incident_id \
         WHERE e.number = $1",
    )
    .bind(number)
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|(id, status)| {
        (status != IncidentStatus::Reviewed.as_str())
            .then(|| id.parse().ok())
            .flatten()
    }))
}

/// Declares an incident from event `number` as `actor` (responder+), linked to it; returns the
/// incident's number.
pub async fn declare_from_event(
    pool: &AnyPool,
    actor: &Actor,
    number: i64,
    new: &NewIncident,
) -> Result<IncidentNumber, AppError> {
    if !actor.allows(Role::Responder) {
        return Err(AppError::Forbidden);
    }
    let event = crate::server::service::alerts::read(pool, number).await?;
    if event.incident.is_some() {
        return Err(AppError::Conflict(format!(
            "{} is already linked to {}.",
            event.name(),
            event.incident.unwrap_or_default()
        )));
    }
    let ms = to_millis(Utc::now());
    let mut tx = pool.begin().await?;
    // The claim first: of two declarations from one event at once, the second finds it linked.
    if !repo::claim_unlinked(&mut tx, number, ms).await? {
        return Err(AppError::Conflict(format!(
            "{} was just linked to an incident: reload to see which.",
            event.name()
        )));
    }
    let incident = incidents::declare_in(&mut tx, actor, new).await?;
    let id = incident_repo::lock_for_change(&mut tx, incident, false, ms)
        .await?
        .id;
    link_in(&mut tx, &event, id, Some(actor), ms).await?;
    tx.commit().await?;
    tracing::info!(event = number, %incident, by = %actor.username, "incident declared from a risk event");
    Ok(incident)
}

/// Links event `number` to incident `incident` as `actor` (responder+).
pub async fn link_event(
    pool: &AnyPool,
    actor: &Actor,
    number: i64,
    incident: IncidentNumber,
) -> Result<(), AppError> {
    if !actor.allows(Role::Responder) {
        return Err(AppError::Forbidden);
    }
    let event = crate::server::service::alerts::read(pool, number).await?;
    if event.incident.as_deref() == Some(incident.to_string().as_str()) {
        return Ok(());
    }
    let ms = to_millis(Utc::now());
    let mut tx = pool.begin().await?;
    let state = match incident_repo::lock_for_change(&mut tx, incident, false, ms).await {
        Err(AppError::NotFound) => {
            return Err(AppError::field(
                "incident",
                format!("There is no incident {incident}."),
            ));
        }
        other => other?,
    };
    if state.status == IncidentStatus::Reviewed {
        return Err(AppError::field(
            "incident",
            format!("{incident} is reviewed and closed: its timeline is final."),
        ));
    }
    link_in(&mut tx, &event, state.id, Some(actor), ms).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs plan `plan` (self-recovery or emergency) for event `number` as `actor` (responder+);
/// the run is written on the event, and on the linked incident's timeline. Returns its number.
pub async fn run_for_event(
    state: &AppState,
    actor: &Actor,
    number: i64,
    plan: i64,
) -> Result<i64, AppError> {
    if !actor.allows(Role::Responder) {
        return Err(AppError::Forbidden);
    }
    let event = crate::server::service::alerts::read(&state.pool, number).await?;
    let stored = runnable_plan(&state.pool, plan, "plan").await?;
    if !stored.plan.enabled {
        return Err(AppError::field(
            "plan",
            "This plan is disabled: enable it to run it.",
        ));
    }
    // Read before the transaction, whose first statement must write on SQLite.
    let incident = match event.incident.as_deref().map(str::parse::<IncidentNumber>) {
        Some(Ok(n)) => incident_repo::id_and_status(&state.pool, n)
            .await?
            .filter(|(_, status)| *status != IncidentStatus::Reviewed)
            .map(|(id, _)| id),
        _ => None,
    };
    let ms = to_millis(Utc::now());
    let mut tx = state.pool.begin().await?;
    let prepared = runs::insert(
        &mut tx,
        stored,
        Some(actor),
        Trigger::Alert,
        &BTreeMap::new(),
        incident,
    )
    .await?;
    repo::record_run(&mut tx, number, prepared.number, None, ms).await?;
    tx.commit().await?;
    let run = prepared.number;
    state.executor.submit(prepared);
    Ok(run)
}

/// The runs started for event `number`.
pub async fn runs_of(pool: &AnyPool, number: i64) -> Result<Vec<i64>, AppError> {
    repo::runs_of(pool, number).await
}

/// Writes "Alert resolved" on the timeline of the incident resolved event `number` is linked
/// to (unless that incident is reviewed), in the caller's transaction.
pub async fn note_resolved_in(
    conn: &mut AnyConnection,
    number: i64,
    ms: i64,
) -> Result<(), AppError> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT i.id, i.status, e.summary FROM risk_events e JOIN incidents i ON i.id = e.incident_id \
         WHERE e.number = $1",
    )
    .bind(number)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, status, summary)) = row else {
        return Ok(());
    };
    if status == IncidentStatus::Reviewed.as_str() {
        return Ok(());
    }
    let id = id
        .parse()
        .map_err(|_| crate::server::repo::corrupt("incidents", "id"))?;
    let data = EventData::AlertResolved {
        event: number,
        summary,
    };
    incident_repo::append_event(conn, id, &data, ms, ms, None, None).await?;
    Ok(())
}
