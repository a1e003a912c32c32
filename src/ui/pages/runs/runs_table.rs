//! A table of runs, newest first: the runs page and a plan's history.

use chrono::Utc;
use leptos::prelude::*;

use crate::model::run::{RunStatus, RunSummary};
use crate::ui::format;
use crate::ui::pages::runs::score_panel::verdict_class;

/// The badge class of a run status.
pub fn status_class(status: RunStatus) -> String {
    format!("badge run-status {}", status.as_str())
}

/// Whether a finished run was reviewed ("—" while it runs, and for interrupted runs).
fn review_state(run: &RunSummary) -> &'static str {
    match run.status {
        _ if run.reviewed => "Reviewed",
        RunStatus::Interrupted => "—",
        s if s.is_finished() => "To review",
        _ => "—",
    }
}

/// Runs, newest first; `with_plan` adds the plan column.
#[component]
pub fn RunsTable(runs: Vec<RunSummary>, #[prop(optional)] with_plan: bool) -> impl IntoView {
    let now = Utc::now();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Run"</th>
                        {with_plan.then(|| view! { <th scope="col">"Plan"</th> })}
                        <th scope="col">"Status"</th>
                        <th scope="col">"Started by"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Duration"</th>
                        <th scope="col">"Score"</th>
                        <th scope="col">"Review"</th>
                    </tr>
                </thead>
                <tbody>
                    {runs.into_iter().map(|r| {
                        let by = match (&r.triggered_by, &r.incident) {
                            (Some(user), Some(incident)) => format!("{user} for {incident}"),
                            (Some(user), None) => user.clone(),
                            (None, _) => r.trigger.label().to_owned(),
                        };
                        view! {
                            <tr>
                                <th scope="row"><a href=format!("/runs/{}", r.number)>{format!("Run #{}", r.number)}</a></th>
                                {with_plan.then(|| view! {
                                    <td>
                                        <a href=format!("/plans/{}?version={}", r.plan_number, r.plan_version)>{r.plan_name.clone()}</a>
                                        <span class="muted">{format!(" v{}", r.plan_version)}</span>
                                    </td>
                                })}
                                <td><span class=status_class(r.status)>{r.status.label()}</span></td>
                                <td>{by}</td>
                                <td>{format::instant(r.created_at)}</td>
                                <td>{r.duration(now).map_or("—".to_owned(), format::duration)}</td>
                                <td class="nowrap">
                                    {match (r.score, r.verdict) {
                                        (Some(points), Some(verdict)) => view! {
                                            {points.to_string()} " " <span class=verdict_class(verdict)>{verdict.label()}</span>
                                        }.into_any(),
                                        _ => view! { <span class="muted">"—"</span> }.into_any(),
                                    }}
                                </td>
                                <td>{review_state(&r)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
