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
) -> impl IntoView {
    let ordered = move || {
        let mut list = events.get();
        if newest_first.get() {
            list.reverse();
        }
        list
    };
    view! {
        <ol class="timeline" aria-label="Timeline">
            <For each=ordered key=|e| e.id let:event>
                <TimelineRow event />
            </For>
        </ol>
    }
}

#[component]
fn TimelineRow(event: TimelineEvent) -> impl IntoView {
    let backdated = (event.recorded_at - event.occurred_at).num_seconds() > 60;
    let kind = event.data.kind();
    view! {
        <li class=format!("event {kind}")>
            <div class="event-time">
                <time datetime=event.occurred_at.to_rfc3339() title=format::instant(event.occurred_at)>
                    {format::clock(event.occurred_at)}
                </time>
                <span class="muted small">{format!(" {}", event.occurred_at.format("%b %d"))}</span>
            </div>
            <div class="event-body">
                <p class="event-headline">
                    <strong>{event.data.headline()}</strong>
                    <span class="muted small">
                        {format!(" — {}", event.author.clone().unwrap_or_else(|| "system".to_owned()))}
                    </span>
                </p>
                {event.data.text().map(|t| view! { <p class="event-text">{t.to_owned()}</p> })}
                {backdated.then(|| view! {
                    <p class="muted small">{format!("Written at {}", format::instant(event.recorded_at))}</p>
                })}
            </div>
        </li>
    }
}
