//! `/runs/N`: one run's step-by-step progress with durations, updated live (polled every second
//! while the run is unfinished; without JavaScript the page refreshes itself), the answer forms of
//! a waiting step (confirm / skip a gate, pass / fail a manual check) and "Abort run".

use chrono::Utc;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::runs::{AbortRun, DecideStep, get_run};
use crate::model::run::{Awaiting, RunStep, RunView, StepStatus};
use crate::model::{AppError, Role};
use crate::ui::components::feedback::typed;
use crate::ui::components::form::{FormMessage, field_signal, form_error};
use crate::ui::components::shell::CurrentUser;
use crate::ui::format;
use crate::ui::pages::runs::review::{ReviewState, RunReviewSection};
use crate::ui::pages::runs::runs_table::status_class;
use crate::ui::pages::runs::score_panel::ScorePanel;

/// How often an open run page asks for news.
const POLL_MS: u64 = 1000;

/// The run page.
#[component]
pub fn RunPage() -> impl IntoView {
    let number = crate::ui::pages::number_param();
    let run = Resource::new(number, |number| async move {
        match number {
            Some(n) => get_run(n).await,
            None => Err(AppError::NotFound),
        }
    });
    let review = ReviewState::new(number);
    let CurrentUser(user) = expect_context::<CurrentUser>();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the run…"</p> }>
            {move || Suspend::new(async move {
                let role = match user.await {
                    Ok(Some(u)) => u.role,
                    _ => Role::Viewer,
                };
                match run.await {
                    Ok(view) => view! { <LiveRun initial=view role review /> }.into_any(),
                    Err(AppError::NotFound) => {
                        crate::ui::pages::not_found_status();
                        view! { <div class="card empty-state"><p>"There is no such run."</p></div> }.into_any()
                    }
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LiveRun(initial: RunView, role: Role, review: ReviewState) -> impl IntoView {
    let number = initial.summary.number;
    let state = RwSignal::new(initial);
    let now = RwSignal::new(Utc::now());
    let decide = ServerAction::<DecideStep>::new();
    let abort = ServerAction::<AbortRun>::new();
    let refresh = move || {
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = get_run(number).await
                && state.with_untracked(|s| *s != fresh)
            {
                state.set(fresh);
            }
            now.set(Utc::now());
        });
    };
    Effect::new(move |previous: Option<(usize, usize)>| {
        let current = (decide.version().get(), abort.version().get());
        if previous.is_some_and(|p| p != current) {
            refresh();
        }
        current
    });
    Effect::new(move |_| {
        let poll = set_interval_with_handle(
            move || {
                if !state.with_untracked(|r| r.summary.status.is_finished()) {
                    refresh();
                }
            },
            std::time::Duration::from_millis(POLL_MS),
        );
        on_cleanup(move || {
            if let Ok(handle) = poll {
                handle.clear();
            }
        });
    });

    let summary = move || state.read().summary.clone();
    let finished = move || state.read().summary.status.is_finished();
    view! {
        <Title text=move || format!("Run #{number} · {}", summary().plan_name) />
        // Without JavaScript the page refreshes itself while the run goes on — but not while it
        // waits for an answer from this reader: a refresh would wipe the comment being typed.
        {move || {
            let asks_me = state.with(|r| r.waits_for(role));
            (!finished()).then(|| if asks_me {
                view! {
                    <noscript>
                        <p class="alert info">"This page stops refreshing itself while a step waits for your answer. "
                            <a href=format!("/runs/{number}")>"Refresh"</a>
                        </p>
                    </noscript>
                }.into_any()
            } else {
                view! { <noscript><meta http-equiv="refresh" content="3" /></noscript> }.into_any()
            })
        }}
        <header class="page-header">
            <p class="number">{format!("Run #{number}")}</p>
            <h1>{move || summary().plan_name}</h1>
            <p class="run-meta">
                <span class=move || status_class(summary().status) role="status" aria-label="Run status">{move || summary().status.label()}</span>
                " "
                {move || {
                    let s = summary();
                    let by = s.triggered_by.clone().map_or_else(|| s.trigger.label().to_owned(), |u| format!("started by {u}"));
                    format!("{by} · {} · ", format::instant(s.created_at))
                }}
                <a href=move || format!("/plans/{}?version={}", summary().plan_number, summary().plan_version)>
                    {move || format!("plan version {}", summary().plan_version)}
                </a>
                {move || summary().incident.map(|i| view! { " · for " <a href=format!("/incidents/{i}")>{i.clone()}</a> })}
            </p>
            <p class="muted">
                {move || match summary().duration(now.get()) {
                    Some(d) if finished() => format!("Took {}.", format::duration(d)),
                    Some(d) => format!("Running for {}.", format::duration(d)),
                    None => "Waiting for a free worker.".to_owned(),
                }}
                {move || summary().aborted_by.map(|by| format!(" Abort requested by {by}."))}
            </p>
        </header>
        {move || (role.allows(Role::Commander) && !finished()).then(|| view! {
            <ActionForm action=abort attr:class="run-abort">
                <input type="hidden" name="number" value=number />
                <button type="submit" class="btn danger">"Abort run"</button>
            </ActionForm>
        })}
        <FormMessage error=Signal::derive(move || abort.value().with(form_error)) />
        {move || finished().then(|| view! { <ScorePanel run=state.get() /> })}
        <section class="card" aria-label="Steps">
            <h2>"Steps"</h2>
            <ol class="run-steps">
                {move || {
                    let view = state.get();
                    let params = view.params.clone();
                    let at = now.get();
                    view.steps.into_iter().map(|step| {
                        let used = params.get(step.index).cloned().unwrap_or_default();
                        view! { <StepItem step used at number role decide run_finished=finished() /> }
                    }).collect_view()
                }}
            </ol>
        </section>
        {move || finished().then(|| view! { <RunReviewSection number role state=review /> })}
    }
}

#[component]
fn StepItem(
    step: RunStep,
    used: std::collections::BTreeMap<String, String>,
    at: chrono::DateTime<Utc>,
    number: i64,
    role: Role,
    decide: ServerAction<DecideStep>,
    run_finished: bool,
) -> impl IntoView {
    let status = if run_finished && step.status == StepStatus::Pending {
        "Not reached".to_owned()
    } else {
        step.status_label().to_owned()
    };
    let awaiting = (step.status == StepStatus::WaitingForConfirmation)
        .then_some(step.awaiting)
        .flatten();
    let heading = format!("{}. {}", step.index + 1, step.name);
    let label_id = format!("step-{}-name", step.index);
    let labelled_by = label_id.clone();
    view! {
        <li class=format!("run-step {}", step.status.as_str()) aria-labelledby=labelled_by>
            <div class="run-step-head">
                <h3 id=label_id>{heading}</h3>
                <span class=format!("badge step-status {}", step.status.as_str())>{status}</span>
            </div>
            <p class="muted">
                {step.action_label()}
                {step.phase.map(|p| format!(" · {}", p.label()))}
                {step.started_at.map(|s| format!(" · started {}", format::clock(s)))}
                {step.duration(at).map(|d| format!(" · {}", format::duration(d)))}
            </p>
            {awaiting.map(|a| view! { <DecisionForm step=step.index awaiting=a number role decide /> })}
            {step.error.clone().map(|e| view! { <p class="alert error">{e}</p> })}
            {(!step.output.is_empty()).then(|| view! { <pre class="run-output">{step.output.clone()}</pre> })}
            {step.output_hidden.then(|| view! { <p class="muted">"Output is shown to responders and up."</p> })}
            {(!used.is_empty()).then(|| view! {
                <details class="run-params">
                    <summary>"Parameters used"</summary>
                    <dl>
                        {used.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{if v.is_empty() { "—".to_owned() } else { v }}</dd> }).collect_view()}
                    </dl>
                </details>
            })}
        </li>
    }
}

#[component]
fn DecisionForm(
    step: usize,
    awaiting: Awaiting,
    number: i64,
    role: Role,
    decide: ServerAction<DecideStep>,
) -> impl IntoView {
    let note_id = format!("step-{step}-note");
    let note_error = field_signal(decide.value(), "note");
    let may_answer = role.allows(awaiting.answered_by());
    let prompt = match awaiting {
        Awaiting::Confirmation => "This step waits for a commander to confirm it before it runs.",
        Awaiting::Verdict => "Do the check, then mark it passed or failed.",
    };
    view! {
        <div class="decision" role="group" aria-label="Waiting for you">
            <p><strong>{prompt}</strong></p>
            {if may_answer {
                view! {
                    <ActionForm action=decide>
                        <input type="hidden" name="number" value=number />
                        <input type="hidden" name="index" value=step />
                        <div class="field" class:invalid=move || note_error.get().is_some()>
                            <label for=note_id.clone()>"Comment"</label>
                            <textarea id=note_id.clone() name="note" rows="2"
                                aria-invalid=move || note_error.get().map(|_| "true")>{typed::<DecideStep>("note").map(|t| format::raw_text(&t))}</textarea>
                            <p class="field-error" role="alert">{move || note_error.get()}</p>
                        </div>
                        <div class="button-row">
                            {match awaiting {
                                Awaiting::Confirmation => view! {
                                    <button type="submit" name="decision" value="confirm" class="btn primary">"Confirm and run"</button>
                                }.into_any(),
                                Awaiting::Verdict => view! {
                                    <button type="submit" name="decision" value="pass" class="btn primary">"Passed"</button>
                                    <button type="submit" name="decision" value="fail" class="btn danger">"Failed"</button>
                                }.into_any(),
                            }}
                            {role.allows(Role::Commander).then(|| view! {
                                <button type="submit" name="decision" value="skip" class="btn">"Skip step"</button>
                            })}
                        </div>
                        <FormMessage error=Signal::derive(move || decide.value().with(form_error)) />
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <p class="muted">{match awaiting {
                        Awaiting::Confirmation => "Only a commander or an admin can confirm or skip this step.",
                        Awaiting::Verdict => "Only a responder, commander or admin can mark this check.",
                    }}</p>
                }.into_any()
            }}
        </div>
    }
}
