//! `/risks/N`: one risk event — its labels and annotations, what was received, what mutes it —
//! and what a responder does from it: acknowledge, silence (matchers prefilled from its labels),
//! declare an incident (title, severity and service prefilled), link it to an open incident, run
//! a self-recovery or emergency plan. Every form works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::risks::{
    AcknowledgeRisk, DeclareFromRisk, LinkRisk, RiskDetail, RunPlanForRisk, SilenceRisk, get_risk,
};
use crate::model::alert::RiskStatus;
use crate::model::alert_rule::incident_title;
use crate::model::incident::Severity;
use crate::model::{AppError, Role};
use crate::ui::components::badges::SeverityBadge;
use crate::ui::components::feedback::typed;
use crate::ui::components::form::{
    FormMessage, TextField, field_error, field_signal, form_error, list_field_error,
};
use crate::ui::components::shell::CurrentUser;
use crate::ui::format;
use crate::ui::pages::risks::risks_page::ago;

/// One risk event's page.
#[component]
pub fn RiskPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let acknowledge = ServerAction::<AcknowledgeRisk>::new();
    let silence = ServerAction::<SilenceRisk>::new();
    let link = ServerAction::<LinkRisk>::new();
    let detail = Resource::new(
        move || {
            (
                number(),
                acknowledge.version().get(),
                silence.version().get(),
                link.version().get(),
            )
        },
        |(n, ..)| get_risk(n),
    );
    let actions = Actions {
        acknowledge,
        silence,
        link,
        declare: ServerAction::<DeclareFromRisk>::new(),
        run: ServerAction::<RunPlanForRisk>::new(),
    };
    // Hydrated, a declaration or a run goes to the page of what it made.
    Effect::new(move |_| {
        let target = match (actions.declare.value().get(), actions.run.value().get()) {
            (Some(Ok(n)), _) => Some(format!("/incidents/{n}")),
            (_, Some(Ok(run))) => Some(format!("/runs/{run}")),
            _ => None,
        };
        if let Some(target) = target {
            let navigate = leptos_router::hooks::use_navigate();
            navigate(&target, Default::default());
        }
    });
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the event…"</p> }>
            {move || Suspend::new(async move {
                let role = user.await.ok().flatten().map(|u| u.role).unwrap_or(Role::Viewer);
                match detail.await {
                    Ok(d) => view! { <RiskView detail=d role actions /> }.into_any(),
                    Err(AppError::NotFound) => {
                        crate::ui::pages::not_found_status();
                        view! { <div class="card empty-state"><p>{format!("There is no risk event {}.", number())}</p></div> }.into_any()
                    }
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The page's actions.
#[derive(Clone, Copy)]
struct Actions {
    acknowledge: ServerAction<AcknowledgeRisk>,
    silence: ServerAction<SilenceRisk>,
    link: ServerAction<LinkRisk>,
    declare: ServerAction<DeclareFromRisk>,
    run: ServerAction<RunPlanForRisk>,
}

#[component]
fn RiskView(detail: RiskDetail, role: Role, actions: Actions) -> impl IntoView {
    let e = detail.event.clone();
    let now = chrono::Utc::now();
    let name = e.name();
    let status = e.status;
    let firing = status != RiskStatus::Resolved;
    let responder = role.allows(Role::Responder);
    let title = format!("{name} {}", e.summary);
    let labels: Vec<(String, String)> = e.labels.clone().into_iter().collect();
    let annotations: Vec<(String, String)> = e.annotations.clone().into_iter().collect();
    view! {
        <Title text=title />
        <article class="risk-event" aria-labelledby="risk-title">
            <header class="page-header">
                <p class="number">{name.clone()}</p>
                <h1 id="risk-title">{e.summary.clone()}</h1>
                <div class="badges">
                    <SeverityBadge severity=e.severity />
                    <span class=format!("badge risk-status {}", status.as_str())>{status.label()}</span>
                </div>
            </header>
            <div class="incident-grid">
                <div class="incident-main">
                    <section class="card" aria-labelledby="facts-title">
                        <h2 id="facts-title">"What is known"</h2>
                        <dl class="facts">
                            <dt>"Source"</dt><dd>{e.source.clone()}</dd>
                            <dt>"Service"</dt><dd>{e.service.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Firing since"</dt><dd>{format!("{} ({})", format::instant(e.first_seen), ago(e.first_seen, now))}</dd>
                            <dt>"Last received"</dt><dd>{format!("{} — {} in all", ago(e.last_seen, now), format::count(e.count as u64, "time"))}</dd>
                            {e.resolved_at.map(|at| view! { <dt>"Resolved"</dt><dd>{format::instant(at)}</dd> })}
                            {e.acknowledged_by.clone().map(|by| view! { <dt>"Acknowledged by"</dt><dd>{by}</dd> })}
                            <dt>"Incident"</dt>
                            <dd>{match e.incident.clone() {
                                Some(i) => view! { <a href=format!("/incidents/{i}")>{i.clone()}</a> }.into_any(),
                                None => view! { <span>"none"</span> }.into_any(),
                            }}</dd>
                            {detail.silence.clone().map(|s| view! {
                                <dt>"Silenced"</dt>
                                <dd>{format!("until {} by {}: {}", format::instant(s.ends_at), s.created_by, s.comment)}</dd>
                            })}
                            {e.inhibited_by.map(|by| view! {
                                <dt>"Inhibited by"</dt>
                                <dd><a href=format!("/risks/{by}")>{format!("RISK-{by}")}</a> " (an inhibition rule mutes it while that fires)"</dd>
                            })}
                            <dt>"Fingerprint"</dt><dd><code>{e.fingerprint.clone()}</code></dd>
                            {e.url.clone().map(|u| {
                                let href = u.clone();
                                view! {
                                    <dt>"At the source"</dt>
                                    <dd><a href=href rel="noopener noreferrer" target="_blank">{u}</a></dd>
                                }
                            })}
                        </dl>
                    </section>
                    <section class="card" aria-labelledby="labels-title">
                        <h2 id="labels-title">"Labels"</h2>
                        <ul class="label-chips">
                            {labels.into_iter().map(|(k, v)| view! { <li><code>{format!("{k}={v}")}</code></li> }).collect_view()}
                        </ul>
                        {(!annotations.is_empty()).then(|| view! {
                            <h3>"Annotations"</h3>
                            <dl class="facts annotations">
                                {annotations.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd class="prose">{v}</dd> }).collect_view()}
                            </dl>
                        })}
                    </section>
                    <section class="card" aria-labelledby="received-title">
                        <h2 id="received-title">"Received"</h2>
                        {if detail.received.is_empty() {
                            view! { <p class="muted">"Nothing kept: received alerts are deleted after their retention."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="plain-list">
                                    {detail.received.iter().map(|(at, action)| view! {
                                        <li>{format!("{} — {}", format::instant(*at), action)}</li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        {(!detail.runs.is_empty()).then(|| view! {
                            <h3>"Runs started for it"</h3>
                            <ul class="plain-list">
                                {detail.runs.iter().map(|r| view! { <li><a href=format!("/runs/{r}")>{format!("Run #{r}")}</a></li> }).collect_view()}
                            </ul>
                        })}
                    </section>
                </div>
                <aside class="incident-side">
                    {(responder && firing).then(|| view! { <ActPanel detail=detail.clone() actions /> })}
                    {(!responder).then(|| view! {
                        <p class="card muted">"Responders and above act on risk events."</p>
                    })}
                </aside>
            </div>
        </article>
    }
}

#[component]
fn ActPanel(detail: RiskDetail, actions: Actions) -> impl IntoView {
    let e = detail.event.clone();
    let number = e.id.to_string();
    let silence_result = actions.silence.value();
    let declare_result = actions.declare.value();
    let link_result = actions.link.value();
    let run_result = actions.run.value();
    let typed_matchers = typed::<SilenceRisk>("matchers").unwrap_or(detail.matchers.clone());
    let typed_severity = typed::<DeclareFromRisk>("severity");
    let severity = typed_severity
        .as_deref()
        .and_then(|s| s.parse::<Severity>().ok())
        .unwrap_or(e.severity);
    let linked = e.incident.is_some();
    let typed_comment = typed::<SilenceRisk>("comment");
    let silence_number = number.clone();
    let run_number = number.clone();
    let typed_hours = typed::<SilenceRisk>("hours").unwrap_or_else(|| "2".into());
    view! {
        {(e.status == RiskStatus::Open).then(|| {
            let number = number.clone();
            view! {
                <section class="card" aria-labelledby="ack-title">
                    <h2 id="ack-title">"Take it"</h2>
                    <ActionForm action=actions.acknowledge>
                        <input type="hidden" name="number" value=number />
                        <FormMessage error=Signal::derive(move || actions.acknowledge.value().with(form_error)) />
                        <button type="submit" class="btn primary">"Acknowledge"</button>
                    </ActionForm>
                </section>
            }
        })}
        {(!linked).then(|| {
            let number = number.clone();
            let title = typed::<DeclareFromRisk>("title").unwrap_or_else(|| incident_title(&e));
            let services = typed::<DeclareFromRisk>("services").unwrap_or_else(|| e.service.clone().unwrap_or_default());
            view! {
                <section class="card" aria-labelledby="declare-title">
                    <h2 id="declare-title">"Declare an incident"</h2>
                    <ActionForm action=actions.declare>
                        <input type="hidden" name="number" value=number />
                        <TextField label="Title" name="title" id="declare-title-field" required=true value=Some(title) error=field_signal(declare_result, "title") />
                        <div class="field">
                            <label for="declare-severity">"Severity"</label>
                            <select id="declare-severity" name="severity">
                                {Severity::ALL.into_iter().map(|s| view! {
                                    <option value=s.as_str() selected=s == severity>{format!("{} — {}", s.label(), s.meaning())}</option>
                                }).collect_view()}
                            </select>
                            <p class="field-error" role="alert">{move || declare_result.with(|r| field_error(r, "severity"))}</p>
                        </div>
                        <TextField label="Services" name="services" id="declare-services" help="Comma-separated." value=Some(services) error=field_signal(declare_result, "services") />
                        <FormMessage error=Signal::derive(move || declare_result.with(form_error)) />
                        <button type="submit" class="btn primary" disabled=move || actions.declare.pending().get()>"Declare and link"</button>
                    </ActionForm>
                </section>
            }
        })}
        {(!linked && !detail.open_incidents.is_empty()).then(|| {
            let number = number.clone();
            view! {
                <section class="card" aria-labelledby="link-title">
                    <h2 id="link-title">"Link to an incident"</h2>
                    <ActionForm action=actions.link>
                        <input type="hidden" name="number" value=number />
                        <div class="field">
                            <label for="link-incident">"Incident"</label>
                            <select id="link-incident" name="incident">
                                {detail.open_incidents.iter().map(|(n, t)| view! {
                                    <option value=n.clone()>{format!("{n} {t}")}</option>
                                }).collect_view()}
                            </select>
                            <p class="field-error" role="alert">{move || link_result.with(|r| field_error(r, "incident"))}</p>
                        </div>
                        <FormMessage error=Signal::derive(move || link_result.with(form_error)) />
                        <button type="submit" class="btn">"Link"</button>
                    </ActionForm>
                </section>
            }
        })}
        <section class="card" aria-labelledby="silence-title">
            <h2 id="silence-title">"Silence"</h2>
            <ActionForm action=actions.silence>
                <input type="hidden" name="number" value=silence_number />
                <div class="field" class:invalid=move || silence_result.with(|r| list_field_error(r, "matchers").is_some())>
                    <label for="silence-matchers">"Matchers"</label>
                    <p class="help" id="silence-matchers-help">"One per line: name=\"value\", name!=\"value\", name=~\"regex\" or name!~\"regex\". Every line must match. Remove lines to silence more."</p>
                    <textarea id="silence-matchers" name="matchers" rows="5" aria-describedby="silence-matchers-help" spellcheck="false">{format::raw_text(&typed_matchers)}</textarea>
                    <p class="field-error" role="alert">{move || silence_result.with(|r| list_field_error(r, "matchers"))}</p>
                </div>
                <TextField label="For how many hours" name="hours" id="silence-hours" value=Some(typed_hours) error=field_signal(silence_result, "hours") />
                <TextField label="Why" name="comment" id="silence-comment" required=true help="Shown beside every alert it mutes." value=typed_comment error=field_signal(silence_result, "comment") />
                <FormMessage error=Signal::derive(move || silence_result.with(|r| form_error(r).or_else(|| field_error(r, "ends_at")))) />
                <button type="submit" class="btn">"Silence"</button>
            </ActionForm>
        </section>
        {(!detail.plans.is_empty()).then(|| view! {
            <section class="card" aria-labelledby="run-title">
                <h2 id="run-title">"Run a plan"</h2>
                <ActionForm action=actions.run>
                    <input type="hidden" name="number" value=run_number />
                    <div class="field">
                        <label for="run-plan">"Self-recovery or emergency plan"</label>
                        <select id="run-plan" name="plan">
                            {detail.plans.iter().map(|(n, p)| view! { <option value=n.to_string()>{format!("PLAN-{n} {p}")}</option> }).collect_view()}
                        </select>
                        <p class="field-error" role="alert">{move || run_result.with(|r| field_error(r, "plan"))}</p>
                    </div>
                    <FormMessage error=Signal::derive(move || run_result.with(form_error)) />
                    <button type="submit" class="btn">"Run now"</button>
                </ActionForm>
            </section>
        })}
    }
}
