//! The plan's steps in the composer (by phase for a disaster-recovery plan). Drop an action from
//! the palette or a step onto a step to put it just before that step, or onto a phase's drop zone
//! to put it at the end; every drag has buttons beside it: move up, move down (across phase edges),
//! remove. Selecting a step opens it in the side panel.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

use crate::model::catalog::{ActionCode, Scene};
use crate::model::plan::{ParamValue, Phase, Step};
use crate::model::plan_edit::{self, Place};
use crate::ui::pages::plans::composer::Composer;

fn mark_target(ev: &leptos::ev::DragEvent, on: bool) {
    if let Some(el) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
    {
        let classes = el.class_list();
        let _ = if on {
            classes.add_1("drop-over")
        } else {
            classes.remove_1("drop-over")
        };
    }
}

/// Focus follows a moved step: its button, once the list is drawn again.
fn focus_later(element_id: String) {
    request_animation_frame(move || {
        if let Some(el) = document()
            .get_element_by_id(&element_id)
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

/// Handles a drop at `place`: a new action from the palette, or a step moved.
fn dropped(composer: Composer, ev: &leptos::ev::DragEvent, place: &Place) {
    ev.prevent_default();
    mark_target(ev, false);
    let Some(data) = ev
        .data_transfer()
        .and_then(|dt| dt.get_data("text/plain").ok())
    else {
        return;
    };
    if let Some(code) = data.strip_prefix("new:") {
        if let Ok(code) = code.parse::<ActionCode>() {
            composer.add(code, place);
        }
    } else if let Some(id) = data.strip_prefix("move:") {
        let id = id.to_owned();
        composer.edit(|d| plan_edit::move_to(&mut d.steps, &id, place));
        composer.selected.set(Some(id));
    }
}

/// Drag handlers that make an element a drop target for `place`.
macro_rules! drop_target {
    ($composer:expr, $place:expr) => {{
        let place = $place;
        (
            move |ev: leptos::ev::DragEvent| ev.prevent_default(),
            move |ev: leptos::ev::DragEvent| mark_target(&ev, true),
            move |ev: leptos::ev::DragEvent| mark_target(&ev, false),
            move |ev: leptos::ev::DragEvent| dropped($composer, &ev, &place),
        )
    }};
}

/// The steps.
#[component]
pub fn StepList() -> impl IntoView {
    let composer = expect_context::<Composer>();
    let phases = move || {
        composer.draft.with(|d| {
            if d.scene == Scene::DisasterRecovery {
                Phase::ALL.iter().map(|p| Some(*p)).collect()
            } else {
                vec![None]
            }
        })
    };
    view! {
        <section class="card step-list" aria-labelledby="steps-title">
            <h2 id="steps-title">"Steps"</h2>
            {move || phases().into_iter().map(|phase| view! { <PhaseSteps phase /> }).collect_view()}
        </section>
    }
}

#[component]
fn PhaseSteps(phase: Option<Phase>) -> impl IntoView {
    let composer = expect_context::<Composer>();
    let steps = move || {
        composer.draft.with(|d| {
            d.steps
                .iter()
                .enumerate()
                .filter(|(_, s)| s.phase == phase)
                .map(|(i, s)| (i, s.clone()))
                .collect::<Vec<_>>()
        })
    };
    let (over, enter, leave, drop) = drop_target!(composer, Place::End(phase));
    let zone_label = match phase {
        Some(p) => format!("Drop here to add to {}", p.label()),
        None => "Drop here to add at the end".to_owned(),
    };
    view! {
        {phase.map(|p| view! { <h3 class="phase-title">{p.label()}</h3> })}
        <ol class="composer-steps" aria-label=phase.map_or("Plan steps".to_owned(), |p| format!("{} steps", p.label()))>
            {move || steps().into_iter().map(|(index, step)| view! { <StepCard index step /> }).collect_view()}
        </ol>
        <div class="drop-zone" role="region" aria-label=zone_label.clone()
            on:dragover=over on:dragenter=enter on:dragleave=leave on:drop=drop>
            {zone_label.clone()}
        </div>
    }
}

#[component]
fn StepCard(index: usize, step: Step) -> impl IntoView {
    let composer = expect_context::<Composer>();
    let id = step.id.clone();
    let payload = format!("move:{id}");
    let (over, enter, leave, drop) = drop_target!(composer, Place::Before(id.clone()));
    let key = StoredValue::new(id.clone());
    let selected =
        move || key.with_value(|k| composer.selected.get().as_deref() == Some(k.as_str()));
    let problems = composer.step_problems(index);
    let flagged = problems > 0;
    let asks = step.params.values().any(|v| *v == ParamValue::AskAtRun);
    let action = step
        .action
        .parse::<ActionCode>()
        .map_or_else(|_| step.action.clone(), |c| c.label().to_owned());
    let name = step.name.clone();
    let (select_id, up_id, down_id, remove_id) = (id.clone(), id.clone(), id.clone(), id.clone());
    // The card's body is text, so a drag can start anywhere on it (browsers start no drag on a
    // button); a click on it selects the step, and the Edit button is the keyboard's way.
    view! {
        <li class="composer-step" class:selected=selected class:has-problems=flagged
            draggable="true" aria-label=format!("Step {}: {}", index + 1, name)
            on:dragstart=move |ev: leptos::ev::DragEvent| {
                if let Some(dt) = ev.data_transfer() {
                    let _ = dt.set_data("text/plain", &payload);
                    dt.set_effect_allowed("move");
                }
            }
            on:dragover=over on:dragenter=enter on:dragleave=leave on:drop=drop>
            <span class="grip" aria-hidden="true">"⠿"</span>
            <span class="step-body" on:click={
                let id = select_id.clone();
                move |_| composer.selected.set(Some(id.clone()))
            }>
                <span class="step-number">{index + 1}</span>
                <span class="step-text">
                    <strong>{name.clone()}</strong>
                    // The action under the name, unless the step is still named after it.
                    {(action != name).then(|| view! { <span class="muted small">{action}</span> })}
                </span>
            </span>
            <span class="step-flags">
                {step.pre_confirm.then(|| view! { <span class="badge">"Confirm first"</span> })}
                {asks.then(|| view! { <span class="badge">"Asks at run time"</span> })}
                {(problems > 0).then(|| view! {
                    <span class="badge problems">{format!("{problems} problem{}", if problems == 1 { "" } else { "s" })}</span>
                })}
            </span>
            <span class="step-moves">
                <button type="button" class="icon-button" aria-label=format!("Edit {name}") aria-pressed=move || selected().to_string()
                    on:click=move |_| composer.selected.set(Some(select_id.clone()))>"✎"</button>
                <button type="button" class="icon-button" id=format!("up-{id}") aria-label=format!("Move {name} up")
                    on:click=move |_| {
                        composer.edit(|d| { plan_edit::move_up(&mut d.steps, &up_id); });
                        focus_later(format!("up-{up_id}"));
                    }>"↑"</button>
                <button type="button" class="icon-button" id=format!("down-{id}") aria-label=format!("Move {name} down")
                    on:click=move |_| {
                        composer.edit(|d| { plan_edit::move_down(&mut d.steps, &down_id); });
                        focus_later(format!("down-{down_id}"));
                    }>"↓"</button>
                <button type="button" class="icon-button" aria-label=format!("Remove {name}")
                    on:click=move |_| {
                        composer.edit(|d| plan_edit::remove(&mut d.steps, &remove_id));
                        if composer.selected.get_untracked().as_deref() == Some(remove_id.as_str()) {
                            composer.selected.set(None);
                        }
                    }>"✕"</button>
            </span>
        </li>
    }
}
