//! The plan page's drill record and schedule: pass rate, mean score and trend over the scored
//! runs; the schedule with its state, pause / resume, the next five run times, and what the
//! scheduler did with each due time (started, skipped, refused, missed while down).

use leptos::prelude::*;

use crate::api::plans::{PlanActivity, SetSchedulePaused, get_plan_activity};
use crate::model::AppError;
use crate::model::schedule::ScheduleOutcome;
use crate::model::score::{Trend, trend};
use crate::ui::components::form::{FormMessage, form_error};
use crate::ui::components::schedule::UpcomingTimes;
use crate::ui::format;

/// The plan page's data for the panel: created with the page (outside its suspense), so the
/// server function runs in the request's context.
pub fn activity_resource(
    number: impl Fn() -> Option<i64> + Send + Sync + 'static,
    toggle: ServerAction<SetSchedulePaused>,
) -> Resource<Result<PlanActivity, AppError>> {
    Resource::new(
        move || (number(), toggle.version().get()),
        |(number, _)| async move {
            match number {
                Some(n) => get_plan_activity(n).await,
                None => Err(AppError::NotFound),
            }
        },
    )
}

/// The record and schedule of plan `number`; `scores` are its last runs' scores, newest first.
#[component]
pub fn SchedulePanel(
    number: i64,
    may_edit: bool,
    scores: Vec<u32>,
    activity: Resource<Result<PlanActivity, AppError>>,
    toggle: ServerAction<SetSchedulePaused>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let scores = scores.clone();
                Suspend::new(async move {
                    match activity.await {
                        Ok(a) => view! { <Record activity=a.clone() scores /> <Schedule activity=a number may_edit toggle /> }.into_any(),
                        Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Record(activity: PlanActivity, scores: Vec<u32>) -> impl IntoView {
    let r = activity.record;
    let trend = match trend(&scores) {
        Trend::Up => "↑ improving",
        Trend::Down => "↓ worsening",
        Trend::Flat => "→ steady",
    };
    view! {
        <section class="card record" aria-labelledby="record-heading">
            <h2 id="record-heading">"Drill record"</h2>
            {match (r.pass_rate(), r.mean_score) {
                (Some(rate), Some(mean)) => view! {
                    <dl class="figures">
                        <div><dt>"Pass rate"</dt><dd>{format!("{rate:.0}%")}</dd></div>
                        <div><dt>"Mean score"</dt><dd>{format!("{mean:.0}")}</dd></div>
                        <div><dt>"Scored runs"</dt><dd>{r.scored.to_string()}</dd></div>
                        <div><dt>"Trend"</dt><dd>{trend}</dd></div>
                    </dl>
                }.into_any(),
                _ => view! { <p class="muted">"No scored runs yet."</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Schedule(
    activity: PlanActivity,
    number: i64,
    may_edit: bool,
    toggle: ServerAction<SetSchedulePaused>,
) -> impl IntoView {
    let Some(state) = activity.schedule else {
        return ().into_any();
    };
    let zone = state
        .schedule
        .parse()
        .map(|(_, z)| z)
        .unwrap_or(chrono_tz::Tz::UTC);
    let status = if state.paused {
        "Paused"
    } else if state.next_due_at.is_some() {
        "Active"
    } else {
        "Not running (the plan is disabled)"
    };
    let events = activity.events;
    let upcoming = activity.upcoming;
    view! {
        <section class="card" id="schedule" aria-labelledby="schedule-heading">
            <h2 id="schedule-heading">"Schedule"</h2>
            <p>
                <code>{state.schedule.cron.clone()}</code>
                {format!(" in {} · {} · ", state.schedule.zone, state.schedule.concurrency.label())}
                <span class=if state.paused { "badge status-off" } else { "badge status-on" } aria-label="Schedule state">{status}</span>
            </p>
            {may_edit.then(|| view! {
                <ActionForm action=toggle attr:class="row-form">
                    <input type="hidden" name="number" value=number />
                    <input type="hidden" name="paused" value=(!state.paused).to_string() />
                    <button type="submit" class="btn">{if state.paused { "Resume schedule" } else { "Pause schedule" }}</button>
                </ActionForm>
                <FormMessage error=Signal::derive(move || toggle.value().with(form_error)) />
            })}
            {(!upcoming.is_empty()).then(|| view! {
                <h3>"Next five runs"</h3>
                <UpcomingTimes times=upcoming.clone() zone label="Next five runs" />
            })}
            <h3 id="schedule-history-heading">"Schedule history"</h3>
            {if events.is_empty() {
                view! { <p class="muted">"No due time has come yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table compact" aria-labelledby="schedule-history-heading">
                            <thead>
                                <tr>
                                    <th scope="col">"Due"</th>
                                    <th scope="col">"Outcome"</th>
                                    <th scope="col">"Run"</th>
                                    <th scope="col">"Note"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {events.into_iter().map(|e| {
                                    let late = (e.fired_at - e.due_at).num_seconds();
                                    let mut note = Vec::new();
                                    if e.missed > 0 {
                                        note.push(format!("{} earlier due time{} missed while no server was running: fired once for all.", e.missed, if e.missed == 1 { "" } else { "s" }));
                                    }
                                    if late >= 5 {
                                        note.push(format!("Fired {} late.", format::duration(chrono::Duration::seconds(late))));
                                    }
                                    if !e.reason.is_empty() {
                                        note.push(e.reason.clone());
                                    }
                                    let class = match e.outcome {
                                        ScheduleOutcome::Started => "badge status-on",
                                        _ => "badge status-off",
                                    };
                                    view! {
                                        <tr>
                                            <td class="nowrap">{format::instant(e.due_at)}</td>
                                            <td><span class=class>{e.outcome.label()}</span></td>
                                            <td>{e.run.map(|n| view! { <a href=format!("/runs/{n}")>{format!("Run #{n}")}</a> })}</td>
                                            <td>{note.join(" ")}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}
