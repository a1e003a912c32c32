//! A bar chart drawn as SVG on the server: labelled axes with round ticks, a native tooltip
//! per bar (`<title>`) without JavaScript, and a styled one that follows focus and the pointer
//! after hydration. The numbers are also in a table under the chart.

use leptos::prelude::*;

/// What the values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Plain counts.
    Count,
    /// Durations in milliseconds (the axis picks minutes, hours or days).
    Duration,
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Its x-axis label.
    pub label: String,
    /// Its value (none: no bar, "no data").
    pub value: Option<f64>,
    /// What the tooltip and table say about it.
    pub detail: String,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 40.0;

/// The axis scale for `max` in `unit`: (divisor to the axis unit, axis unit name, tick step in
/// axis units, number of ticks). Steps are 1, 2 or 5 × 10ⁿ.
pub fn scale(max: f64, unit: Unit) -> (f64, &'static str, f64, u32) {
    let (divisor, name) = match unit {
        Unit::Count => (1.0, ""),
        Unit::Duration if max < 2.0 * 3_600_000.0 => (60_000.0, "min"),
        Unit::Duration if max < 72.0 * 3_600_000.0 => (3_600_000.0, "h"),
        Unit::Duration => (86_400_000.0, "d"),
    };
    let top = (max / divisor).max(if unit == Unit::Count { 1.0 } else { 0.1 });
    let rough = top / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude);
    let step = if unit == Unit::Count {
        step.max(1.0)
    } else {
        step
    };
    let ticks = (top / step).ceil().max(1.0) as u32;
    (divisor, name, step, ticks)
}

fn tick_label(value: f64, name: &str) -> String {
    let number = if value.fract().abs() < 1e-9 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    if name.is_empty() {
        number
    } else {
        format!("{number} {name}")
    }
}

/// A bar chart. `title` names it (the SVG's accessible name and the table's caption).
#[component]
pub fn BarChart(title: String, bars: Vec<Bar>, unit: Unit) -> impl IntoView {
    let max = bars.iter().filter_map(|b| b.value).fold(0.0, f64::max);
    let (divisor, name, step, ticks) = scale(max, unit);
    let top = step * f64::from(ticks);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = bars.len().max(1) as f64;
    let slot = plot_w / n;
    let every = bars.len().div_ceil(8).max(1);
    let y_of = move |v: f64| TOP + plot_h - (v / divisor / top) * plot_h;
    let hovered = RwSignal::new(None::<usize>);

    let grid = (0..=ticks)
        .map(|k| {
            let value = step * f64::from(k);
            let y = TOP + plot_h - (value / top) * plot_h;
            view! {
                <g class="tick">
                    <line x1=LEFT x2=WIDTH - RIGHT y1=y y2=y />
                    <text x=LEFT - 8.0 y=y + 5.0 text-anchor="end">{tick_label(value, name)}</text>
                </g>
            }
        })
        .collect_view();
    let columns = bars
        .iter()
        .enumerate()
        .map(|(k, bar)| {
            let x = LEFT + slot * k as f64;
            let label = (k % every == 0).then(|| {
                view! {
                    <text class="x-label" x=x + slot / 2.0 y=HEIGHT - BOTTOM + 22.0 text-anchor="middle">
                        {bar.label.clone()}
                    </text>
                }
            });
            let rect = bar.value.map(|v| {
                let y = y_of(v);
                let tip = format!("{}: {}", bar.label, bar.detail);
                view! {
                    <rect
                        class="bar"
                        class:active=move || hovered.get() == Some(k)
                        x=x + slot * 0.15
                        // A zero is a sliver on the axis, so it never reads as "no data".
                        y=y.min(TOP + plot_h - 2.0)
                        width=slot * 0.7
                        height=(TOP + plot_h - y).max(2.0)
                        tabindex="0"
                        on:mouseenter=move |_| hovered.set(Some(k))
                        on:mouseleave=move |_| hovered.set(None)
                        on:focus=move |_| hovered.set(Some(k))
                        on:blur=move |_| hovered.set(None)
                    >
                        <title>{tip}</title>
                    </rect>
                }
            });
            // No value at all (nothing to measure that week): a dash on the axis, said in words.
            let none = bar.value.is_none().then(|| {
                let tip = format!("{}: {}", bar.label, bar.detail);
                view! {
                    <text class="no-data" x=x + slot / 2.0 y=TOP + plot_h - 4.0 text-anchor="middle">
                        "–"
                        <title>{tip}</title>
                    </text>
                }
            });
            view! { <g>{rect}{none}{label}</g> }
        })
        .collect_view();
    let tip = {
        let bars = bars.clone();
        move || {
            hovered
                .get()
                .and_then(|k| bars.get(k).map(|b| (k, b.clone())))
                .map(|(k, b)| {
                    let left = (LEFT + slot * (k as f64 + 0.5)) / WIDTH * 100.0;
                    view! {
                        <div class="chart-tip" role="tooltip" style=format!("left: {left:.2}%")>
                            <strong>{b.label}</strong>
                            " "
                            {b.detail}
                        </div>
                    }
                })
        }
    };
    let axis_name = match unit {
        Unit::Count => String::new(),
        Unit::Duration => format!("({name})"),
    };
    let rows = bars
        .iter()
        .map(|b| view! { <tr><th scope="row">{b.label.clone()}</th><td>{b.detail.clone()}</td></tr> })
        .collect_view();
    view! {
        <figure class="chart">
            <div class="chart-area">
                <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title.clone()>
                    {grid}
                    <line class="axis" x1=LEFT x2=LEFT y1=TOP y2=TOP + plot_h />
                    <line class="axis" x1=LEFT x2=WIDTH - RIGHT y1=TOP + plot_h y2=TOP + plot_h />
                    <text class="axis-name" x=4.0 y=TOP - 8.0>{axis_name}</text>
                    {columns}
                </svg>
                {tip}
            </div>
            <details>
                <summary>{format!("{title} as a table")}</summary>
                <table class="table compact">
                    <caption class="visually-hidden">{title.clone()}</caption>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_round_their_ticks_and_pick_a_readable_unit() {
        assert_eq!(scale(0.0, Unit::Count), (1.0, "", 1.0, 1));
        assert_eq!(scale(7.0, Unit::Count), (1.0, "", 2.0, 4));
        assert_eq!(scale(43.0, Unit::Count), (1.0, "", 20.0, 3));
        assert_eq!(scale(1000.0, Unit::Count), (1.0, "", 500.0, 2));
        let (divisor, name, step, ticks) = scale(45.0 * 60_000.0, Unit::Duration);
        assert_eq!((divisor, name, step, ticks), (60_000.0, "min", 20.0, 3));
        let (_, name, step, ticks) = scale(5.5 * 3_600_000.0, Unit::Duration);
        assert_eq!((name, step, ticks), ("h", 2.0, 3));
        assert_eq!(scale(100.0 * 3_600_000.0, Unit::Duration).1, "d");
        assert_eq!(tick_label(1.5, "h"), "1.5 h");
        assert_eq!(tick_label(20.0, ""), "20");
    }
}
