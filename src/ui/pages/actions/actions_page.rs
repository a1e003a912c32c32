//! `/actions`: every action item, soonest due first, filtered by owner, state, priority and
//! overdue (kept in the URL); "my items"; the signed-in user's reminders; counts by owner.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::action_items::{SetActionItemState, list_action_items};
use crate::api::incidents::list_responders;
use crate::api::reminders::{MarkRemindersRead, my_reminders};
use crate::api::runs::runs_to_review;
use crate::model::Role;
use crate::model::action_item::{ActionItemView, ActionState, LIST_CAP, Priority, is_overdue, utc};
use crate::model::reminder::{ReminderReason, ReminderView};
use crate::ui::components::action_items::ActionItemsTable;
use crate::ui::components::form::{FilterForm, FormMessage, form_error};
use crate::ui::components::shell::CurrentUser;
use crate::ui::format;

/// The action items page.
#[component]
pub fn ActionsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |key: &str| query.read().get(key).unwrap_or_default();
    let flag = move |key: &str| matches!(param(key).as_str(), "1" | "true" | "on");
    let set_state = ServerAction::<SetActionItemState>::new();
    let list = Resource::new(
        move || {
            (
                param("owner"),
                param("state"),
                param("priority"),
                flag("overdue"),
                flag("mine"),
                set_state.version().get(),
            )
        },
        |(owner, state, priority, overdue, mine, _)| {
            list_action_items(owner, state, priority, overdue, mine)
        },
    );
    let people = Resource::new(|| (), |_| list_responders());
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let mine = move || flag("mine");

    view! {
        <Title text="Action items" />
        <div class="page-header">
            <h1>"Action items"</h1>
            <p class="lede">"Corrective and preventive actions from every incident, soonest due first. Overdue is worked out from the due date (UTC calendar)."</p>
        </div>
        <Reminders />
        <RunsToReview />
        <nav class="status-tabs" aria-label="Whose items">
            <a href="/actions?mine=1" aria-current=move || mine().then_some("page")>"My items"</a>
            <a href="/actions" aria-current=move || (!mine()).then_some("page")>"Everyone's"</a>
        </nav>
        <FilterForm action="/actions" label="Filter action items">
            {move || mine().then(|| view! { <input type="hidden" name="mine" value="1" /> })}
            <div class="field">
                <label for="a-owner">"Owner"</label>
                <select id="a-owner" name="owner" disabled=mine>
                    <option value="" selected=move || param("owner").is_empty()>"Anyone"</option>
                    <Suspense>
                        {move || Suspend::new(async move {
                            people.await.unwrap_or_default().into_iter().map(|p| {
                                let (value, text) = (p.clone(), p.clone());
                                view! { <option value=p selected=move || param("owner") == value>{text}</option> }
                            }).collect_view()
                        })}
                    </Suspense>
                </select>
            </div>
            <div class="field">
                <label for="a-state">"State"</label>
                <select id="a-state" name="state">
                    <option value="" selected=move || param("state").is_empty()>"Any"</option>
                    <option value="open" selected=move || param("state") == "open">"Open (not done)"</option>
                    {ActionState::ALL.iter().map(|s| view! {
                        <option value=s.as_str() selected=move || param("state") == s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="a-priority">"Priority"</label>
                <select id="a-priority" name="priority">
                    <option value="" selected=move || param("priority").is_empty()>"Any"</option>
                    {Priority::ALL.iter().map(|p| view! {
                        <option value=p.as_str() selected=move || param("priority") == p.as_str()>{p.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field check">
                <input id="a-overdue" name="overdue" type="checkbox" value="1" checked=move || flag("overdue") />
                <label for="a-overdue">"Overdue only"</label>
            </div>
            <div class="field actions">
                <button type="submit" class="btn">"Apply"</button>
            </div>
        </FilterForm>
        <Transition fallback=|| view! { <p class="muted">"Loading action items…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = matches!(user.await, Ok(Some(ref u)) if u.role.allows(Role::Responder));
                match list.await {
                    Ok(list) if list.items.is_empty() => view! {
                        <div class="card empty-state"><p>"No action items match."</p></div>
                    }.into_any(),
                    Ok(list) => {
                        let owners = by_owner(&list.items, list.as_of);
                        let as_of = list.as_of;
                        let count = list.items.len();
                        view! {
                            <section class="card flush" aria-label="Action items">
                                <p class="list-count muted">
                                    {if count >= LIST_CAP {
                                        format!("The first {LIST_CAP} items, soonest due first: narrow the filters to see the rest.")
                                    } else {
                                        format!("{count} item{}", if count == 1 { "" } else { "s" })
                                    }}
                                </p>
                                <ActionItemsTable
                                    items=Signal::derive(move || list.items.clone())
                                    as_of=Signal::derive(move || as_of)
                                    can_edit
                                    set_state
                                />
                            </section>
                            <section class="card" aria-labelledby="owners-title">
                                <h2 id="owners-title">"By owner"</h2>
                                <table class="table compact">
                                    <thead><tr><th scope="col">"Owner"</th><th scope="col">"Open"</th><th scope="col">"Overdue"</th></tr></thead>
                                    <tbody>
                                        {owners.into_iter().map(|(owner, (open, overdue))| view! {
                                            <tr>
                                                <th scope="row"><a href=format!("/actions?owner={owner}&state=open")>{owner.clone()}</a></th>
                                                <td>{open}</td>
                                                <td class=if overdue == 0 { "" } else { "warn" }>{overdue}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Open and overdue counts per owner in the listed items.
fn by_owner(
    items: &[ActionItemView],
    as_of: chrono::DateTime<chrono::Utc>,
) -> BTreeMap<String, (usize, usize)> {
    let utc = utc();
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for item in items.iter().filter(|i| i.state != ActionState::Done) {
        let entry = counts.entry(item.owner.clone()).or_default();
        entry.0 += 1;
        if is_overdue(item.due_on, item.state, as_of, utc) {
            entry.1 += 1;
        }
    }
    counts
}

/// The signed-in user's unread reminders, with "mark as read".
#[component]
fn RunsToReview() -> impl IntoView {
    let runs = Resource::new(|| (), |_| runs_to_review());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let list = runs.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <section class="card reminders" aria-labelledby="to-review-title">
                        <h2 id="to-review-title">{format!("Drill runs of your plans to review ({})", list.len())}</h2>
                        <ul class="reminder-list">
                            {list.into_iter().map(|r| view! {
                                <li>
                                    <a href=format!("/runs/{}#review", r.number)>{format!("Run #{}", r.number)}</a>
                                    {format!(" · {} · {}", r.plan_name, r.status.label().to_lowercase())}
                                    {r.score.map(|s| format!(" · score {s}"))}
                                    {r.finished_at.map(|t| view! { <span class="muted">{format!(" (ended {})", format::instant(t))}</span> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Suspense>
    }
}

#[component]
fn Reminders() -> impl IntoView {
    let read = ServerAction::<MarkRemindersRead>::new();
    let reminders = Resource::new(move || read.version().get(), |_| my_reminders());
    let result = read.value();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let list: Vec<ReminderView> = reminders.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <section class="card reminders" aria-labelledby="reminders-title">
                        <div class="section-head">
                            <h2 id="reminders-title">{format!("Reminders for you ({})", list.len())}</h2>
                            <ActionForm action=read>
                                <button type="submit" class="btn small">"Mark all as read"</button>
                            </ActionForm>
                        </div>
                        <ul class="reminder-list">
                            {list.into_iter().map(|r| {
                                let class = match r.reason {
                                    ReminderReason::Overdue => "badge overdue",
                                    ReminderReason::DueSoon => "badge due-soon",
                                };
                                view! {
                                    <li>
                                        <span class=class>{r.reason.label()}</span>
                                        " "<strong>{r.item.title.clone()}</strong>
                                        {format!(" — due {}", r.item.due_on)}
                                        {r.item.incident.map(|n| view! { " · " <a href=format!("/incidents/{n}/postmortem")>{n.to_string()}</a> })}
                                        <span class="muted">{format!(" (reminded {}, now {})", r.remind_on, r.item.state.label().to_lowercase())}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <FormMessage error=Signal::derive(move || result.with(form_error)) />
                    </section>
                })
            })}
        </Suspense>
    }
}
