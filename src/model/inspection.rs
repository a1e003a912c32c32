//! Inspections (自动巡检): plans of scene `inspection`, scheduled like drills and built from the
//! same actions. A failed inspection run raises (or updates) one risk event per plan, source
//! `inspection`; a passing run resolves it. What the inspection page shows of each.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::alert::{AlertAction, IncomingAlert, Labels};
use super::incident::Severity;
use super::run::{RunStatus, RunView, StepStatus};

/// The risk events' source for inspection results.
pub const SOURCE: &str = "inspection";

/// The `alertname` of an inspection's risk event.
pub const ALERTNAME: &str = "InspectionFailed";

/// Runs of each inspection the page shows as its history.
pub const HISTORY: usize = 20;

/// Days the pass rate is counted over.
pub const PASS_RATE_DAYS: i64 = 30;

/// The identity of plan `plan_number`'s risk event at source [`SOURCE`]: one per plan, so a
/// failure at another step updates the same event rather than opening a second.
pub fn fingerprint(plan_number: i64) -> String {
    format!("plan-{plan_number}")
}

/// One run of an inspection, as its history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionRun {
    /// Run number.
    pub number: i64,
    /// Where it is or how it ended.
    pub status: RunStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// One inspection on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// Plan number.
    pub plan: i64,
    /// Plan name.
    pub name: String,
    /// The service it checks.
    pub service: String,
    /// Whether the plan may run.
    pub enabled: bool,
    /// Its cron expression and time zone, when it has a schedule.
    pub schedule: Option<(String, String)>,
    /// Whether its schedule is paused.
    pub paused: bool,
    /// When it runs next, if it is scheduled.
    pub next_due: Option<DateTime<Utc>>,
    /// Its latest runs, newest first (at most [`HISTORY`]).
    pub history: Vec<InspectionRun>,
    /// Runs that passed in the last [`PASS_RATE_DAYS`] days.
    pub passed: u32,
    /// Runs that passed or failed in that time.
    pub decided: u32,
    /// Its open risk event: number, since when, and the step that failed last.
    pub failing: Option<(i64, DateTime<Utc>, String)>,
}

impl Inspection {
    /// The share of decided runs that passed, in percent, over [`PASS_RATE_DAYS`] days.
    pub fn pass_rate(&self) -> Option<f64> {
        (self.decided > 0).then(|| f64::from(self.passed) * 100.0 / f64::from(self.decided))
    }

    /// Its latest finished run.
    pub fn latest(&self) -> Option<&InspectionRun> {
        self.history.iter().find(|r| r.status.is_finished())
    }
}

/// What a finished run of an inspection says to alert intake: a failed run fires the plan's
/// event (labels `alertname`, `plan`, `plan_number`, `service`, `failed_step`; the step's error
/// as the summary), a passed run resolves it, an aborted or interrupted run says nothing (it
/// did not decide anything about the service).
pub fn alert_of(run: &RunView, service: &str) -> Option<IncomingAlert> {
    let summary = &run.summary;
    let fingerprint = fingerprint(summary.plan_number);
    let base = |action, labels: Labels, annotations: Labels, text: String| IncomingAlert {
        source: SOURCE.to_owned(),
        fingerprint: fingerprint.clone(),
        action,
        labels,
        annotations,
        summary: text,
        severity: Severity::Sev3,
        starts_at: summary.finished_at,
        url: Some(format!("/runs/{}", summary.number)),
    };
    match summary.status {
        RunStatus::Passed => Some(base(
            AlertAction::Resolve,
            Labels::new(),
            Labels::new(),
            String::new(),
        )),
        RunStatus::Failed => {
            let failed = run.steps.iter().find(|s| s.status == StepStatus::Failed);
            let step = failed.map_or_else(
                || "unknown".to_owned(),
                |s| format!("{}. {}", s.index + 1, s.name),
            );
            let error = failed
                .and_then(|s| s.error.clone())
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_else(|| "the step failed".to_owned());
            let mut labels = Labels::new();
            labels.insert("alertname".to_owned(), ALERTNAME.to_owned());
            labels.insert("plan".to_owned(), summary.plan_name.clone());
            labels.insert("plan_number".to_owned(), summary.plan_number.to_string());
            if !service.trim().is_empty() {
                labels.insert("service".to_owned(), service.trim().to_owned());
            }
            labels.insert("failed_step".to_owned(), step.clone());
            labels.insert("severity".to_owned(), "warning".to_owned());
            let mut annotations = Labels::new();
            annotations.insert("run".to_owned(), format!("#{}", summary.number));
            annotations.insert("error".to_owned(), super::alert::clean(&error, 2_000));
            let text = super::alert::clean(
                &format!(
                    "Inspection “{}” failed at step {step}: {error}",
                    summary.plan_name
                ),
                300,
            );
            Some(base(AlertAction::Fire, labels, annotations, text))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::run::{RunStep, RunSummary, Trigger};

    fn step(index: usize, name: &str, status: StepStatus, error: Option<&str>) -> RunStep {
        RunStep {
            index,
            name: name.into(),
            action: "http_request".into(),
            phase: None,
            status,
            started_at: None,
            finished_at: None,
            output: String::new(),
            output_hidden: false,
            waited_ms: None,
            error: error.map(str::to_owned),
            awaiting: None,
            decision: None,
            decision_note: None,
            decided_by: None,
            weight: 20,
            mark: None,
        }
    }

    fn run(status: RunStatus, steps: Vec<RunStep>) -> RunView {
        RunView {
            summary: RunSummary {
                number: 41,
                plan_number: 7,
                plan_version: 1,
                plan_name: "Checkout health".into(),
                status,
                trigger: Trigger::Schedule,
                triggered_by: None,
                created_at: Utc::now(),
                started_at: None,
                finished_at: Some(Utc::now()),
                incident: None,
                aborted_by: None,
                rto_secs: None,
                score: None,
                verdict: None,
                reviewed: false,
            },
            params: vec![Default::default(); steps.len()],
            steps,
        }
    }

    #[test]
    fn a_failed_run_fires_the_plans_event_naming_the_step_that_failed() {
        let view = run(
            RunStatus::Failed,
            vec![
                step(0, "Answers", StepStatus::Passed, None),
                step(
                    1,
                    "Is ready",
                    StepStatus::Failed,
                    Some("expected status 200, got 503"),
                ),
                step(2, "Later", StepStatus::Pending, None),
            ],
        );
        let alert = alert_of(&view, " checkout ").unwrap();
        assert_eq!(alert.action, AlertAction::Fire);
        assert_eq!(alert.source, "inspection");
        assert_eq!(
            alert.fingerprint, "plan-7",
            "one identity per plan, whatever step failed"
        );
        assert_eq!(alert.labels["alertname"], ALERTNAME);
        assert_eq!(alert.labels["plan"], "Checkout health");
        assert_eq!(alert.labels["plan_number"], "7");
        assert_eq!(alert.labels["service"], "checkout");
        assert_eq!(alert.labels["failed_step"], "2. Is ready");
        assert_eq!(alert.annotations["run"], "#41");
        assert_eq!(
            alert.summary,
            "Inspection “Checkout health” failed at step 2. Is ready: expected status 200, got 503"
        );
        assert_eq!(alert.url.as_deref(), Some("/runs/41"));
    }

    #[test]
    fn a_passed_run_resolves_and_an_aborted_or_interrupted_one_says_nothing() {
        let passed = alert_of(&run(RunStatus::Passed, vec![]), "checkout").unwrap();
        assert_eq!(passed.action, AlertAction::Resolve);
        assert_eq!(passed.fingerprint, "plan-7");
        for status in [
            RunStatus::Aborted,
            RunStatus::Interrupted,
            RunStatus::Running,
        ] {
            assert_eq!(
                alert_of(&run(status, vec![]), "checkout"),
                None,
                "{status:?}"
            );
        }
        let no_service = alert_of(
            &run(
                RunStatus::Failed,
                vec![step(0, "x", StepStatus::Failed, None)],
            ),
            "",
        )
        .unwrap();
        assert!(!no_service.labels.contains_key("service"));
        assert!(no_service.summary.ends_with("the step failed"));
    }

    #[test]
    fn the_pass_rate_counts_decided_runs_only() {
        let mut i = Inspection {
            plan: 1,
            name: "x".into(),
            service: String::new(),
            enabled: true,
            schedule: None,
            paused: false,
            next_due: None,
            history: vec![],
            passed: 0,
            decided: 0,
            failing: None,
        };
        assert_eq!(i.pass_rate(), None);
        i.passed = 3;
        i.decided = 4;
        assert_eq!(i.pass_rate(), Some(75.0));
    }
}
