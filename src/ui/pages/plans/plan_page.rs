//! `/plans/N`: one plan at its newest version (or `?version=`), as a read-only preview.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::plans::get_plan;
use crate::model::AppError;
use crate::ui::pages::plans::preview::PlanPreview;

/// The plan page.
#[component]
pub fn PlanPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let number = move || {
        params
            .read()
            .get("number")
            .and_then(|n| n.parse::<i64>().ok())
    };
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
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the plan…"</p> }>
            {move || Suspend::new(async move {
                match plan.await {
                    Ok(view) => {
                        let older = view.version != view.current_version;
                        view! {
                            <Title text=view.plan.name.clone() />
                            <header class="page-header">
                                <p class="number">{format!("Plan {} · version {}", view.number, view.version)}</p>
                                <h1>{view.plan.name.clone()}</h1>
                                {older.then(|| view! {
                                    <p class="alert info" role="note">
                                        {format!("An older version. The plan is now at version {}. ", view.current_version)}
                                        <a href=format!("/plans/{}", view.number)>"See the newest"</a>
                                    </p>
                                })}
                            </header>
                            <section class="card" aria-label="Plan">
                                <PlanPreview plan=view.plan.clone() />
                            </section>
                        }.into_any()
                    }
                    Err(AppError::NotFound) => view! { <div class="card empty-state"><p>"There is no such plan."</p></div> }.into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
