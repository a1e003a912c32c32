//! The step composer: a plan's description, its steps composed from the action palette by drag
//! and drop (or the keyboard), the selected step's parameters in a side panel, a read-only
//! preview, and saving as a new version. Validation is the model's (`PlanDraft::validate`), run
//! in the browser as the plan changes and again by the server on save.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::plans::{create_plan, update_plan};
use crate::model::catalog::{ActionCode, Scene};
use crate::model::plan::{MAX_TARGET_SECS, PlanDraft};
use crate::model::plan_edit;
use crate::model::{AppError, FieldError};
use crate::ui::pages::plans::palette::{AvailableActions, Palette};
use crate::ui::pages::plans::preview::PlanPreview;
use crate::ui::pages::plans::schedule_fields::ScheduleFields;
use crate::ui::pages::plans::step_list::StepList;
use crate::ui::pages::plans::step_panel::StepPanel;

/// What the composer's parts share.
#[derive(Clone, Copy)]
pub struct Composer {
    /// The plan being composed.
    pub draft: RwSignal<PlanDraft>,
    /// The id of the step in the side panel.
    pub selected: RwSignal<Option<String>>,
    /// Changes not saved yet.
    pub dirty: RwSignal<bool>,
    /// The model's validation of the draft, kept current.
    pub problems: Memo<Vec<FieldError>>,
    /// What the server refused on the last save.
    pub refused: RwSignal<Vec<FieldError>>,
    /// Whether a save was attempted (plan-level messages wait for it).
    pub tried: RwSignal<bool>,
}

impl Composer {
    /// The message for `field`, from the browser's check or the server's.
    pub fn error(self, field: &str) -> Option<String> {
        let find = |list: &Vec<FieldError>| {
            list.iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone())
        };
        self.problems.with(find).or_else(|| self.refused.with(find))
    }

    /// How many problems step `index` has.
    pub fn step_problems(self, index: usize) -> usize {
        let prefix = format!("steps.{index}.");
        self.problems
            .with(|p| p.iter().filter(|e| e.field.starts_with(&prefix)).count())
    }

    /// Applies an edit to the draft and marks it unsaved.
    pub fn edit(self, change: impl FnOnce(&mut PlanDraft)) {
        self.draft.update(change);
        self.refused.set(Vec::new());
        self.dirty.set(true);
    }

    /// Adds a step of `action` at `place` and selects it.
    pub fn add(self, action: ActionCode, place: &plan_edit::Place) {
        let mut id = String::new();
        self.edit(|d| id = plan_edit::insert_new(&mut d.steps, action, place));
        self.selected.set(Some(id));
    }
}

fn problems_of(draft: &PlanDraft) -> Vec<FieldError> {
    match draft.validate() {
        Err(AppError::Validation(errors)) => errors,
        _ => Vec::new(),
    }
}

/// The composer over `initial`; `number` and `based_on` when editing a stored plan.
#[component]
pub fn PlanComposer(
    initial: PlanDraft,
    actions: AvailableActions,
    #[prop(optional)] number: Option<i64>,
    #[prop(optional)] based_on: Option<i64>,
) -> impl IntoView {
    let draft = RwSignal::new(initial);
    let composer = Composer {
        draft,
        selected: RwSignal::new(None),
        dirty: RwSignal::new(false),
        problems: Memo::new(move |_| draft.with(problems_of)),
        refused: RwSignal::new(Vec::new()),
        tried: RwSignal::new(false),
    };
    provide_context(composer);
    let status = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let preview = RwSignal::new(false);
    let navigate = use_navigate();

    // Leaving with unsaved changes asks first: the browser's own prompt for reloads and other
    // sites, and a confirmation for links inside the app.
    let unload = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if composer.dirty.get_untracked() {
            ev.prevent_default();
            ev.set_return_value("unsaved");
        }
    });
    // Effects run in the browser only.
    Effect::new(move |_| guard_links(composer.dirty));
    on_cleanup(move || unload.remove());

    let save = move |_| {
        composer.tried.set(true);
        if !composer.problems.with(Vec::is_empty) {
            status.set(Some(
                "Not saved: fix the marked fields first (steps with problems are flagged)."
                    .to_owned(),
            ));
            return;
        }
        saving.set(true);
        status.set(Some("Saving…".to_owned()));
        let plan = draft.get_untracked();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = match number {
                Some(n) => update_plan(n, plan, based_on.unwrap_or(1)).await.map(|_| n),
                None => create_plan(plan).await,
            };
            saving.set(false);
            match result {
                Ok(n) => {
                    composer.dirty.set(false);
                    status.set(Some("Saved.".to_owned()));
                    navigate(&format!("/plans/{n}"), Default::default());
                }
                Err(AppError::Validation(errors)) => {
                    composer.refused.set(errors);
                    status.set(Some(
                        "Not saved: the server found problems (see the marked fields).".to_owned(),
                    ));
                }
                Err(e) => status.set(Some(format!(
                    "Not saved: {e}. Your changes are still here."
                ))),
            }
        });
    };

    view! {
        <noscript><p class="alert info">"The step composer needs JavaScript (drag and drop). Plans can be read without it."</p></noscript>
        <PlanFields />
        <ScheduleFields />
        <div class="composer">
            <Palette actions />
            <StepList />
            <aside class="card step-panel" aria-label="Step settings">
                <For each=move || composer.selected.get() key=|id| id.clone() let:id>
                    <StepPanel id />
                </For>
                {move || composer.selected.get().is_none().then(|| view! {
                    <h2>"Step settings"</h2>
                    <p class="muted">"Select a step to edit its parameters, gate, timeout and weight."</p>
                })}
            </aside>
        </div>
        <div class="composer-actions card">
            <button type="button" class="btn primary" on:click=save disabled=move || saving.get()>
                {if number.is_some() { "Save as a new version" } else { "Create plan" }}
            </button>
            <button type="button" class="btn" aria-pressed=move || preview.get().to_string()
                on:click=move |_| preview.update(|p| *p = !*p)>"Preview"</button>
            <span class="save-state" role="status" aria-live="polite">
                {move || status.get().or_else(|| composer.dirty.get().then(|| "Unsaved changes".to_owned()))}
            </span>
        </div>
        {move || preview.get().then(|| view! {
            <section class="card" aria-label="Preview">
                <h2>"Preview"</h2>
                <PlanPreview plan=draft.get() />
            </section>
        })}
    }
}

/// Asks before a link inside the app leaves unsaved changes: a click listener in the capture
/// phase, which runs before the router's. It outlives the page harmlessly (a disposed `dirty`
/// reads as clean).
fn guard_links(dirty: RwSignal<bool>) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    let handler = Closure::<dyn Fn(leptos::web_sys::MouseEvent)>::new(
        move |ev: leptos::web_sys::MouseEvent| {
            if !dirty.try_get_untracked().unwrap_or(false) {
                return;
            }
            let on_link = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .and_then(|e| e.closest("a[href]").ok().flatten())
                .is_some();
            if on_link
                && !window()
                    .confirm_with_message("This plan has unsaved changes. Leave without saving?")
                    .unwrap_or(true)
            {
                ev.prevent_default();
                ev.stop_immediate_propagation();
            }
        },
    );
    let options = leptos::web_sys::AddEventListenerOptions::new();
    options.set_capture(true);
    let _ = window().add_event_listener_with_callback_and_add_event_listener_options(
        "click",
        handler.as_ref().unchecked_ref(),
        &options,
    );
    handler.forget();
}

/// The plan's own fields: name, kind, service, scenario, targets, description, enabled.
#[component]
fn PlanFields() -> impl IntoView {
    let composer = expect_context::<Composer>();
    let draft = composer.draft;
    let shown = move |field: &'static str| {
        move || {
            composer
                .tried
                .get()
                .then(|| composer.error(field))
                .flatten()
        }
    };
    let minutes = |secs: Option<u32>| {
        secs.filter(|s| *s <= MAX_TARGET_SECS)
            .map(|s| (s / 60).to_string())
            .unwrap_or_default()
    };
    // Unreadable text becomes an out-of-range target, which the plan's validation refuses
    // beside the field (instead of the target silently vanishing).
    let set_minutes = |text: String| -> Option<u32> {
        let text = text.trim();
        (!text.is_empty()).then(|| {
            text.parse::<u32>()
                .ok()
                .and_then(|m| m.checked_mul(60))
                .unwrap_or(u32::MAX)
        })
    };
    view! {
        <section class="card plan-fields" aria-label="Plan">
            <div class="field-grid">
                <div class="field" class:invalid=move || shown("name")().is_some()>
                    <label for="plan-name">"Name"</label>
                    <input id="plan-name" type="text" prop:value=move || draft.with(|d| d.name.clone())
                        on:input:target=move |ev| composer.edit(|d| d.name = ev.target().value()) />
                    <p class="field-error" role="alert">{shown("name")}</p>
                </div>
                <div class="field">
                    <label for="plan-scene">"Kind"</label>
                    <select id="plan-scene" prop:value=move || draft.with(|d| d.scene.as_str().to_owned())
                        on:change:target=move |ev| {
                            if let Ok(scene) = ev.target().value().parse::<Scene>() {
                                composer.edit(|d| {
                                    d.scene = scene;
                                    if !scene.schedulable() {
                                        d.schedule = None;
                                    }
                                    plan_edit::set_phased(&mut d.steps, scene == Scene::DisasterRecovery);
                                });
                            }
                        }>
                        {Scene::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="plan-service">"Target service"</label>
                    <input id="plan-service" type="text" prop:value=move || draft.with(|d| d.service.clone())
                        on:input:target=move |ev| composer.edit(|d| d.service = ev.target().value()) />
                </div>
                <div class="field">
                    <label for="plan-scenario">"Scenario"</label>
                    <input id="plan-scenario" type="text" prop:value=move || draft.with(|d| d.scenario.clone())
                        on:input:target=move |ev| composer.edit(|d| d.scenario = ev.target().value()) />
                </div>
                <div class="field" class:invalid=move || composer.error("rto_secs").is_some()>
                    <label for="plan-rto">"RTO target (minutes)"</label>
                    <input id="plan-rto" type="number" min="0" prop:value=move || draft.with(|d| minutes(d.rto_secs))
                        on:input:target=move |ev| composer.edit(|d| d.rto_secs = set_minutes(ev.target().value())) />
                    <p class="field-error" role="alert">{move || composer.error("rto_secs")}</p>
                </div>
                <div class="field" class:invalid=move || composer.error("rpo_secs").is_some()>
                    <label for="plan-rpo">"RPO target (minutes)"</label>
                    <input id="plan-rpo" type="number" min="0" prop:value=move || draft.with(|d| minutes(d.rpo_secs))
                        on:input:target=move |ev| composer.edit(|d| d.rpo_secs = set_minutes(ev.target().value())) />
                    <p class="field-error" role="alert">{move || composer.error("rpo_secs")}</p>
                </div>
            </div>
            <div class="field" class:invalid=move || shown("description")().is_some()>
                <label for="plan-description">"Description"</label>
                <textarea id="plan-description" rows="2" prop:value=move || draft.with(|d| d.description.clone())
                    on:input:target=move |ev| composer.edit(|d| d.description = ev.target().value())></textarea>
                <p class="field-error" role="alert">{shown("description")}</p>
            </div>
            <label class="check">
                <input type="checkbox" prop:checked=move || draft.with(|d| d.enabled)
                    on:change:target=move |ev| composer.edit(|d| d.enabled = ev.target().checked()) />
                " Enabled (may run)"
            </label>
            <p class="field-error" role="alert">{shown("steps")}</p>
        </section>
    }
}
