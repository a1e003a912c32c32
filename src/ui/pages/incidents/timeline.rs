//! The timeline of one incident, newest or oldest first.

use leptos::prelude::*;

use crate::model::timeline::TimelineEvent;
use crate::ui::format;

/// Renders events in the order asked for.
#[component]
pub fn Timeline(
    /// Events, oldest first.
    #[prop(into)]
    events: Signal<Vec<TimelineEvent>>,
    /// Show the newest first.
    #[prop(into)]
    newest_first: Signal<bool>,
    /// Offer a "Correct" link on each entry.
    can_correct: bool,
    /// The incident page's path (links are absolute: the router resolves bare queries against `/`).
    base: String,
) -> impl IntoView {
    // Each entry with the numbers of the entry it corrects and of the entries correcting it.
    let ordered = move || {
        let list = events.get();
        let seq_of = |id| list.iter().find(|e| e.id == id).map(|e| e.seq);
        // Days name their year only when it is not the one the timeline ends in.
        let latest = list.iter().map(|e| e.occurred_at).max();
        let mut rows: Vec<Row> = list
            .iter()
            .map(|e| Row {
                latest: latest.unwrap_or(e.occurred_at),
                event: e.clone(),
                corrects: e.corrects.and_then(seq_of),
                corrected_by: list
                    .iter()
                    .filter(|c| c.corrects == Some(e.id))
                    .map(|c| c.seq)
                    .collect(),
            })
            .collect();
        if newest_first.get() {
            rows.reverse();
        }
        rows
    };
    view! {
        <ol class="timeline" aria-label="Timeline">
            <For each=ordered key=|r| (r.event.id, r.corrected_by.len()) let:row>
                <TimelineRow row can_correct base=base.clone() />
            </For>
        </ol>
    }
}

/// One entry with its correction links resolved to entry numbers.
#[derive(Clone)]
struct Row {
    event: TimelineEvent,
    latest: chrono::DateTime<chrono::Utc>,
    corrects: Option<i64>,
    corrected_by: Vec<i64>,
}

#[component]
fn TimelineRow(row: Row, can_correct: bool, base: String) -> impl IntoView {
    let Row {
        event,
        latest,
        corrects,
        corrected_by,
    } = row;
    let backdated = (event.recorded_at - event.occurred_at).num_seconds() > 60;
    let kind = event.data.kind();
    let headline = match corrects {
        Some(seq) => format!("Correction of #{seq}"),
        None => event.data.headline(),
    };
    let correct_href = format!("{base}?correct={}", event.id);
    view! {
        <li class=format!("event {kind}") id=format!("event-{}", event.seq)>
            <div class="event-time">
                <time datetime=event.occurred_at.to_rfc3339() title=format::instant(event.occurred_at)>
                    {format::clock(event.occurred_at)}
                </time>
                <span class="muted small">{format!(" {}", format::day(event.occurred_at, latest))}</span>
            </div>
            <div class="event-body">
                <p class="event-headline">
                    <span class="muted small">{format!("#{} ", event.seq)}</span>
                    <strong>{headline}</strong>
                    <span class="muted small">
                        {format!(" — {}", event.author.clone().unwrap_or_else(|| "system".to_owned()))}
                    </span>
                </p>
                {event.data.text().map(|t| view! { <p class="event-text">{t.to_owned()}</p> })}
                {event.data.risk_event().map(|n| view! {
                    <a class="small" href=format!("/risks/{n}")>{format!("Open RISK-{n}")}</a>
                })}
                {event.data.run().map(|run| view! {
                    <a class="small" href=format!("/runs/{run}")>{format!("Open run #{run}")}</a>
                })}
                {(!corrected_by.is_empty()).then(|| {
                    let list = corrected_by.iter().map(|s| format!("#{s}")).collect::<Vec<_>>().join(", ");
                    view! { <p class="corrected small">{format!("Corrected by {list}")}</p> }
                })}
                {can_correct.then(|| view! {
                    <a class="small correct-link" href=correct_href aria-label=format!("Correct entry #{}", event.seq)>"Correct"</a>
                })}
                {backdated.then(|| view! {
                    <p class="muted small">{format!("Written at {}", format::instant(event.recorded_at))}</p>
                })}
            </div>
        </li>
    }
}
