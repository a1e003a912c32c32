//! `/silences`: silences active, pending and recently ended, ending one early, and a new one —
//! with a preview of the firing events its matchers pick out (a plain GET, so it works without
//! JavaScript too; `?matchers=` also links here from rules and events).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::alerting::{CreateSilence, EndSilence, list_silences, preview_matchers};
use crate::model::matcher::{Silence, SilenceState, format_matchers};
use crate::model::{AppError, Role};
use crate::ui::components::feedback::{succeeded, typed};
use crate::ui::components::form::{
    FormMessage, TextField, field_error, field_signal, form_error, list_field_error,
};
use crate::ui::components::shell::CurrentUser;
use crate::ui::format;

/// Links between the risk board, the silences and the inspections.
#[component]
pub fn RiskNav(current: &'static str) -> impl IntoView {
    let link = move |href: &'static str, key: &'static str, label: &'static str| {
        let here = (current == key).then_some("page");
        view! { <a href=href aria-current=here>{label}</a> }
    };
    view! {
        <nav class="subnav" aria-label="Risk">
            {link("/risks", "board", "Risk board")}
            {link("/silences", "silences", "Silences")}
            {link("/inspections", "inspections", "Inspections")}
        </nav>
    }
}

/// The silences page.
#[component]
pub fn SilencesPage() -> impl IntoView {
    let query = use_query_map();
    let asked = move || query.read().get("matchers").unwrap_or_default();
    let create = ServerAction::<CreateSilence>::new();
    let end = ServerAction::<EndSilence>::new();
    let silences = Resource::new(
        move || (create.version().get(), end.version().get()),
        |_| list_silences(),
    );
    let preview = Resource::new(asked, |m| async move {
        if m.trim().is_empty() {
            None
        } else {
            Some(preview_matchers(m).await)
        }
    });
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let created = Signal::derive(move || {
        matches!(create.value().get(), Some(Ok(())))
            || (create.value().with(Option::is_none) && succeeded::<CreateSilence>())
    });
    view! {
        <Title text="Silences" />
        <div class="page-header">
            <h1>"Silences"</h1>
            <p class="lede">
                "A silence mutes the alerts its matchers all match, for a while: they are still stored and shown under “Silenced”, "
                "and trigger no rule."
            </p>
            <RiskNav current="silences" />
        </div>
        <section class="card" aria-labelledby="preview-title">
            <h2 id="preview-title">"Which events would these matchers pick out?"</h2>
            <form method="get" action="/silences" class="preview-form">
                <div class="field">
                    <label for="preview-matchers">"Matchers"</label>
                    <p class="help" id="preview-help">"One per line: name=\"value\", name!=\"value\", name=~\"regex\", name!~\"regex\" (a regex matches the whole value; a missing label matches as empty)."</p>
                    <textarea id="preview-matchers" name="matchers" rows="4" spellcheck="false" aria-describedby="preview-help">{format::raw_text(&asked())}</textarea>
                </div>
                <button type="submit" class="btn">"Preview"</button>
            </form>
            <Transition>
                {move || Suspend::new(async move {
                    match preview.await {
                        None => view! { <span></span> }.into_any(),
                        Some(Ok(list)) if list.is_empty() => view! { <p class="muted" role="status">"No firing event matches."</p> }.into_any(),
                        Some(Ok(list)) => view! {
                            <p role="status">{format!("{} now:", format::count(list.len() as u64, "firing event matches"))}</p>
                            <ul class="plain-list">
                                {list.into_iter().map(|(n, summary)| view! {
                                    <li><a href=format!("/risks/{n}")><span class="number">{format!("RISK-{n}")}</span> " " {summary}</a></li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Some(Err(e)) => view! {
                            <p class="alert error" role="alert">{e.field_message("matchers").map(str::to_owned).unwrap_or_else(|| match &e {
                                AppError::Validation(f) => f.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join(" "),
                                other => other.to_string(),
                            })}</p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Suspense>
            {move || Suspend::new(async move {
                let responder = matches!(user.await, Ok(Some(u)) if u.role.allows(Role::Responder));
                responder.then(|| view! { <NewSilenceForm create prefill=asked() created /> })
            })}
        </Suspense>
        <section class="card" aria-labelledby="silences-title">
            <h2 id="silences-title">"Active, pending and ended today"</h2>
            <FormMessage error=Signal::derive(move || end.value().with(form_error)) />
            <Transition fallback=|| view! { <p class="muted">"Loading silences…"</p> }>
                {move || Suspend::new(async move {
                    let responder = matches!(user.await, Ok(Some(u)) if u.role.allows(Role::Responder));
                    match silences.await {
                        Ok(list) if list.is_empty() => view! { <p class="empty-state">"No silences."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="silence-list">
                                {list.into_iter().map(|s| view! { <SilenceRow silence=s responder end /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn NewSilenceForm(
    create: ServerAction<CreateSilence>,
    prefill: String,
    created: Signal<bool>,
) -> impl IntoView {
    let result = create.value();
    let matchers = typed::<CreateSilence>("matchers").unwrap_or(prefill);
    let hours = typed::<CreateSilence>("hours").unwrap_or_else(|| "2".into());
    let comment = typed::<CreateSilence>("comment");
    view! {
        <section class="card" aria-labelledby="new-silence-title">
            <h2 id="new-silence-title">"New silence"</h2>
            <ActionForm action=create>
                <div class="field" class:invalid=move || result.with(|r| list_field_error(r, "matchers").is_some())>
                    <label for="silence-matchers">"Matchers"</label>
                    <textarea id="silence-matchers" name="matchers" rows="4" spellcheck="false">{format::raw_text(&matchers)}</textarea>
                    <p class="field-error" role="alert">{move || result.with(|r| list_field_error(r, "matchers"))}</p>
                </div>
                <TextField label="For how many hours" name="hours" id="new-silence-hours" value=Some(hours) error=field_signal(result, "hours") />
                <TextField label="Why" name="comment" id="new-silence-comment" required=true help="Shown beside every alert it mutes." value=comment error=field_signal(result, "comment") />
                <FormMessage
                    error=Signal::derive(move || result.with(|r| form_error(r).or_else(|| field_error(r, "ends_at"))))
                    success=Signal::derive(move || created.get().then(|| "Silenced: what it matches is muted now.".to_owned()))
                />
                <button type="submit" class="btn primary" disabled=move || create.pending().get()>"Create silence"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn SilenceRow(silence: Silence, responder: bool, end: ServerAction<EndSilence>) -> impl IntoView {
    let state = silence.state;
    let until = match state {
        SilenceState::Pending => format!(
            "from {} until {}",
            format::instant(silence.starts_at),
            format::instant(silence.ends_at)
        ),
        SilenceState::Active => format!("until {}", format::instant(silence.ends_at)),
        SilenceState::Expired => format!(
            "ended {}",
            format::instant(
                silence
                    .ended_at
                    .unwrap_or(silence.ends_at)
                    .min(silence.ends_at)
            )
        ),
    };
    let matchers = format_matchers(&silence.matchers);
    let preview = format!("/silences?matchers={}", format::url_encode(&matchers));
    let can_end = responder && state != SilenceState::Expired;
    view! {
        <li class="silence">
            <p>
                <span class=format!("badge silence-state {}", state.as_str())>{state.label()}</span>
                " "
                <strong>{silence.comment.clone()}</strong>
            </p>
            <pre class="matchers">{matchers}</pre>
            <p class="muted small">{format!("{until} · by {}", silence.created_by)} " · " <a href=preview>"What it matches"</a></p>
            {can_end.then(|| view! {
                <ActionForm action=end attr:class="row-form">
                    <input type="hidden" name="id" value=silence.id.clone() />
                    <button type="submit" class="btn small danger" aria-label=format!("End the silence “{}”", silence.comment)>"End now"</button>
                </ActionForm>
            })}
        </li>
    }
}
