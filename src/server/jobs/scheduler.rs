//! The drill scheduler: one loop per server instance. Each tick reads the plans whose next due
//! time has come (a range read of the next-due index, never a scan of all plans), claims each
//! due time by compare-and-set on the plan row — moving it to the next due time after now, so
//! a due time is fired by exactly one instance and missed ones after downtime fire once — and,
//! in the same transaction, starts the run, skips it (policy "forbid" with a run still active)
//! or refuses it (an open parameter without a default), recording what it did in the plan's
//! schedule history. Runs go to the executor after the transaction commits.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::AnyPool;

use crate::model::AppError;
use crate::model::run::Trigger;
use crate::model::schedule::{Concurrency, ScheduleOutcome, catch_up};
use crate::server::db::{from_millis, to_millis};
use crate::server::jobs::executor::Executor;
use crate::server::repo::plans as plan_repo;
use crate::server::repo::runs as run_repo;
use crate::server::repo::schedules::{self as repo, DuePlan, NewEvent};
use crate::server::service::runs::{self as run_service, Prepared};

/// Most due plans handled in one tick (the rest are next tick's, a moment later).
pub const BATCH: i64 = 200;

/// Longest sleep between ticks: a plan saved on another instance is seen within this.
pub const MAX_SLEEP: Duration = Duration::from_secs(1);

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// Due plans read.
    pub due: usize,
    /// Due times this instance claimed.
    pub claimed: usize,
    /// Runs started.
    pub started: usize,
    /// Due times skipped (a run still active).
    pub skipped: usize,
    /// Due times refused (the run could not start).
    pub refused: usize,
}

/// What became of one claimed due time, before the transaction commits.
enum Fired {
    Started(Box<Prepared>, Vec<i64>),
    Skipped(String),
    Refused(String),
}

/// The scheduler of one instance.
#[derive(Clone)]
pub struct Scheduler {
    pool: AnyPool,
    executor: Executor,
}

impl Scheduler {
    /// A scheduler handing its runs to `executor`.
    pub fn new(pool: AnyPool, executor: Executor) -> Self {
        Self { pool, executor }
    }

    /// Handles every plan due at `now` (up to [`BATCH`]).
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Tick, AppError> {
        let due = repo::due(&self.pool, to_millis(now), BATCH).await?;
        let mut tick = Tick {
            due: due.len(),
            ..Tick::default()
        };
        for plan in due {
            match self.fire(&plan, now).await {
                Ok(None) => {}
                Ok(Some(outcome)) => {
                    tick.claimed += 1;
                    match outcome {
                        ScheduleOutcome::Started => tick.started += 1,
                        ScheduleOutcome::Skipped => tick.skipped += 1,
                        ScheduleOutcome::Refused => tick.refused += 1,
                    }
                }
                Err(e) => {
                    tracing::warn!(plan = plan.number, error = %e, "a scheduled run could not be fired; the next tick tries again");
                }
            }
        }
        Ok(tick)
    }

    /// Claims `plan`'s due time and acts on it; `None` when another instance claimed it first.
    async fn fire(
        &self,
        plan: &DuePlan,
        now: DateTime<Utc>,
    ) -> Result<Option<ScheduleOutcome>, AppError> {
        let Ok((cron, zone)) = plan.schedule.parse() else {
            // Saved schedules are validated; one that no longer parses (a time zone dropped
            // from the database, say) stops rather than being retried every tick.
            tracing::error!(
                plan = plan.number,
                "a stored schedule no longer parses: it is stopped"
            );
            let mut conn = self.pool.acquire().await?;
            repo::claim(&mut conn, &plan.id, plan.due_at, None).await?;
            return Ok(None);
        };
        let catchup = catch_up(&cron, &zone, from_millis(plan.due_at), now);
        let stored = plan_repo::find(&self.pool, plan.number, None)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut tx = self.pool.begin().await?;
        let next = catchup.next.map(to_millis);
        if !repo::claim(&mut tx, &plan.id, plan.due_at, next).await? {
            return Ok(None);
        }
        let active = run_repo::active_of_plan(&mut tx, &plan.id).await?;
        let policy = plan.schedule.concurrency;
        let fired = if !stored.plan.enabled {
            Fired::Refused("The plan is disabled.".to_owned())
        } else if policy == Concurrency::Forbid && !active.is_empty() {
            Fired::Skipped(format!(
                "Run #{} of this plan was still active (policy: forbid).",
                active[0]
            ))
        } else {
            match stored.plan.default_answers() {
                Err(reason) => Fired::Refused(reason),
                Ok(answers) => {
                    let replaced = if policy == Concurrency::Replace {
                        let by = "the schedule (replaced by a newer run)";
                        for number in &active {
                            run_repo::request_abort(&mut *tx, *number, by).await?;
                        }
                        active
                    } else {
                        Vec::new()
                    };
                    let started = run_service::insert(
                        &mut tx,
                        stored,
                        None,
                        Trigger::Schedule,
                        &answers,
                        None,
                    )
                    .await;
                    match started {
                        Ok(prepared) => Fired::Started(
                            Box::new(Prepared {
                                replaces: replaced.clone(),
                                ..prepared
                            }),
                            replaced,
                        ),
                        Err(AppError::Validation(errors)) => Fired::Refused(
                            errors
                                .into_iter()
                                .map(|e| format!("{}: {}", e.field, e.message))
                                .collect::<Vec<_>>()
                                .join(" "),
                        ),
                        Err(e) => return Err(e),
                    }
                }
            }
        };
        let (outcome, run, reason) = match &fired {
            Fired::Started(prepared, _) => (ScheduleOutcome::Started, Some(prepared.number), ""),
            Fired::Skipped(reason) => (ScheduleOutcome::Skipped, None, reason.as_str()),
            Fired::Refused(reason) => (ScheduleOutcome::Refused, None, reason.as_str()),
        };
        repo::insert_event(
            &mut tx,
            &NewEvent {
                plan_id: &plan.id,
                due_at: plan.due_at,
                fired_at: to_millis(now),
                outcome,
                run,
                missed: catchup.missed,
                reason,
            },
        )
        .await?;
        tx.commit().await?;
        if catchup.missed > 0 {
            tracing::warn!(
                plan = plan.number,
                missed = catchup.missed,
                "due times passed while no instance was running: fired once for all"
            );
        }
        match fired {
            Fired::Started(prepared, replaced) => {
                tracing::info!(
                    plan = plan.number,
                    run = prepared.number,
                    "scheduled run started"
                );
                for number in replaced {
                    self.executor.wake(number);
                }
                self.executor.submit(*prepared);
            }
            Fired::Skipped(reason) | Fired::Refused(reason) => {
                tracing::info!(plan = plan.number, outcome = outcome.as_str(), %reason, "scheduled due time not run");
            }
        }
        Ok(Some(outcome))
    }

    /// How long to sleep after a tick: until the earliest due time, at most [`MAX_SLEEP`].
    async fn sleep_for(&self) -> Duration {
        let earliest = repo::earliest_due(&self.pool).await.ok().flatten();
        let until = earliest.map(|ms| (from_millis(ms) - Utc::now()).to_std().unwrap_or_default());
        until.map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP))
    }

    /// The loop: tick, sleep until the next due time (at most a second), again.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let stuck = match self.tick(Utc::now()).await {
                    Ok(tick) => tick.claimed < tick.due,
                    Err(e) => {
                        tracing::warn!(error = %e, "a scheduler tick failed; it tries again");
                        true
                    }
                };
                // Never spin: a due time that could not be claimed (another instance holds
                // it, or the database failed) is looked at again a little later.
                let floor = if stuck {
                    Duration::from_millis(250)
                } else {
                    Duration::from_millis(10)
                };
                let pause = self.sleep_for().await;
                tokio::time::sleep(pause.max(floor).min(MAX_SLEEP)).await;
            }
        })
    }
}
