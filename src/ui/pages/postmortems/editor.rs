//! The postmortem form. One `<form>` that works as a plain post without JavaScript (5-whys
//! buttons are submit buttons the server applies) and, hydrated, saves by itself a moment after
//! typing stops. Every save carries the version it was based on; when someone else saved in
//! between, the author's text stays in the form, both versions are shown side by side, and
//! nothing is saved until the author chooses.

use leptos::prelude::*;

use crate::api::postmortems::{
    PostmortemPage, discard_postmortem_draft, get_postmortem, save_postmortem,
};
use crate::model::AppError;
use crate::model::postmortem::{Postmortem, PostmortemDoc};
use crate::model::postmortem_form::{PostmortemForm, WhyOp, differences};
use crate::ui::format;
use crate::ui::pages::postmortems::report::ImpactFigures;

/// How long typing must pause before the form saves itself.
const AUTOSAVE_MS: u64 = 1200;

/// Where the author's text stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveStatus {
    /// Everything typed is stored, at this version.
    Saved(i64),
    /// Typed, waiting for the pause.
    Unsaved,
    /// On its way.
    Saving,
    /// Refused or unreachable; the text is still in the form.
    Failed(String),
    /// Someone else saved first: the author must choose.
    Conflict,
}

impl SaveStatus {
    /// Whether the form holds text the server does not have.
    pub fn is_dirty(&self) -> bool {
        !matches!(self, SaveStatus::Saved(_))
    }

    fn text(&self) -> String {
        match self {
            SaveStatus::Saved(v) => format!("Saved (version {v})"),
            SaveStatus::Unsaved => "Unsaved changes…".to_owned(),
            SaveStatus::Saving => "Saving…".to_owned(),
            SaveStatus::Failed(m) => m.clone(),
            SaveStatus::Conflict => "Not saved: someone else saved first (see above)".to_owned(),
        }
    }
}

/// The stored version the author's text collided with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Theirs {
    doc: PostmortemDoc,
    version: i64,
    reason: String,
}

/// A text section of the form.
struct Section {
    name: &'static str,
    label: &'static str,
    help: &'static str,
    rows: u32,
    get: fn(&PostmortemForm) -> &String,
    get_mut: fn(&mut PostmortemForm) -> &mut String,
}

const ONE_PER_LINE: &str = "One per line.";

/// The editor. `base` is the version the form's text is based on and `status` says whether it is
/// stored; the page shares both with the review buttons.
#[component]
pub fn PostmortemEditor(
    data: PostmortemPage,
    postmortem: Postmortem,
    base: RwSignal<i64>,
    status: RwSignal<SaveStatus>,
) -> impl IntoView {
    let number = data.incident.summary.number.to_string();
    let action = format!("/incidents/{number}/postmortem/save");
    let number = StoredValue::new(number);
    let (initial, theirs) = match &data.unsaved {
        Some(draft) => (
            PostmortemForm::from_doc(&draft.doc),
            Some(Theirs {
                doc: postmortem.doc.clone(),
                version: postmortem.version,
                reason: draft.reason.clone(),
            }),
        ),
        None => (PostmortemForm::from_doc(&postmortem.doc), None),
    };
    let form = RwSignal::new(initial);
    let theirs = RwSignal::new(theirs);
    if theirs.with_untracked(Option::is_some) {
        status.set(SaveStatus::Conflict);
    }
    // Bumped to render the inputs afresh from `form` (after a 5-whys edit or taking their version).
    let layout = RwSignal::new(0u64);
    let edits = RwSignal::new(0u64);
    let errors = RwSignal::new(None::<AppError>);
    let request = RwSignal::new(0u64);
    let saving = StoredValue::new(false);
    let again = StoredValue::new(false);

    let schedule = move |delay: u64| {
        let at = edits.get_untracked();
        set_timeout(
            move || {
                if edits.get_untracked() == at {
                    request.update(|n| *n += 1);
                }
            },
            std::time::Duration::from_millis(delay),
        );
    };
    let touched = move || {
        edits.update(|n| *n += 1);
        if theirs.with_untracked(Option::is_none) {
            status.set(SaveStatus::Unsaved);
            schedule(AUTOSAVE_MS);
        }
    };
    let save_now = move || {
        if saving.get_value() {
            again.set_value(true);
            return;
        }
        let doc = match form.with_untracked(PostmortemForm::to_doc) {
            Ok(doc) => doc,
            Err(message) => {
                status.set(SaveStatus::Failed(message));
                return;
            }
        };
        let at = edits.get_untracked();
        saving.set_value(true);
        status.set(SaveStatus::Saving);
        leptos::task::spawn_local(async move {
            let number = number.get_value();
            let result = save_postmortem(number.clone(), doc, base.get_untracked()).await;
            saving.set_value(false);
            match result {
                Ok(saved) => {
                    base.set(saved.version);
                    errors.set(None);
                    if edits.get_untracked() == at {
                        status.set(SaveStatus::Saved(saved.version));
                    } else {
                        status.set(SaveStatus::Unsaved);
                        schedule(AUTOSAVE_MS);
                    }
                }
                Err(AppError::Conflict(reason)) => {
                    if let Ok(PostmortemPage {
                        postmortem: Some(current),
                        ..
                    }) = get_postmortem(number).await
                    {
                        base.set(current.version);
                        theirs.set(Some(Theirs {
                            doc: current.doc,
                            version: current.version,
                            reason,
                        }));
                    }
                    status.set(SaveStatus::Conflict);
                }
                Err(e @ AppError::Validation(_)) => {
                    errors.set(Some(e));
                    status.set(SaveStatus::Failed(
                        "Not saved: a section needs attention (see its message). Your text is kept."
                            .to_owned(),
                    ));
                }
                Err(e) => status.set(SaveStatus::Failed(format!(
                    "Not saved ({e}). Your text is still here: press Save to try again."
                ))),
            }
            if again.get_value() {
                again.set_value(false);
                request.update(|n| *n += 1);
            }
        });
    };
    Effect::new(move |previous: Option<u64>| {
        let current = request.get();
        if previous.is_some() && theirs.with_untracked(Option::is_none) {
            save_now();
        }
        current
    });
    // Leaving with unsaved text asks first.
    let leave = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if status.with_untracked(SaveStatus::is_dirty) {
            ev.prevent_default();
            ev.set_return_value("unsaved");
        }
    });
    on_cleanup(move || leave.remove());

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Saving explicitly after a conflict is the author's choice: theirs has been shown.
        theirs.set(None);
        save_now();
    };
    let use_theirs = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(stored) = theirs.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            if discard_postmortem_draft(number.get_value()).await.is_ok() {
                form.set(PostmortemForm::from_doc(&stored.doc));
                base.set(stored.version);
                theirs.set(None);
                edits.update(|n| *n += 1);
                layout.update(|n| *n += 1);
                status.set(SaveStatus::Saved(stored.version));
            }
        });
    };
    let why_op = move |ev: leptos::ev::MouseEvent, op: WhyOp| {
        ev.prevent_default();
        let mut refused = None;
        form.update(|f| refused = op.apply(&mut f.whys).err());
        if let Some(message) = refused {
            errors.set(Some(AppError::field("whys", message)));
            return;
        }
        layout.update(|n| *n += 1);
        touched();
        let len = form.with_untracked(|f| f.whys.len());
        let focus = match op {
            WhyOp::Add => format!("why_{}", len.saturating_sub(1)),
            WhyOp::Remove(i) => format!("why_{}", i.min(len.saturating_sub(1))),
            WhyOp::Up(i) => format!("why-up-{}", i.saturating_sub(1)),
            WhyOp::Down(i) => format!("why-down-{}", (i + 1).min(len.saturating_sub(1))),
        };
        request_animation_frame(move || {
            use leptos::wasm_bindgen::JsCast;
            if let Some(el) = document()
                .get_element_by_id(&focus)
                .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
        });
    };
    let field_error = move |name: &'static str| {
        move || {
            errors.with(|e| {
                e.as_ref()
                    .and_then(|e| e.field_message(name).map(str::to_owned))
            })
        }
    };

    let text_section = move |s: Section| {
        let id = format!("pm-{}", s.name);
        let (get, get_mut) = (s.get, s.get_mut);
        view! {
            <div class="field">
                <label for=id.clone()>{s.label}</label>
                {(!s.help.is_empty()).then(|| view! { <p class="help">{s.help}</p> })}
                <textarea
                    id=id
                    name=s.name
                    rows=s.rows
                    on:input:target=move |ev| {
                        let value = ev.target().value();
                        form.update(|f| *get_mut(f) = value);
                        touched();
                    }
                >
                    {form.with_untracked(|f| format::raw_text(get(f)))}
                </textarea>
                <p class="field-error" role="alert">{field_error(s.name)}</p>
            </div>
        }
    };

    let timeline = data.incident.timeline.clone();
    let data_for_figures = data.clone();
    let body = move |_generation: u64| {
        let whys = form.with_untracked(|f| f.whys.clone());
        let count = whys.len();
        view! {
            <section class="card pm-section" aria-labelledby="pm-summary-title">
                <h2 id="pm-summary-title">"Summary"</h2>
                {text_section(Section { name: "summary", label: "What happened", help: "A paragraph a newcomer can follow.", rows: 4, get: |f| &f.summary, get_mut: |f| &mut f.summary })}
            </section>
            <section class="card pm-section" aria-labelledby="pm-impact-title">
                <h2 id="pm-impact-title">"Impact"</h2>
                <ImpactFigures data=data_for_figures.clone() />
                {text_section(Section { name: "impact", label: "Who and what was affected", help: "Users, regions, requests, money: the durations above come from the incident.", rows: 3, get: |f| &f.impact, get_mut: |f| &mut f.impact })}
            </section>
            <section class="card pm-section" aria-labelledby="pm-moments-title">
                <h2 id="pm-moments-title">"Key moments"</h2>
                <p class="help">"Pick the timeline entries the report shows. With none picked it shows the whole timeline."</p>
                <ul class="moments">
                    {timeline.iter().map(|e| {
                        let id = e.id;
                        let input_id = format!("moment-{id}");
                        view! {
                            <li>
                                <input
                                    type="checkbox"
                                    id=input_id.clone()
                                    name="key_moments"
                                    value=id.to_string()
                                    checked=form.with_untracked(|f| f.is_key_moment(id))
                                    on:change:target=move |ev| {
                                        let picked = ev.target().checked();
                                        form.update(|f| f.set_key_moment(id, picked));
                                        touched();
                                    }
                                />
                                <label for=input_id>
                                    <time datetime=e.occurred_at.to_rfc3339()>{format::instant(e.occurred_at)}</time>
                                    " "{e.data.headline()}
                                    {e.data.text().filter(|t| !t.is_empty()).map(|t| view! { <span class="muted">{format!(" — {t}")}</span> })}
                                </label>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
            <section class="card pm-section" aria-labelledby="pm-causes-title">
                <h2 id="pm-causes-title">"Causes"</h2>
                {text_section(Section { name: "root_causes", label: "Root causes", help: ONE_PER_LINE, rows: 3, get: |f| &f.root_causes, get_mut: |f| &mut f.root_causes })}
                {text_section(Section { name: "contributing_factors", label: "Contributing factors", help: ONE_PER_LINE, rows: 3, get: |f| &f.contributing_factors, get_mut: |f| &mut f.contributing_factors })}
            </section>
            <section class="card pm-section" id="whys" aria-labelledby="pm-whys-title">
                <h2 id="pm-whys-title">"5 whys"</h2>
                <p class="help">"Each answer is the next question: keep asking why until you reach something you can change."</p>
                <ol class="whys">
                    {whys.into_iter().enumerate().map(|(i, w)| {
                        let n = i + 1;
                        let (why_id, because_id) = (format!("why_{i}"), format!("because_{i}"));
                        view! {
                            <li class="why-row">
                                <div class="field">
                                    <label for=why_id.clone()>{format!("Why {n}")}</label>
                                    <textarea id=why_id.clone() name=why_id rows="2"
                                        on:input:target=move |ev| {
                                            let value = ev.target().value();
                                            form.update(|f| if let Some(w) = f.whys.get_mut(i) { w.why = value });
                                            touched();
                                        }
                                    >{format::raw_text(&w.why)}</textarea>
                                </div>
                                <div class="field">
                                    <label for=because_id.clone()>{format!("Because {n}")}</label>
                                    <textarea id=because_id.clone() name=because_id rows="2"
                                        on:input:target=move |ev| {
                                            let value = ev.target().value();
                                            form.update(|f| if let Some(w) = f.whys.get_mut(i) { w.because = value });
                                            touched();
                                        }
                                    >{format::raw_text(&w.because)}</textarea>
                                </div>
                                <div class="row-tools">
                                    <button type="submit" class="btn small ghost" id=format!("why-up-{i}") name="op" value=WhyOp::Up(i).value()
                                        disabled=i == 0 aria-label=format!("Move why {n} up")
                                        on:click=move |ev| why_op(ev, WhyOp::Up(i))>"Move up"</button>
                                    <button type="submit" class="btn small ghost" id=format!("why-down-{i}") name="op" value=WhyOp::Down(i).value()
                                        disabled=i + 1 == count aria-label=format!("Move why {n} down")
                                        on:click=move |ev| why_op(ev, WhyOp::Down(i))>"Move down"</button>
                                    <button type="submit" class="btn small ghost danger-text" name="op" value=WhyOp::Remove(i).value()
                                        aria-label=format!("Remove why {n}")
                                        on:click=move |ev| why_op(ev, WhyOp::Remove(i))>"Remove"</button>
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <p class="field-error" role="alert">{field_error("whys")}</p>
                <button type="submit" class="btn small" name="op" value=WhyOp::Add.value()
                    on:click=move |ev| why_op(ev, WhyOp::Add)>"Add a why"</button>
            </section>
            <section class="card pm-section" aria-labelledby="pm-lessons-title">
                <h2 id="pm-lessons-title">"Lessons"</h2>
                <div class="lessons">
                    {text_section(Section { name: "went_well", label: "What went well", help: ONE_PER_LINE, rows: 4, get: |f| &f.went_well, get_mut: |f| &mut f.went_well })}
                    {text_section(Section { name: "went_wrong", label: "What went wrong", help: ONE_PER_LINE, rows: 4, get: |f| &f.went_wrong, get_mut: |f| &mut f.went_wrong })}
                    {text_section(Section { name: "got_lucky", label: "Where we got lucky", help: ONE_PER_LINE, rows: 4, get: |f| &f.got_lucky, get_mut: |f| &mut f.got_lucky })}
                </div>
            </section>
        }
    };

    view! {
        {move || theirs.get().map(|t| {
            let page = format!("/incidents/{}/postmortem/save", number.get_value());
            view! {
                <section class="card conflict" role="alert" aria-labelledby="conflict-title">
                    <h2 id="conflict-title">"Your changes are not saved"</h2>
                    <p>{t.reason.clone()}</p>
                    <p>"Your text is still in the form below. The sections that differ are shown side by side: save yours (it replaces the stored version) or use the stored version."</p>
                    <div class="compare">
                        {move || {
                            let mine = form.with(PostmortemForm::to_doc).unwrap_or_default();
                            differences(&mine, &t.doc).into_iter().map(|(section, stored, yours)| view! {
                                <div class="compare-row">
                                    <h3>{section}</h3>
                                    <div class="compare-cols">
                                        <div><p class="compare-label">{format!("Stored (version {})", t.version)}</p><p class="prose">{stored}</p></div>
                                        <div><p class="compare-label">"Yours (not saved)"</p><p class="prose">{yours}</p></div>
                                    </div>
                                </div>
                            }).collect_view()
                        }}
                    </div>
                    <div class="button-row">
                        <button type="submit" form="postmortem-form" class="btn primary">"Save my version"</button>
                        <form method="post" action=page on:submit=use_theirs>
                            <input type="hidden" name="intent" value="discard" />
                            <button type="submit" class="btn">"Use the stored version"</button>
                        </form>
                    </div>
                </section>
            }
        })}
        <form id="postmortem-form" class="postmortem-form" method="post" action=action on:submit=on_submit>
            <input type="hidden" name="version" value=move || base.get().to_string() />
            // Keyed by `layout`: an edit of the chain renders fresh inputs, so no textarea keeps
            // the text a user typed into it before the rows moved.
            <For each=move || std::iter::once(layout.get()) key=|generation| *generation children=body />
            <div class="save-bar">
                <button type="submit" class="btn primary">"Save"</button>
                <p class="save-status" role="status" aria-live="polite"
                    class:failed=move || matches!(status.get(), SaveStatus::Failed(_) | SaveStatus::Conflict)>
                    {move || status.get().text()}
                </p>
            </div>
        </form>
    }
}
