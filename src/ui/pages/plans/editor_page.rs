//! `/plans/new` and `/plans/N/edit`: the step composer over a new plan or the newest version of a
//! stored one (saving makes the next version).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::plans::get_plan;
use crate::model::catalog::Scene;
use crate::model::plan::PlanDraft;
use crate::model::{AppError, Role};
use crate::ui::components::shell::ForRole;
use crate::ui::pages::plans::composer::PlanComposer;
use crate::ui::pages::plans::palette::available_actions_resource;

/// Told to those who may read plans but not compose them, before they compose anything.
const COMPOSER_REFUSAL: &str = "Composing plans needs the responder role; yours can read plans and runs but not change them. Ask an admin for the role.";

/// A plan with nothing in it yet.
fn blank() -> PlanDraft {
    PlanDraft {
        name: String::new(),
        description: String::new(),
        scene: Scene::Drill,
        service: String::new(),
        scenario: String::new(),
        rto_secs: None,
        rpo_secs: None,
        schedule: None,
        enabled: true,
        steps: Vec::new(),
    }
}

/// The composer over a new plan.
#[component]
pub fn NewPlanPage() -> impl IntoView {
    let actions = available_actions_resource();
    view! {
        <Title text="New plan" />
        <header class="page-header">
            <h1>"New plan"</h1>
            <p class="lede">"Compose the plan from atomic actions: drag them in, order them, fill in their parameters."</p>
        </header>
        <ForRole role=Role::Responder refusal=COMPOSER_REFUSAL><PlanComposer initial=blank() actions /></ForRole>
    }
}

/// The composer over plan N's newest version.
#[component]
pub fn EditPlanPage() -> impl IntoView {
    let number = crate::ui::pages::number_param();
    let actions = available_actions_resource();
    let plan = Resource::new(number, |number| async move {
        match number {
            Some(n) => get_plan(n, None).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the plan…"</p> }>
            {move || Suspend::new(async move {
                match plan.await {
                    Ok(view) => view! {
                        <Title text=format!("Edit {}", view.plan.name) />
                        <header class="page-header">
                            <p class="number">{format!("Plan {} · editing version {}", view.number, view.version)}</p>
                            <h1>{format!("Edit “{}”", view.plan.name)}</h1>
                            <p class="lede">"Saving makes version " {view.version + 1} "; runs keep pointing at the version they ran."</p>
                        </header>
                        {
                            let (plan, number, based_on) = (view.plan.clone(), view.number, view.current_version);
                            view! {
                                <ForRole role=Role::Responder refusal=COMPOSER_REFUSAL>
                                    <PlanComposer initial=plan.clone() actions number based_on />
                                </ForRole>
                            }
                        }
                    }.into_any(),
                    Err(AppError::NotFound) => {
                        crate::ui::pages::not_found_status();
                        view! { <div class="card empty-state"><p>"There is no such plan."</p></div> }.into_any()
                    }
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
