//! Action items as a table (with their state change beside each row) and the form that creates
//! one on an incident: shared by the action items page and the postmortem.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::api::action_items::{CreateActionItem, SetActionItemState};
use crate::model::action_item::{
    ActionItemView, ActionKind, ActionState, Priority, is_due_within, is_overdue, utc,
};
use crate::ui::components::feedback::typed;
use crate::ui::components::form::{FormMessage, clear_on_success, field_signal, form_error};
use crate::ui::components::shell::CurrentUser;

/// Overdue / due soon, judged on the UTC calendar at `as_of` (users carry no time zone yet).
fn due_badge(item: &ActionItemView, as_of: DateTime<Utc>) -> Option<(&'static str, &'static str)> {
    let utc = utc();
    if is_overdue(item.due_on, item.state, as_of, utc) {
        Some(("badge overdue", "Overdue"))
    } else if is_due_within(item.due_on, item.state, as_of, utc, 2) {
        Some(("badge due-soon", "Due soon"))
    } else {
        None
    }
}

/// The items, soonest due first; with `can_edit`, each row has a state selector.
#[component]
pub fn ActionItemsTable(
    /// The items to show.
    items: Signal<Vec<ActionItemView>>,
    /// When the list was read (for overdue).
    as_of: Signal<DateTime<Utc>>,
    /// Whether the caller may change states (responder+).
    can_edit: bool,
    /// The state change, shared so the page can reload after it.
    set_state: ServerAction<SetActionItemState>,
    /// Whether to show the incident column.
    #[prop(default = true)]
    show_incident: bool,
) -> impl IntoView {
    let result = set_state.value();
    view! {
        <div class="table-wrap">
            <table class="table actions">
                <thead>
                    <tr>
                        <th scope="col">"Action"</th>
                        {show_incident.then(|| view! { <th scope="col">"From"</th> })}
                        <th scope="col">"Owner"</th>
                        <th scope="col">"Due"</th>
                        <th scope="col">"Priority"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"State"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let now = as_of.get();
                        items.get().into_iter().map(|item| {
                            let badge = due_badge(&item, now);
                            let source = match (item.incident, item.run) {
                                (Some(n), _) => Some((format!("/incidents/{n}"), n.to_string())),
                                (None, Some(n)) => Some((format!("/runs/{n}"), format!("Run #{n}"))),
                                (None, None) => None,
                            };
                            let label = format!("State of “{}”", item.title);
                            let select_id = format!("state-{}", item.id);
                            view! {
                                <tr class:done=item.state == ActionState::Done>
                                    <th scope="row">{item.title.clone()}</th>
                                    {show_incident.then(|| view! {
                                        <td class="nowrap">{source.clone().map(|(href, text)| view! { <a href=href>{text}</a> })}</td>
                                    })}
                                    <td>{item.owner.clone()}</td>
                                    <td class="nowrap">
                                        <time datetime=item.due_on.to_string()>{item.due_on.to_string()}</time>
                                        {badge.map(|(class, text)| view! { " " <span class=class>{text}</span> })}
                                    </td>
                                    <td><span class=format!("badge priority {}", item.priority.as_str())>{item.priority.label()}</span></td>
                                    <td>{item.kind.label()}</td>
                                    <td>
                                        {if can_edit {
                                            view! {
                                                <ActionForm action=set_state attr:class="row-form state-form">
                                                    <input type="hidden" name="id" value=item.id.to_string() />
                                                    <label class="visually-hidden" for=select_id.clone()>{label}</label>
                                                    <select id=select_id name="state">
                                                        {ActionState::ALL.iter().map(|s| view! {
                                                            <option value=s.as_str() selected=*s == item.state>{s.label()}</option>
                                                        }).collect_view()}
                                                    </select>
                                                    <button type="submit" class="btn small">"Update"</button>
                                                </ActionForm>
                                            }.into_any()
                                        } else {
                                            view! { <span>{item.state.label()}</span> }.into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
        </div>
        <FormMessage error=Signal::derive(move || result.with(form_error)) />
    }
}

/// Creates an action item from `number`: an incident (`INC-7`, linked to its postmortem too) or
/// a drill run (`RUN-12`).
#[component]
pub fn NewActionItemForm(
    /// Where the item comes from: `INC-n` or `RUN-n`.
    number: String,
    /// Who may own it.
    people: Vec<String>,
    /// The action, shared so the page can reload after it.
    create: ServerAction<CreateActionItem>,
) -> impl IntoView {
    let result = create.value();
    let form = NodeRef::<leptos::html::Form>::new();
    clear_on_success(result, form);
    let typed_value = |name: &str| typed::<CreateActionItem>(name);
    let select = move |name: &'static str,
                       label: &'static str,
                       options: Vec<(&'static str, String)>,
                       default: &'static str| {
        let id = format!("new-action-{name}");
        let chosen = typed_value(name).unwrap_or_else(|| default.to_owned());
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <select id=id name=name>
                    {options.into_iter().map(|(value, text)| {
                        let selected = value == chosen;
                        view! { <option value=value selected=selected>{text}</option> }
                    }).collect_view()}
                </select>
                <p class="field-error" role="alert">{field_signal(result, name)}</p>
            </div>
        }
    };
    // The signed-in user first (and chosen): the one adding an item usually owns it.
    let CurrentUser(user) = expect_context::<CurrentUser>();
    let due_error = field_signal(result, "due_on");
    view! {
        <ActionForm action=create node_ref=form attr:class="new-action">
            <input type="hidden" name="number" value=number />
            <div class="field grow">
                <label for="new-action-title">"Action"</label>
                <input id="new-action-title" name="title" type="text" required=true value=typed_value("title") />
                <p class="field-error" role="alert">{field_signal(result, "title")}</p>
            </div>
            <div class="inline-fields">
                <div class="field">
                    <label for="new-action-owner">"Owner"</label>
                    <Suspense>
                        {move || {
                            let people = people.clone();
                            Suspend::new(async move {
                                let me = user.await.ok().flatten().map(|u| u.username);
                                let chosen = typed_value("owner").or_else(|| me.clone().filter(|m| people.contains(m)));
                                let people = crate::ui::format::me_first(people, me.as_deref());
                                view! {
                                    <select id="new-action-owner" name="owner">
                                        {people.into_iter().map(|p| {
                                            let selected = Some(&p) == chosen.as_ref();
                                            let shown = if Some(&p) == me.as_ref() { format!("{p} (you)") } else { p.clone() };
                                            view! { <option value=p selected=selected>{shown}</option> }
                                        }).collect_view()}
                                    </select>
                                }
                            })
                        }}
                    </Suspense>
                    <p class="field-error" role="alert">{field_signal(result, "owner")}</p>
                </div>
                <div class="field">
                    <label for="new-action-due_on">"Due date"</label>
                    <input id="new-action-due_on" name="due_on" type="date" required=true value=typed_value("due_on") />
                    <p class="field-error" role="alert">{move || due_error.get()}</p>
                    // A date that has passed is asked about, not taken silently.
                    {move || due_error.get().is_some_and(|e| e.contains("passed")).then(|| view! {
                        <label class="check">
                            <input type="checkbox" name="past_due" value="yes" />
                            " Record it anyway (it is already overdue)"
                        </label>
                    })}
                </div>
                {select("priority", "Priority", Priority::ALL.iter().map(|p| (p.as_str(), p.label().to_owned())).collect(), "p2")}
                {select("kind", "Kind", ActionKind::ALL.iter().map(|k| (k.as_str(), k.label().to_owned())).collect(), "corrective")}
            </div>
            <FormMessage error=Signal::derive(move || result.with(form_error)) />
            <button type="submit" class="btn" disabled=move || create.pending().get()>"Add action item"</button>
        </ActionForm>
    }
}
