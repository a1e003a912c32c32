//! Runs of a plan (执行单) and their step records (执行节点): statuses, what a run shows, and the
//! care taken with step output — truncated sensibly, secrets masked.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::catalog::ActionCode;
use super::plan::Phase;

code_enum!(
    /// Where a run is.
    RunStatus {
        /// Created, waiting for a worker.
        Pending => "pending", "Pending",
        /// A step is running.
        Running => "running", "Running",
        /// A gated step or a manual check waits for a person.
        WaitingForConfirmation => "waiting_for_confirmation", "Waiting for a person",
        /// Every step passed (or was skipped).
        Passed => "passed", "Passed",
        /// A step failed: it stopped the run, or the run went on after it ("continue") and
        /// still failed.
        Failed => "failed", "Failed",
        /// A person aborted it.
        Aborted => "aborted", "Aborted",
        /// The server stopped under it (a crash or restart); completed steps are kept.
        Interrupted => "interrupted", "Interrupted",
    }
);

code_enum!(
    /// Where a step of a run is.
    StepStatus {
        /// Not reached yet.
        Pending => "pending", "Pending",
        /// Executing.
        Running => "running", "Running",
        /// Waits for a person: to confirm it (a gate), or for their verdict (a manual check).
        WaitingForConfirmation => "waiting_for_confirmation", "Waiting for a person",
        /// Its checks held.
        Passed => "passed", "Passed",
        /// Its checks failed, or it errored or timed out.
        Failed => "failed", "Failed",
        /// A person skipped it.
        Skipped => "skipped", "Skipped",
        /// The run was aborted before or while it ran.
        Aborted => "aborted", "Aborted",
        /// The server stopped while it ran.
        Interrupted => "interrupted", "Interrupted",
    }
);

code_enum!(
    /// What started a run.
    Trigger {
        /// A person pressed "Run now".
        Manual => "manual", "Manual",
        /// The plan's schedule.
        Schedule => "schedule", "Schedule",
        /// An incoming alert.
        Alert => "alert", "Alert",
        /// Run from an incident's page.
        Incident => "incident", "Incident",
    }
);

code_enum!(
    /// What a waiting step waits for.
    Awaiting {
        /// A gate: a person confirms before the step runs (or skips it).
        Confirmation => "confirmation", "Confirmation",
        /// A manual check: a person marks it passed or failed.
        Verdict => "verdict", "Verdict",
    }
);

code_enum!(
    /// A person's answer to a waiting step.
    Decision {
        /// Run the gated step.
        Confirm => "confirm", "Confirm",
        /// Do not run it; the run goes on.
        Skip => "skip", "Skip",
        /// The manual check passed.
        Pass => "pass", "Pass",
        /// The manual check failed.
        Fail => "fail", "Fail",
    }
);

impl Awaiting {
    /// The lowest role that may answer a step waiting for this: a verdict is a responder's, a
    /// gate a commander's (skipping either is a commander's too).
    pub fn answered_by(self) -> super::Role {
        match self {
            Awaiting::Confirmation => super::Role::Commander,
            Awaiting::Verdict => super::Role::Responder,
        }
    }

    /// What a step waiting for this is doing, as its status reads.
    pub fn status_label(self) -> &'static str {
        match self {
            Awaiting::Confirmation => "Waiting for a commander to confirm",
            Awaiting::Verdict => "Waiting for someone to check",
        }
    }
}

impl Decision {
    /// Whether this answers a step waiting for `awaiting` (skip answers both).
    pub fn answers(self, awaiting: Awaiting) -> bool {
        match self {
            Decision::Skip => true,
            Decision::Confirm => awaiting == Awaiting::Confirmation,
            Decision::Pass | Decision::Fail => awaiting == Awaiting::Verdict,
        }
    }
}

/// Longest comment on a decision.
pub const NOTE_MAX: usize = 2_000;

impl RunStatus {
    /// The unfinished statuses as an SQL list (`'pending', 'running', …`), for `status IN (…)`.
    pub fn unfinished_sql() -> &'static str {
        static LIST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        LIST.get_or_init(|| {
            Self::ALL
                .iter()
                .filter(|s| !s.is_finished())
                .map(|s| format!("'{}'", s.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// Whether the run has ended (nothing more will happen to it).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Passed | RunStatus::Failed | RunStatus::Aborted | RunStatus::Interrupted
        )
    }
}

impl StepStatus {
    /// Whether the step has ended.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            StepStatus::Passed
                | StepStatus::Failed
                | StepStatus::Skipped
                | StepStatus::Aborted
                | StepStatus::Interrupted
        )
    }
}

/// Most output kept per step.
pub const OUTPUT_MAX: usize = 16 * 1024;

/// `text` cut to at most about `max` bytes, keeping its beginning and its end (where errors
/// usually are) and saying how much was cut. Cuts fall on character boundaries.
pub fn truncate_output(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let half = max / 2;
    let mut head = half;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - half;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{}\n… {} bytes cut …\n{}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

/// `text` with every secret value replaced by `******` (longest first, so a secret that contains
/// another is masked whole). Empty secrets are ignored.
pub fn mask_secrets(text: &str, secrets: &[&str]) -> String {
    let mut secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
        .into_iter()
        .fold(text.to_owned(), |out, secret| out.replace(secret, "******"))
}

/// A run in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunSummary {
    /// Its number (`/runs/7`).
    pub number: i64,
    /// The plan's number.
    pub plan_number: i64,
    /// The plan version it ran.
    pub plan_version: i64,
    /// The plan's name at that version.
    pub plan_name: String,
    /// Where it is.
    pub status: RunStatus,
    /// What started it.
    pub trigger: Trigger,
    /// Who started it (none for the schedule).
    pub triggered_by: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its first step started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The incident it was run for (`INC-7`), if any.
    pub incident: Option<String>,
    /// Who asked to abort it, once someone did.
    pub aborted_by: Option<String>,
    /// The plan's RTO at the version run, in seconds.
    pub rto_secs: Option<u32>,
    /// Its score, once finished (interrupted runs have none).
    pub score: Option<u32>,
    /// Pass or fail, with the score.
    pub verdict: Option<super::score::Verdict>,
    /// Whether someone reviewed it.
    pub reviewed: bool,
}

impl RunSummary {
    /// How long it took (or has taken so far, at `now`).
    pub fn duration(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now) - start)
    }
}

/// One step record of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunStep {
    /// Position in the run, from 0.
    pub index: usize,
    /// The step's name at the plan version run.
    pub name: String,
    /// Its action's code.
    pub action: String,
    /// Its phase (disaster-recovery plans).
    pub phase: Option<Phase>,
    /// Where it is.
    pub status: StepStatus,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// What it printed (truncated, secrets masked).
    pub output: String,
    /// Whether `output` was withheld from this reader (viewers do not read what steps fetched).
    #[serde(default)]
    pub output_hidden: bool,
    /// How long it waited for a person to confirm it before it ran (a gate), in milliseconds.
    #[serde(default)]
    pub waited_ms: Option<i64>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// What it waits for, while it waits.
    pub awaiting: Option<Awaiting>,
    /// A person's answer, once given.
    pub decision: Option<Decision>,
    /// Their comment.
    pub decision_note: Option<String>,
    /// Who answered.
    pub decided_by: Option<String>,
    /// Its weight in the score.
    pub weight: u32,
    /// Its part in the recovery time.
    pub mark: Option<super::plan::StepMark>,
}

impl RunStep {
    /// Its status in words; a waiting step says what for.
    pub fn status_label(&self) -> &'static str {
        match (self.status, self.awaiting) {
            (StepStatus::WaitingForConfirmation, Some(a)) => a.status_label(),
            (status, _) => status.label(),
        }
    }

    /// How long it took (or has taken so far, at `now`).
    pub fn duration(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now) - start)
    }

    /// The action's name, or its code when the catalog no longer has it.
    pub fn action_label(&self) -> String {
        self.action
            .parse::<ActionCode>()
            .map_or_else(|_| self.action.clone(), |c| c.label().to_owned())
    }
}

/// A run with its steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunView {
    /// The run.
    pub summary: RunSummary,
    /// Its steps, in order.
    pub steps: Vec<RunStep>,
    /// The parameter values it used, per step (secrets masked).
    pub params: Vec<std::collections::BTreeMap<String, String>>,
}

impl RunView {
    /// Whether someone of `role` is asked for something on this run now (a step waits for an
    /// answer they may give, and none has been given: an answer the run has not taken up yet
    /// asks nothing more).
    pub fn waits_for(&self, role: super::Role) -> bool {
        self.waiting_step()
            .filter(|s| s.decision.is_none())
            .and_then(|s| s.awaiting)
            .is_some_and(|a| role.allows(a.answered_by()))
    }

    /// The run as a reader below responder sees it: step output and parameter values
    /// withheld. An HTTP step's output is the answer of whatever it called, often an internal
    /// service; who can run plans (and so choose what they call) may read it, a read-only viewer
    /// may not.
    pub fn without_output(mut self) -> Self {
        // The values a run used (URLs, headers) are withheld too, as they are from the plan.
        self.params
            .iter_mut()
            .for_each(std::collections::BTreeMap::clear);
        for step in &mut self.steps {
            if !step.output.is_empty() {
                step.output.clear();
                step.output_hidden = true;
            }
        }
        self
    }

    /// The step waiting for a person, if one is.
    pub fn waiting_step(&self) -> Option<&RunStep> {
        self.steps
            .iter()
            .find(|s| s.status == StepStatus::WaitingForConfirmation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_sql_list_of_unfinished_statuses_holds_exactly_them() {
        assert_eq!(
            RunStatus::unfinished_sql(),
            "'pending', 'running', 'waiting_for_confirmation'"
        );
    }

    #[test]
    fn statuses_round_trip_and_know_when_they_are_final() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(*s));
        }
        for s in StepStatus::ALL {
            assert_eq!(s.as_str().parse::<StepStatus>(), Ok(*s));
        }
        assert!(RunStatus::Interrupted.is_finished());
        assert!(!RunStatus::WaitingForConfirmation.is_finished());
        assert!(StepStatus::Skipped.is_finished());
        assert!(!StepStatus::Running.is_finished());
    }

    #[test]
    fn decisions_answer_only_what_a_step_waits_for() {
        assert!(Decision::Confirm.answers(Awaiting::Confirmation));
        assert!(!Decision::Confirm.answers(Awaiting::Verdict));
        assert!(Decision::Pass.answers(Awaiting::Verdict));
        assert!(!Decision::Fail.answers(Awaiting::Confirmation));
        assert!(
            Decision::Skip.answers(Awaiting::Confirmation)
                && Decision::Skip.answers(Awaiting::Verdict)
        );
    }

    #[test]
    fn short_output_is_kept_whole_and_long_output_keeps_both_ends() {
        assert_eq!(truncate_output("ok", 10), "ok");
        let long = format!("START{}END", "x".repeat(1000));
        let cut = truncate_output(&long, 100);
        assert!(cut.starts_with("START") && cut.ends_with("END"), "{cut}");
        assert!(cut.contains("bytes cut"));
        assert!(cut.len() < 150);
    }

    #[test]
    fn secrets_are_masked_longest_first() {
        let out = mask_secrets("token=abc123 and abc", &["abc", "abc123", ""]);
        assert_eq!(out, "token=****** and ******");
    }

    proptest! {
        #[test]
        fn truncation_never_splits_a_character(text in "\\PC{0,300}", max in 4usize..200) {
            let cut = truncate_output(&text, max);
            prop_assert!(cut.len() <= text.len().max(max + 40));
        }
    }
}
