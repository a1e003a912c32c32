//! The composer's schedule fields (drills and inspections): a cron expression, its IANA time zone and the
//! policy for a run still active, checked as you type by the same parser the server uses, with
//! the next five run times in the plan's zone and in yours.

use chrono::Utc;
use chrono_tz::Tz;
use leptos::prelude::*;

use crate::model::catalog::Scene;
use crate::model::schedule::{CRON_FIELD, Concurrency, PlanSchedule, ZONE_FIELD};
use crate::ui::components::schedule::{UpcomingTimes, viewer_zone};
use crate::ui::pages::plans::composer::Composer;

/// A weekday-morning default a person edits rather than writes from nothing.
const EXAMPLE: &str = "0 9 * * MON-FRI";

/// The schedule section of the composer.
#[component]
pub fn ScheduleFields() -> impl IntoView {
    let composer = expect_context::<Composer>();
    let draft = composer.draft;
    let viewer = viewer_zone();
    let schedule = move || draft.with(|d| d.schedule.clone());
    let schedulable = move || draft.with(|d| d.scene.schedulable());
    let noun = move || {
        draft.with(|d| {
            if d.scene == Scene::Inspection {
                "inspection"
            } else {
                "drill"
            }
        })
    };
    let edit = move |change: &dyn Fn(&mut PlanSchedule)| {
        composer.edit(|d| {
            if let Some(s) = d.schedule.as_mut() {
                change(s);
            }
        })
    };
    let parsed = Memo::new(move |_| schedule().and_then(|s| s.parse().ok()));
    let upcoming = Signal::derive(move || {
        parsed
            .get()
            .map(|(cron, zone)| cron.upcoming(&zone, Utc::now(), 5))
            .unwrap_or_default()
    });
    let zone = Signal::derive(move || parsed.get().map_or(Tz::UTC, |(_, zone)| zone));
    let zones = chrono_tz::TZ_VARIANTS;
    view! {
        {move || schedulable().then(|| view! {
            <section class="card schedule-fields" aria-labelledby="schedule-heading" id="schedule">
                <h2 id="schedule-heading">"Schedule"</h2>
                <label class="check">
                    <input type="checkbox" prop:checked=move || schedule().is_some()
                        on:change:target=move |ev| {
                            let on = ev.target().checked();
                            let zone = viewer.get_untracked().map_or_else(|| "UTC".to_owned(), |z| z.name().to_owned());
                            composer.edit(|d| {
                                d.schedule = on.then(|| PlanSchedule {
                                    cron: EXAMPLE.to_owned(),
                                    zone,
                                    concurrency: Concurrency::Forbid,
                                });
                            });
                        } />
                    " Run this " {noun} " on a schedule"
                </label>
                {move || schedule().is_some().then(|| view! {
                    <div class="field-grid">
                        <div class="field" class:invalid=move || composer.error(CRON_FIELD).is_some()>
                            <label for="schedule-cron">"Cron expression"</label>
                            <input id="schedule-cron" type="text" spellcheck="false" autocomplete="off" class="mono"
                                aria-describedby="schedule-cron-help"
                                prop:value=move || schedule().map(|s| s.cron).unwrap_or_default()
                                on:input:target=move |ev| {
                                    let text = ev.target().value();
                                    edit(&|s| s.cron = text.clone());
                                } />
                            <p class="help" id="schedule-cron-help">
                                "minute hour day-of-month month day-of-week, e.g. "<code>"0 9 * * MON-FRI"</code>
                                "; six fields start with seconds. Sunday is 0 or 7."
                            </p>
                            <p class="field-error" role="alert">{move || composer.error(CRON_FIELD)}</p>
                        </div>
                        <div class="field" class:invalid=move || composer.error(ZONE_FIELD).is_some()>
                            <label for="schedule-zone">"Time zone"</label>
                            <input id="schedule-zone" type="text" list="schedule-zones" spellcheck="false" autocomplete="off"
                                prop:value=move || schedule().map(|s| s.zone).unwrap_or_default()
                                on:input:target=move |ev| {
                                    let text = ev.target().value();
                                    edit(&|s| s.zone = text.clone());
                                } />
                            <datalist id="schedule-zones">
                                {zones.iter().map(|z| view! { <option value=z.name()></option> }).collect_view()}
                            </datalist>
                            <p class="field-error" role="alert">{move || composer.error(ZONE_FIELD)}</p>
                        </div>
                        <div class="field">
                            <label for="schedule-concurrency">"When a run is still active"</label>
                            <select id="schedule-concurrency"
                                prop:value=move || schedule().map(|s| s.concurrency.as_str().to_owned()).unwrap_or_default()
                                on:change:target=move |ev| {
                                    if let Ok(policy) = ev.target().value().parse::<Concurrency>() {
                                        edit(&|s| s.concurrency = policy);
                                    }
                                }>
                                {Concurrency::ALL.iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                            </select>
                        </div>
                    </div>
                    {move || if upcoming.with(Vec::is_empty) {
                        view! { <p class="muted">"Fix the expression and zone to see the next run times."</p> }.into_any()
                    } else {
                        view! {
                            <h3 id="schedule-next">"Next five runs"</h3>
                            <UpcomingTimes times=upcoming zone label="Next five runs" />
                        }.into_any()
                    }}
                    <p class="muted">"Open run-time parameters use their defaults on a schedule; a run that has none is refused and the reason shown in the plan's schedule history."</p>
                })}
            </section>
        })}
    }
}
