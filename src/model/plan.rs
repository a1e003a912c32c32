//! Plans: drills, emergency, self-recovery and disaster-recovery plans as ordered steps of catalog
//! actions. Validation (shared by the step editor and the server) and the run-time parameter
//! merge, which answers a plan's open parameters for one run without ever touching the plan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::catalog::{ActionCode, ParamKind, Scene, check_value};
use super::error::{FieldError, Validator};
use super::schedule::{CRON_FIELD, PlanSchedule};

/// The three fixed phases of a disaster-recovery plan, in the order they always run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Switch-over (容灾切换).
    SwitchOver,
    /// Recovery (容灾恢复).
    Recovery,
    /// Traffic switch-back (流量回切).
    SwitchBack,
}

impl Phase {
    /// Every phase, in run order.
    pub const ALL: [Phase; 3] = [Phase::SwitchOver, Phase::Recovery, Phase::SwitchBack];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::SwitchOver => "switch_over",
            Phase::Recovery => "recovery",
            Phase::SwitchBack => "switch_back",
        }
    }

    /// The displayed name.
    pub fn label(self) -> &'static str {
        match self {
            Phase::SwitchOver => "Switch-over",
            Phase::Recovery => "Recovery",
            Phase::SwitchBack => "Traffic switch-back",
        }
    }
}

impl std::str::FromStr for Phase {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a phase"))
    }
}

/// What a failed step does to its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Stop the run.
    #[default]
    Abort,
    /// Go on with the next step.
    Continue,
}

/// A parameter as the plan holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParamValue {
    /// A value fixed in the plan.
    Set(String),
    /// Left open: asked for when the plan runs (待确认参数).
    AskAtRun,
    /// A secret the plan holds but never shows: sent back unchanged, it keeps the stored value.
    StoredSecret,
    /// A value withheld from this reader: a viewer reads which parameters a step has, not their
    /// values (URLs and headers often carry internal addresses and tokens).
    Withheld,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Step {
    /// Stable across edits and moves (secrets and editor state follow it).
    pub id: String,
    /// The catalog action's code (kept as text: an action removed from the code stays readable).
    pub action: String,
    /// What the step is called in the plan.
    pub name: String,
    /// Parameter values by name.
    pub params: BTreeMap<String, ParamValue>,
    /// Longest the step may take, in seconds.
    pub timeout_secs: u32,
    /// A person must confirm before it runs.
    pub pre_confirm: bool,
    /// What a failure does to the run.
    pub on_failure: OnFailure,
    /// Its weight in the run's score.
    pub weight: u32,
    /// Its phase (disaster-recovery plans only).
    pub phase: Option<Phase>,
    /// What it stands for when a drill's recovery time is measured.
    #[serde(default)]
    pub mark: Option<StepMark>,
}

code_enum!(
    /// A step's part in a drill's measured recovery time: from the start of the first step that
    /// injects the failure to the end of the last recovery check that passes.
    StepMark {
        /// The step injects the failure (the clock starts).
        Inject => "inject", "Injects the failure",
        /// The step checks that the service recovered (the clock stops when the last one passes).
        RecoveryCheck => "recovery_check", "Checks recovery",
    }
);

/// Longest timeout a step may have: one day.
pub const MAX_TIMEOUT_SECS: u32 = 86_400;

/// The longest RTO or RPO target: 30 days.
pub const MAX_TARGET_SECS: u32 = 30 * 86_400;
/// Most steps in one plan.
pub const MAX_STEPS: usize = 100;

impl Step {
    /// A new step of `action` with the catalog's defaults.
    pub fn new(id: String, action: ActionCode, phase: Option<Phase>) -> Self {
        let spec = action.spec();
        Self {
            id,
            action: action.as_str().to_owned(),
            name: action.label().to_owned(),
            params: spec
                .params
                .iter()
                .filter_map(|p| {
                    p.default
                        .map(|d| (p.name.to_owned(), ParamValue::Set(d.to_owned())))
                })
                .collect(),
            timeout_secs: 300,
            pre_confirm: false,
            on_failure: OnFailure::Abort,
            weight: 20,
            phase,
            mark: None,
        }
    }
}

/// A plan's description and steps, as written in the composer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PlanDraft {
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Drill, emergency, self-recovery or disaster recovery.
    pub scene: Scene,
    /// The service it targets.
    pub service: String,
    /// The scenario it rehearses or answers.
    pub scenario: String,
    /// Recovery time objective, in seconds.
    pub rto_secs: Option<u32>,
    /// Recovery point objective, in seconds.
    pub rpo_secs: Option<u32>,
    /// Whether it may run.
    pub enabled: bool,
    /// The steps, in run order.
    pub steps: Vec<Step>,
    /// When it runs by itself (drills and inspections only).
    #[serde(default)]
    pub schedule: Option<PlanSchedule>,
}

/// The form field of a step's property, as validation names it: `steps.2.url`.
pub fn step_field(index: usize, name: &str) -> String {
    format!("steps.{index}.{name}")
}

impl PlanDraft {
    /// Checks everything the composer can get wrong, naming the field of each problem.
    pub fn validate(&self) -> Result<(), super::AppError> {
        let mut v = Validator::default();
        v.check(
            "name",
            super::incident_input::parse_title(&self.name).map(|_| ()),
        );
        if self.description.chars().count() > 5_000 {
            v.check::<()>("description", Err("At most 5,000 characters.".into()));
        }
        for (field, target) in [("rto_secs", self.rto_secs), ("rpo_secs", self.rpo_secs)] {
            if target.is_some_and(|secs| secs > MAX_TARGET_SECS) {
                v.check::<()>(
                    field,
                    Err("A whole number of minutes, at most 43,200 (30 days).".into()),
                );
            }
        }
        if self.steps.is_empty() {
            v.check::<()>("steps", Err("Add at least one step.".into()));
        }
        if self.steps.len() > MAX_STEPS {
            v.check::<()>("steps", Err(format!("At most {MAX_STEPS} steps.")));
        }
        if let Some(schedule) = &self.schedule {
            if !self.scene.schedulable() {
                v.check::<()>(
                    CRON_FIELD,
                    Err("Only drills and inspections run on a schedule.".into()),
                );
            } else if let Err(errors) = schedule.parse() {
                for error in errors {
                    v.check::<()>(&error.field, Err(error.message));
                }
            }
        }
        for error in self.phase_errors() {
            v.check::<()>(&error.field, Err(error.message));
        }
        for (i, step) in self.steps.iter().enumerate() {
            for error in step_errors(i, step, self.scene) {
                v.check::<()>(&error.field, Err(error.message));
            }
        }
        v.finish()
    }

    /// A disaster-recovery plan runs switch-over, recovery, switch-back in that order, each with
    /// at least one step; other plans have no phases.
    fn phase_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let error = |field: String, message: &str| FieldError {
            field,
            message: message.to_owned(),
        };
        if self.scene != Scene::DisasterRecovery {
            for (i, s) in self.steps.iter().enumerate() {
                if s.phase.is_some() {
                    errors.push(error(
                        step_field(i, "phase"),
                        "Only disaster-recovery plans have phases.",
                    ));
                }
            }
            return errors;
        }
        let mut last = None;
        for (i, s) in self.steps.iter().enumerate() {
            match s.phase {
                None => errors.push(error(step_field(i, "phase"), "Put the step in a phase.")),
                Some(p) if last.is_some_and(|l| p < l) => errors.push(error(
                    step_field(i, "phase"),
                    "Phases run switch-over, recovery, then switch-back: move this step.",
                )),
                Some(p) => last = Some(p),
            }
        }
        for phase in Phase::ALL {
            if !self.steps.iter().any(|s| s.phase == Some(phase)) {
                errors.push(error(
                    "steps".to_owned(),
                    &format!(
                        "The {} phase needs at least one step.",
                        phase.label().to_lowercase()
                    ),
                ));
            }
        }
        errors
    }

    /// The parameters left open for run time, as (step index, parameter name).
    pub fn open_params(&self) -> Vec<(usize, String)> {
        self.steps
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                s.params
                    .iter()
                    .filter(|(_, v)| **v == ParamValue::AskAtRun)
                    .map(move |(name, _)| (i, name.clone()))
            })
            .collect()
    }

    /// Answers for every open parameter from the catalog's defaults, as a scheduled run (with
    /// nobody to ask) uses them; the reason it cannot run when one has no default.
    pub fn default_answers(&self) -> Result<BTreeMap<String, String>, String> {
        let mut answers = BTreeMap::new();
        for (i, name) in self.open_params() {
            let step = &self.steps[i];
            let spec = step
                .action
                .parse::<ActionCode>()
                .ok()
                .and_then(|code| code.spec().param(&name));
            let label = spec.map_or(name.as_str(), |p| p.label);
            match spec.and_then(|p| p.default) {
                Some(value) => {
                    answers.insert(step_field(i, &name), value.to_owned());
                }
                None => {
                    return Err(format!(
                        "Step {} (“{}”) asks for “{}” at run time and it has no default: \
                         set a value in the plan to run it on a schedule.",
                        i + 1,
                        step.name,
                        label
                    ));
                }
            }
        }
        Ok(answers)
    }

    /// The parameter values one run uses: the plan's, with its open ones answered by `answers`
    /// (keyed by [`step_field`]). The plan itself is not changed. Every open parameter must be
    /// answered with a valid value.
    pub fn resolve(
        &self,
        answers: &BTreeMap<String, String>,
    ) -> Result<Vec<BTreeMap<String, String>>, super::AppError> {
        let mut v = Validator::default();
        let mut resolved = Vec::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().enumerate() {
            let spec = step.action.parse::<ActionCode>().ok().map(ActionCode::spec);
            let mut values = BTreeMap::new();
            for (name, value) in &step.params {
                let text = match value {
                    ParamValue::Set(text) => text.clone(),
                    // Only the browser's copy of a plan carries the marker; the stored plan
                    // has the value. Reaching here is a bug: refuse rather than run without it.
                    ParamValue::StoredSecret | ParamValue::Withheld => {
                        v.check::<()>(
                            &step_field(i, name),
                            Err("This secret was not stored.".into()),
                        );
                        String::new()
                    }
                    ParamValue::AskAtRun => {
                        let field = step_field(i, name);
                        let answer = answers.get(&field).cloned().unwrap_or_default();
                        if let Some(p) = spec.and_then(|s| s.param(name)) {
                            // It is run time now: the answer is required, and that is all.
                            let found = if answer.trim().is_empty() {
                                Err(format!("{} is required for this run.", p.label))
                            } else {
                                check_value(p, &answer)
                            };
                            v.check(&field, found);
                        }
                        answer
                    }
                };
                values.insert(name.clone(), text);
            }
            resolved.push(values);
        }
        v.finish()?;
        Ok(resolved)
    }
}

/// The problems of one step, each named by its field.
fn step_errors(index: usize, step: &Step, scene: Scene) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut push = |name: &str, message: String| {
        errors.push(FieldError {
            field: step_field(index, name),
            message,
        })
    };
    if step.name.trim().is_empty() {
        push("name", "Name the step.".into());
    } else if step.name.chars().count() > 200 {
        push("name", "At most 200 characters.".into());
    }
    if step.timeout_secs == 0 || step.timeout_secs > MAX_TIMEOUT_SECS {
        push(
            "timeout_secs",
            format!("From 1 to {MAX_TIMEOUT_SECS} seconds."),
        );
    }
    if step.weight > 100 {
        push("weight", "From 0 to 100.".into());
    }
    let Ok(code) = step.action.parse::<ActionCode>() else {
        push(
            "action",
            format!(
                "The action {:?} no longer exists: replace this step.",
                step.action
            ),
        );
        return errors;
    };
    let spec = code.spec();
    if !spec.scenes.contains(&scene) {
        push(
            "action",
            format!("{} cannot be used in this kind of plan.", code.label()),
        );
    }
    for p in spec.params {
        match step.params.get(p.name) {
            Some(ParamValue::AskAtRun | ParamValue::StoredSecret | ParamValue::Withheld) => {}
            Some(ParamValue::Set(value)) => {
                if let Err(m) = check_value(p, value) {
                    push(p.name, m);
                }
            }
            None if p.required => push(
                p.name,
                format!("{} is required (or ask for it at run time).", p.label),
            ),
            None => {}
        }
    }
    for name in step.params.keys() {
        if spec.param(name).is_none() {
            push(name, format!("{} has no parameter {name:?}.", code.label()));
        }
    }
    errors
}

impl PlanDraft {
    /// The plan as the browser may see it: every stored secret replaced by the marker.
    /// The plan as a viewer reads it: every value withheld (see [`ParamValue::Withheld`]).
    pub fn withheld(mut self) -> Self {
        for step in &mut self.steps {
            for value in step.params.values_mut() {
                if matches!(value, ParamValue::Set(_) | ParamValue::StoredSecret) {
                    *value = ParamValue::Withheld;
                }
            }
        }
        self
    }

    pub fn masked(&self) -> Self {
        let mut plan = self.clone();
        for step in &mut plan.steps {
            for (name, value) in step.params.iter_mut() {
                if matches!(value, ParamValue::Set(_)) && is_secret(&step.action, name) {
                    *value = ParamValue::StoredSecret;
                }
            }
        }
        plan
    }

    /// Puts back the secrets the browser left unchanged, from the stored plan `previous` (by step
    /// id and parameter name); a marker with nothing behind it becomes an empty value.
    pub fn with_secrets_from(mut self, previous: Option<&PlanDraft>) -> Self {
        for step in &mut self.steps {
            let before = previous.and_then(|p| p.steps.iter().find(|s| s.id == step.id));
            for (name, value) in step.params.iter_mut() {
                if *value == ParamValue::StoredSecret {
                    *value = before
                        .and_then(|b| b.params.get(name))
                        .filter(|v| matches!(v, ParamValue::Set(_)))
                        .cloned()
                        .unwrap_or(ParamValue::Set(String::new()));
                }
            }
        }
        self
    }
}

/// A plan in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PlanSummary {
    /// Its number (`/plans/3`).
    pub number: i64,
    /// Name.
    pub name: String,
    /// Scene.
    pub scene: Scene,
    /// Target service.
    pub service: String,
    /// Whether it may run.
    pub enabled: bool,
    /// Current version.
    pub version: i64,
}

/// A plan at one version, as the browser sees it (secrets masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PlanView {
    /// Its number.
    pub number: i64,
    /// The version shown.
    pub version: i64,
    /// The plan's newest version (edits are based on it).
    pub current_version: i64,
    /// The content, secrets masked.
    pub plan: PlanDraft,
}

/// Whether the parameter `name` of `action` is a secret (stored, never shown back, masked).
pub fn is_secret(action: &str, name: &str) -> bool {
    action
        .parse::<ActionCode>()
        .ok()
        .and_then(|c| c.spec().param(name))
        .is_some_and(|p| p.kind == ParamKind::Secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(scene: Scene, steps: Vec<Step>) -> PlanDraft {
        PlanDraft {
            name: "Checkout failover".into(),
            description: String::new(),
            scene,
            service: "checkout".into(),
            scenario: "primary region lost".into(),
            rto_secs: Some(600),
            rpo_secs: None,
            schedule: None,
            enabled: true,
            steps,
        }
    }

    fn http(url: &str) -> Step {
        let mut s = Step::new(format!("http-{url}"), ActionCode::HttpRequest, None);
        s.params.insert("url".into(), ParamValue::Set(url.into()));
        s
    }

    fn wait(phase: Option<Phase>) -> Step {
        Step::new("wait".into(), ActionCode::Wait, phase)
    }

    fn fields(plan: &PlanDraft) -> Vec<String> {
        match plan.validate() {
            Ok(()) => vec![],
            Err(crate::model::AppError::Validation(errors)) => {
                errors.into_iter().map(|e| e.field).collect()
            }
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_plan_of_valid_steps_passes() {
        let p = plan(
            Scene::Drill,
            vec![http("https://shop.example/health"), wait(None)],
        );
        assert_eq!(fields(&p), Vec::<String>::new());
    }

    #[test]
    fn recovery_targets_longer_than_thirty_days_are_refused_by_field() {
        let mut p = plan(Scene::Drill, vec![wait(None)]);
        p.rto_secs = Some(MAX_TARGET_SECS);
        p.rpo_secs = Some(u32::MAX);
        assert_eq!(fields(&p), ["rpo_secs"]);
    }

    #[test]
    fn missing_required_parameters_and_bad_urls_are_named_by_field() {
        let mut missing = Step::new("m".into(), ActionCode::HttpRequest, None);
        missing.params.remove("expect_status");
        let p = plan(Scene::Drill, vec![http("ftp://nope"), missing]);
        assert_eq!(
            fields(&p),
            ["steps.0.url", "steps.1.url", "steps.1.expect_status"],
            "in the catalog's order"
        );
    }

    #[test]
    fn an_open_parameter_is_valid_at_design_time() {
        let mut s = http("");
        s.params.insert("url".into(), ParamValue::AskAtRun);
        assert!(plan(Scene::Drill, vec![s]).validate().is_ok());
    }

    #[test]
    fn an_empty_plan_and_unknown_actions_are_refused() {
        assert_eq!(fields(&plan(Scene::Drill, vec![])), ["steps"]);
        let mut gone = wait(None);
        gone.action = "teleport".into();
        assert_eq!(fields(&plan(Scene::Drill, vec![gone])), ["steps.0.action"]);
    }

    #[test]
    fn disaster_recovery_phases_run_in_their_fixed_order() {
        let step = |phase| wait(Some(phase));
        let ok = plan(
            Scene::DisasterRecovery,
            vec![
                step(Phase::SwitchOver),
                step(Phase::Recovery),
                step(Phase::Recovery),
                step(Phase::SwitchBack),
            ],
        );
        assert!(ok.validate().is_ok());
        let backwards = plan(
            Scene::DisasterRecovery,
            vec![
                step(Phase::SwitchOver),
                step(Phase::SwitchBack),
                step(Phase::Recovery),
            ],
        );
        assert_eq!(fields(&backwards), ["steps.2.phase"]);
        let missing_phase = plan(
            Scene::DisasterRecovery,
            vec![step(Phase::SwitchOver), step(Phase::Recovery)],
        );
        assert_eq!(fields(&missing_phase), ["steps"]);
        let phase_in_drill = plan(Scene::Drill, vec![step(Phase::Recovery)]);
        assert_eq!(fields(&phase_in_drill), ["steps.0.phase"]);
    }

    #[test]
    fn run_time_answers_fill_open_parameters_without_touching_the_plan() {
        let mut s = http("");
        s.params.insert("url".into(), ParamValue::AskAtRun);
        let p = plan(Scene::Drill, vec![wait(None), s]);
        let before = p.clone();
        assert_eq!(p.open_params(), [(1, "url".to_owned())]);

        let err = p.resolve(&BTreeMap::new()).unwrap_err();
        assert!(
            err.field_message("steps.1.url").is_some(),
            "an open parameter must be answered"
        );
        let bad = BTreeMap::from([("steps.1.url".to_owned(), "not a url".to_owned())]);
        assert!(
            p.resolve(&bad)
                .unwrap_err()
                .field_message("steps.1.url")
                .is_some()
        );

        let answers =
            BTreeMap::from([("steps.1.url".to_owned(), "https://shop.example".to_owned())]);
        let resolved = p.resolve(&answers).unwrap();
        assert_eq!(resolved[1]["url"], "https://shop.example");
        assert_eq!(
            resolved[1]["method"], "GET",
            "fixed values come from the plan"
        );
        assert_eq!(p, before, "the plan is never changed by a run's answers");
    }

    #[test]
    fn step_limits_are_checked() {
        let mut s = wait(None);
        s.timeout_secs = 0;
        s.weight = 101;
        s.name = " ".into();
        assert_eq!(
            fields(&plan(Scene::Drill, vec![s])),
            ["steps.0.name", "steps.0.timeout_secs", "steps.0.weight"]
        );
    }

    #[test]
    fn secrets_never_leave_the_server_and_survive_an_edit_and_a_move() {
        let mut hook = Step::new("hook".into(), ActionCode::Webhook, None);
        hook.params.insert(
            "url".into(),
            ParamValue::Set("https://chaos.example/faults".into()),
        );
        hook.params
            .insert("secret".into(), ParamValue::Set("s3cret".into()));
        let stored = plan(Scene::Drill, vec![wait(None), hook]);

        let mut edited = stored.masked();
        assert_eq!(edited.steps[1].params["secret"], ParamValue::StoredSecret);
        assert!(!serde_json::to_string(&edited).unwrap().contains("s3cret"));
        edited.steps.swap(0, 1);
        edited.steps[0].name = "Start the fault".into();
        let saved = edited.with_secrets_from(Some(&stored));
        assert_eq!(
            saved.steps[0].params["secret"],
            ParamValue::Set("s3cret".into()),
            "followed its step"
        );
        assert_eq!(saved.steps[0].name, "Start the fault");
        assert!(saved.validate().is_ok());

        let orphan = stored.masked().with_secrets_from(None);
        assert_eq!(
            orphan.steps[1].params["secret"],
            ParamValue::Set(String::new())
        );
    }

    #[test]
    fn phases_are_stored_by_the_name_serde_uses() {
        for p in Phase::ALL {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
            assert_eq!(p.as_str().parse::<Phase>(), Ok(p));
        }
    }

    #[test]
    fn secrets_are_known_by_their_catalog_type() {
        assert!(is_secret("webhook", "secret"));
        assert!(!is_secret("webhook", "url"));
        assert!(!is_secret("removed_action", "secret"));
    }
}
