//! A finished run's score: one versioned formula, shown on the run page next to the figure and
//! stored with the run (with its version) when the run ends, so pass rates and mean scores are
//! sums in the database and an old score keeps meaning what it meant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::plan::StepMark;
use super::run::{RunStatus, RunView, StepStatus};

/// The formula's version, stored beside each score.
pub const FORMULA_VERSION: u32 = 2;

/// Points lost when recovery took longer than the plan's RTO (or never happened).
pub const RTO_PENALTY: u32 = 20;

/// The formula, in the words the run page shows.
pub const FORMULA: &str = "Score v2: start at 100; each failed step loses its weight (20 by default); \
     a step the run never finished (aborted, or not reached) loses its weight; a skipped step loses \
     half its weight, rounded up (not proven, not broken); recovery slower than the plan's RTO, or \
     no recovery at all, loses 20. Never below 0. Recovery time runs from the start of the first \
     step marked “injects the failure” to the end of the last passing step marked “checks \
     recovery” (the run's start and end stand in for missing marks), not counting the time a \
     gated step waited for a person to confirm it. The run passes when it finished, no step failed or went unfinished, it recovered, and within the RTO. \
     Interrupted runs (the server stopped) are not scored.";

code_enum!(
    /// A scored run's outcome.
    Verdict {
        /// Everything ran, nothing failed, recovered within the RTO.
        Pass => "pass", "Pass",
        /// Anything else.
        Fail => "fail", "Fail",
    }
);

/// How the recovery time came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// Measured between marked steps, in milliseconds.
    Marked(i64),
    /// No step is marked: the whole run, in milliseconds.
    WholeRun(i64),
    /// A failure was injected but no recovery check passed.
    NotRecovered,
}

impl Recovery {
    /// The time measured, in milliseconds.
    pub fn millis(self) -> Option<i64> {
        match self {
            Recovery::Marked(ms) | Recovery::WholeRun(ms) => Some(ms),
            Recovery::NotRecovered => None,
        }
    }
}

/// Points lost, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Loss {
    /// The step (from 0), none for the recovery time.
    pub step: Option<usize>,
    /// Points lost.
    pub points: u32,
    /// Why, in words.
    pub reason: String,
}

/// A finished run's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Score {
    /// The formula's version.
    pub version: u32,
    /// From 0 to 100.
    pub points: u32,
    /// Pass or fail.
    pub verdict: Verdict,
    /// The measured recovery time.
    pub recovery: Recovery,
    /// The plan's RTO at the version run, in seconds.
    pub rto_secs: Option<u32>,
    /// Every loss, step losses in step order, then the recovery time's.
    pub losses: Vec<Loss>,
}

fn span(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Option<i64> {
    Some((to? - from?).num_milliseconds().max(0))
}

/// The recovery time of `run`'s steps (see [`FORMULA`]).
fn recovery(run: &RunView) -> Recovery {
    let marked = |mark| run.steps.iter().filter(move |s| s.mark == Some(mark));
    let injects = marked(StepMark::Inject).next().is_some();
    let checks = marked(StepMark::RecoveryCheck).next().is_some();
    let start = if injects {
        match marked(StepMark::Inject).next().and_then(|s| s.started_at) {
            Some(t) => Some(t),
            None => return Recovery::NotRecovered,
        }
    } else {
        run.summary.started_at
    };
    let end = if checks {
        match marked(StepMark::RecoveryCheck)
            .filter(|s| s.status == StepStatus::Passed)
            .filter_map(|s| s.finished_at)
            .max()
        {
            Some(t) => Some(t),
            None => return Recovery::NotRecovered,
        }
    } else {
        run.summary.finished_at
    };
    // Time gates spent waiting for a person inside the window does not count (formula v2).
    let waited: i64 = match (start, end) {
        (Some(from), Some(to)) => run
            .steps
            .iter()
            .filter_map(|s| Some((s.started_at?, s.waited_ms?)))
            .map(|(began, ms)| {
                let ended = began + chrono::Duration::milliseconds(ms);
                (ended.min(to) - began.max(from)).num_milliseconds().max(0)
            })
            .sum(),
        _ => 0,
    };
    match span(start, end).map(|ms| (ms - waited).max(0)) {
        Some(ms) if injects || checks => Recovery::Marked(ms),
        Some(ms) => Recovery::WholeRun(ms),
        None => Recovery::NotRecovered,
    }
}

/// `run`'s score, once it has finished; `None` while it runs and for interrupted runs.
pub fn score(run: &RunView) -> Option<Score> {
    let status = run.summary.status;
    if !status.is_finished() || status == RunStatus::Interrupted {
        return None;
    }
    let mut losses = Vec::new();
    let mut broken = false;
    for step in &run.steps {
        let (points, reason) = match step.status {
            StepStatus::Passed => continue,
            StepStatus::Failed => (step.weight, "failed".to_owned()),
            StepStatus::Skipped => (
                step.weight.div_ceil(2),
                "skipped: half its weight".to_owned(),
            ),
            StepStatus::Aborted
            | StepStatus::Interrupted
            | StepStatus::Pending
            | StepStatus::Running
            | StepStatus::WaitingForConfirmation => {
                (step.weight, "never finished (the run stopped)".to_owned())
            }
        };
        broken |= step.status != StepStatus::Skipped;
        losses.push(Loss {
            step: Some(step.index),
            points,
            reason,
        });
    }
    let recovery = recovery(run);
    let rto_secs = run.summary.rto_secs;
    let late = match (recovery.millis(), rto_secs) {
        (None, _) => Some("no recovery check passed".to_owned()),
        (Some(ms), Some(rto)) if ms > i64::from(rto) * 1000 => {
            Some("recovery took longer than the RTO".to_owned())
        }
        _ => None,
    };
    if let Some(reason) = &late {
        losses.push(Loss {
            step: None,
            points: RTO_PENALTY,
            reason: reason.clone(),
        });
    }
    let lost: u32 = losses.iter().map(|l| l.points).sum();
    let verdict = if status == RunStatus::Passed && !broken && late.is_none() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    Some(Score {
        version: FORMULA_VERSION,
        points: 100u32.saturating_sub(lost),
        verdict,
        recovery,
        rto_secs,
        losses,
    })
}

/// A plan's record over its scored runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PlanRecord {
    /// Scored runs.
    pub scored: u32,
    /// Of which passed.
    pub passed: u32,
    /// Mean score, when any run is scored.
    pub mean_score: Option<f64>,
}

impl PlanRecord {
    /// Share of scored runs that passed, in percent.
    pub fn pass_rate(&self) -> Option<f64> {
        (self.scored > 0).then(|| f64::from(self.passed) * 100.0 / f64::from(self.scored))
    }
}

/// Which way the last scores go: `scores` newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Trend {
    /// The newest score is above the mean of the ones before it.
    Up,
    /// Below.
    Down,
    /// Equal, or too few runs to say.
    Flat,
}

/// The newest score against the mean of up to four before it (fewer than two scores: flat).
pub fn trend(scores: &[u32]) -> Trend {
    let Some((newest, before)) = scores.split_first() else {
        return Trend::Flat;
    };
    let before = &before[..before.len().min(4)];
    if before.is_empty() {
        return Trend::Flat;
    }
    let mean = f64::from(before.iter().sum::<u32>()) / before.len() as f64;
    let newest = f64::from(*newest);
    if newest > mean + 0.5 {
        Trend::Up
    } else if newest < mean - 0.5 {
        Trend::Down
    } else {
        Trend::Flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::run::{RunStep, RunSummary, Trigger};
    use chrono::{Duration, TimeZone};

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap() + Duration::seconds(secs)
    }

    fn step(index: usize, status: StepStatus, from: i64, to: i64) -> RunStep {
        let started = !matches!(status, StepStatus::Pending);
        RunStep {
            index,
            name: format!("step {index}"),
            action: "wait".into(),
            phase: None,
            status,
            started_at: started.then(|| t(from)),
            finished_at: (started && status.is_finished()).then(|| t(to)),
            output: String::new(),
            output_hidden: false,
            waited_ms: None,
            error: None,
            awaiting: None,
            decision: None,
            decision_note: None,
            decided_by: None,
            weight: 20,
            mark: None,
        }
    }

    fn run(status: RunStatus, steps: Vec<RunStep>, rto_secs: Option<u32>) -> RunView {
        RunView {
            summary: RunSummary {
                number: 1,
                plan_number: 1,
                plan_version: 1,
                plan_name: "drill".into(),
                status,
                trigger: Trigger::Manual,
                triggered_by: None,
                created_at: t(0),
                started_at: Some(t(0)),
                finished_at: status.is_finished().then(|| t(100)),
                incident: None,
                aborted_by: None,
                rto_secs,
                score: None,
                verdict: None,
                reviewed: false,
            },
            steps,
            params: Vec::new(),
        }
    }

    fn passed(n: usize) -> Vec<RunStep> {
        (0..n)
            .map(|i| step(i, StepStatus::Passed, i as i64 * 10, i as i64 * 10 + 10))
            .collect()
    }

    #[test]
    fn a_clean_run_scores_100_and_passes() {
        let s = score(&run(RunStatus::Passed, passed(3), None)).unwrap();
        assert_eq!((s.points, s.verdict), (100, Verdict::Pass));
        assert_eq!(s.recovery, Recovery::WholeRun(100_000));
        assert!(s.losses.is_empty());
        assert_eq!(s.version, FORMULA_VERSION);
    }

    #[test]
    fn each_failed_step_loses_20_floored_at_0() {
        let mut steps = passed(3);
        steps[1].status = StepStatus::Failed;
        let s = score(&run(RunStatus::Passed, steps, None)).unwrap();
        assert_eq!((s.points, s.verdict), (80, Verdict::Fail));
        assert_eq!(s.losses[0].step, Some(1));

        let steps = (0..7).map(|i| step(i, StepStatus::Failed, 0, 1)).collect();
        let s = score(&run(RunStatus::Failed, steps, None)).unwrap();
        assert_eq!(s.points, 0);
    }

    #[test]
    fn weights_are_the_steps_own() {
        let mut steps = passed(3);
        steps[0].weight = 50;
        steps[0].status = StepStatus::Failed;
        steps[2].weight = 0;
        steps[2].status = StepStatus::Failed;
        let s = score(&run(RunStatus::Passed, steps, None)).unwrap();
        assert_eq!(s.points, 50);
    }

    #[test]
    fn a_skipped_step_loses_half_its_weight_and_does_not_fail_the_run() {
        let mut steps = passed(3);
        steps[1].status = StepStatus::Skipped;
        steps[2].weight = 25;
        steps[2].status = StepStatus::Skipped;
        let s = score(&run(RunStatus::Passed, steps, None)).unwrap();
        // 10 + 13 (half of 25, rounded up).
        assert_eq!((s.points, s.verdict), (77, Verdict::Pass));
    }

    #[test]
    fn an_aborted_run_loses_every_unfinished_step() {
        let steps = vec![
            step(0, StepStatus::Passed, 0, 10),
            step(1, StepStatus::Aborted, 10, 20),
            step(2, StepStatus::Pending, 0, 0),
        ];
        let s = score(&run(RunStatus::Aborted, steps, None)).unwrap();
        assert_eq!((s.points, s.verdict), (60, Verdict::Fail));
        assert_eq!(s.losses.len(), 2);
    }

    #[test]
    fn interrupted_and_unfinished_runs_are_not_scored() {
        assert_eq!(score(&run(RunStatus::Interrupted, passed(2), None)), None);
        assert_eq!(score(&run(RunStatus::Running, passed(2), None)), None);
        assert_eq!(
            score(&run(RunStatus::WaitingForConfirmation, passed(2), None)),
            None
        );
    }

    #[test]
    fn recovery_runs_from_the_injection_to_the_last_passing_check() {
        let mut steps = passed(4);
        steps[1].mark = Some(StepMark::Inject); // starts at 10
        steps[2].mark = Some(StepMark::RecoveryCheck); // ends at 30
        steps[3].mark = Some(StepMark::RecoveryCheck); // ends at 40
        let s = score(&run(RunStatus::Passed, steps.clone(), Some(30))).unwrap();
        assert_eq!(s.recovery, Recovery::Marked(30_000));
        assert_eq!((s.points, s.verdict), (100, Verdict::Pass));

        let s = score(&run(RunStatus::Passed, steps, Some(29))).unwrap();
        assert_eq!((s.points, s.verdict), (80, Verdict::Fail));
        assert_eq!(s.losses[0].step, None);
        assert!(s.losses[0].reason.contains("longer than the RTO"), "{s:?}");
    }

    #[test]
    fn a_gate_waiting_for_a_person_does_not_count_as_recovery_time() {
        let mut steps = passed(4);
        steps[1].mark = Some(StepMark::Inject); // starts at 10
        steps[2].waited_ms = Some(7_000); // gated: waited 7 s of its 20..30
        steps[3].mark = Some(StepMark::RecoveryCheck); // ends at 40
        let s = score(&run(RunStatus::Passed, steps, Some(30))).unwrap();
        assert_eq!(s.recovery, Recovery::Marked(23_000));
        assert_eq!(s.version, 2);
    }

    #[test]
    fn a_check_that_never_passes_means_no_recovery() {
        let mut steps = passed(3);
        steps[0].mark = Some(StepMark::Inject);
        steps[2].mark = Some(StepMark::RecoveryCheck);
        steps[2].status = StepStatus::Skipped;
        let s = score(&run(RunStatus::Passed, steps, None)).unwrap();
        assert_eq!(s.recovery, Recovery::NotRecovered);
        // 10 for the skip, 20 for no recovery.
        assert_eq!((s.points, s.verdict), (70, Verdict::Fail));
    }

    #[test]
    fn only_an_injection_marked_measures_to_the_run_end() {
        let mut steps = passed(3);
        steps[1].mark = Some(StepMark::Inject);
        let s = score(&run(RunStatus::Passed, steps, Some(90))).unwrap();
        assert_eq!(s.recovery, Recovery::Marked(90_000));
        assert_eq!(s.verdict, Verdict::Pass);
    }

    #[test]
    fn the_whole_run_counts_against_the_rto_when_nothing_is_marked() {
        let s = score(&run(RunStatus::Passed, passed(2), Some(60))).unwrap();
        assert_eq!(s.recovery, Recovery::WholeRun(100_000));
        assert_eq!((s.points, s.verdict), (80, Verdict::Fail));
    }

    #[test]
    fn record_and_trend() {
        let r = PlanRecord {
            scored: 4,
            passed: 3,
            mean_score: Some(85.0),
        };
        assert_eq!(r.pass_rate(), Some(75.0));
        assert_eq!(PlanRecord::default().pass_rate(), None);
        assert_eq!(trend(&[]), Trend::Flat);
        assert_eq!(trend(&[80]), Trend::Flat);
        assert_eq!(trend(&[100, 80, 60]), Trend::Up);
        assert_eq!(trend(&[60, 80, 100, 100, 100, 0]), Trend::Down);
        assert_eq!(trend(&[80, 80]), Trend::Flat);
    }
}
