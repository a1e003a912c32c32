//! `/incidents/INC-n/postmortem/report`: the postmortem laid out for reading and printing (the
//! print stylesheet drops the navigation, so the browser's "save as PDF" gives a clean report).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::postmortems::get_postmortem;
use crate::model::AppError;
use crate::ui::pages::incidents::NoSuchIncident;
use crate::ui::pages::postmortems::report::PostmortemReport;

/// The print view.
#[component]
pub fn PostmortemReportPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let page = Resource::new(number, get_postmortem);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the report…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => match data.postmortem.clone() {
                        Some(pm) => {
                            let number = data.incident.summary.number.to_string();
                            view! {
                                <Title text=format!("Postmortem {number}") />
                                <article class="postmortem print-report">
                                    <header class="page-header with-actions">
                                        <div>
                                            <p class="number">{number.clone()}</p>
                                            <h1>{format!("Postmortem: {}", data.incident.summary.title)}</h1>
                                        </div>
                                        <div class="button-row no-print">
                                            <a class="btn small" href=format!("/incidents/{number}/postmortem")>"Back to the postmortem"</a>
                                            <button type="button" class="btn small primary" on:click=|_| { let _ = window().print(); }>"Print or save as PDF"</button>
                                        </div>
                                    </header>
                                    <PostmortemReport data=data.clone() postmortem=pm />
                                </article>
                            }.into_any()
                        }
                        None => view! {
                            <Title text=format!("Postmortem {}", data.incident.summary.number) />
                            <div class="card empty-state"><p>"No postmortem has been started for this incident."</p></div>
                        }.into_any(),
                    },
                    Err(AppError::NotFound) => view! {
                        <Title text="No such incident" />
                        <NoSuchIncident number=number() />
                    }.into_any(),
                    Err(e) => view! {
                        <Title text="Postmortem report" />
                        <p class="alert error" role="alert">{e.to_string()}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
