//! `/incidents`: filters kept in the URL, counts per status, keyset pages.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::incidents::list_incidents;
use crate::model::incident::{IncidentStatus, Severity};
use crate::model::incident_views::{COUNT_CAP, IncidentPage, IncidentSort, count_label};
use crate::model::{AppError, Role};
use crate::ui::components::badges::{SeverityBadge, StatusBadge};
use crate::ui::components::form::FilterForm;
use crate::ui::components::shell::CurrentUser;
use crate::ui::format;

/// The URL query of the list with one key replaced (and the page cursor reset).
fn with_param(pairs: &[(&str, String)], key: &str, value: &str) -> String {
    let mut out = url_pairs(
        pairs
            .iter()
            .filter(|(k, _)| *k != key && *k != "after")
            .map(|(k, v)| (*k, v.as_str())),
    );
    if !value.is_empty() {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&url_pairs([(key, value)].into_iter()));
    }
    format!("/incidents?{out}")
}

fn url_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", format::url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The label of a filter field, for messages about it.
fn filter_label(field: &str) -> &str {
    match field {
        "q" => "Title contains",
        "service" => "Service",
        "tag" => "Tag",
        other => other,
    }
}

/// The incident list.
#[component]
pub fn IncidentsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |key: &str| query.read().get(key).unwrap_or_default();
    let page = Resource::new(
        move || ["status", "severity", "service", "tag", "q", "sort", "after"].map(param),
        |[status, severity, service, tag, q, sort, after]| {
            list_incidents(status, severity, service, tag, q, sort, after)
        },
    );
    let CurrentUser(user) = expect_context::<CurrentUser>();

    view! {
        <Title text="Incidents" />
        <div class="page-header with-actions">
            <div>
                <h1>"Incidents"</h1>
                <p class="lede">"Declared incidents, newest first. Filters stay in the address, so a view can be shared."</p>
            </div>
            <Suspense>
                {move || Suspend::new(async move {
                    let can_declare = matches!(user.await, Ok(Some(u)) if u.role.allows(Role::Responder));
                    can_declare.then(|| view! { <a class="btn primary" href="/incidents/new">"Declare incident"</a> })
                })}
            </Suspense>
        </div>
        <FilterForm action="/incidents" label="Filter incidents">
            <div class="field">
                <label for="f-status">"Status"</label>
                <select id="f-status" name="status">
                    <option value="" selected=move || param("status").is_empty()>"Any"</option>
                    <option value="active" selected=move || param("status") == "active">"Active (open or mitigating)"</option>
                    {IncidentStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || param("status") == s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-severity">"Severity"</label>
                <select id="f-severity" name="severity">
                    <option value="" selected=move || param("severity").is_empty()>"Any"</option>
                    {Severity::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || param("severity") == s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-service">"Service"</label>
                <input id="f-service" name="service" type="text" value=move || param("service") />
            </div>
            <div class="field">
                <label for="f-tag">"Tag"</label>
                <input id="f-tag" name="tag" type="text" value=move || param("tag") />
            </div>
            <div class="field grow">
                <label for="f-q">"Title contains"</label>
                <input id="f-q" name="q" type="search" value=move || param("q") />
            </div>
            <div class="field">
                <label for="f-sort">"Order"</label>
                <select id="f-sort" name="sort">
                    {IncidentSort::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || IncidentSort::parse(&param("sort")) == s>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field actions">
                <button type="submit" class="btn">"Apply"</button>
            </div>
        </FilterForm>
        <Transition fallback=|| view! { <p class="muted">"Loading incidents…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => {
                        let pairs: Vec<(&str, String)> = ["status", "severity", "service", "tag", "q", "sort"]
                            .into_iter()
                            .map(|k| (k, param(k)))
                            .collect();
                        view! { <ListBody page=p pairs /> }.into_any()
                    }
                    // A refused filter says which and why (the search box keeps what was typed).
                    Err(AppError::Validation(fields)) => view! {
                        <p class="alert error" role="alert">
                            {fields.iter().map(|f| format!("{}: {}", filter_label(&f.field), f.message)).collect::<Vec<_>>().join(" ")}
                        </p>
                    }.into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ListBody(page: IncidentPage, pairs: Vec<(&'static str, String)>) -> impl IntoView {
    let current_status = pairs
        .iter()
        .find(|(k, _)| *k == "status")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let capped = page.counts.iter().any(|(_, n)| *n > COUNT_CAP);
    let total = if capped {
        COUNT_CAP + 1
    } else {
        page.counts.iter().map(|(_, n)| n).sum::<i64>()
    };
    let next_href = page.next.as_ref().map(|cursor| {
        let base = url_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        let sep = if base.is_empty() { "" } else { "&" };
        format!("/incidents?{base}{sep}after={}", format::url_encode(cursor))
    });
    let counts = page.counts.clone();
    view! {
        <nav class="status-tabs" aria-label="Incidents by status">
            <a href=with_param(&pairs, "status", "") aria-current=current_status.is_empty().then_some("page")>
                "All " <span class="count">{count_label(total)}</span>
            </a>
            {counts.into_iter().map(|(s, n)| {
                let current = current_status == s.as_str();
                view! {
                    <a href=with_param(&pairs, "status", s.as_str()) aria-current=current.then_some("page")>
                        {s.label()} " " <span class="count">{count_label(n)}</span>
                    </a>
                }
            }).collect_view()}
        </nav>
        {if page.items.is_empty() {
            view! { <div class="card empty-state"><p>"No incidents match these filters."</p></div> }.into_any()
        } else {
            view! {
                <div class="card flush table-wrap">
                    <table class="table incidents">
                        <thead>
                            <tr>
                                <th scope="col">"Incident"</th>
                                <th scope="col">"Severity"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Services"</th>
                                <th scope="col">"Commander"</th>
                                <th scope="col">"Detected"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {page.items.into_iter().map(|i| view! {
                                <tr>
                                    <th scope="row">
                                        <a href=format!("/incidents/{}", i.number)>
                                            <span class="number">{i.number.to_string()}</span>
                                            " "
                                            {i.title.clone()}
                                        </a>
                                    </th>
                                    <td><SeverityBadge severity=i.severity /></td>
                                    <td><StatusBadge status=i.status /></td>
                                    <td>{i.services.join(", ")}</td>
                                    <td>{i.commander.clone().unwrap_or_else(|| "—".to_owned())}</td>
                                    <td class="nowrap">{format::instant(i.detected_at)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <nav class="pager" aria-label="Pages">
            <a class="btn small" href=with_param(&pairs, "after", "")>"First page"</a>
            {next_href.map(|href| view! { <a class="btn small" href=href rel="next">"Next page"</a> })}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changing_one_filter_keeps_the_others_and_resets_the_page() {
        let pairs = vec![
            ("status", "open".to_owned()),
            ("q", "db down".to_owned()),
            ("after", "1.2".to_owned()),
        ];
        assert_eq!(
            with_param(&pairs, "status", "mitigating"),
            "/incidents?q=db%20down&status=mitigating"
        );
        assert_eq!(with_param(&pairs, "status", ""), "/incidents?q=db%20down");
    }
}
