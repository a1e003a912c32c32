//! `/incidents/INC-n`: everything a commander needs to run the incident — status and severity,
//! elapsed time, the allowed moves, roles, and the timeline with a note composer. The page keeps
//! itself current: it polls the incident's version and reloads it when someone else changes it,
//! without touching what is being typed.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::incidents::{
    AddNote, AssignRole, ChangeSeverity, MarkMitigated, SetImpactStart, TransitionIncident,
    get_incident, incident_version, list_responders,
};
use crate::model::incident::{IncidentRole, IncidentStatus, Severity, available_transitions};
use crate::model::incident_views::IncidentDetail;
use crate::model::{AppError, Role};
use crate::ui::components::badges::{SeverityBadge, StatusBadge};
use crate::ui::components::feedback::typed;
use crate::ui::components::form::{
    FormMessage, clear_on_success, field_error, field_signal, form_error,
};
use crate::ui::components::shell::CurrentUser;
use crate::ui::format;
use crate::ui::pages::incidents::NoSuchIncident;
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
        alerts: Resource::new(number, crate::api::risks::incident_alerts),
    };
    let CurrentUser(user) = expect_context::<CurrentUser>();

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the incident…"</p> }>
            {move || Suspend::new(async move {
                let role = user.await.ok().flatten().map(|u| u.role).unwrap_or(Role::Viewer);
                match initial.await {
                    Ok(detail) => view! { <IncidentView detail role panels /> }.into_any(),
                    Err(AppError::NotFound) => view! { <NoSuchIncident number=number() /> }.into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What the side panels read besides the incident.
#[derive(Clone, Copy)]
struct PanelData {
    plans: Resource<Result<Vec<crate::model::plan::PlanSummary>, AppError>>,
    responders: Resource<Result<Vec<String>, AppError>>,
    alerts: Resource<Result<Vec<crate::model::alert::RiskEvent>, AppError>>,
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
    let impact = ServerAction::<SetImpactStart>::new();

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
        [
            transition.version().get(),
            severity.version().get(),
            assign.version().get(),
            mitigate.version().get(),
            note.version().get(),
            impact.version().get(),
        ]
    };
    Effect::new({
        let reload = reload.clone();
        move |previous: Option<[usize; 6]>| {
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
    let status = move || state.with(|d| d.summary.status);
    // A reviewed incident's record is final: nothing on the page offers to change it.
    let open = move || status() != IncidentStatus::Reviewed;
    let open_at_load = detail.summary.status != IncidentStatus::Reviewed;
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
                    <span class="elapsed">{move || state.with(|d| duration_line(d, now.get()))}</span>
                </div>
            </header>
            <div class="incident-grid">
                <div class="incident-main">
                    {role.allows(Role::Commander).then(|| {
                        let command_number = number.clone();
                        view! {
                            <Show when=open>
                                <CommandCard number=command_number.clone() assign state />
                            </Show>
                            <MovePanel number=number.clone() transition mitigate state />
                        }
                    })}
                    <section class="card" aria-labelledby="timeline-title">
                        <div class="section-head">
                            <h2 id="timeline-title">"Timeline"</h2>
                            <nav class="order-switch" aria-label="Timeline order">
                                <a href=format!("/incidents/{number}?order=newest") aria-current=move || (!oldest_first.get()).then_some("true")>"Newest first"</a>
                                <a href=format!("/incidents/{number}?order=oldest") aria-current=move || oldest_first.get().then_some("true")>"Oldest first"</a>
                            </nav>
                        </div>
                        {role.allows(Role::Responder).then(|| {
                            let number = number.clone();
                            view! { <Show when=open><NoteComposer number=number.clone() note state /></Show> }
                        })}
                        <Timeline
                            events=Signal::derive(move || state.with(|d| d.timeline.clone()))
                            newest_first=Signal::derive(move || !oldest_first.get())
                            can_correct=role.allows(Role::Responder) && open_at_load
                            base=format!("/incidents/{number}")
                        />
                    </section>
                </div>
                <aside class="incident-side">
                    <Facts state number=number.clone() impact can_edit=role.allows(Role::Commander) && open_at_load />
                    <LinkedAlerts alerts=panels.alerts />
                    {role.allows(Role::Commander).then(|| {
                        let number = number.clone();
                        let responders = panels.responders;
                        view! {
                            <Show when=open>
                                <RolesPanel number=number.clone() assign state responders />
                                <SeverityPanel number=number.clone() severity state />
                            </Show>
                        }
                    })}
                    <section class="card" aria-labelledby="pm-link-title">
                        <h2 id="pm-link-title">"Postmortem"</h2>
                        <p class="muted small">
                            {move || if state.with(|d| d.postmortem_published) { "Published." } else { "Impact, timeline, 5 whys, lessons and action items." }}
                        </p>
                        <a class="btn wide" href=format!("/incidents/{number}/postmortem")>"Open the postmortem"</a>
                    </section>
                    {(role.allows(Role::Responder) && open_at_load).then(|| view! { <PlansPanel number=number.clone() plans=panels.plans /> })}
                </aside>
            </div>
        </article>
    }
}

/// The alerts linked to the incident (declared from one, linked by a person or by a rule), each
/// with where it stands now; nothing when there are none.
#[component]
fn LinkedAlerts(
    alerts: Resource<Result<Vec<crate::model::alert::RiskEvent>, AppError>>,
) -> impl IntoView {
    view! {
        <Transition>
            {move || Suspend::new(async move {
                let list = alerts.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <section class="card linked-alerts" aria-labelledby="alerts-title">
                        <h2 id="alerts-title">"Alerts"</h2>
                        <ul class="plain-list">
                            {list.into_iter().map(|e| view! {
                                <li>
                                    <a href=format!("/risks/{}", e.id)><span class="number">{format!("RISK-{}", e.id)}</span> " " {e.summary.clone()}</a>
                                    <span class=format!("badge risk-status {}", e.status.as_str())>{e.status.label()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Transition>
    }
}

/// How long the incident has lasted: a running clock while it is open or mitigating, detection
/// to recovery once it has recovered.
fn duration_line(d: &IncidentDetail, now: DateTime<Utc>) -> String {
    let t = &d.timestamps;
    match (d.summary.status, t.resolved_at) {
        (IncidentStatus::Recovered | IncidentStatus::Reviewed, Some(recovered)) => format!(
            "Recovered after {} (detected {} → recovered {})",
            format::duration(recovered - t.detected_at),
            format::instant(t.detected_at),
            format::clock_after(recovered, t.detected_at)
        ),
        _ => match t.impact_started_at {
            Some(began) => format!(
                "Open for {} · customers affected for {}",
                format::duration(now - t.detected_at),
                format::duration(now - began)
            ),
            None => format!("Open for {}", format::duration(now - t.detected_at)),
        },
    }
}

/// Who commands the incident, and "Take command" for a commander who does not: the first thing a
/// commander arriving at the page may need.
#[component]
fn CommandCard(
    number: String,
    assign: ServerAction<AssignRole>,
    state: RwSignal<IncidentDetail>,
) -> impl IntoView {
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let commander = move || state.with(|d| d.summary.commander.clone());
    let result = assign.value();
    view! {
        <section class="card command" aria-labelledby="command-title">
            <h2 id="command-title">"Command"</h2>
            <Suspense>
                {move || {
                    let number = number.clone();
                    Suspend::new(async move {
                        let me = user.await.ok().flatten().map(|u| u.username);
                        let me_again = me.clone();
                        view! {
                            <p class="command-holder">
                                {move || match commander() {
                                    Some(c) if Some(&c) == me_again.as_ref() => "You are the commander.".to_owned(),
                                    Some(c) => format!("{c} is the commander."),
                                    None => "Nobody commands this incident yet.".to_owned(),
                                }}
                            </p>
                            {move || {
                                let me = me.clone()?;
                                let number = number.clone();
                                (commander().as_deref() != Some(me.as_str())).then(|| view! {
                                    <ActionForm action=assign attr:class="take-command">
                                        <input type="hidden" name="number" value=number />
                                        <input type="hidden" name="role" value="commander" />
                                        <input type="hidden" name="holder" value=move || commander().unwrap_or_default() />
                                        <input type="hidden" name="username" value=me />
                                        <button type="submit" class="btn primary">"Take command"</button>
                                    </ActionForm>
                                })
                            }}
                        }
                    })
                }}
            </Suspense>
            <FormMessage error=Signal::derive(move || result.with(form_error)) />
        </section>
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
fn Facts(
    state: RwSignal<IncidentDetail>,
    number: String,
    impact: ServerAction<SetImpactStart>,
    can_edit: bool,
) -> impl IntoView {
    let when =
        |at: Option<DateTime<Utc>>| at.map(format::instant).unwrap_or_else(|| "—".to_owned());
    let result = impact.value();
    let form = NodeRef::<leptos::html::Form>::new();
    clear_on_success(result, form);
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
                <dt>"Impact began"</dt>
                <dd>{move || state.with(|d| d.timestamps.impact_started_at.map(format::instant).unwrap_or_else(|| "not recorded".to_owned()))}</dd>
                <dt>"Detected"</dt>
                <dd>{move || state.with(|d| format::instant(d.timestamps.detected_at))}</dd>
                <dt>"Acknowledged"</dt>
                <dd>{move || state.with(|d| when(d.timestamps.acknowledged_at))}</dd>
                <dt>"Mitigated"</dt>
                <dd>{move || state.with(|d| when(d.timestamps.mitigated_at))}</dd>
                <dt>"Recovered"</dt>
                <dd>{move || state.with(|d| when(d.timestamps.resolved_at))}</dd>
            </dl>
            {can_edit.then(|| view! {
                <details class="impact-start" open=move || result.with(|r| matches!(r, Some(Err(_))))>
                    <summary>"Record when customer impact began"</summary>
                    <ActionForm action=impact node_ref=form>
                        <input type="hidden" name="number" value=number.clone() />
                        <div class="field">
                            <label for="impact-start">"Impact began (UTC)"</label>
                            <p class="help" id="impact-start-help">"At or before detection; leave empty to clear it."</p>
                            <input id="impact-start" name="impact_started_at" type="datetime-local" aria-describedby="impact-start-help" value={typed::<SetImpactStart>("impact_started_at")} />
                            <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "impact_started_at"))}</p>
                        </div>
                        <FormMessage error=Signal::derive(move || result.with(form_error)) />
                        <button type="submit" class="btn small">"Record"</button>
                    </ActionForm>
                </details>
            })}
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
) -> impl IntoView {
    let result = transition.value();
    let status = move || state.with(|d| d.summary.status);
    let closed = move || status().next().is_empty();
    let can_mitigate = move || {
        state.with(|d| {
            d.summary.status == IncidentStatus::Mitigating && d.timestamps.mitigated_at.is_none()
        })
    };
    let form = NodeRef::<leptos::html::Form>::new();
    clear_on_success(result, form);
    let number_again = number.clone();
    let number = StoredValue::new(number);
    view! {
        <section class="card" aria-labelledby="move-title">
            <h2 id="move-title">"Move the incident"</h2>
            <Show when=move || !closed() fallback=|| view! { <p class="muted">"This incident is closed."</p> }>
                <ActionForm action=transition node_ref=form>
                    <input type="hidden" name="number" value=number.get_value() />
                    <input type="hidden" name="from" value=move || status().as_str() />
                    <div class="field" class:invalid=move || result.with(|r| field_error(r, "note").is_some())>
                        <label for="move-note">"Note (required: say why)"</label>
                        <textarea id="move-note" name="note" rows="2" aria-describedby="move-note-error">{typed::<TransitionIncident>("note").map(|t| format::raw_text(&t))}</textarea>
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
            </Show>
            {move || can_mitigate().then(|| {
                let number = number_again.clone();
                let result = mitigate.value();
                view! {
                    <ActionForm action=mitigate attr:class="secondary-form">
                        <input type="hidden" name="number" value=number />
                        <div class="field">
                            <label for="mitigate-note">"How was the impact mitigated?"</label>
                            <input id="mitigate-note" name="note" type="text" value={typed::<MarkMitigated>("note")} />
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
                <textarea id="note-body" name="body" rows="3" aria-describedby="note-body-error">{typed::<AddNote>("body").map(|t| format::raw_text(&t))}</textarea>
                <p class="field-error" id="note-body-error" role="alert">{move || result.with(|r| field_error(r, "body"))}</p>
            </div>
            <div class="inline-fields">
                <div class="field">
                    <label for="note-at">"Happened at (UTC, optional)"</label>
                    <input id="note-at" name="occurred_at" type="datetime-local" value={typed::<AddNote>("occurred_at")} />
                    <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "occurred_at"))}</p>
                </div>
                <button type="submit" class="btn primary" disabled=move || note.pending().get()>"Add note"</button>
            </div>
            <FormMessage error=Signal::derive(move || result.with(form_error)) />
        </ActionForm>
    }
}

/// A picker's value and the value its form says the author saw (the `from` / `holder` the server
/// checks). Both follow the incident while the author has not picked anything; once they pick,
/// neither moves with the poll, so a teammate's change can neither swap the author's choice nor
/// quietly apply it to a state they never saw: the server refuses it and says what changed. After
/// that refusal the seen value catches up (a retry is based on what they were just told) while
/// their pick stays; after a success both follow the incident again.
struct Choice<T: Send + Sync + 'static> {
    seen: RwSignal<T>,
    picked: RwSignal<T>,
    holding_pick: RwSignal<bool>,
    holding_seen: RwSignal<bool>,
}

impl<T: Send + Sync + 'static> Clone for Choice<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Choice<T> {}

impl<T: Clone + PartialEq + Send + Sync + 'static> Choice<T> {
    /// Follows `current`; starts from `typed` (what a refused plain post carried back) if given.
    fn new<R, S>(
        current: impl Fn() -> T + Send + Sync + 'static,
        typed: Option<T>,
        result: S,
    ) -> Self
    where
        S: With<Value = Option<Result<R, AppError>>> + Send + Sync + 'static,
    {
        let now = untrack(&current);
        let choice = Self {
            seen: RwSignal::new(now.clone()),
            picked: RwSignal::new(typed.clone().unwrap_or(now)),
            holding_pick: RwSignal::new(typed.is_some()),
            holding_seen: RwSignal::new(false),
        };
        Effect::new(move |_| {
            let now = current();
            if !choice.holding_seen.get_untracked() {
                choice.seen.set(now.clone());
            }
            if !choice.holding_pick.get_untracked() {
                choice.picked.set(now);
            }
        });
        Effect::new(
            move |_| match result.with(|r| r.as_ref().map(Result::is_ok)) {
                Some(true) => {
                    choice.holding_pick.set(false);
                    choice.holding_seen.set(false);
                }
                Some(false) => choice.holding_seen.set(false),
                None => {}
            },
        );
        choice
    }

    /// The author picked `value`.
    fn pick(self, value: T) {
        self.holding_pick.set(true);
        self.holding_seen.set(true);
        self.picked.set(value);
    }
}

#[component]
fn RolesPanel(
    number: String,
    assign: ServerAction<AssignRole>,
    state: RwSignal<IncidentDetail>,
    responders: Resource<Result<Vec<String>, AppError>>,
) -> impl IntoView {
    let result = assign.value();
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let typed_role = typed::<AssignRole>("role");
    let typed_user = typed::<AssignRole>("username");
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
                    let (typed_role, typed_user) = (typed_role.clone(), typed_user.clone());
                    Suspend::new(async move {
                        let me = user.await.ok().flatten().map(|u| u.username);
                        // Who can hold a role (responders and up), the signed-in user first.
                        let people = format::me_first(responders.await.unwrap_or_default(), me.as_deref());
                        IncidentRole::ALL.into_iter().map(|role| {
                            let me = me.clone();
                            let number = number.clone();
                            let id = format!("assign-{}", role.as_str());
                            let current = move || holder(role).unwrap_or_default();
                            // A refused plain post names the role it was for.
                            let typed_pick = (typed_role.as_deref() == Some(role.as_str()))
                                .then(|| typed_user.clone())
                                .flatten();
                            let choice = Choice::new(current, typed_pick, result);
                            // Whoever holds it now is listed even if they could no longer be picked
                            // (a holder disabled since), so the picker never shows "—" for them.
                            let mut listed = people.clone();
                            if let Some(h) = untrack(|| holder(role)).filter(|h| !listed.contains(h)) {
                                listed.push(h);
                            }
                            view! {
                                <ActionForm action=assign attr:class="role-form">
                                    <input type="hidden" name="number" value=number />
                                    <input type="hidden" name="role" value=role.as_str() />
                                    <input type="hidden" name="holder" value=move || choice.seen.get() />
                                    <label for=id.clone()>{role.label()}</label>
                                    <select id=id name="username" on:change=move |ev| choice.pick(event_target_value(&ev))>
                                        <option value="" selected=move || choice.picked.get().is_empty()>"—"</option>
                                        {listed.into_iter().map(|p| {
                                            let (name, value) = (p.clone(), p.clone());
                                            let shown = if Some(&p) == me.as_ref() { format!("{p} (you)") } else { p };
                                            view! { <option value=value selected=move || choice.picked.get() == name>{shown}</option> }
                                        }).collect_view()}
                                    </select>
                                    <button type="submit" class="btn small" aria-label=format!("Assign {}", role.label().to_lowercase())>"Assign"</button>
                                </ActionForm>
                            }
                        }).collect_view()
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
    state: RwSignal<IncidentDetail>,
) -> impl IntoView {
    let result = severity.value();
    let current = move || state.with(|d| d.summary.severity);
    let typed_pick = typed::<ChangeSeverity>("severity").and_then(|s| s.parse::<Severity>().ok());
    let choice = Choice::new(current, typed_pick, result);
    let form = NodeRef::<leptos::html::Form>::new();
    clear_on_success(result, form);
    view! {
        <section class="card" aria-labelledby="severity-title">
            <h2 id="severity-title">"Severity"</h2>
            <ActionForm action=severity node_ref=form>
                <input type="hidden" name="number" value=number />
                <input type="hidden" name="from" value=move || choice.seen.get().as_str() />
                <div class="field">
                    <label for="new-severity">"New severity"</label>
                    <select id="new-severity" name="severity"
                        on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<Severity>() {
                                choice.pick(s);
                            }
                        }>
                        {Severity::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=move || choice.picked.get() == s>{s.label()}</option> }).collect_view()}
                    </select>
                    <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "severity"))}</p>
                </div>
                <div class="field">
                    <label for="severity-note">"Why"</label>
                    <input id="severity-note" name="note" type="text" value={typed::<ChangeSeverity>("note")} />
                    <p class="field-error" role="alert">{field_signal(result, "note")}</p>
                </div>
                <FormMessage error=Signal::derive(move || result.with(form_error)) />
                <button type="submit" class="btn">"Change severity"</button>
            </ActionForm>
        </section>
    }
}
