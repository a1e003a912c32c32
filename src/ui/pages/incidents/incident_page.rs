//! `/incidents/INC-n`: everything a commander needs to run the incident — status and severity,
//! elapsed time, the allowed moves, roles, and the timeline with a note composer. The page keeps
//! itself current: it polls the incident's version and reloads it when someone else changes it,
//! without touching what is being typed.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::incidents::{
    AddNote, AssignRole, ChangeSeverity, MarkMitigated, TransitionIncident, get_incident,
    incident_version, list_responders,
};
use crate::model::incident::{IncidentRole, IncidentStatus, Severity, available_transitions};
use crate::model::incident_views::IncidentDetail;
use crate::model::{AppError, Role};
use crate::ui::components::badges::{SeverityBadge, StatusBadge};
use crate::ui::components::form::{FormMessage, field_error, field_signal, form_error};
use crate::ui::components::shell::CurrentUser;
use crate::ui::format;
use crate::ui::pages::incidents::timeline::Timeline;

/// Seconds between checks for changes made by others.
const POLL_SECS: u64 = 5;

/// The incident page.
#[component]
pub fn IncidentPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let initial = Resource::new(number, get_incident);
    // Every resource of the page is created here, outside the suspense: one created while a
    // suspense resolves on the server can outlive that render and run without the request's
    // context (its answer, an error, then differs from what the browser reads).
    let panels = PanelData {
        plans: Resource::new(|| (), |_| crate::api::plans::list_plans()),
        responders: Resource::new(|| (), |_| list_responders()),
    };
    let CurrentUser(user) = expect_context::<CurrentUser>();

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the incident…"</p> }>
            {move || Suspend::new(async move {
                let role = user.await.ok().flatten().map(|u| u.role).unwrap_or(Role::Viewer);
                match initial.await {
                    Ok(detail) => view! { <IncidentView detail role panels /> }.into_any(),
                    Err(AppError::NotFound) => {
                        not_found_status();
                        view! {
                            <div class="card empty-state"><p>{format!("There is no incident {}.", number())}</p></div>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// What the side panels read besides the incident.
#[derive(Clone, Copy)]
struct PanelData {
    plans: Resource<Result<Vec<crate::model::plan::PlanSummary>, AppError>>,
    responders: Resource<Result<Vec<String>, AppError>>,
}

#[component]
fn IncidentView(detail: IncidentDetail, role: Role, panels: PanelData) -> impl IntoView {
    let number = detail.summary.number.to_string();
    let state = RwSignal::new(detail.clone());
    let now = RwSignal::new(detail.as_of);
    // The change stamp of what is shown (see `IncidentDetail::change_stamp`).
    let seen = RwSignal::new(detail.change_stamp());

    let transition = ServerAction::<TransitionIncident>::new();
    let severity = ServerAction::<ChangeSeverity>::new();
    let assign = ServerAction::<AssignRole>::new();
    let mitigate = ServerAction::<MarkMitigated>::new();
    let note = ServerAction::<AddNote>::new();

    // Reload after any change made here, and whenever the polled version moves.
    let reload = {
        let number = number.clone();
        move || {
            let number = number.clone();
            leptos::task::spawn_local(async move {
                if let Ok(fresh) = get_incident(number).await {
                    now.set(fresh.as_of);
                    seen.set(fresh.change_stamp());
                    state.set(fresh);
                }
            });
        }
    };
    let versions = move || {
        (
            transition.version().get(),
            severity.version().get(),
            assign.version().get(),
            mitigate.version().get(),
            note.version().get(),
        )
    };
    Effect::new({
        let reload = reload.clone();
        move |previous: Option<(usize, usize, usize, usize, usize)>| {
            let current = versions();
            if previous.is_some_and(|p| p != current) {
                reload();
            }
            current
        }
    });
    Effect::new({
        let number = number.clone();
        move |_| {
            let number = number.clone();
            let reload = reload.clone();
            let poll = set_interval_with_handle(
                move || {
                    let number = number.clone();
                    let reload = reload.clone();
                    leptos::task::spawn_local(async move {
                        now.set(Utc::now());
                        if let Ok(stamp) = incident_version(number).await
                            && stamp != seen.get_untracked()
                        {
                            reload();
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
        }
    });

    let query = use_query_map();
    let oldest_first =
        Signal::derive(move || query.read().get("order").as_deref() == Some("oldest"));
    let version = move || state.with(|d| d.version.to_string());
    let status = move || state.with(|d| d.summary.status);
    let title_text = format!("{} {}", detail.summary.number, detail.summary.title);

    view! {
        <Title text=title_text />
        <article class="incident" aria-labelledby="incident-title">
            <header class="incident-header">
                <p class="number">{number.clone()}</p>
                <h1 id="incident-title">{move || state.with(|d| d.summary.title.clone())}</h1>
                <div class="badges" aria-label="Severity and status">
                    {move || view! { <SeverityBadge severity=state.with(|d| d.summary.severity) /> }}
                    {move || view! { <StatusBadge status=status() /> }}
                    <span class="elapsed">
                        {move || {
                            let detected = state.with(|d| d.timestamps.detected_at);
                            format!("Detected {} ago", format::duration(now.get() - detected))
                        }}
                    </span>
                </div>
            </header>
            <div class="incident-grid">
                <div class="incident-main">
                    {role.allows(Role::Commander).then(|| view! {
                        <MovePanel number=number.clone() transition mitigate state version />
                    })}
                    <section class="card" aria-labelledby="timeline-title">
                        <div class="section-head">
                            <h2 id="timeline-title">"Timeline"</h2>
                            <nav class="order-switch" aria-label="Timeline order">
                                <a href=format!("/incidents/{number}?order=newest") aria-current=move || (!oldest_first.get()).then_some("true")>"Newest first"</a>
                                <a href=format!("/incidents/{number}?order=oldest") aria-current=move || oldest_first.get().then_some("true")>"Oldest first"</a>
                            </nav>
                        </div>
                        {role.allows(Role::Responder).then(|| view! { <NoteComposer number=number.clone() note state /> })}
                        <Timeline
                            events=Signal::derive(move || state.with(|d| d.timeline.clone()))
                            newest_first=Signal::derive(move || !oldest_first.get())
                            can_correct=role.allows(Role::Responder)
                            base=format!("/incidents/{number}")
                        />
                    </section>
                </div>
                <aside class="incident-side">
                    <section class="card" aria-labelledby="pm-link-title">
                        <h2 id="pm-link-title">"Postmortem"</h2>
                        <p class="muted small">
                            {move || if state.with(|d| d.postmortem_published) { "Published." } else { "Impact, timeline, 5 whys, lessons and action items." }}
                        </p>
                        <a class="btn wide" href=format!("/incidents/{number}/postmortem")>"Open the postmortem"</a>
                    </section>
                    <Facts state />
                    {role.allows(Role::Responder).then(|| view! { <PlansPanel number=number.clone() plans=panels.plans /> })}
                    {role.allows(Role::Commander).then(|| view! {
                        <RolesPanel number=number.clone() assign state version responders=panels.responders />
                        <SeverityPanel number=number.clone() severity version />
                    })}
                </aside>
            </div>
        </article>
    }
}

/// The emergency, self-recovery and disaster-recovery plans that can be run for this incident.
#[component]
fn PlansPanel(
    number: String,
    plans: Resource<Result<Vec<crate::model::plan::PlanSummary>, AppError>>,
) -> impl IntoView {
    use crate::model::catalog::Scene;
    view! {
        <section class="card" aria-labelledby="plans-title">
            <h2 id="plans-title">"Run a plan"</h2>
            <p class="muted small">"The run and each step's result are written on this timeline."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading plans…"</p> }>
                {move || {
                    let number = number.clone();
                    Suspend::new(async move {
                        let usable: Vec<_> = plans
                            .await
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|p| p.enabled && p.scene != Scene::Drill)
                            .collect();
                        if usable.is_empty() {
                            view! { <p class="muted">"No emergency plans yet."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="plain-list">
                                    {usable.into_iter().map(|p| view! {
                                        <li>
                                            <a href=format!("/plans/{}?incident={number}#run", p.number)>{format!("Run “{}”", p.name)}</a>
                                            <span class="muted small">{format!(" · {}", p.scene.label())}</span>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Facts(state: RwSignal<IncidentDetail>) -> impl IntoView {
    let when =
        |at: Option<DateTime<Utc>>| at.map(format::instant).unwrap_or_else(|| "—".to_owned());
    view! {
        <section class="card facts" aria-labelledby="facts-title">
            <h2 id="facts-title">"Facts"</h2>
            <dl>
                <dt>"Services"</dt>
                <dd>{move || state.with(|d| d.summary.services.join(", "))}</dd>
                <dt>"Tags"</dt>
                <dd>{move || state.with(|d| if d.summary.tags.is_empty() { "—".to_owned() } else { d.summary.tags.join(", ") })}</dd>
                <dt>"Commander"</dt>
                <dd>{move || state.with(|d| d.summary.commander.clone().unwrap_or_else(|| "nobody yet".to_owned()))}</dd>
                <dt>"Scribe"</dt>
                <dd>{move || state.with(|d| d.scribe.clone().unwrap_or_else(|| "—".to_owned()))}</dd>
                <dt>"Communications"</dt>
                <dd>{move || state.with(|d| d.communications.clone().unwrap_or_else(|| "—".to_owned()))}</dd>
                <dt>"Detected"</dt>
                <dd>{move || state.with(|d| format::instant(d.timestamps.detected_at))}</dd>
                <dt>"Acknowledged"</dt>
                <dd>{move || state.with(|d| when(d.timestamps.acknowledged_at))}</dd>
                <dt>"Mitigated"</dt>
                <dd>{move || state.with(|d| when(d.timestamps.mitigated_at))}</dd>
                <dt>"Recovered"</dt>
                <dd>{move || state.with(|d| when(d.timestamps.resolved_at))}</dd>
            </dl>
            {move || state.with(|d| (!d.description.is_empty()).then(|| view! {
                <h3>"Description"</h3>
                <p class="description">{d.description.clone()}</p>
            }))}
        </section>
    }
}

#[component]
fn MovePanel(
    number: String,
    transition: ServerAction<TransitionIncident>,
    mitigate: ServerAction<MarkMitigated>,
    state: RwSignal<IncidentDetail>,
    version: impl Fn() -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let result = transition.value();
    let status = move || state.with(|d| d.summary.status);
    let can_mitigate = move || {
        state.with(|d| {
            d.summary.status == IncidentStatus::Mitigating && d.timestamps.mitigated_at.is_none()
        })
    };
    let number_again = number.clone();
    view! {
        <section class="card" aria-labelledby="move-title">
            <h2 id="move-title">"Move the incident"</h2>
            {move || status().next().is_empty().then(|| view! { <p class="muted">"This incident is closed."</p> })}
            <ActionForm action=transition>
                <input type="hidden" name="number" value=number.clone() />
                <input type="hidden" name="version" value=version />
                <div class="field" class:invalid=move || result.with(|r| field_error(r, "note").is_some())>
                    <label for="move-note">"Note (required: say why)"</label>
                    <textarea id="move-note" name="note" rows="2" aria-describedby="move-note-error"></textarea>
                    <p class="field-error" id="move-note-error" role="alert">{move || result.with(|r| field_error(r, "note"))}</p>
                </div>
                <FormMessage error=Signal::derive(move || result.with(form_error)) />
                <div class="button-row">
                    {move || {
                        let from = status();
                        let published = state.with(|d| d.postmortem_published);
                        available_transitions(from, published).into_iter().map(|to| view! {
                            <button type="submit" name="to" value=to.as_str()
                                class=if to == IncidentStatus::Mitigating && from == IncidentStatus::Recovered { "btn" } else { "btn primary" }>
                                {from.action_label(to)}
                            </button>
                        }).collect_view()
                    }}
                </div>
                {move || (status() == IncidentStatus::Recovered && !state.with(|d| d.postmortem_published)).then(|| view! {
                    <p class="muted small">"“Mark reviewed” appears once the postmortem is published."</p>
                })}
            </ActionForm>
            {move || can_mitigate().then(|| {
                let number = number_again.clone();
                let result = mitigate.value();
                view! {
                    <ActionForm action=mitigate attr:class="secondary-form">
                        <input type="hidden" name="number" value=number />
                        <input type="hidden" name="version" value=version />
                        <div class="field">
                            <label for="mitigate-note">"How was the impact mitigated?"</label>
                            <input id="mitigate-note" name="note" type="text" />
                            <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "note"))}</p>
                        </div>
                        <FormMessage error=Signal::derive(move || result.with(form_error)) />
                        <button type="submit" class="btn">"Mark impact mitigated"</button>
                    </ActionForm>
                }
            })}
        </section>
    }
}

#[component]
fn NoteComposer(
    number: String,
    note: ServerAction<AddNote>,
    state: RwSignal<IncidentDetail>,
) -> impl IntoView {
    let result = note.value();
    let form = NodeRef::<leptos::html::Form>::new();
    let query = use_query_map();
    let correcting = move || query.read().get("correct").filter(|c| !c.is_empty());
    let navigate = leptos_router::hooks::use_navigate();
    let page = format!("/incidents/{number}");
    let cancel_href = page.clone();
    Effect::new(move |_| {
        if matches!(result.get(), Some(Ok(()))) {
            if let Some(form) = form.get() {
                form.reset();
            }
            // Untracked: this reacts to a finished save, not to choosing an entry to correct.
            if query.with_untracked(|q| q.get("correct").is_some()) {
                navigate(&page, Default::default());
            }
        }
    });
    // The entry being corrected, as "#3 Status Open → Mitigating".
    let target = move || {
        let id = correcting()?;
        state.with(|d| {
            d.timeline
                .iter()
                .find(|e| e.id.to_string() == id)
                .map(|e| format!("#{} {}", e.seq, e.data.headline()))
        })
    };
    view! {
        <ActionForm action=note node_ref=form attr:class="note-composer">
            <input type="hidden" name="number" value=number />
            {move || correcting().map(|id| view! {
                <input type="hidden" name="corrects" value=id />
                <p class="correcting" role="status">
                    {format!("Correcting {}. ", target().unwrap_or_else(|| "an entry".to_owned()))}
                    <a href=cancel_href.clone()>"Cancel"</a>
                </p>
            })}
            <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "corrects"))}</p>
            <div class="field" class:invalid=move || result.with(|r| field_error(r, "body").is_some())>
                <label for="note-body">{move || if correcting().is_some() { "Correction" } else { "Add a note" }}</label>
                <textarea id="note-body" name="body" rows="3" aria-describedby="note-body-error"></textarea>
                <p class="field-error" id="note-body-error" role="alert">{move || result.with(|r| field_error(r, "body"))}</p>
            </div>
            <div class="inline-fields">
                <div class="field">
                    <label for="note-at">"Happened at (UTC, optional)"</label>
                    <input id="note-at" name="occurred_at" type="datetime-local" />
                    <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "occurred_at"))}</p>
                </div>
                <button type="submit" class="btn primary" disabled=move || note.pending().get()>"Add note"</button>
            </div>
            <FormMessage error=Signal::derive(move || result.with(form_error)) />
        </ActionForm>
    }
}

#[component]
fn RolesPanel(
    number: String,
    assign: ServerAction<AssignRole>,
    state: RwSignal<IncidentDetail>,
    version: impl Fn() -> String + Copy + Send + Sync + 'static,
    responders: Resource<Result<Vec<String>, AppError>>,
) -> impl IntoView {
    let result = assign.value();
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let holder = move |role: IncidentRole| {
        state.with(|d| match role {
            IncidentRole::Commander => d.summary.commander.clone(),
            IncidentRole::Scribe => d.scribe.clone(),
            IncidentRole::Communications => d.communications.clone(),
        })
    };
    view! {
        <section class="card" aria-labelledby="roles-title">
            <h2 id="roles-title">"Roles"</h2>
            <Suspense>
                {move || {
                    let number = number.clone();
                    Suspend::new(async move {
                        let people = responders.await.unwrap_or_default();
                        let me = user.await.ok().flatten().map(|u| u.username);
                        let take_command = {
                            let number = number.clone();
                            let me = me.clone();
                            move || {
                                let me = me.clone()?;
                                let number = number.clone();
                                (holder(IncidentRole::Commander).as_deref() != Some(me.as_str())).then(|| view! {
                                    <ActionForm action=assign attr:class="take-command">
                                        <input type="hidden" name="number" value=number />
                                        <input type="hidden" name="version" value=version />
                                        <input type="hidden" name="role" value="commander" />
                                        <input type="hidden" name="username" value=me />
                                        <button type="submit" class="btn primary wide">"Take command"</button>
                                    </ActionForm>
                                })
                            }
                        };
                        view! {
                            {take_command}
                            {IncidentRole::ALL.into_iter().map(|role| {
                                let people = people.clone();
                                let number = number.clone();
                                let id = format!("assign-{}", role.as_str());
                                view! {
                                    <ActionForm action=assign attr:class="row-form role-form">
                                        <input type="hidden" name="number" value=number />
                                        <input type="hidden" name="version" value=version />
                                        <input type="hidden" name="role" value=role.as_str() />
                                        <label for=id.clone()>{role.label()}</label>
                                        <select id=id name="username">
                                            <option value="" selected=move || holder(role).is_none()>"—"</option>
                                            {people.into_iter().map(|p| {
                                                let (name, value) = (p.clone(), p.clone());
                                                view! { <option value=value selected=move || holder(role).as_deref() == Some(name.as_str())>{p}</option> }
                                            }).collect_view()}
                                        </select>
                                        <button type="submit" class="btn small" aria-label=format!("Assign {}", role.label().to_lowercase())>"Assign"</button>
                                    </ActionForm>
                                }
                            }).collect_view()}
                        }
                    })
                }}
            </Suspense>
            <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "username"))}</p>
            <FormMessage error=Signal::derive(move || result.with(form_error)) />
        </section>
    }
}

#[component]
fn SeverityPanel(
    number: String,
    severity: ServerAction<ChangeSeverity>,
    version: impl Fn() -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let result = severity.value();
    view! {
        <section class="card" aria-labelledby="severity-title">
            <h2 id="severity-title">"Severity"</h2>
            <ActionForm action=severity>
                <input type="hidden" name="number" value=number />
                <input type="hidden" name="version" value=version />
                <div class="field">
                    <label for="new-severity">"New severity"</label>
                    <select id="new-severity" name="severity">
                        {Severity::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                    <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "severity"))}</p>
                </div>
                <div class="field">
                    <label for="severity-note">"Why"</label>
                    <input id="severity-note" name="note" type="text" />
                    <p class="field-error" role="alert">{field_signal(result, "note")}</p>
                </div>
                <FormMessage error=Signal::derive(move || result.with(form_error)) />
                <button type="submit" class="btn">"Change severity"</button>
            </ActionForm>
        </section>
    }
}
