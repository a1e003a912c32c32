//! `/inspections`: every inspection (自动巡检) with its latest result, its history as a row of
//! run marks, its pass rate over 30 days and, while it fails, the risk event it raised. A plain
//! page: it reads the same with or without JavaScript.

use chrono::Utc;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::risks::get_inspections;
use crate::model::inspection::{HISTORY, Inspection, PASS_RATE_DAYS};
use crate::model::run::RunStatus;
use crate::ui::format;
use crate::ui::pages::risks::risks_page::ago;
use crate::ui::pages::risks::silences_page::RiskNav;
use crate::ui::pages::runs::runs_table::status_class;

/// The inspections page.
#[component]
pub fn InspectionsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| get_inspections());
    view! {
        <Title text="Inspections" />
        <div class="page-header">
            <h1>"Inspections"</h1>
            <p class="lede">
                "Checks that run on a schedule. A failed run raises a risk event (source “inspection”) that silences and alert rules treat like any alert; "
                "the next passing run resolves it."
            </p>
            <RiskNav current="inspections" />
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading inspections…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty-state">
                            "No inspections yet. " <a href="/plans/new">"Compose a plan"</a>
                            " of the kind “Inspection” from HTTP checks, polls and manual checks, and give it a schedule."
                        </p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="inspection-list">
                            {list.into_iter().map(|i| view! { <InspectionCard inspection=i /> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Where an inspection stands, as its headline badge says it.
fn standing(i: &Inspection) -> (&'static str, &'static str) {
    match (i.failing.is_some(), i.latest().map(|r| r.status)) {
        (true, _) => ("Failing", "badge run-status failed"),
        (false, Some(RunStatus::Passed)) => ("Passing", "badge run-status passed"),
        (false, Some(_)) => ("No verdict", "badge"),
        (false, None) if !i.enabled => ("Disabled", "badge"),
        (false, None) => ("Not run yet", "badge"),
    }
}

#[component]
fn InspectionCard(inspection: Inspection) -> impl IntoView {
    let now = Utc::now();
    let i = inspection;
    let (word, class) = standing(&i);
    let heading = format!("inspection-{}", i.plan);
    let labelled_by = heading.clone();
    let schedule = match (&i.schedule, i.paused, i.enabled) {
        (_, _, false) => "Disabled".to_owned(),
        (None, _, _) => "No schedule: runs when someone runs it".to_owned(),
        (Some((cron, zone)), true, _) => format!("{cron} ({zone}), paused"),
        (Some((cron, zone)), false, _) => match i.next_due {
            Some(next) => format!("{cron} ({zone}), next {}", format::instant(next)),
            None => format!("{cron} ({zone})"),
        },
    };
    let service = if i.service.trim().is_empty() {
        "no service".to_owned()
    } else {
        i.service.clone()
    };
    let rate = match i.pass_rate() {
        Some(rate) => format!("{rate:.0}% ({} of {})", i.passed, i.decided),
        None => "no passed or failed run".to_owned(),
    };
    let latest = i.latest().cloned();
    view! {
        <li class="card inspection" aria-labelledby=labelled_by>
            <div class="inspection-head">
                <h2 id=heading><a href=format!("/plans/{}", i.plan)>{i.name.clone()}</a></h2>
                <span class=class>{word}</span>
            </div>
            <p class="muted small">{service} " · " {schedule}</p>
            {i.failing.clone().map(|(event, since, step)| view! {
                <p class="inspection-failing" role="status">
                    {format!("Failing since {} ({})", format::instant(since), ago(since, now))}
                    {(!step.is_empty()).then(|| format!(" at step “{step}”"))}
                    " · " <a href=format!("/risks/{event}")>{format!("RISK-{event}")}</a>
                </p>
            })}
            <dl class="inspection-figures">
                <div>
                    <dt>"Latest result"</dt>
                    <dd>{match latest {
                        Some(r) => view! {
                            <a href=format!("/runs/{}", r.number)>{format!("Run #{}", r.number)}</a>
                            " " <span class=status_class(r.status)>{r.status.label()}</span>
                            " " <span class="muted small">{r.finished_at.map(|at| ago(at, now)).unwrap_or_default()}</span>
                        }.into_any(),
                        None => view! { <span class="muted">"None yet"</span> }.into_any(),
                    }}</dd>
                </div>
                <div>
                    <dt>{format!("Pass rate, {PASS_RATE_DAYS} days")}</dt>
                    <dd>{rate}</dd>
                </div>
            </dl>
            {(!i.history.is_empty()).then(|| view! {
                <ol class="run-marks" aria-label=format!("Latest {} runs, newest first", i.history.len().min(HISTORY))>
                    {i.history.iter().map(|r| {
                        let when = r.finished_at.unwrap_or(r.created_at);
                        let text = format!("Run #{}: {}, {}", r.number, r.status.label(), format::instant(when));
                        let title = text.clone();
                        view! {
                            <li>
                                <a href=format!("/runs/{}", r.number) class=format!("run-mark {}", r.status.as_str()) title=title>
                                    <span class="visually-hidden">{text}</span>
                                </a>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            })}
        </li>
    }
}
