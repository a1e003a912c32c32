//! "Run now": the plan's open parameters asked for this run only (never written back to the
//! plan), then a run is created and its page opened. A plain form posted to `/plans/N/run`, so it
//! works with and without JavaScript; refused answers come back in the URL as signed form feedback
//! (`form=run_plan`, `e.<field>`, the non-secret values in `v.<field>`) and are shown beside
//! their fields.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::model::catalog::{ActionCode, ParamKind};
use crate::model::plan::{PlanDraft, step_field};
use crate::ui::format;

/// One question of the run form.
struct Question {
    field: String,
    label: String,
    help: &'static str,
    kind: ParamKind,
}

fn questions(plan: &PlanDraft) -> Vec<Question> {
    plan.open_params()
        .into_iter()
        .map(|(i, name)| {
            let step = &plan.steps[i];
            let spec = step
                .action
                .parse::<ActionCode>()
                .ok()
                .and_then(|c| c.spec().param(&name));
            Question {
                field: step_field(i, &name),
                label: format!(
                    "{} — {} (step {})",
                    spec.map_or(name.as_str(), |p| p.label),
                    step.name,
                    i + 1
                ),
                help: spec.map_or("", |p| p.help),
                kind: spec.map_or(ParamKind::Text, |p| p.kind),
            }
        })
        .collect()
}

/// The "Run now" form of plan `number`.
#[component]
pub fn RunForm(number: i64, plan: PlanDraft) -> impl IntoView {
    let query = use_query_map();
    let get = move |key: String| query.read().get(&key).filter(|v| !v.is_empty());
    let ours = query.read().get("form").as_deref() == Some("run_plan");
    let feedback = move |key: String| if ours { get(key) } else { None };
    let incident = get("incident".into());
    let form_error = feedback("e".into());
    let asked = questions(&plan);
    let disabled = !plan.enabled;
    // `novalidate`: the server checks every answer and says what is wrong beside its field.
    view! {
        <section class="card run-form" id="run" aria-labelledby="run-heading">
            <h2 id="run-heading">{if incident.is_some() { "Run for this incident" } else { "Run now" }}</h2>
            {incident.clone().map(|i| view! {
                <p>"The run and every step's result go on the timeline of " <a href=format!("/incidents/{i}")>{i.clone()}</a> "."</p>
            })}
            {form_error.map(|e| view! { <p class="alert error" role="alert">{e}</p> })}
            {disabled.then(|| view! { <p class="alert info" role="note">"This plan is disabled: enable it to run it."</p> })}
            <form method="post" action=format!("/plans/{number}/run") novalidate>
                {incident.map(|i| view! { <input type="hidden" name="incident" value=i /> })}
                {if asked.is_empty() {
                    view! { <p class="muted">"Nothing is asked at run time: every parameter is set in the plan."</p> }.into_any()
                } else {
                    view! {
                        <p class="muted">"These values are used for this run only; the plan keeps asking for them."</p>
                        {asked.into_iter().map(|q| {
                            let id = format!("run-{}", q.field.replace('.', "-"));
                            let error = feedback(format!("e.{}", q.field));
                            let value = feedback(format!("v.{}", q.field)).unwrap_or_default();
                            let error_id = format!("{id}-error");
                            let invalid = error.is_some();
                            let described = error.as_ref().map(|_| error_id.clone());
                            let input = match q.kind {
                                ParamKind::Multiline | ParamKind::Json => view! {
                                    <textarea id=id.clone() name=q.field.clone() rows="3" aria-describedby=described.clone()
                                        aria-invalid=error.as_ref().map(|_| "true")>{format::raw_text(&value)}</textarea>
                                }.into_any(),
                                ParamKind::Choice { options } => view! {
                                    <select id=id.clone() name=q.field.clone() aria-describedby=described.clone()>
                                        {options.iter().map(|o| view! { <option value=*o selected=value == *o>{*o}</option> }).collect_view()}
                                    </select>
                                }.into_any(),
                                kind => {
                                    let kind_attr = match kind {
                                        ParamKind::Secret => "password",
                                        ParamKind::Url => "url",
                                        ParamKind::Number { .. } => "number",
                                        _ => "text",
                                    };
                                    view! {
                                        <input id=id.clone() name=q.field.clone() type=kind_attr value=value
                                            aria-describedby=described.clone() aria-invalid=error.as_ref().map(|_| "true") />
                                    }.into_any()
                                }
                            };
                            view! {
                                <div class="field" class:invalid=invalid>
                                    <label for=id.clone()>{q.label}</label>
                                    {(!q.help.is_empty()).then(|| view! { <p class="help">{q.help}</p> })}
                                    {input}
                                    <p class="field-error" id=error_id role="alert">{error}</p>
                                </div>
                            }
                        }).collect_view()}
                    }.into_any()
                }}
                <button type="submit" class="btn primary" disabled=disabled>"Run now"</button>
            </form>
        </section>
    }
}
