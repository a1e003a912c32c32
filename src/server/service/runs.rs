//! Run workflows: create a run of a plan's newest version with the run-time answers (which never
//! touch the plan), and mark what a crash left unfinished as interrupted at start-up.

use std::collections::BTreeMap;

use chrono::Utc;
use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::plan::is_secret;
use crate::model::run::Trigger;
use crate::server::repo::plans as plan_repo;
use crate::server::repo::runs as repo;
use crate::server::repo::users::UserRecord;

/// A run ready to execute: its number and the parameter values of every step (secrets in clear,
/// kept in memory only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The run's number.
    pub number: i64,
    /// Values per step, in order.
    pub params: Vec<BTreeMap<String, String>>,
}

/// Creates a pending run of plan `plan_number` with `answers` for its open parameters.
pub async fn create(
    pool: &AnyPool,
    actor: Option<&UserRecord>,
    plan_number: i64,
    trigger: Trigger,
    answers: &BTreeMap<String, String>,
) -> Result<Prepared, AppError> {
    let plan = plan_repo::find(pool, plan_number, None)
        .await?
        .ok_or(AppError::NotFound)?;
    if !plan.plan.enabled {
        return Err(AppError::Conflict(
            "This plan is disabled: enable it to run it.".into(),
        ));
    }
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
    let mut tx = pool.begin().await?;
    let number = repo::insert(
        &mut tx,
        &plan,
        trigger,
        actor.map(|a| a.id),
        None,
        &shown,
        Utc::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Prepared { number, params })
}

/// At start-up: runs a crash left pending, running or waiting become interrupted (their
/// completed steps are kept). Returns how many.
pub async fn interrupt_leftovers(pool: &AnyPool) -> Result<usize, AppError> {
    let numbers = repo::interrupt_unfinished(pool, Utc::now()).await?;
    if !numbers.is_empty() {
        tracing::warn!(runs = ?numbers, "runs left unfinished by the last shutdown are marked interrupted");
    }
    Ok(numbers.len())
}
