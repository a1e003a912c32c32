//! The run executor: runs execute in the background on a bounded pool of workers, separate from
//! request handling. A run's steps go in order and its state is written after every step, so a
//! crash loses at most the step under way: the executor's heartbeat stops, and any instance's
//! housekeeping marks the run interrupted with its completed steps kept.
//!
//! People act on a run through the database (a decision on a waiting step, an abort request), so
//! a request served by any instance reaches the run wherever it executes; the instance that
//! executes it is also woken at once when the request lands on it.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use tokio::sync::{Notify, Semaphore};

use crate::model::AppError;
use crate::model::catalog::{ActionCode, Scene, parse_duration};
use crate::model::plan::{OnFailure, Step};
use crate::model::run::{
    Awaiting, Decision, OUTPUT_MAX, RunStatus, StepStatus, mask_secrets, truncate_output,
};
use crate::model::timeline::EventData;
use crate::server::config::Config;
use crate::server::jobs::steps::{self, HttpCheck, HttpLimits, Outcome, Poll};
use crate::server::netpolicy::{NetPolicy, Reach};
use crate::server::repo::runs::{self as repo, StepUpdate};
use crate::server::service::inspections;
use crate::server::service::runs::{self as service, Prepared, STALE_AFTER};

/// How the executor behaves.
#[derive(Debug, Clone)]
pub struct ExecutorSettings {
    /// Runs executing at once; more wait (pending) for a free worker.
    pub workers: usize,
    /// Bounds on the HTTP calls steps make.
    pub limits: HttpLimits,
    /// Whether steps may call this server itself.
    pub allow_self_target: bool,
    /// The networks steps may reach.
    pub networks: NetPolicy,
    /// How often a waiting run looks for a decision made on another instance.
    pub poll_every: Duration,
    /// How often the executor says its runs are alive and looks for runs whose executor died.
    pub heartbeat_every: Duration,
    /// How long a run's executor may go without a sign of life before the run is interrupted.
    pub stale_after: chrono::Duration,
}

impl ExecutorSettings {
    /// The settings of the configuration.
    pub fn from_config(config: &Config) -> Self {
        Self {
            workers: config.run_workers.max(1),
            limits: HttpLimits::default(),
            allow_self_target: config.allow_self_target,
            networks: config.step_networks.clone(),
            poll_every: Duration::from_secs(1),
            heartbeat_every: Duration::from_secs(10),
            stale_after: STALE_AFTER,
        }
    }
}

/// Executes runs; cheap to clone (one shared pool of workers).
#[derive(Clone)]
pub struct Executor(Arc<Inner>);

struct Inner {
    pool: AnyPool,
    settings: ExecutorSettings,
    workers: Arc<Semaphore>,
    own_addrs: RwLock<Vec<SocketAddr>>,
    active: Mutex<HashMap<i64, Arc<Notify>>>,
}

impl Executor {
    /// An executor over `pool`.
    pub fn new(pool: AnyPool, settings: ExecutorSettings) -> Self {
        Self(Arc::new(Inner {
            workers: Arc::new(Semaphore::new(settings.workers)),
            pool,
            settings,
            own_addrs: RwLock::new(Vec::new()),
            active: Mutex::new(HashMap::new()),
        }))
    }

    /// The addresses this server listens on (steps may not call them unless allowed).
    pub fn set_own_addrs(&self, addrs: Vec<SocketAddr>) {
        if let Ok(mut own) = self.0.own_addrs.write() {
            *own = addrs;
        }
    }

    /// The addresses this server listens on.
    pub fn own_addrs(&self) -> Vec<SocketAddr> {
        self.0
            .own_addrs
            .read()
            .map(|o| o.clone())
            .unwrap_or_default()
    }

    /// Queues `run`; it starts when a worker is free. The handle ends with the run.
    pub fn submit(&self, run: Prepared) -> tokio::task::JoinHandle<()> {
        let wake = Arc::new(Notify::new());
        if let Ok(mut active) = self.0.active.lock() {
            active.insert(run.number, wake.clone());
        }
        let inner = self.0.clone();
        tokio::spawn(async move {
            let number = run.number;
            let seat = Seat::new(inner.workers.clone());
            seat.take().await;
            match inner.execute(run, &wake, &seat).await {
                Ok(()) => {}
                Err(Halt::Taken) => tracing::warn!(
                    run = number,
                    "the run was ended elsewhere (marked interrupted by another instance): it stops here"
                ),
                Err(Halt::Storage(e)) => {
                    tracing::error!(run = number, error = %e, "run execution stopped on a storage error");
                }
            }
            seat.release();
            if let Ok(mut active) = inner.active.lock() {
                active.remove(&number);
            }
        })
    }

    /// Wakes run `number` if it executes here (a decision or an abort was just recorded).
    pub fn wake(&self, number: i64) {
        if let Some(wake) = self
            .0
            .active
            .lock()
            .ok()
            .and_then(|a| a.get(&number).cloned())
        {
            wake.notify_waiters();
        }
    }

    /// The runs queued or executing here.
    pub fn active(&self) -> Vec<i64> {
        self.0
            .active
            .lock()
            .map(|a| a.keys().copied().collect())
            .unwrap_or_default()
    }

    /// One round of housekeeping: the runs here are alive; runs whose executor stopped answering
    /// (on any instance) are interrupted.
    pub async fn housekeeping(&self) -> Result<usize, AppError> {
        let now = Utc::now();
        repo::heartbeat(&self.0.pool, &self.active(), now).await?;
        service::interrupt_stale(&self.0.pool, now - self.0.settings.stale_after).await
    }

    /// Runs housekeeping every `heartbeat_every` in the background.
    pub fn spawn_housekeeping(&self) -> tokio::task::JoinHandle<()> {
        let executor = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(executor.0.settings.heartbeat_every);
            loop {
                tick.tick().await;
                if let Err(e) = executor.housekeeping().await {
                    tracing::warn!(error = %e, "run housekeeping failed");
                }
            }
        })
    }

    /// At shutdown: the runs still executing here will not finish; say so now rather than
    /// leaving them for another instance's housekeeping.
    pub async fn interrupt_active(&self) -> Result<usize, AppError> {
        let active = self.active();
        if active.is_empty() {
            return Ok(0);
        }
        // Their heartbeats end now: date them back past the staleness bound, then sweep.
        repo::heartbeat(&self.0.pool, &active, DateTime::UNIX_EPOCH).await?;
        service::interrupt_stale(&self.0.pool, Utc::now() - self.0.settings.stale_after).await
    }
}

/// A run's hold on one of the executor's workers. A run waiting for a person lets go of it (a
/// drill waiting for its commander must not keep other runs from starting) and takes one again
/// before it goes on.
struct Seat {
    workers: Arc<Semaphore>,
    held: Mutex<Option<tokio::sync::OwnedSemaphorePermit>>,
}

impl Seat {
    fn new(workers: Arc<Semaphore>) -> Self {
        Self {
            workers,
            held: Mutex::new(None),
        }
    }

    /// Waits for a free worker (unless one is held already).
    async fn take(&self) {
        if self.held.lock().map(|h| h.is_some()).unwrap_or(false) {
            return;
        }
        let permit = self.workers.clone().acquire_owned().await.ok();
        if let Ok(mut held) = self.held.lock() {
            *held = permit;
        }
    }

    /// Gives the worker back.
    fn release(&self) {
        if let Ok(mut held) = self.held.lock() {
            held.take();
        }
    }
}

/// Why a run's execution stopped before its end.
enum Halt {
    /// The run ended elsewhere (another instance's housekeeping marked it interrupted, thinking
    /// this executor gone): nothing more is written for it here.
    Taken,
    /// The database failed.
    Storage(AppError),
}

impl From<AppError> for Halt {
    fn from(e: AppError) -> Self {
        Halt::Storage(e)
    }
}

/// `Taken` when a write to a run did not apply because the run had already ended.
fn held(applied: bool) -> Result<(), Halt> {
    if applied { Ok(()) } else { Err(Halt::Taken) }
}

/// How a wait for a person ended.
enum Answer {
    Decided(Decision, String, String),
    Aborted,
}

impl Inner {
    /// Moves run `number` to `status`, unless it ended elsewhere.
    async fn status(&self, number: i64, status: RunStatus) -> Result<(), Halt> {
        held(repo::set_status(&self.pool, number, status, Utc::now()).await?)
    }

    /// Marks step `index` of run `number`, and the run, as waiting for a person (in one write;
    /// the channels hear who may answer), unless the run ended elsewhere.
    async fn wait_status(
        &self,
        number: i64,
        index: usize,
        step: &Step,
        awaiting: Awaiting,
    ) -> Result<(), Halt> {
        held(service::wait_for_person(&self.pool, number, index, &step.name, awaiting).await?)
    }

    /// Writes step `index` of run `number`, unless the run ended elsewhere.
    async fn step(&self, number: i64, index: usize, update: &StepUpdate) -> Result<(), Halt> {
        held(repo::set_step(&self.pool, number, index, update, Utc::now()).await?)
    }

    /// Waits until the runs this one replaces have ended (a replaced run is asked to stop when
    /// its successor is created, and stops at its next step boundary); `false` when this run was
    /// aborted meanwhile.
    async fn wait_for_replaced(&self, run: &Prepared, wake: &Notify) -> Result<bool, Halt> {
        if run.replaces.is_empty() {
            return Ok(true);
        }
        loop {
            let notified = wake.notified();
            if repo::abort_requested(&self.pool, run.number).await? {
                return Ok(false);
            }
            if repo::all_finished(&self.pool, &run.replaces).await? {
                return Ok(true);
            }
            self.pause(notified).await;
        }
    }

    async fn execute(&self, run: Prepared, wake: &Notify, seat: &Seat) -> Result<(), Halt> {
        let pool = &self.pool;
        let number = run.number;
        let secrets = run.secrets();
        let clean = |text: &str| truncate_output(&mask_secrets(text, &secrets), OUTPUT_MAX);
        let mut ended = RunStatus::Passed;
        let steps = if self.wait_for_replaced(&run, wake).await? {
            self.status(number, RunStatus::Running).await?;
            run.steps.as_slice()
        } else {
            ended = RunStatus::Aborted;
            &[]
        };
        for (index, (step, params)) in steps.iter().zip(&run.params).enumerate() {
            if repo::abort_requested(pool, number).await? {
                ended = RunStatus::Aborted;
                break;
            }
            let started = Instant::now();
            // Who let a gated step run, kept above its own output.
            let mut confirmed = String::new();
            if step.pre_confirm {
                self.wait_status(number, index, step, Awaiting::Confirmation)
                    .await?;
                let waiting_since = Instant::now();
                let answer = self.wait_for_decision(number, index, wake, seat).await?;
                // Recorded with the step: recovery time leaves a gate's wait out.
                let waited_ms = i64::try_from(waiting_since.elapsed().as_millis()).ok();
                self.status(number, RunStatus::Running).await?;
                match answer {
                    Answer::Aborted => {
                        ended = RunStatus::Aborted;
                        break;
                    }
                    Answer::Decided(Decision::Skip, note, by) => {
                        let said = said(&by, &note);
                        let update = StepUpdate {
                            output: clean(&format!("Skipped by {said}")),
                            waited_ms,
                            ..StepUpdate::status(StepStatus::Skipped)
                        };
                        self.step(number, index, &update).await?;
                        self.note_step(&run, step, StepStatus::Skipped, &update.output)
                            .await?;
                        continue;
                    }
                    Answer::Decided(_, note, by) => {
                        confirmed = format!("Confirmed by {}", said(&by, &note));
                        let update = StepUpdate {
                            output: clean(&confirmed),
                            waited_ms,
                            ..StepUpdate::status(StepStatus::Running)
                        };
                        self.step(number, index, &update).await?;
                    }
                }
            } else {
                self.step(number, index, &StepUpdate::status(StepStatus::Running))
                    .await?;
            }
            let timeout = Duration::from_secs(u64::from(step.timeout_secs.max(1)));
            let result = tokio::select! {
                result = tokio::time::timeout(timeout, self.perform(number, index, step, params, wake, seat)) => {
                    match result {
                        Ok(result) => result?,
                        Err(_) => Performed::Done(Outcome {
                            passed: false,
                            output: String::new(),
                            error: Some(format!("no result within the step's timeout of {} s", timeout.as_secs())),
                        }),
                    }
                }
                aborted = self.abort_signal(number, wake) => {
                    aborted?;
                    ended = RunStatus::Aborted;
                    break;
                }
            };
            let (status, output, error) = match result {
                Performed::Skipped(text) => (StepStatus::Skipped, text, None),
                Performed::Done(outcome) => (
                    if outcome.passed {
                        StepStatus::Passed
                    } else {
                        StepStatus::Failed
                    },
                    outcome.output,
                    outcome.error,
                ),
            };
            let output = if confirmed.is_empty() {
                output
            } else {
                format!("{confirmed}\n{output}")
            };
            let update = StepUpdate {
                status,
                output: clean(&output),
                error: error.as_deref().map(clean),
                awaiting: None,
                waited_ms: None,
            };
            self.step(number, index, &update).await?;
            let detail = update
                .error
                .clone()
                .unwrap_or_else(|| format!("took {:.1} s", started.elapsed().as_secs_f64()));
            self.note_step(&run, step, status, &detail).await?;
            if status == StepStatus::Failed {
                // A failure the plan lets the run go on from still fails the run at its end.
                ended = RunStatus::Failed;
                if step.on_failure == OnFailure::Abort {
                    break;
                }
            }
        }
        if ended == RunStatus::Aborted {
            // The step cut off and those never reached; after a failure the rest stay pending
            // ("not reached").
            repo::end_open_steps(pool, number, StepStatus::Aborted, Utc::now()).await?;
        }
        held(service::finish(pool, number, ended, Utc::now()).await?)?;
        tracing::info!(run = number, status = ended.as_str(), "run ended");
        if run.scene == Scene::Inspection
            && let Err(e) = inspections::record(pool, number, &run.service).await
        {
            // The run itself is kept; the next run of the inspection says again how it went.
            tracing::warn!(run = number, error = %e, "an inspection's result did not reach the risk board");
        }
        if let Some(incident) = run.incident {
            let data = EventData::RunEnded {
                run: number,
                plan: run.plan_name.clone(),
                status: ended,
            };
            service::record_on_timeline(pool, incident, &data, Utc::now()).await?;
        }
        Ok(())
    }

    async fn note_step(
        &self,
        run: &Prepared,
        step: &Step,
        status: StepStatus,
        detail: &str,
    ) -> Result<(), Halt> {
        let Some(incident) = run.incident else {
            return Ok(());
        };
        let data = EventData::RunStepEnded {
            run: run.number,
            step: step.name.clone(),
            status,
            detail: truncate_output(detail, 500),
        };
        Ok(service::record_on_timeline(&self.pool, incident, &data, Utc::now()).await?)
    }

    /// Waits until a person answers step `index`, or the run is aborted, without holding a
    /// worker meanwhile.
    async fn wait_for_decision(
        &self,
        number: i64,
        index: usize,
        wake: &Notify,
        seat: &Seat,
    ) -> Result<Answer, AppError> {
        seat.release();
        let answer = loop {
            let notified = wake.notified();
            if let Some((decision, note, by)) = repo::decision(&self.pool, number, index).await? {
                break Answer::Decided(decision, note, by);
            }
            if repo::abort_requested(&self.pool, number).await? {
                break Answer::Aborted;
            }
            self.pause(notified).await;
        };
        seat.take().await;
        Ok(answer)
    }

    /// Until woken here or the next look at the database is due (for news from other instances).
    async fn pause(&self, notified: tokio::sync::futures::Notified<'_>) {
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(self.settings.poll_every) => {}
        }
    }

    /// Resolves when someone asks the run to stop.
    async fn abort_signal(&self, number: i64, wake: &Notify) -> Result<(), AppError> {
        loop {
            let notified = wake.notified();
            if repo::abort_requested(&self.pool, number).await? {
                return Ok(());
            }
            self.pause(notified).await;
        }
    }

    /// Performs one step's action.
    async fn perform(
        &self,
        number: i64,
        index: usize,
        step: &Step,
        params: &BTreeMap<String, String>,
        wake: &Notify,
        seat: &Seat,
    ) -> Result<Performed, Halt> {
        let refused = |error: String| {
            Ok(Performed::Done(Outcome {
                passed: false,
                output: String::new(),
                error: Some(error),
            }))
        };
        let Ok(code) = step.action.parse::<ActionCode>() else {
            return refused(format!(
                "the action {:?} no longer exists on this server",
                step.action
            ));
        };
        let reach = Reach {
            policy: self.settings.networks.clone(),
            own: self.own_addrs.read().map(|o| o.clone()).unwrap_or_default(),
            allow_self: self.settings.allow_self_target,
        };
        let limits = &self.settings.limits;
        let outcome = match code {
            ActionCode::Wait => {
                let duration = params.get("duration").map_or("", String::as_str);
                match parse_duration(duration) {
                    Ok(d) => {
                        tokio::time::sleep(d).await;
                        Outcome {
                            passed: true,
                            output: format!("waited {duration}"),
                            error: None,
                        }
                    }
                    Err(e) => return refused(e),
                }
            }
            ActionCode::HttpRequest => match HttpCheck::from_params(params) {
                Ok(check) => steps::run_http_check(&reach, &check, limits).await,
                Err(e) => return refused(e),
            },
            ActionCode::Webhook => match steps::webhook_check(params) {
                Ok(check) => steps::run_http_check(&reach, &check, limits).await,
                Err(e) => return refused(e),
            },
            ActionCode::PollUntil => match Poll::from_params(params) {
                Ok(poll) => steps::run_poll(&reach, &poll, limits).await,
                Err(e) => return refused(e),
            },
            ActionCode::ManualCheck => {
                self.wait_status(number, index, step, Awaiting::Verdict)
                    .await?;
                let answer = self.wait_for_decision(number, index, wake, seat).await?;
                self.status(number, RunStatus::Running).await?;
                match answer {
                    // The abort signal beside this wait ends the step.
                    Answer::Aborted => std::future::pending().await,
                    Answer::Decided(Decision::Skip, note, by) => {
                        return Ok(Performed::Skipped(format!(
                            "Skipped by {}",
                            said(&by, &note)
                        )));
                    }
                    Answer::Decided(decision, note, by) => {
                        let passed = decision == Decision::Pass;
                        let text = format!(
                            "Marked {} by {}",
                            if passed { "passed" } else { "failed" },
                            said(&by, &note)
                        );
                        Outcome {
                            passed,
                            error: (!passed).then(|| note.clone()),
                            output: text,
                        }
                    }
                }
            }
        };
        Ok(Performed::Done(outcome))
    }
}

/// What performing a step came to.
enum Performed {
    Done(Outcome),
    Skipped(String),
}

fn said(by: &str, note: &str) -> String {
    if note.is_empty() {
        by.to_owned()
    } else {
        format!("{by}: {note}")
    }
}
