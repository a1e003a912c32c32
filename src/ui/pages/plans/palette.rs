//! The action palette: the catalog's actions this server can run in the plan's kind, grouped by
//! category, with a search box. Drag an action into the plan, or press its "Add" button (for a
//! disaster-recovery plan, into the phase chosen above the list).

use leptos::prelude::*;

use crate::api::plans::available_actions;
use crate::model::catalog::{self, ActionSpec, Category, Scene};
use crate::model::plan::Phase;
use crate::model::plan_edit::Place;
use crate::ui::pages::plans::composer::Composer;

/// The drag payload of a palette action.
pub fn new_payload(spec: &ActionSpec) -> String {
    format!("new:{}", spec.code.as_str())
}

/// The actions this server can run, read by the page that holds the composer. Created with the
/// page, outside any `Suspense`: a resource created while a suspense resolves on the server may
/// outlive the render that created it and run without the request's context.
pub type AvailableActions = Resource<Result<Vec<catalog::ActionCode>, crate::model::AppError>>;

/// The resource of the actions the palette offers.
pub fn available_actions_resource() -> AvailableActions {
    Resource::new(|| (), |_| available_actions())
}

/// The palette.
#[component]
pub fn Palette(actions: AvailableActions) -> impl IntoView {
    let composer = expect_context::<Composer>();
    let search = RwSignal::new(String::new());
    let phase = RwSignal::new(Phase::SwitchOver);
    let dr = move || composer.draft.with(|d| d.scene == Scene::DisasterRecovery);
    let groups = move |codes: Vec<catalog::ActionCode>| {
        let scene = composer.draft.with(|d| d.scene);
        let needle = search.get().trim().to_lowercase();
        let list = catalog::available(codes.iter().map(|c| c.spec()), scene, &|_| true);
        let mut groups: Vec<(Category, Vec<&'static ActionSpec>)> = Vec::new();
        for spec in list {
            let text = format!("{} {}", spec.code.label(), spec.description).to_lowercase();
            if !needle.is_empty() && !text.contains(&needle) {
                continue;
            }
            match groups.last_mut() {
                Some((c, specs)) if *c == spec.category => specs.push(spec),
                _ => groups.push((spec.category, vec![spec])),
            }
        }
        groups
    };
    view! {
        <section class="card palette" aria-labelledby="palette-title">
            <h2 id="palette-title">"Actions"</h2>
            <div class="field">
                <label for="palette-search">"Search actions"</label>
                <input id="palette-search" type="search" placeholder="http, wait, check…"
                    prop:value=move || search.get()
                    on:input:target=move |ev| search.set(ev.target().value()) />
            </div>
            {move || dr().then(|| view! {
                <div class="field">
                    <label for="palette-phase">"Add to phase"</label>
                    <select id="palette-phase" on:change:target=move |ev| {
                        if let Ok(p) = ev.target().value().parse::<Phase>() { phase.set(p) }
                    }>
                        {Phase::ALL.iter().map(|p| view! { <option value=p.as_str() selected=move || phase.get() == *p>{p.label()}</option> }).collect_view()}
                    </select>
                </div>
            })}
            <p class="muted small">"Drag an action into the plan, or use its Add button."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading actions…"</p> }>
                {move || Suspend::new(async move {
                    match actions.await {
                        Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(codes) => view! {
                            {move || {
                                let groups = groups(codes.clone());
                                if groups.is_empty() {
                                    return view! { <p class="muted">"No action matches."</p> }.into_any();
                                }
                                groups.into_iter().map(|(category, specs)| view! {
                                    <h3 class="palette-group">{category.label()}</h3>
                                    <ul class="palette-list" aria-label=category.label()>
                                        {specs.into_iter().map(|spec| {
                                            let payload = new_payload(spec);
                                            let place = move || if dr() { Place::End(Some(phase.get_untracked())) } else { Place::End(None) };
                                            view! {
                                                <li class="palette-item" draggable="true" aria-label=spec.code.label()
                                                    on:dragstart=move |ev: leptos::ev::DragEvent| {
                                                        if let Some(dt) = ev.data_transfer() {
                                                            let _ = dt.set_data("text/plain", &payload);
                                                            dt.set_effect_allowed("copyMove");
                                                        }
                                                    }>
                                                    <span class="grip" aria-hidden="true">"⠿"</span>
                                                    <span class="palette-text">
                                                        <strong>{spec.code.label()}</strong>
                                                        <span class="muted small" title=spec.description>{spec.description}</span>
                                                    </span>
                                                    <button type="button" class="btn small"
                                                        aria-label=format!("Add {}", spec.code.label())
                                                        on:click=move |_| composer.add(spec.code, &place())>"Add"</button>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }).collect_view().into_any()
                            }}
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
