//! The postmortem read as a report: what viewers see, what a published postmortem shows, and
//! what the print view (the browser's "save as PDF") lays out — metadata, sections, timeline,
//! actions.

use leptos::prelude::*;

use crate::api::postmortems::PostmortemPage;
use crate::model::postmortem::Postmortem;
use crate::ui::components::badges::{SeverityBadge, StatusBadge};
use crate::ui::format;

fn entries(list: &[String]) -> AnyView {
    if list.is_empty() {
        view! { <p class="muted">"None recorded."</p> }.into_any()
    } else {
        view! { <ul>{list.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul> }
            .into_any()
    }
}

fn text(body: &str) -> AnyView {
    if body.trim().is_empty() {
        view! { <p class="muted">"None recorded."</p> }.into_any()
    } else {
        view! { <p class="prose">{body.to_owned()}</p> }.into_any()
    }
}

/// The impact durations, computed from the incident (shown, never typed).
#[component]
pub fn ImpactFigures(data: PostmortemPage) -> impl IntoView {
    let span = |d: Option<chrono::Duration>| d.map_or("not yet".to_owned(), format::duration);
    let d = data.durations;
    let known = data.incident.timestamps.impact_started_at.is_some();
    view! {
        <dl class="figures" aria-label="Impact durations">
            <div>
                <dt>{if known { "Impact (began → recovered)" } else { "Impact (detected → recovered)" }}</dt>
                <dd>{span(d.impact)}</dd>
            </div>
            <div>
                <dt>"Time to detect"</dt>
                <dd>{if known { span(d.to_detect) } else { "impact start not recorded".to_owned() }}</dd>
            </div>
            <div>
                <dt>"Detected → mitigated"</dt>
                <dd>{span(d.to_mitigate)}</dd>
            </div>
            <div>
                <dt>"Detected → recovered"</dt>
                <dd>{span(d.to_recover)}</dd>
            </div>
        </dl>
    }
}

/// The report body for `postmortem` of `data`'s incident.
#[component]
pub fn PostmortemReport(
    data: PostmortemPage,
    postmortem: Postmortem,
    /// Whether to list the action items (the postmortem page lists them in their own card).
    #[prop(default = true)]
    with_actions: bool,
) -> impl IntoView {
    let doc = postmortem.doc.clone();
    let incident = data.incident.clone();
    let picked = doc.key_moments.clone();
    let moments: Vec<_> = doc
        .moments(&incident.timeline)
        .into_iter()
        .cloned()
        .collect();
    let whys: Vec<_> = doc
        .whys
        .links()
        .iter()
        .filter(|w| !w.why.trim().is_empty() || !w.because.trim().is_empty())
        .cloned()
        .collect();
    let s = incident.summary.clone();
    let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(format::instant).unwrap_or_else(|| "—".to_owned())
    };
    view! {
        <div class="report">
            <dl class="report-meta">
                <div><dt>"Severity"</dt><dd><SeverityBadge severity=s.severity /></dd></div>
                <div><dt>"Status"</dt><dd><StatusBadge status=s.status /></dd></div>
                <div><dt>"Services"</dt><dd>{s.services.join(", ")}</dd></div>
                <div><dt>"Commander"</dt><dd>{s.commander.clone().unwrap_or_else(|| "—".to_owned())}</dd></div>
                <div><dt>"Detected"</dt><dd>{format::instant(incident.timestamps.detected_at)}</dd></div>
                <div><dt>"Mitigated"</dt><dd>{when(incident.timestamps.mitigated_at)}</dd></div>
                <div><dt>"Recovered"</dt><dd>{when(incident.timestamps.resolved_at)}</dd></div>
                <div><dt>"Postmortem"</dt><dd>{format!("{}, version {}", postmortem.state.label(), postmortem.version)}</dd></div>
            </dl>
            <section aria-labelledby="r-summary"><h2 id="r-summary">"Summary"</h2>{text(&doc.summary)}</section>
            <section aria-labelledby="r-impact">
                <h2 id="r-impact">"Impact"</h2>
                <ImpactFigures data=data.clone() />
                {text(&doc.impact)}
            </section>
            <section aria-labelledby="r-timeline">
                <h2 id="r-timeline">{if picked.is_empty() { "Timeline" } else { "Key moments" }}</h2>
                <ol class="report-timeline">
                    {moments.into_iter().map(|e| view! {
                        <li>
                            <time datetime=e.occurred_at.to_rfc3339()>{format::instant(e.occurred_at)}</time>
                            " "<strong>{e.data.headline()}</strong>
                            {e.author.clone().map(|a| format!(" ({a})"))}
                            {e.data.text().filter(|t| !t.is_empty()).map(|t| format!(": {t}"))}
                        </li>
                    }).collect_view()}
                </ol>
            </section>
            <section aria-labelledby="r-causes"><h2 id="r-causes">"Root causes"</h2>{entries(&doc.root_causes)}</section>
            <section aria-labelledby="r-factors"><h2 id="r-factors">"Contributing factors"</h2>{entries(&doc.contributing_factors)}</section>
            <section aria-labelledby="r-whys">
                <h2 id="r-whys">"5 whys"</h2>
                {if whys.is_empty() {
                    view! { <p class="muted">"None recorded."</p> }.into_any()
                } else {
                    view! {
                        <ol class="whys-report">
                            {whys.into_iter().map(|w| view! {
                                <li><p class="why-question"><strong>{w.why}</strong></p><p class="why-answer">{w.because}</p></li>
                            }).collect_view()}
                        </ol>
                    }.into_any()
                }}
            </section>
            <section aria-labelledby="r-lessons">
                <h2 id="r-lessons">"Lessons"</h2>
                <h3>"What went well"</h3>{entries(&doc.went_well)}
                <h3>"What went wrong"</h3>{entries(&doc.went_wrong)}
                <h3>"Where we got lucky"</h3>{entries(&doc.got_lucky)}
            </section>
            {with_actions.then(|| view! { <section aria-labelledby="r-actions">
                <h2 id="r-actions">"Corrective and preventive actions"</h2>
                {if data.actions.is_empty() {
                    view! { <p class="muted">"None recorded."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th scope="col">"Action"</th><th scope="col">"Kind"</th><th scope="col">"Priority"</th><th scope="col">"Owner"</th><th scope="col">"Due"</th><th scope="col">"State"</th></tr></thead>
                            <tbody>
                                {data.actions.iter().map(|a| view! {
                                    <tr>
                                        <th scope="row">{a.title.clone()}</th>
                                        <td>{a.kind.label()}</td>
                                        <td>{a.priority.label()}</td>
                                        <td>{a.owner.clone()}</td>
                                        <td>{a.due_on.to_string()}</td>
                                        <td>{a.state.label()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any()
                }}
            </section> })}
        </div>
    }
}
