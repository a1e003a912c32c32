//! `/board`: the metrics board. The filter is a plain GET form, so the URL holds the view and a
//! link shares it; every figure says what it measures.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::metrics::get_board;
use crate::model::AppError;
use crate::model::board::{Board, BoardQuery, Period};
use crate::model::incident::{IncidentStatus, Severity};
use crate::model::metrics::{
    self, ACTION_ITEMS, DRILLS, DurationStats, RECURRENCE, STATISTICS, rate,
};
use crate::model::rollup;
use crate::ui::components::chart::{Bar, BarChart, Unit};
use crate::ui::components::form::FilterForm;
use crate::ui::format;

fn ms(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |v| {
        format::duration(chrono::Duration::milliseconds(v.round() as i64))
    })
}

fn percent(value: Option<f64>) -> String {
    value.map_or("—".to_owned(), |v| format!("{v:.1} %"))
}

/// The metrics board.
#[component]
pub fn BoardPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || {
        let p = params.read();
        let get = |k: &str| p.get(k).unwrap_or_default();
        BoardQuery {
            from: get("from"),
            until: get("until"),
            service: get("service"),
            severity: get("severity"),
            period: get("period"),
        }
    };
    let board = Resource::new(query, get_board);

    view! {
        <Title text="Metrics" />
        <div class="page-header">
            <h1>"Metrics"</h1>
            <p class="lede">
                "How fast incidents are acknowledged, mitigated and recovered, how often they come back, and whether drills and action items keep up. The filter stays in the address, so a view can be shared."
            </p>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading the board…"</p> }>
            {move || Suspend::new(async move {
                let q = query();
                let requested = Some(q.period.clone()).filter(|p| !p.is_empty());
                match board.await {
                    Ok(b) => view! {
                        <Filters query=q board=Some(b.clone()) error=None />
                        <Figures board=b requested_period=requested />
                    }.into_any(),
                    Err(e @ AppError::Validation(_)) => view! {
                        <Filters query=q board=None error=Some(e) />
                    }.into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A filter field's message, `aria-invalid` and `aria-describedby`.
fn field_state(
    error: &Option<AppError>,
    id: &str,
) -> (Option<String>, Option<&'static str>, Option<String>) {
    let message = error
        .as_ref()
        .and_then(|e| e.field_message(id).map(str::to_owned));
    let invalid = message.as_ref().map(|_| "true");
    let described = message.as_ref().map(|_| format!("f-{id}-error"));
    (message, invalid, described)
}

/// A labelled filter field with its message beside it.
#[component]
fn FilterField(
    id: &'static str,
    label: &'static str,
    message: Option<String>,
    children: Children,
) -> impl IntoView {
    let invalid = message.is_some();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=format!("f-{id}")>{label}</label>
            {children()}
            <p class="field-error" id=format!("f-{id}-error") role="alert">{message}</p>
        </div>
    }
}

/// The filter form, filled from the URL (or from the board's resolved defaults).
#[component]
fn Filters(query: BoardQuery, board: Option<Board>, error: Option<AppError>) -> impl IntoView {
    let (from_msg, from_invalid, from_described) = field_state(&error, "from");
    let (until_msg, until_invalid, until_described) = field_state(&error, "until");
    let (severity_msg, severity_invalid, severity_described) = field_state(&error, "severity");
    let (period_msg, period_invalid, period_described) = field_state(&error, "period");
    let (from, until) = match &board {
        Some(b) if query.from.is_empty() && query.until.is_empty() => {
            (b.first.clone(), b.last.clone())
        }
        _ => (query.from.clone(), query.until.clone()),
    };
    let services = board.map(|b| b.services).unwrap_or_default();
    let severity = query.severity.clone();
    let period = query.period.clone();
    view! {
        <FilterForm action="/board" label="Filter the board">
            <FilterField id="from" label="From" message=from_msg>
                <input id="f-from" name="from" type="date" min="1970-01-01" value=from
                    aria-invalid=from_invalid aria-describedby=from_described />
            </FilterField>
            <FilterField id="until" label="Until (included)" message=until_msg>
                <input id="f-until" name="until" type="date" min="1970-01-01" value=until
                    aria-invalid=until_invalid aria-describedby=until_described />
            </FilterField>
            <FilterField id="service" label="Service" message=None>
                // The services incidents name, so a typo cannot silently show an empty board.
                <select id="f-service" name="service">
                    <option value="" selected=query.service.is_empty()>"Any"</option>
                    {(!query.service.is_empty() && !services.contains(&query.service)).then(|| {
                        let value = query.service.clone();
                        let shown = format!("{value} (no incidents)");
                        view! { <option value=value selected=true>{shown}</option> }
                    })}
                    {services.into_iter().map(|s| {
                        let selected = s == query.service;
                        let value = s.clone();
                        view! { <option value=value selected=selected>{s}</option> }
                    }).collect_view()}
                </select>
            </FilterField>
            <FilterField id="severity" label="Severity" message=severity_msg>
                <select id="f-severity" name="severity"
                    aria-invalid=severity_invalid aria-describedby=severity_described>
                    <option value="" selected=severity.is_empty()>"Any"</option>
                    {Severity::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=severity == s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </FilterField>
            <FilterField id="period" label="Trend by" message=period_msg>
                <select id="f-period" name="period"
                    aria-invalid=period_invalid aria-describedby=period_described>
                    {Period::ALL.iter().map(|p| view! {
                        <option value=p.as_str() selected=period == p.as_str() || (period.is_empty() && *p == Period::Week)>
                            {p.label()}
                        </option>
                    }).collect_view()}
                </select>
            </FilterField>
            <div class="field actions">
                <button type="submit" class="btn">"Apply"</button>
                <a class="btn ghost" href="/board">"Reset"</a>
            </div>
        </FilterForm>
    }
}

/// A time-to measure's tile.
#[component]
fn MeasureTile(measure: metrics::Measure, stats: DurationStats) -> impl IntoView {
    let id = format!("tile-{}", measure.as_str());
    let labelled_by = id.clone();
    // Read off the monthly histogram (a range of very many incidents): said so beside the figure.
    let about = move |value: Option<f64>| {
        let text = ms(value);
        if stats.approximate && value.is_some() {
            view! { <span aria-hidden="true">"≈ "</span>{text}<span class="visually-hidden">" (approximated)"</span> }.into_any()
        } else {
            view! { {text} }.into_any()
        }
    };
    view! {
        <section class="card metric" aria-labelledby=labelled_by>
            <h2 id=id>{measure.label()}</h2>
            <p class="metric-value">{ms(stats.mean_ms)}</p>
            <dl class="metric-parts">
                <div><dt>"Median"</dt><dd>{about(stats.median_ms)}</dd></div>
                <div><dt>"p90"</dt><dd>{about(stats.p90_ms)}</dd></div>
                <div><dt>"Incidents"</dt><dd>{stats.count}</dd></div>
            </dl>
            <p class="metric-definition">{measure.definition()}</p>
        </section>
    }
}

/// Tiles, trends and breakdowns; `requested_period` is the trend period the URL asked for.
#[component]
fn Figures(board: Board, requested_period: Option<String>) -> impl IntoView {
    let b = board;
    let incidents = b.incidents;
    let measures = b
        .measures
        .iter()
        .map(|m| view! { <MeasureTile measure=m.measure stats=m.stats /> })
        .collect_view();
    let period_name = b.period.as_str();
    let counts: Vec<Bar> = b
        .trend
        .iter()
        .map(|p| Bar {
            label: p.bucket.label.clone(),
            value: Some(p.incidents as f64),
            detail: format::count(p.incidents, "incident"),
        })
        .collect();
    let recovery: Vec<Bar> = b
        .trend
        .iter()
        .map(|p| Bar {
            label: p.bucket.label.clone(),
            value: p.mttr_mean_ms,
            detail: match p.mttr_mean_ms {
                Some(v) => format!("mean {} over {} recovered", ms(Some(v)), p.recovered),
                None => "none recovered".to_owned(),
            },
        })
        .collect();
    let drills = b.drills;
    let actions = b.actions;
    let statuses: Vec<(String, String, u64)> = b
        .by_status
        .iter()
        .map(|(code, n)| {
            let label = code
                .parse::<IncidentStatus>()
                .map_or(code.clone(), |s| s.label().to_owned());
            (label, String::new(), *n)
        })
        .collect();
    let link = |key: &str, value: &str| {
        format!(
            "/board?from={}&until={}&{key}={value}&period={}",
            b.first,
            b.last,
            b.period.as_str()
        )
    };
    let severities: Vec<(String, String, u64)> = b
        .by_severity
        .iter()
        .map(|(code, n)| {
            let label = code
                .parse::<Severity>()
                .map_or(code.clone(), |s| s.label().to_owned());
            (label, link("severity", code), *n)
        })
        .collect();
    let services: Vec<(String, String, u64)> = b
        .by_service
        .iter()
        .map(|(name, n)| (name.clone(), link("service", &format::url_encode(name)), *n))
        .collect();
    view! {
        <p class="muted small board-scope">
            {format!("{} detected {} to {} (UTC). ", format::count(incidents, "incident"), b.first, b.last)}
            {STATISTICS}
        </p>
        {b.measures.iter().any(|m| m.stats.approximate).then(|| view! {
            <p class="alert info" role="note">{rollup::APPROXIMATION}</p>
        })}
        {(requested_period.as_deref().is_some_and(|p| p != b.period.as_str())).then(|| view! {
            <p class="alert info" role="note">
                {format!("Shown by {}: the range has more {}s than a chart can hold.", b.period.label().to_lowercase(), requested_period.clone().unwrap_or_default())}
            </p>
        })}
        <div class="metric-grid">
            {measures}
            <section class="card metric" aria-labelledby="tile-recurrence">
                <h2 id="tile-recurrence">"Recurrence"</h2>
                <p class="metric-value">{percent(rate(b.recurrences, incidents))}</p>
                <dl class="metric-parts">
                    <div><dt>"Recurred"</dt><dd>{b.recurrences}</dd></div>
                    <div><dt>"Of incidents"</dt><dd>{incidents}</dd></div>
                </dl>
                <p class="metric-definition">{RECURRENCE}</p>
            </section>
            <section class="card metric" aria-labelledby="tile-drills">
                <h2 id="tile-drills">"Drill pass rate"</h2>
                <p class="metric-value">{percent(drills.pass_rate())}</p>
                <dl class="metric-parts">
                    <div><dt>"Mean score"</dt><dd>{drills.mean_score.map_or("—".to_owned(), |s| format!("{s:.1}"))}</dd></div>
                    <div><dt>"Passed"</dt><dd>{drills.passed}</dd></div>
                    <div><dt>"Scored runs"</dt><dd>{drills.scored}</dd></div>
                </dl>
                <p class="metric-definition">{DRILLS}</p>
            </section>
            <section class="card metric" aria-labelledby="tile-actions">
                <h2 id="tile-actions">"Action items"</h2>
                {match actions.on_time_rate() {
                    Some(rate) => view! { <p class="metric-value">{percent(Some(rate))}<span class="metric-unit">" closed on time"</span></p> }.into_any(),
                    None => view! { <p class="metric-value">"—"<span class="metric-unit">" none closed yet"</span></p> }.into_any(),
                }}
                <dl class="metric-parts">
                    <div><dt>"Open"</dt><dd>{actions.open}</dd></div>
                    <div><dt>"Overdue"</dt><dd>{actions.overdue}</dd></div>
                    <div><dt>"Closed"</dt><dd>{actions.closed}</dd></div>
                </dl>
                <p class="metric-definition">{ACTION_ITEMS}</p>
            </section>
        </div>
        <div class="chart-grid">
            <section class="card" aria-labelledby="trend-count">
                <h2 id="trend-count">{format!("Incidents per {period_name}")}</h2>
                <BarChart title=format!("Incidents per {period_name}") bars=counts unit=Unit::Count />
            </section>
            <section class="card" aria-labelledby="trend-mttr">
                <h2 id="trend-mttr">{format!("Mean time to recover per {period_name}")}</h2>
                <BarChart title=format!("Mean time to recover per {period_name}") bars=recovery unit=Unit::Duration />
            </section>
        </div>
        <div class="breakdown-grid">
            <Breakdown title="By severity" rows=severities total=incidents />
            <Breakdown title="By status" rows=statuses total=incidents />
            <Breakdown title="By service" rows=services total=incidents
                note="The 20 largest. An incident counts once for each service it affects, so the shares can add up to more than 100 %." />
        </div>
    }
}

/// Counts as a table with bars; a row links to the board filtered by it when `href` is set.
#[component]
fn Breakdown(
    title: &'static str,
    rows: Vec<(String, String, u64)>,
    total: u64,
    /// What to know when reading the shares.
    #[prop(optional)]
    note: &'static str,
) -> impl IntoView {
    let max = rows.iter().map(|r| r.2).max().unwrap_or(0).max(1);
    let id = format!("breakdown-{}", title.to_lowercase().replace(' ', "-"));
    let (section_by, table_by) = (id.clone(), id.clone());
    let body = rows
        .into_iter()
        .map(|(label, href, n)| {
            let width = n as f64 * 100.0 / max as f64;
            let share = percent(rate(n, total));
            let name = if href.is_empty() {
                view! { <span>{label}</span> }.into_any()
            } else {
                view! { <a href=href>{label}</a> }.into_any()
            };
            view! {
                <tr>
                    <th scope="row">{name}</th>
                    <td class="num">{n}</td>
                    <td class="share">
                        <span class="share-track">
                            <span class="share-bar" style=format!("width: {width:.1}%")></span>
                        </span>
                        <span class="muted small">{share}</span>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby=section_by>
            <h2 id=id>{title}</h2>
            <div class="table-wrap">
                <table class="table compact breakdown" aria-labelledby=table_by>
                    <thead><tr><th scope="col">"Name"</th><th scope="col" class="num">"Incidents"</th><th scope="col">"Share"</th></tr></thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
            {(!note.is_empty()).then(|| view! { <p class="muted small">{note}</p> })}
        </section>
    }
}
