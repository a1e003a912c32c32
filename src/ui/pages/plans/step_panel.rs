//! The side panel: the selected step's name, its action's parameters (the catalog's labels, help
//! and types; each may be left open to be asked at run time), its gate, failure policy, timeout,
//! weight and phase, with the model's validation message beside each field.

use leptos::prelude::*;

use crate::model::catalog::{ActionCode, ParamKind, ParamSpec, Scene};
use crate::model::plan::{OnFailure, ParamValue, Phase, Step, StepMark, step_field};
use crate::model::plan_edit::{self, Place};
use crate::ui::pages::plans::composer::Composer;

/// The panel of step `id`.
#[component]
pub fn StepPanel(id: String) -> impl IntoView {
    let composer = expect_context::<Composer>();
    let draft = composer.draft;
    let key = StoredValue::new(id.clone());
    let index = move || key.with_value(|k| draft.with(|d| d.steps.iter().position(|s| s.id == *k)));
    let read = {
        let id = id.clone();
        move |f: &dyn Fn(&Step) -> String| {
            draft.with(|d| {
                d.steps
                    .iter()
                    .find(|s| s.id == id)
                    .map(f)
                    .unwrap_or_default()
            })
        }
    };
    let write = {
        let id = id.clone();
        move |f: &dyn Fn(&mut Step)| {
            composer.edit(|d| {
                if let Some(s) = d.steps.iter_mut().find(|s| s.id == id) {
                    f(s);
                }
            })
        }
    };
    let error = move |name: &'static str| {
        move || index().and_then(|i| composer.error(&step_field(i, name)))
    };
    let spec = draft.with_untracked(|d| {
        d.steps
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.action.parse::<ActionCode>().ok())
    });
    let dr = draft.with_untracked(|d| d.scene == Scene::DisasterRecovery);
    let heading = move || format!("Step {}", index().map_or(0, |i| i + 1));
    let (r1, r2, r3, r4, r5, r6) = (
        read.clone(),
        read.clone(),
        read.clone(),
        read.clone(),
        read.clone(),
        read.clone(),
    );
    let (w1, w2, w3, w4, w5, w6) = (
        write.clone(),
        write.clone(),
        write.clone(),
        write.clone(),
        write.clone(),
        write,
    );
    let id_for_phase = id.clone();
    view! {
        <h2>{heading}</h2>
        {spec.map(|c| view! { <p class="muted small">{format!("{} — {}", c.label(), c.spec().description)}</p> })}
        <div class="field" class:invalid=move || error("name")().is_some()>
            <label for="step-name">"Step name"</label>
            <input id="step-name" type="text" prop:value=move || r1(&|s| s.name.clone())
                on:input:target=move |ev| { let v = ev.target().value(); w1(&|s| s.name = v.clone()) } />
            <p class="field-error" role="alert">{error("name")}</p>
        </div>
        {spec.map(|c| c.spec().params.iter().map(|p| view! { <ParamField id=id.clone() param=p /> }).collect_view())}
        <fieldset class="step-settings">
            <legend>"Running it"</legend>
            <label class="check">
                <input type="checkbox" prop:checked=move || r2(&|s| s.pre_confirm.to_string()) == "true"
                    on:change:target=move |ev| { let v = ev.target().checked(); w2(&|s| s.pre_confirm = v) } />
                " A commander confirms before it runs"
            </label>
            <div class="field">
                <label for="step-on-failure">"If it fails"</label>
                <select id="step-on-failure" prop:value=move || r3(&|s| if s.on_failure == OnFailure::Abort { "abort".into() } else { "continue".into() })
                    on:change:target=move |ev| {
                        let v = if ev.target().value() == "continue" { OnFailure::Continue } else { OnFailure::Abort };
                        w3(&|s| s.on_failure = v)
                    }>
                    <option value="abort">"Stop the run"</option>
                    <option value="continue">"Go on with the next step"</option>
                </select>
            </div>
            <div class="field" class:invalid=move || error("timeout_secs")().is_some()>
                <label for="step-timeout">"Timeout (seconds)"</label>
                <input id="step-timeout" type="number" min="1" prop:value=move || r4(&|s| s.timeout_secs.to_string())
                    on:input:target=move |ev| { let v = ev.target().value().trim().parse().unwrap_or(0); w4(&|s| s.timeout_secs = v) } />
                <p class="field-error" role="alert">{error("timeout_secs")}</p>
            </div>
            <div class="field" class:invalid=move || error("weight")().is_some()>
                <label for="step-weight">"Weight in the score"</label>
                <input id="step-weight" type="number" min="0" max="100" prop:value=move || r5(&|s| s.weight.to_string())
                    on:input:target=move |ev| { let v = ev.target().value().trim().parse().unwrap_or(u32::MAX); w5(&|s| s.weight = v) } />
                <p class="field-error" role="alert">{error("weight")}</p>
            </div>
            <div class="field">
                <label for="step-mark">"In the recovery time"</label>
                <select id="step-mark" aria-describedby="step-mark-help"
                    prop:value=move || r6(&|s| s.mark.map(|m| m.as_str().to_owned()).unwrap_or_default())
                    on:change:target=move |ev| {
                        let v = ev.target().value().parse::<StepMark>().ok();
                        w6(&|s| s.mark = v)
                    }>
                    <option value="">"Not marked"</option>
                    {StepMark::ALL.iter().map(|m| view! { <option value=m.as_str()>{m.label()}</option> }).collect_view()}
                </select>
                <p class="help" id="step-mark-help">"A drill's recovery time runs from the first step that injects the failure to the last passing recovery check, and is held against the RTO."</p>
            </div>
            {dr.then(|| view! {
                <div class="field" class:invalid=move || error("phase")().is_some()>
                    <label for="step-phase">"Phase"</label>
                    <select id="step-phase" prop:value=move || read(&|s| s.phase.map(|p| p.as_str().to_owned()).unwrap_or_default())
                        on:change:target=move |ev| {
                            // Phases stay contiguous: the step goes to the end of its new phase.
                            if let Ok(p) = ev.target().value().parse::<Phase>() {
                                let id = id_for_phase.clone();
                                composer.edit(|d| plan_edit::move_to(&mut d.steps, &id, &Place::End(Some(p))));
                            }
                        }>
                        {Phase::ALL.iter().map(|p| view! { <option value=p.as_str()>{p.label()}</option> }).collect_view()}
                    </select>
                    <p class="field-error" role="alert">{error("phase")}</p>
                </div>
            })}
        </fieldset>
    }
}

/// One parameter of the step, with "Ask at run time".
#[component]
fn ParamField(id: String, param: &'static ParamSpec) -> impl IntoView {
    let composer = expect_context::<Composer>();
    let draft = composer.draft;
    let value = {
        let id = id.clone();
        move || {
            draft.with(|d| {
                d.steps
                    .iter()
                    .find(|s| s.id == id)
                    .and_then(|s| s.params.get(param.name).cloned())
            })
        }
    };
    let set = {
        let id = id.clone();
        move |v: Option<ParamValue>| {
            composer.edit(|d| {
                if let Some(s) = d.steps.iter_mut().find(|s| s.id == id) {
                    match v {
                        Some(v) => {
                            s.params.insert(param.name.to_owned(), v);
                        }
                        None => {
                            s.params.remove(param.name);
                        }
                    }
                }
            })
        }
    };
    let key = StoredValue::new(id.clone());
    let index = move || key.with_value(|k| draft.with(|d| d.steps.iter().position(|s| s.id == *k)));
    let error = move || index().and_then(|i| composer.error(&step_field(i, param.name)));
    let error_again = error;
    let asked = {
        let value = value.clone();
        move || value() == Some(ParamValue::AskAtRun)
    };
    let stored = {
        let value = value.clone();
        move || value() == Some(ParamValue::StoredSecret)
    };
    let text = {
        let value = value.clone();
        move || match value() {
            Some(ParamValue::Set(v)) => v,
            _ => String::new(),
        }
    };
    let input_id = format!("param-{}", param.name);
    let ask_id = format!("ask-{}", param.name);
    let help_id = format!("{input_id}-help");
    let on_text = {
        let set = set.clone();
        move |v: String| {
            if v.is_empty() && !param.required {
                set(None)
            } else {
                set(Some(ParamValue::Set(v)))
            }
        }
    };
    let (on_text2, on_text3) = (on_text.clone(), on_text.clone());
    let disabled = asked.clone();
    let input = match param.kind {
        ParamKind::Multiline | ParamKind::Json => view! {
            <textarea id=input_id.clone() rows="3" aria-describedby=help_id.clone() disabled=disabled.clone()
                prop:value=text.clone() on:input:target=move |ev| on_text(ev.target().value())></textarea>
        }.into_any(),
        ParamKind::Choice { options } => view! {
            <select id=input_id.clone() aria-describedby=help_id.clone() disabled=disabled.clone()
                prop:value=text.clone() on:change:target=move |ev| on_text2(ev.target().value())>
                {(!param.required).then(|| view! { <option value="">"—"</option> })}
                {options.iter().map(|o| view! { <option value=*o>{*o}</option> }).collect_view()}
            </select>
        }.into_any(),
        kind => {
            let kind_attr = match kind {
                ParamKind::Secret => "password",
                ParamKind::Number { .. } => "number",
                ParamKind::Url => "url",
                _ => "text",
            };
            let placeholder = move || stored().then_some("stored — type to replace");
            view! {
                <input id=input_id.clone() type=kind_attr aria-describedby=help_id.clone() disabled=disabled.clone()
                    placeholder=placeholder autocomplete="off"
                    prop:value=text.clone() on:input:target=move |ev| on_text3(ev.target().value()) />
            }.into_any()
        }
    };
    let set_ask = set.clone();
    view! {
        <div class="field param" class:invalid=move || error().is_some()>
            <label for=input_id.clone()>{param.label}{param.required.then_some(" (required)")}</label>
            {(!param.help.is_empty()).then(|| view! { <p class="help" id=help_id.clone()>{param.help}</p> })}
            {input}
            <label class="check small" for=ask_id.clone()>
                <input id=ask_id.clone() type="checkbox" prop:checked=asked.clone()
                    on:change:target=move |ev| {
                        let v = if ev.target().checked() {
                            Some(ParamValue::AskAtRun)
                        } else {
                            param.default.map(|d| ParamValue::Set(d.to_owned()))
                        };
                        set_ask(v)
                    } />
                {format!(" Ask for “{}” at run time", param.label)}
            </label>
            <p class="field-error" role="alert">{error_again}</p>
        </div>
    }
}
