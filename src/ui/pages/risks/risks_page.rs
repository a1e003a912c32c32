//! `/risks`: the risk board (风险大盘). Firing events grouped by service and alert name, most
//! severe first, with tabs for acknowledged, silenced and resolved ones and filters kept in the
//! address. Hydrated, it checks every few seconds whether anything changed and reloads itself;
//! without JavaScript every action is a plain form that comes back to the same view.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::risks::{AcknowledgeRisk, get_risk_board, risk_board_stamp};
use crate::model::alert::{
    AlertGroup, RiskBoard, RiskEvent, RiskStatus, ServiceGroup, group_events,
};
use crate::model::incident::Severity;
use crate::model::{AppError, Role};
use crate::ui::components::badges::SeverityBadge;
use crate::ui::components::form::{FilterForm, FormMessage, filter_url, form_error};
use crate::ui::components::shell::CurrentUser;
use crate::ui::format;
use crate::ui::pages::risks::silences_page::RiskNav;

/// Seconds between checks for new and changed events.
const POLL_SECS: u64 = 5;

/// The filters the board reads from its address.
const FILTERS: [&str; 5] = ["status", "service", "severity", "source", "q"];

/// The board's address with `status` set (the other filters kept).
fn tab_href(pairs: &[(String, String)], status: RiskStatus) -> String {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "status")
        .cloned()
        .collect();
    if status != RiskStatus::Open {
        out.insert(0, ("status".into(), status.as_str().into()));
    }
    filter_url("/risks", &out)
}

/// How long ago `at` was, from `now`: `3 min ago`.
pub fn ago(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    format!("{} ago", format::duration(now - at))
}

/// The risk board.
#[component]
pub fn RisksPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |key: &str| query.read().get(key).unwrap_or_default();
    let acknowledge = ServerAction::<AcknowledgeRisk>::new();
    // Bumped when the polled stamp says something changed.
    let changed = RwSignal::new(0u32);
    let board = Resource::new(
        move || {
            (
                FILTERS.map(param),
                acknowledge.version().get(),
                changed.get(),
            )
        },
        |([status, service, severity, source, q], _, _)| {
            get_risk_board(status, service, severity, source, q)
        },
    );
    let shown_stamp = RwSignal::new(String::new());
    // Effects run in the browser only: true once the page is hydrated and polling.
    let live = RwSignal::new(false);
    Effect::new(move |_| {
        live.set(true);
        let poll = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(stamp) = risk_board_stamp().await
                        && !shown_stamp.get_untracked().is_empty()
                        && stamp != shown_stamp.get_untracked()
                    {
                        shown_stamp.set(stamp);
                        changed.update(|n| *n += 1);
                    }
                });
            },
            std::time::Duration::from_secs(POLL_SECS),
        );
        on_cleanup(move || {
            if let Ok(handle) = poll {
                handle.clear();
            }
        });
    });
    let CurrentUser(user) = expect_context::<CurrentUser>();

    view! {
        <Title text="Risk board" />
        <div class="page-header">
            <h1>"Risk board"</h1>
            <p class="lede">
                "Alerts from monitoring and failed inspections, one event per alert while it fires. "
                {move || if live.get() { "The page updates itself; " } else { "Reload the page to see changes; " }}
                "filters stay in the address."
            </p>
            <RiskNav current="board" />
        </div>
        <FilterForm action="/risks" label="Filter risk events">
            <input type="hidden" name="status" value=move || param("status") />
            <div class="field">
                <label for="r-service">"Service"</label>
                <input id="r-service" name="service" type="text" value=move || param("service") />
            </div>
            <div class="field">
                <label for="r-severity">"Severity"</label>
                <select id="r-severity" name="severity">
                    <option value="" selected=move || param("severity").is_empty()>"Any"</option>
                    {Severity::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || param("severity") == s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="r-source">"Source"</label>
                <input id="r-source" name="source" type="text" value=move || param("source") />
            </div>
            <div class="field grow">
                <label for="r-q">"Summary or label contains"</label>
                <input id="r-q" name="q" type="search" value=move || param("q") />
            </div>
            <div class="field actions">
                <button type="submit" class="btn">"Apply"</button>
            </div>
        </FilterForm>
        <FormMessage error=Signal::derive(move || acknowledge.value().with(form_error)) />
        <Transition fallback=|| view! { <p class="muted">"Loading the board…"</p> }>
            {move || Suspend::new(async move {
                let role = user.await.ok().flatten().map(|u| u.role).unwrap_or(Role::Viewer);
                let pairs: Vec<(String, String)> = FILTERS
                    .iter()
                    .map(|k| ((*k).to_owned(), param(k)))
                    .collect();
                match board.await {
                    Ok(b) => {
                        shown_stamp.set(b.stamp.clone());
                        view! { <BoardBody board=b pairs role acknowledge /> }.into_any()
                    }
                    Err(AppError::Validation(fields)) => view! {
                        <p class="alert error" role="alert">
                            {fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join(" ")}
                        </p>
                    }.into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn BoardBody(
    board: RiskBoard,
    pairs: Vec<(String, String)>,
    role: Role,
    acknowledge: ServerAction<AcknowledgeRisk>,
) -> impl IntoView {
    let current = pairs
        .iter()
        .find(|(k, _)| k == "status")
        .and_then(|(_, v)| v.parse::<RiskStatus>().ok())
        .unwrap_or(RiskStatus::Open);
    let now = board.as_of;
    let groups = group_events(board.events);
    let empty = match current {
        RiskStatus::Open => {
            "Nothing is firing that nobody has taken. Alerts arrive through the API (see /api/docs)."
        }
        RiskStatus::Acknowledged => "No acknowledged events are firing.",
        RiskStatus::Silenced => "Nothing is muted by a silence or an inhibition rule.",
        RiskStatus::Resolved => "No event has resolved yet.",
    };
    view! {
        <nav class="status-tabs" aria-label="Risk events by state">
            {RiskStatus::ALL.iter().map(|s| {
                let here = *s == current;
                let count = board.counts.of(*s);
                view! {
                    <a href=tab_href(&pairs, *s) aria-current=here.then_some("page")>
                        {s.label()}
                        {count.map(|n| view! { " " <span class="count">{n}</span> })}
                    </a>
                }
            }).collect_view()}
        </nav>
        {board.capped.then(|| view! {
            <p class="alert info" role="status">"Only the first 500 events are shown: narrow the filters to see the rest."</p>
        })}
        {if groups.is_empty() {
            view! { <div class="card empty-state"><p>{empty}</p></div> }.into_any()
        } else {
            view! {
                <div class="risk-groups">
                    {groups.into_iter().map(|ServiceGroup { service, alerts }| {
                        let total: usize = alerts.iter().map(|a| a.events.len()).sum();
                        view! {
                            <section class="card risk-group" aria-label=format!("Service {service}")>
                                <h2>{service.clone()} " " <span class="count">{total}</span></h2>
                                {alerts.into_iter().map(|AlertGroup { name, events }| view! {
                                    <h3 class="risk-name">{name.clone()} " " <span class="muted small">{format::count(events.len() as u64, "event")}</span></h3>
                                    <ul class="risk-list">
                                        {events.into_iter().map(|e| view! { <RiskRow event=e now role acknowledge /> }).collect_view()}
                                    </ul>
                                }).collect_view()}
                            </section>
                        }
                    }).collect_view()}
                </div>
            }.into_any()
        }}
    }
}

#[component]
fn RiskRow(
    event: RiskEvent,
    now: chrono::DateTime<chrono::Utc>,
    role: Role,
    acknowledge: ServerAction<AcknowledgeRisk>,
) -> impl IntoView {
    let name = event.name();
    let href = format!("/risks/{}", event.id);
    let can_ack = role.allows(Role::Responder) && event.status == RiskStatus::Open;
    let ack_label = format!("Acknowledge {name}");
    let chips: Vec<(String, String)> = event
        .labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "severity"))
        .take(6)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let muted = match (&event.silenced_by, event.inhibited_by) {
        (Some(_), _) => Some("silenced".to_owned()),
        (None, Some(by)) => Some(format!("inhibited by RISK-{by}")),
        _ => None,
    };
    let seen = if event.count == 1 {
        "received once".to_owned()
    } else {
        format!("received {} times", event.count)
    };
    view! {
        <li class="risk">
            <div class="risk-main">
                <SeverityBadge severity=event.severity />
                <a href=href class="risk-title">
                    <span class="number">{name.clone()}</span>
                    " "
                    {event.summary.clone()}
                </a>
            </div>
            <p class="risk-meta muted small">
                {format!("{} · firing for {} · {} · last {}", event.source, format::duration(now - event.first_seen), seen, ago(event.last_seen, now))}
                {event.resolved_at.map(|at| format!(" · resolved {}", ago(at, now)))}
                {event.acknowledged_by.clone().map(|by| format!(" · acknowledged by {by}"))}
                {muted.map(|m| format!(" · {m}"))}
            </p>
            {(!chips.is_empty()).then(|| view! {
                <ul class="label-chips" aria-label="Labels">
                    {chips.into_iter().map(|(k, v)| view! { <li><code>{format!("{k}={v}")}</code></li> }).collect_view()}
                </ul>
            })}
            <div class="risk-actions">
                {event.incident.clone().map(|i| view! {
                    <a class="btn small" href=format!("/incidents/{i}")>{format!("Open {i}")}</a>
                })}
                {can_ack.then(|| view! {
                    <ActionForm action=acknowledge attr:class="row-form">
                        <input type="hidden" name="number" value=event.id.to_string() />
                        <button type="submit" class="btn small" aria-label=ack_label>"Acknowledge"</button>
                    </ActionForm>
                })}
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tab_keeps_the_other_filters_and_open_is_the_bare_address() {
        let pairs = vec![
            ("status".to_owned(), "resolved".to_owned()),
            ("service".to_owned(), "api".to_owned()),
        ];
        assert_eq!(tab_href(&pairs, RiskStatus::Open), "/risks?service=api");
        assert_eq!(
            tab_href(&pairs, RiskStatus::Silenced),
            "/risks?status=silenced&service=api"
        );
    }
}
