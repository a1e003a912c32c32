//! Run workflows: create a run of a plan's newest version with the run-time answers (which never
//! touch the plan), a person's decisions on waiting steps and abort requests (commander+; a
//! manual check's verdict responder+), the incident timeline of runs made for an incident, and
//! runs whose executor died marked interrupted.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool};

use crate::model::incident::{IncidentId, IncidentNumber, IncidentStatus};
use crate::model::notification::RunFacts;
use crate::model::plan::{Step, is_secret};
use crate::model::run::{Awaiting, Decision, NOTE_MAX, RunStatus, RunSummary, RunView, Trigger};
use crate::model::timeline::EventData;
use crate::model::{AppError, Role};
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::repo::incidents as incident_repo;
use crate::server::repo::plans::{self as plan_repo, StoredPlan};
use crate::server::repo::runs::{self as repo, StepUpdate};
use crate::server::service::notifications::notify;

/// A run ready to execute: what the executor needs, secrets in clear (kept in memory only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The run's number.
    pub number: i64,
    /// The plan's name at the version run.
    pub plan_name: String,
    /// The plan's number.
    pub plan_number: i64,
    /// What the plan is for (an inspection's result becomes a risk event).
    pub scene: crate::model::catalog::Scene,
    /// The service the plan targets.
    pub service: String,
    /// The steps of that version.
    pub steps: Vec<Step>,
    /// Values per step, in order.
    pub params: Vec<BTreeMap<String, String>>,
    /// The incident it runs for, whose timeline records it.
    pub incident: Option<IncidentId>,
    /// Runs of the same plan this one replaces (schedule policy "replace"): it starts once they
    /// have stopped, so two runs of one plan never overlap.
    pub replaces: Vec<i64>,
}

impl Prepared {
    /// Every secret value of the run (masked wherever output is shown).
    pub fn secrets(&self) -> Vec<&str> {
        self.steps
            .iter()
            .zip(&self.params)
            .flat_map(|(step, values)| {
                values
                    .iter()
                    .filter(|(k, _)| is_secret(&step.action, k))
                    .map(|(_, v)| v.as_str())
            })
            .collect()
    }
}

/// Creates a pending run of plan `plan_number` with `answers` for its open parameters (keyed
/// `steps.N.name`), for incident `incident` when given.
pub async fn create(
    pool: &AnyPool,
    actor: Option<&Actor>,
    plan_number: i64,
    trigger: Trigger,
    answers: &BTreeMap<String, String>,
    incident: Option<IncidentNumber>,
) -> Result<Prepared, AppError> {
    let plan = plan_repo::find(pool, plan_number, None)
        .await?
        .ok_or(AppError::NotFound)?;
    if !plan.plan.enabled {
        return Err(AppError::Conflict(
            "This plan is disabled: enable it to run it.".into(),
        ));
    }
    let incident_id = match incident {
        None => None,
        Some(number) => match incident_repo::id_and_status(pool, number).await? {
            None => return Err(AppError::field("incident", "No such incident.")),
            Some((_, IncidentStatus::Reviewed)) => {
                return Err(AppError::field(
                    "incident",
                    format!("{number} is reviewed and closed: its timeline is final."),
                ));
            }
            Some((id, _)) => Some(id),
        },
    };
    let mut tx = pool.begin().await?;
    let prepared = insert(&mut tx, plan, actor, trigger, answers, incident_id).await?;
    tx.commit().await?;
    Ok(prepared)
}

/// Writes a pending run of `plan` in the caller's transaction: the open parameters answered by
/// `answers` (a wrong answer is refused before anything is written), the values used (secrets
/// masked), the start on the incident's timeline. The scheduler calls this inside its claim.
pub async fn insert(
    conn: &mut AnyConnection,
    plan: StoredPlan,
    actor: Option<&Actor>,
    trigger: Trigger,
    answers: &BTreeMap<String, String>,
    incident_id: Option<IncidentId>,
) -> Result<Prepared, AppError> {
    let params = plan.plan.resolve(answers)?;
    let shown: Vec<BTreeMap<&str, &str>> = plan
        .plan
        .steps
        .iter()
        .zip(&params)
        .map(|(step, values)| {
            values
                .iter()
                .map(|(k, v)| {
                    let shown = if is_secret(&step.action, k) && !v.is_empty() {
                        "******"
                    } else {
                        v.as_str()
                    };
                    (k.as_str(), shown)
                })
                .collect()
        })
        .collect();
    let shown = serde_json::to_value(shown).map_err(|_| AppError::Internal)?;
    let now = Utc::now();
    let id_text = incident_id.map(|i| i.to_string());
    let number = repo::insert(
        &mut *conn,
        &plan,
        trigger,
        actor.map(|a| a.id),
        id_text.as_deref(),
        &shown,
        now,
    )
    .await?;
    if let Some(incident) = incident_id {
        let data = EventData::RunStarted {
            run: number,
            plan: plan.plan.name.clone(),
        };
        let ms = to_millis(now);
        incident_repo::append_event(
            &mut *conn,
            incident,
            &data,
            ms,
            ms,
            actor.map(|a| a.id),
            None,
        )
        .await?;
    }
    tracing::info!(
        run = number,
        plan = plan.number,
        trigger = trigger.as_str(),
        "run created"
    );
    Ok(Prepared {
        number,
        plan_number: plan.number,
        scene: plan.plan.scene,
        service: plan.plan.service,
        plan_name: plan.plan.name,
        steps: plan.plan.steps,
        params,
        incident: incident_id,
        replaces: Vec::new(),
    })
}

/// Records a person's answer to the waiting step `index` of run `number`: confirm or skip a
/// gate (commander+), pass / fail / skip a manual check (a verdict is responder+, a skip
/// commander+).
pub async fn decide(
    pool: &AnyPool,
    actor: &Actor,
    number: i64,
    index: usize,
    decision: Decision,
    note: &str,
) -> Result<(), AppError> {
    let needed = match decision {
        Decision::Pass | Decision::Fail => Role::Responder,
        Decision::Confirm | Decision::Skip => Role::Commander,
    };
    if !actor.role.allows(needed) {
        return Err(AppError::Forbidden);
    }
    let note = note.trim();
    if note.chars().count() > NOTE_MAX {
        return Err(AppError::field(
            "note",
            format!("At most {NOTE_MAX} characters."),
        ));
    }
    if decision == Decision::Fail && note.is_empty() {
        return Err(AppError::field(
            "note",
            "Say what you saw: a failed check needs a comment.",
        ));
    }
    if !repo::exists(pool, number).await? {
        return Err(AppError::NotFound);
    }
    if !repo::decide(pool, number, index, decision, note, &actor.username).await? {
        return Err(AppError::Conflict(
            "This step is no longer waiting for that answer (someone answered first, or the run moved on).".into(),
        ));
    }
    tracing::info!(run = number, step = index, decision = decision.as_str(), by = %actor.username, "run step decided");
    Ok(())
}

/// Records a person's answer (as [`decide`]) and wakes the run's executor so the run goes on at
/// once: what the page's server function and the REST API both call.
pub async fn answer(
    state: &crate::server::AppState,
    actor: &Actor,
    number: i64,
    index: usize,
    decision: Decision,
    note: &str,
) -> Result<(), AppError> {
    decide(&state.pool, actor, number, index, decision, note).await?;
    state.executor.wake(number);
    Ok(())
}

/// Asks run `number` to stop (as [`abort`]) and wakes its executor so the step running is cut
/// off now: what the page's server function and the REST API both call.
pub async fn stop(
    state: &crate::server::AppState,
    actor: &Actor,
    number: i64,
) -> Result<(), AppError> {
    abort(&state.pool, actor, number).await?;
    state.executor.wake(number);
    Ok(())
}

/// Asks run `number` to stop (commander+): the step running is cut off and the run ends aborted.
pub async fn abort(pool: &AnyPool, actor: &Actor, number: i64) -> Result<(), AppError> {
    if !actor.role.allows(Role::Commander) {
        return Err(AppError::Forbidden);
    }
    if !repo::exists(pool, number).await? {
        return Err(AppError::NotFound);
    }
    if !repo::request_abort(pool, number, &actor.username).await? {
        return Err(AppError::Conflict("This run has already ended.".into()));
    }
    tracing::info!(run = number, by = %actor.username, "run abort requested");
    Ok(())
}

/// Writes run `number`'s review (responder+), once the run has finished.
pub async fn review(
    pool: &AnyPool,
    actor: &Actor,
    number: i64,
    findings: &str,
    changes: &str,
) -> Result<(), AppError> {
    if !actor.role.allows(Role::Responder) {
        return Err(AppError::Forbidden);
    }
    let (findings, changes) = crate::model::review::check_review(findings, changes)?;
    let run = repo::find(pool, number).await?.ok_or(AppError::NotFound)?;
    if !run.summary.status.is_finished() {
        return Err(AppError::Conflict(
            "Review the run once it has finished.".into(),
        ));
    }
    repo::save_review(
        pool,
        number,
        &findings,
        &changes,
        actor.id,
        to_millis(Utc::now()),
    )
    .await?;
    tracing::info!(run = number, by = %actor.username, "run reviewed");
    Ok(())
}

/// Ends run `number` with `status` at `now` and stores its score (interrupted runs get none) in
/// the same statement, so nobody ever reads a finished run without its score; the channels
/// hear of it in the same transaction. `false` when the run had already ended (marked
/// interrupted elsewhere): it is left as it is.
pub async fn finish(
    pool: &AnyPool,
    number: i64,
    status: RunStatus,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some(mut run) = repo::find(pool, number).await? else {
        return Err(AppError::NotFound);
    };
    run.summary.status = status;
    run.summary.finished_at = Some(now);
    let score = crate::model::score::score(&run);
    let facts = facts(pool, &run.summary).await?;
    let mut tx = pool.begin().await?;
    if !repo::finish(&mut *tx, number, status, now, score.as_ref()).await? {
        return Ok(false);
    }
    let scored = score
        .as_ref()
        .map(|s| (s.points, s.verdict == crate::model::score::Verdict::Pass));
    notify(&mut tx, &facts.finished(status, scored)).await?;
    tx.commit().await?;
    Ok(true)
}

/// Marks run `number` as waiting for a person at step `index` (named `step`), and tells the
/// channels who may answer, in one transaction. `false` when the run had ended meanwhile.
pub async fn wait_for_person(
    pool: &AnyPool,
    number: i64,
    index: usize,
    step: &str,
    awaiting: Awaiting,
) -> Result<bool, AppError> {
    let run = repo::find(pool, number).await?.ok_or(AppError::NotFound)?;
    let facts = facts(pool, &run.summary).await?;
    let now = Utc::now();
    // The step's wait and the run's status are one write: a page drawn between the two would
    // show a run still "running" whose step already waits for its reader, and (without
    // JavaScript) stop refreshing itself on a status that never changes.
    let mut tx = pool.begin().await?;
    if !repo::set_step(&mut *tx, number, index, &StepUpdate::waiting(awaiting), now).await?
        || !repo::set_status(&mut *tx, number, RunStatus::WaitingForConfirmation, now).await?
    {
        return Ok(false);
    }
    notify(&mut tx, &facts.waiting(index, step, awaiting)).await?;
    tx.commit().await?;
    Ok(true)
}

/// A run as its notifications name it.
async fn facts(pool: &AnyPool, run: &RunSummary) -> Result<RunFacts, AppError> {
    Ok(RunFacts {
        number: run.number,
        plan: run.plan_name.clone(),
        service: repo::plan_service(pool, run.number).await?,
        incident: run.incident.clone(),
    })
}

/// Appends a run's progress to the timeline of the incident it runs for. Runs never change the
/// incident's version: a commander's pending edit is not refused because a step ended.
pub async fn record_on_timeline(
    pool: &AnyPool,
    incident: IncidentId,
    data: &EventData,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut conn = pool.acquire().await?;
    let ms = to_millis(at);
    incident_repo::append_event(&mut conn, incident, data, ms, ms, None, None).await?;
    Ok(())
}

/// How long an executor may go without a sign of life before its runs count as cut off.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::seconds(60);

/// Marks interrupted the runs whose executor stopped showing signs of life before
/// `stale_before` (a crash, a kill, a lost instance), noting it on their incidents' timelines.
/// Completed steps are kept. Returns how many.
pub async fn interrupt_stale(
    pool: &AnyPool,
    stale_before: DateTime<Utc>,
) -> Result<usize, AppError> {
    let now = Utc::now();
    let marked = repo::interrupt_stale(pool, stale_before, now).await?;
    for (number, incident) in &marked {
        tracing::warn!(
            run = number,
            "a run whose executor stopped is marked interrupted"
        );
        let Some(incident) = incident
            .as_deref()
            .and_then(|i| i.parse::<IncidentId>().ok())
        else {
            continue;
        };
        let plan = repo::find(pool, *number)
            .await?
            .map(|r| r.summary.plan_name)
            .unwrap_or_default();
        let data = EventData::RunEnded {
            run: *number,
            plan,
            status: RunStatus::Interrupted,
        };
        record_on_timeline(pool, incident, &data, now).await?;
    }
    Ok(marked.len())
}

/// "Run now": creates the run (manual, or for incident `incident` given as `INC-7`) and hands
/// it to the executor. Returns its number.
pub async fn start(
    state: &crate::server::AppState,
    actor: &Actor,
    plan: i64,
    answers: &BTreeMap<String, String>,
    incident: Option<&str>,
) -> Result<i64, AppError> {
    let incident = match incident.map(str::trim).filter(|i| !i.is_empty()) {
        None => None,
        Some(text) => Some(
            text.parse::<IncidentNumber>()
                .map_err(|_| AppError::field("incident", "No such incident."))?,
        ),
    };
    let trigger = if incident.is_some() {
        Trigger::Incident
    } else {
        Trigger::Manual
    };
    let prepared = create(&state.pool, Some(actor), plan, trigger, answers, incident).await?;
    let number = prepared.number;
    state.executor.submit(prepared);
    Ok(number)
}

/// Run `number` as `actor` may see it: a viewer does not read step output.
pub async fn read(pool: &AnyPool, actor: &Actor, number: i64) -> Result<RunView, AppError> {
    let run = repo::find(pool, number).await?.ok_or(AppError::NotFound)?;
    Ok(if actor.allows(Role::Responder) {
        run
    } else {
        run.without_output()
    })
}
