//! Plan workflows: create and edit (every edit a new version, by compare-and-set; secrets kept
//! when the browser sends them back masked), read (masked) and list.

use chrono::Utc;
use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::plan::{PlanDraft, PlanView};
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::repo::plans as repo;

/// Creates a plan after validating it; returns its number.
pub async fn create(pool: &AnyPool, actor: &Actor, plan: PlanDraft) -> Result<i64, AppError> {
    let plan = plan.with_secrets_from(None);
    plan.validate()?;
    let mut tx = pool.begin().await?;
    let number = repo::insert(&mut tx, &plan, actor.id, to_millis(Utc::now())).await?;
    tx.commit().await?;
    tracing::info!(number, by = %actor.username, "plan created");
    Ok(number)
}

/// Saves `plan` as the next version of plan `number` if nobody saved since `based_on`.
pub async fn update(
    pool: &AnyPool,
    actor: &Actor,
    number: i64,
    plan: PlanDraft,
    based_on: i64,
) -> Result<i64, AppError> {
    let current = repo::find(pool, number, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let plan = plan.with_secrets_from(Some(&current.plan));
    plan.validate()?;
    let mut tx = pool.begin().await?;
    let saved = repo::save_version(
        &mut tx,
        number,
        &plan,
        based_on,
        actor.id,
        to_millis(Utc::now()),
    )
    .await?;
    if !saved {
        return Err(AppError::Conflict(format!(
            "Someone else saved this plan after you opened it (it is now at version {}). \
             Your changes are still in the editor: reload to see theirs, then apply yours again.",
            current.current_version
        )));
    }
    tx.commit().await?;
    Ok(based_on + 1)
}

/// Plan `number` at `version` (newest when `None`), secrets masked.
pub async fn view(pool: &AnyPool, number: i64, version: Option<i64>) -> Result<PlanView, AppError> {
    let stored = repo::find(pool, number, version)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(PlanView {
        number,
        version: stored.version,
        current_version: stored.current_version,
        plan: stored.plan.masked(),
    })
}

/// Pauses or resumes plan `number`'s schedule. Resuming starts from the first due time after
/// now (due times passed while paused are not made up); a disabled plan stays unscheduled.
pub async fn set_paused(
    pool: &AnyPool,
    actor: &Actor,
    number: i64,
    paused: bool,
) -> Result<(), AppError> {
    if !actor.role.allows(crate::model::Role::Responder) {
        return Err(AppError::Forbidden);
    }
    let current = repo::find(pool, number, None)
        .await?
        .ok_or(AppError::NotFound)?;
    let next = match (&current.plan.schedule, paused) {
        (Some(schedule), false) if current.plan.enabled => {
            schedule.next_after(Utc::now()).map(to_millis)
        }
        _ => None,
    };
    if !crate::server::repo::schedules::set_paused(pool, number, paused, next).await? {
        return Err(AppError::Conflict("This plan has no schedule.".into()));
    }
    tracing::info!(number, paused, by = %actor.username, "plan schedule paused or resumed");
    Ok(())
}

/// Plan `number` at `version` (its newest when `None`) as `actor` may see it: a viewer does not
/// read step parameters.
pub async fn read(
    pool: &AnyPool,
    actor: &Actor,
    number: i64,
    version: Option<i64>,
) -> Result<PlanView, AppError> {
    let mut view = view(pool, number, version).await?;
    if !actor.allows(crate::model::Role::Responder) {
        view.plan = view.plan.withheld();
    }
    Ok(view)
}
