//! A schedule's next run times, in the plan's time zone and in the viewer's (the browser's, known
//! after hydration; UTC until then and without JavaScript).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use leptos::prelude::*;

/// The browser's IANA time zone, once the page runs in a browser.
pub fn viewer_zone() -> ReadSignal<Option<Tz>> {
    let (zone, set_zone) = signal(None::<Tz>);
    // Effects run in the browser only.
    Effect::new(move |_| set_zone.set(browser_zone()));
    zone
}

fn browser_zone() -> Option<Tz> {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()?
        .as_string()?
        .parse()
        .ok()
}

/// `at` on the wall clock of `zone`, with the zone's abbreviation: `Mon 2026-11-23 09:00 CET`.
pub fn wall_clock(at: DateTime<Utc>, zone: &Tz) -> String {
    at.with_timezone(zone)
        .format("%a %Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// The next run times as a table: the plan's zone, then the viewer's.
#[component]
pub fn UpcomingTimes(
    /// The instants, in order.
    #[prop(into)]
    times: Signal<Vec<DateTime<Utc>>>,
    /// The plan's zone.
    #[prop(into)]
    zone: Signal<Tz>,
    /// The table's accessible name.
    label: &'static str,
) -> impl IntoView {
    let viewer = viewer_zone();
    let viewer_zone = move || viewer.get().unwrap_or(Tz::UTC);
    view! {
        <table class="table compact upcoming" aria-label=label>
            <thead>
                <tr>
                    <th scope="col">{move || format!("Plan time ({})", zone.get().name())}</th>
                    <th scope="col">{move || viewer.get().map_or_else(|| "UTC".to_owned(), |z| format!("Your time ({})", z.name()))}</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    let (plan, mine) = (zone.get(), viewer_zone());
                    times.get().into_iter().map(|t| view! {
                        <tr>
                            <td><time datetime=t.to_rfc3339()>{wall_clock(t, &plan)}</time></td>
                            <td>{wall_clock(t, &mine)}</td>
                        </tr>
                    }).collect_view()
                }}
            </tbody>
        </table>
    }
}
