//! `/plans/N`: one plan at its newest version (or `?version=`), as a read-only preview.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::plans::SetSchedulePaused;
use crate::api::plans::get_plan;
use crate::api::runs::list_runs;
use crate::model::{AppError, Role};
use crate::ui::components::shell::CurrentUser;
use crate::ui::pages::plans::preview::PlanPreview;
use crate::ui::pages::plans::run_form::RunForm;
use crate::ui::pages::plans::schedule_panel::{SchedulePanel, activity_resource};
use crate::ui::pages::runs::runs_table::RunsTable;

/// The plan page.
#[component]
pub fn PlanPage() -> impl IntoView {
    let query = use_query_map();
    let number = crate::ui::pages::number_param();
    let version = move || {
        query
            .read()
            .get("version")
            .and_then(|v| v.parse::<i64>().ok())
    };
    let plan = Resource::new(
        move || (number(), version()),
        |(number, version)| async move {
            match number {
                Some(n) => get_plan(n, version).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let runs = Resource::new(number, |number| async move {
        match number {
            Some(n) => list_runs(Some(n)).await,
            None => Err(AppError::NotFound),
        }
    });
    let toggle = ServerAction::<SetSchedulePaused>::new();
    let activity = activity_resource(number, toggle);
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the plan…"</p> }>
            {move || Suspend::new(async move {
                let may_run = matches!(user.await, Ok(Some(ref u)) if u.role.allows(Role::Responder));
                let history = runs.await;
                let scores: Vec<u32> = history.as_ref().map(|l| l.iter().filter_map(|r| r.score).collect()).unwrap_or_default();
                match plan.await {
                    Ok(view) => {
                        let older = view.version != view.current_version;
                        view! {
                            <Title text=view.plan.name.clone() />
                            <header class="page-header">
                                <p class="number">{format!("Plan {} · version {}", view.number, view.version)}</p>
                                <h1>{view.plan.name.clone()}</h1>
                                {may_run.then(|| view! {
                                    <p class="header-actions">
                                        <a class="btn" href=format!("/plans/{}/edit", view.number)>"Edit plan"</a>
                                        " "
                                        <a class="btn primary" href="#run">"Run now"</a>
                                    </p>
                                })}
                                {older.then(|| view! {
                                    <p class="alert info" role="note">
                                        {format!("An older version. The plan is now at version {}. ", view.current_version)}
                                        <a href=format!("/plans/{}", view.number)>"See the newest"</a>
                                    </p>
                                })}
                            </header>
                            {(may_run && !older).then(|| view! { <RunForm number=view.number plan=view.plan.clone() /> })}
                            <SchedulePanel number=view.number may_edit=may_run scores=scores activity toggle />
                            <section class="card" aria-label="Plan">
                                <PlanPreview plan=view.plan.clone() />
                            </section>
                            <section class="card flush" aria-labelledby="history-heading">
                                <h2 id="history-heading" class="card-title">"Run history"</h2>
                                {match history {
                                    Ok(list) if list.is_empty() => view! { <p class="muted card-title">"Not run yet."</p> }.into_any(),
                                    Ok(list) => view! { <RunsTable runs=list /> }.into_any(),
                                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                                }}
                            </section>
                        }.into_any()
                    }
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
