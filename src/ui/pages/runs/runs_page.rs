//! `/runs`: every run of every plan, newest first.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::runs::list_runs;
use crate::ui::pages::runs::runs_table::RunsTable;

/// The run list.
#[component]
pub fn RunsPage() -> impl IntoView {
    let runs = Resource::new(|| (), |_| list_runs(None));
    view! {
        <Title text="Runs" />
        <div class="page-header">
            <h1>"Runs"</h1>
            <p class="lede">"Every run of a drill or emergency plan, newest first (the last 200). Start one from its plan's page."</p>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading runs…"</p> }>
            {move || Suspend::new(async move {
                match runs.await {
                    Ok(list) if list.is_empty() => view! {
                        <div class="card empty-state"><p>"No runs yet. Open a plan and press “Run now”."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="card flush"><RunsTable runs=list with_plan=true /></div>
                    }.into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
