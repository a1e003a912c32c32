//! `/incidents/INC-n/postmortem`: start the postmortem, write it (responders and up, until it is
//! published), move it through review (commanders and up), add its corrective and preventive
//! actions, download it as Markdown. Viewers and published postmortems get the report.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::action_items::{CreateActionItem, SetActionItemState};
use crate::api::postmortems::{
    ChangePostmortemState, OpenPostmortem, PostmortemPage, get_postmortem,
};
use crate::model::incident::IncidentStatus;
use crate::model::postmortem::{Postmortem, PostmortemState};
use crate::model::postmortem_form::differences;
use crate::model::{AppError, Role};
use crate::ui::components::action_items::{ActionItemsTable, NewActionItemForm};
use crate::ui::components::form::{FormMessage, form_error};
use crate::ui::components::shell::CurrentUser;
use crate::ui::pages::incidents::NoSuchIncident;
use crate::ui::pages::postmortems::editor::{PostmortemEditor, SaveStatus};
use crate::ui::pages::postmortems::report::PostmortemReport;

/// The postmortem page.
#[component]
pub fn PostmortemPage() -> impl IntoView {
    let params = use_params_map();
    let number = move || params.read().get("number").unwrap_or_default();
    let page = Resource::new(number, get_postmortem);
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let open = ServerAction::<OpenPostmortem>::new();
    let review = ServerAction::<ChangePostmortemState>::new();
    // Starting it or moving its review reloads the page (nothing unsaved can be on it then).
    Effect::new(move |previous: Option<(usize, usize)>| {
        let current = (open.version().get(), review.version().get());
        let succeeded = matches!(open.value().get_untracked(), Some(Ok(_)))
            || matches!(review.value().get_untracked(), Some(Ok(_)));
        if previous.is_some_and(|p| p != current) && succeeded {
            page.refetch();
        }
        current
    });

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the postmortem…"</p> }>
            {move || Suspend::new(async move {
                let role = user.await.ok().flatten().map(|u| u.role).unwrap_or(Role::Viewer);
                match page.await {
                    Ok(data) => view! { <PostmortemView data role open review /> }.into_any(),
                    Err(AppError::NotFound) => view! { <NoSuchIncident number=number() /> }.into_any(),
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PostmortemView(
    data: PostmortemPage,
    role: Role,
    open: ServerAction<OpenPostmortem>,
    review: ServerAction<ChangePostmortemState>,
) -> impl IntoView {
    let number = data.incident.summary.number.to_string();
    let title = format!("Postmortem {number} {}", data.incident.summary.title);
    let header = view! {
        <Title text=title />
        <header class="page-header with-actions pm-header">
            <div>
                <p class="number"><a href=format!("/incidents/{number}")>{format!("{number} · back to the incident")}</a></p>
                <h1 id="pm-title">{format!("Postmortem: {}", data.incident.summary.title)}</h1>
            </div>
            {data.postmortem.as_ref().map(|pm| view! {
                <div class="button-row no-print">
                    <span class=format!("badge pm-state {}", pm.state.as_str())>{pm.state.label()}</span>
                    <a class="btn small" href=format!("/incidents/{number}/postmortem.md") download="" rel="external">"Download Markdown"</a>
                    <a class="btn small" href=format!("/incidents/{number}/postmortem/report")>"Print view"</a>
                </div>
            })}
        </header>
    };
    let body = match data.postmortem.clone() {
        None => {
            let result = open.value();
            view! {
                <section class="card empty-state">
                    <p>"No postmortem has been started for this incident."</p>
                    {role.allows(Role::Responder).then(|| view! {
                        <ActionForm action=open>
                            <input type="hidden" name="number" value=number.clone() />
                            <button type="submit" class="btn primary">"Start the postmortem"</button>
                        </ActionForm>
                        <FormMessage error=Signal::derive(move || result.with(form_error)) />
                    })}
                </section>
            }
            .into_any()
        }
        Some(pm) => view! { <Written data pm role review /> }.into_any(),
    };
    view! { <article class="postmortem">{header}{body}</article> }
}

#[component]
fn Written(
    data: PostmortemPage,
    pm: Postmortem,
    role: Role,
    review: ServerAction<ChangePostmortemState>,
) -> impl IntoView {
    let number = data.incident.summary.number.to_string();
    let base = RwSignal::new(pm.version);
    let status = RwSignal::new(SaveStatus::Saved(pm.version));
    let editable = role.allows(Role::Responder) && pm.state != PostmortemState::Published;
    let query = use_query_map();
    // Back from a plain-form save: say so, unless the save was refused (the editor shows why).
    let refused = data.unsaved.is_some();
    let saved_plain = move || !refused && query.read().get("saved").is_some();
    let actions = RwSignal::new(data.actions.clone());
    let as_of = data.incident.as_of;
    let create = ServerAction::<CreateActionItem>::new();
    let set_state = ServerAction::<SetActionItemState>::new();
    // After an action item is added or moved, reload only the list (the form keeps its text).
    Effect::new({
        let number = number.clone();
        move |previous: Option<(usize, usize)>| {
            let current = (create.version().get(), set_state.version().get());
            if previous.is_some_and(|p| p != current) {
                let number = number.clone();
                leptos::task::spawn_local(async move {
                    if let Ok(fresh) = get_postmortem(number).await {
                        actions.set(fresh.actions);
                    }
                });
            }
            current
        }
    });

    let content = if editable {
        view! {
            {move || saved_plain().then(|| view! { <p class="alert success" role="status">"Saved."</p> })}
            <PostmortemEditor data=data.clone() postmortem=pm.clone() base status />
        }
        .into_any()
    } else {
        view! {
            <section class="card" aria-label="Report">
                <PostmortemReport data=data.clone() postmortem=pm.clone() with_actions=false />
            </section>
        }
        .into_any()
    };
    // Text that could not be saved because the postmortem was published meanwhile: still shown,
    // so its author can carry it elsewhere (a note, a follow-up).
    let stranded_number = number.clone();
    let stranded = data
        .unsaved
        .clone()
        .filter(|_| pm.state == PostmortemState::Published)
        .map(|draft| {
            let sections = differences(&draft.doc, &pm.doc);
            view! {
                <section class="card conflict" role="alert" aria-labelledby="stranded-title">
                    <h2 id="stranded-title">"Your changes were not saved"</h2>
                    <p>{draft.reason.clone()}</p>
                    {sections.into_iter().map(|(section, _, yours)| view! {
                        <h3>{section}</h3>
                        <p class="prose">{yours}</p>
                    }).collect_view()}
                    <form method="post" action=format!("/incidents/{stranded_number}/postmortem/save")>
                        <input type="hidden" name="intent" value="discard" />
                        <button type="submit" class="btn">"Dismiss"</button>
                    </form>
                </section>
            }
        });
    let people = data.people.clone();
    view! {
        {stranded}
        {role.allows(Role::Commander).then(|| view! { <ReviewPanel number=number.clone() state=pm.state base status review /> })}
        {(pm.state == PostmortemState::Published).then(|| {
            let reviewed = data.incident.summary.status == IncidentStatus::Reviewed;
            view! {
                <p class="alert success" role="status">
                    "Published. "
                    {if reviewed {
                        view! { <a href=format!("/incidents/{number}")>"The incident is reviewed."</a> }.into_any()
                    } else {
                        view! { <a href=format!("/incidents/{number}")>"The incident can now be marked reviewed."</a> }.into_any()
                    }}
                </p>
            }
        })}
        {content}
        <section class="card pm-section" aria-labelledby="pm-actions-title">
            <h2 id="pm-actions-title">"Corrective and preventive actions"</h2>
            {move || actions.with(Vec::is_empty).then(|| view! { <p class="muted">"No action items yet."</p> })}
            {move || (!actions.with(Vec::is_empty)).then(|| view! {
                <ActionItemsTable
                    items=Signal::derive(move || actions.get())
                    as_of=Signal::derive(move || as_of)
                    can_edit=role.allows(Role::Responder)
                    set_state
                    show_incident=false
                />
            })}
            {role.allows(Role::Responder).then(|| view! {
                <h3>"Add an action item"</h3>
                <NewActionItemForm number=number.clone() people=people.clone() create />
            })}
        </section>
    }
}

#[component]
fn ReviewPanel(
    number: String,
    state: PostmortemState,
    base: RwSignal<i64>,
    status: RwSignal<SaveStatus>,
    review: ServerAction<ChangePostmortemState>,
) -> impl IntoView {
    let result = review.value();
    let next = state.next();
    let label = |to: PostmortemState| match to {
        PostmortemState::InReview => "Send for review",
        PostmortemState::Published => "Publish",
        PostmortemState::Draft => "Back to draft",
    };
    (!next.is_empty()).then(|| {
        view! {
            <section class="card review-panel no-print" aria-labelledby="review-title">
                <h2 id="review-title">"Review"</h2>
                <p class="muted">
                    {match state {
                        PostmortemState::Draft => "This postmortem is a draft.",
                        PostmortemState::InReview => "This postmortem is in review.",
                        PostmortemState::Published => "This postmortem is published.",
                    }}
                </p>
                <ActionForm action=review>
                    <input type="hidden" name="number" value=number />
                    <input type="hidden" name="version" value=move || base.get().to_string() />
                    <div class="button-row">
                        {next.iter().map(|to| view! {
                            <button type="submit" name="to" value=to.as_str()
                                class=if *to == PostmortemState::Draft { "btn" } else { "btn primary" }
                                disabled=move || status.with(SaveStatus::is_dirty)>
                                {label(*to)}
                            </button>
                        }).collect_view()}
                    </div>
                    {move || status.with(SaveStatus::is_dirty).then(|| view! {
                        <p class="muted small">"Save your changes before moving the review on."</p>
                    })}
                    <FormMessage error=Signal::derive(move || result.with(form_error)) />
                </ActionForm>
            </section>
        }
    })
}
