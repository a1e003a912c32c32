//! A read-only view of a whole plan: its targets, then every step (grouped by phase for a
//! disaster-recovery plan) with its parameters, gates and what will be asked at run time.

use leptos::prelude::*;

use crate::model::catalog::{ActionCode, Scene};
use crate::model::plan::{OnFailure, ParamValue, Phase, PlanDraft, Step};

fn seconds(secs: Option<u32>) -> String {
    secs.map_or("—".to_owned(), |s| {
        crate::ui::format::duration(chrono::Duration::seconds(i64::from(s)))
    })
}

fn step_view(number: usize, step: &Step) -> impl IntoView + use<> {
    let code = step.action.parse::<ActionCode>().ok();
    let action = code.map_or_else(
        || format!("{} (no longer available)", step.action),
        |c| c.label().to_owned(),
    );
    // In the catalog's order, then any the catalog no longer knows.
    let mut names: Vec<&String> = step.params.keys().collect();
    let position = |name: &str| {
        code.and_then(|c| c.spec().params.iter().position(|p| p.name == name))
            .unwrap_or(usize::MAX)
    };
    names.sort_by_key(|n| position(n));
    let params: Vec<(String, String, bool)> = names
        .into_iter()
        .map(|name| (name, &step.params[name]))
        .map(|(name, value)| {
            let label = code
                .and_then(|c| c.spec().param(name))
                .map_or(name.clone(), |p| p.label.to_owned());
            match value {
                ParamValue::Set(v) if v.is_empty() => (label, "—".to_owned(), false),
                ParamValue::Set(v) => (label, v.clone(), false),
                ParamValue::AskAtRun => (label, "asked when the plan runs".to_owned(), true),
                ParamValue::StoredSecret => (label, "•••••• (stored secret)".to_owned(), false),
                ParamValue::Withheld => (label, "shown to responders and up".to_owned(), false),
            }
        })
        .collect();
    let gates = [
        step.pre_confirm
            .then_some("a commander (or admin) confirms before it runs"),
        Some(match step.on_failure {
            OnFailure::Abort => "a failure stops the run",
            OnFailure::Continue => "a failure lets the run go on",
        }),
    ];
    let details = format!(
        "times out after {} · weight {}{}",
        seconds(Some(step.timeout_secs)),
        step.weight,
        step.mark
            .map(|m| format!(" · {}", m.label().to_lowercase()))
            .unwrap_or_default()
    );
    view! {
        <li class="plan-step">
            <p class="step-title"><span class="step-number">{number}</span>" "<strong>{step.name.clone()}</strong>" "<span class="muted">{action}</span></p>
            <dl class="step-params">
                {params.into_iter().map(|(label, value, open)| view! {
                    <div class:open=open><dt>{label}</dt><dd>{value}</dd></div>
                }).collect_view()}
            </dl>
            <p class="muted small">{gates.into_iter().flatten().collect::<Vec<_>>().join(" · ")}{" · "}{details}</p>
        </li>
    }
}

/// Steps (numbered from 1) under their phase, if the plan has phases.
type StepGroup = (Option<Phase>, Vec<(usize, Step)>);

/// The preview of `plan`.
#[component]
pub fn PlanPreview(plan: PlanDraft) -> impl IntoView {
    let open = plan.open_params().len();
    let groups: Vec<StepGroup> = if plan.scene == Scene::DisasterRecovery {
        Phase::ALL
            .iter()
            .map(|phase| {
                let steps = plan
                    .steps
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.phase == Some(*phase))
                    .map(|(i, s)| (i + 1, s.clone()))
                    .collect();
                (Some(*phase), steps)
            })
            .collect()
    } else {
        vec![(
            None,
            plan.steps
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, s)| (i + 1, s))
                .collect(),
        )]
    };
    view! {
        <dl class="report-meta">
            <div><dt>"Kind"</dt><dd>{plan.scene.label()}</dd></div>
            <div><dt>"Service"</dt><dd>{plan.service.clone()}</dd></div>
            <div><dt>"Scenario"</dt><dd>{plan.scenario.clone()}</dd></div>
            <div><dt>"RTO"</dt><dd>{seconds(plan.rto_secs)}</dd></div>
            <div><dt>"RPO"</dt><dd>{seconds(plan.rpo_secs)}</dd></div>
            <div><dt>"Asked at run time"</dt><dd>{format!("{open} parameter{}", if open == 1 { "" } else { "s" })}</dd></div>
        </dl>
        {(!plan.description.is_empty()).then(|| view! { <p class="prose plan-description">{plan.description.clone()}</p> })}
        {groups.into_iter().map(|(phase, steps)| view! {
            {phase.map(|p| view! { <h3>{p.label()}</h3> })}
            <ol class="plan-steps">
                {steps.into_iter().map(|(n, s)| step_view(n, &s)).collect_view()}
            </ol>
        }).collect_view()}
    }
}
