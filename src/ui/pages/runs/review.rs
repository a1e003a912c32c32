//! A finished run's review: findings and what to change (responder+ writes, everyone reads), and
//! the action items created from it. Works as plain forms without JavaScript.

use leptos::prelude::*;

use crate::api::action_items::{CreateActionItem, SetActionItemState};
use crate::api::runs::{ReviewData, SaveRunReview, get_run_review};
use crate::model::action_item::ItemSource;
use crate::model::review::RunReview;
use crate::model::{AppError, Role};
use crate::ui::components::action_items::{ActionItemsTable, NewActionItemForm};
use crate::ui::components::feedback::typed;
use crate::ui::components::form::{FormMessage, field_signal, form_error};
use crate::ui::format;

/// The review section's data and actions, created with the run page (outside its suspense, so
/// the server function runs in the request's context).
#[derive(Clone, Copy)]
pub struct ReviewState {
    save: ServerAction<SaveRunReview>,
    create: ServerAction<CreateActionItem>,
    set_state: ServerAction<SetActionItemState>,
    data: Resource<Result<ReviewData, AppError>>,
}

impl ReviewState {
    /// For the run the page shows.
    pub fn new(number: impl Fn() -> Option<i64> + Send + Sync + 'static) -> Self {
        let save = ServerAction::<SaveRunReview>::new();
        let create = ServerAction::<CreateActionItem>::new();
        let set_state = ServerAction::<SetActionItemState>::new();
        let data = Resource::new(
            move || {
                (
                    number(),
                    save.version().get(),
                    create.version().get(),
                    set_state.version().get(),
                )
            },
            |(number, ..)| async move {
                match number {
                    Some(n) => get_run_review(n).await,
                    None => Err(AppError::NotFound),
                }
            },
        );
        Self {
            save,
            create,
            set_state,
            data,
        }
    }
}

/// The review section of run `number`.
#[component]
pub fn RunReviewSection(number: i64, role: Role, state: ReviewState) -> impl IntoView {
    let ReviewState {
        save,
        create,
        set_state,
        data,
    } = state;
    let can_edit = role.allows(Role::Responder);
    view! {
        <section class="card" id="review" aria-labelledby="review-heading">
            <h2 id="review-heading">"Review"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading the review…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => {
                            let items = d.items.items.clone();
                            let as_of = d.items.as_of;
                            let has_items = !items.is_empty();
                            view! {
                                {match d.review.clone() {
                                    Some(r) => view! { <ReviewText review=r /> }.into_any(),
                                    None => view! {
                                        <p class="alert info" role="note">"Not reviewed yet. A drill that is run but never reviewed teaches nothing: say what it showed and what to change."</p>
                                    }.into_any(),
                                }}
                                {can_edit.then(|| view! { <ReviewForm number save review=d.review.clone() /> })}
                                <h3 id="run-actions-heading">"Action items from this run"</h3>
                                {if has_items {
                                    view! {
                                        <ActionItemsTable items=Signal::derive(move || items.clone()) as_of=Signal::derive(move || as_of)
                                            can_edit set_state show_incident=false />
                                    }.into_any()
                                } else {
                                    view! { <p class="muted">"None yet."</p> }.into_any()
                                }}
                                {can_edit.then(|| view! {
                                    <NewActionItemForm number=ItemSource::Run(number).to_string() people=d.people.clone() create />
                                })}
                            }.into_any()
                        }
                        Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ReviewText(review: RunReview) -> impl IntoView {
    let edited = (review.updated_at != review.reviewed_at)
        .then(|| format!(", last changed {}", format::instant(review.updated_at)));
    view! {
        <p class="muted">
            {format!("Reviewed by {} on {}", review.reviewed_by, format::instant(review.reviewed_at))}
            {edited}
        </p>
        <h3>"Findings"</h3>
        <p class="prose">{review.findings}</p>
        {(!review.changes.is_empty()).then(|| view! {
            <h3>"What to change"</h3>
            <p class="prose">{review.changes.clone()}</p>
        })}
    }
}

#[component]
fn ReviewForm(
    number: i64,
    save: ServerAction<SaveRunReview>,
    review: Option<RunReview>,
) -> impl IntoView {
    let result = save.value();
    let (findings, changes) = review.map_or_else(Default::default, |r| (r.findings, r.changes));
    // What was typed before a refused plain post wins over what is stored.
    let findings = typed::<SaveRunReview>("findings").unwrap_or(findings);
    let changes = typed::<SaveRunReview>("changes").unwrap_or(changes);
    let label = if findings.is_empty() {
        "Save review"
    } else {
        "Update review"
    };
    view! {
        <ActionForm action=save attr:class="review-form">
            <input type="hidden" name="number" value=number />
            <div class="field">
                <label for="review-findings">"Findings (required)"</label>
                <textarea id="review-findings" name="findings" rows="4"
                    placeholder="What the drill showed: what worked, what broke, what surprised you.">{format::raw_text(&findings)}</textarea>
                <p class="field-error" role="alert">{field_signal(result, "findings")}</p>
            </div>
            <div class="field">
                <label for="review-changes">"What to change"</label>
                <textarea id="review-changes" name="changes" rows="3"
                    placeholder="Changes to the system, the runbook or this plan.">{format::raw_text(&changes)}</textarea>
                <p class="field-error" role="alert">{field_signal(result, "changes")}</p>
            </div>
            <FormMessage error=Signal::derive(move || result.with(form_error)) />
            <button type="submit" class="btn primary" disabled=move || save.pending().get()>{label}</button>
        </ActionForm>
    }
}
