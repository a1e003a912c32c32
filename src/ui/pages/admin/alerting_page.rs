//! `/admin/alerting`: alert rules (what a firing event does: declare an incident, run a
//! self-recovery plan), in the order they are tried, and inhibition rules (what mutes what).
//! Each rule links to the preview of the events its matchers pick out now.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::alerting::{
    CreateInhibitRule, DeleteAlertRule, DeleteInhibitRule, SaveAlertRule, list_alert_rules,
    list_inhibit_rules,
};
use crate::model::alert_rule::AlertRule;
use crate::model::matcher::{InhibitRule, format_matchers};
use crate::model::{AppError, Role};
use crate::ui::components::feedback::{refused, typed};
use crate::ui::components::form::{
    FormMessage, TextField, field_error, field_signal, form_error, list_field_error,
};
use crate::ui::components::shell::CurrentUser;
use crate::ui::format;
use crate::ui::pages::admin::forbidden_status;
use crate::ui::pages::admin::tokens_page::AdminNav;

fn preview_href(matchers: &str) -> String {
    format!("/silences?matchers={}", format::url_encode(matchers))
}

/// The alerting administration page (admins edit; others read).
#[component]
pub fn AlertingPage() -> impl IntoView {
    let save = ServerAction::<SaveAlertRule>::new();
    let delete = ServerAction::<DeleteAlertRule>::new();
    let add_inhibit = ServerAction::<CreateInhibitRule>::new();
    let delete_inhibit = ServerAction::<DeleteInhibitRule>::new();
    let rules = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| list_alert_rules(),
    );
    let inhibits = Resource::new(
        move || (add_inhibit.version().get(), delete_inhibit.version().get()),
        |_| list_inhibit_rules(),
    );
    let plans = Resource::new(|| (), |_| crate::api::plans::list_plans());
    // The channels a rule may page (admins only: others read the rules' channel names).
    let channels = Resource::new(|| (), |_| crate::api::notifications::list_channels());
    let CurrentUser(me) = expect_context::<CurrentUser>();
    // Which form was sent last ("" for the new rule): its errors show in it alone. A refused
    // plain post says so in its URL; in the browser, each dispatch does.
    let posted = RwSignal::new(refused::<SaveAlertRule>().then(refused_id));
    Effect::new(move |_| {
        if let Some(id) = save
            .input()
            .with(|i| i.as_ref().map(|i| i.id.trim().to_owned()))
        {
            posted.set(Some(id));
        }
    });
    view! {
        <Title text="Alerting" />
        <div class="page-header">
            <h1>"Alerting"</h1>
            <p class="lede">
                "What a firing risk event does. Rules are tried in order and the first that matches decides; "
                "silenced and inhibited events trigger nothing."
            </p>
            <AdminNav current="alerting" />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading rules…"</p> }>
            {move || Suspend::new(async move {
                let admin = matches!(me.await, Ok(Some(u)) if u.role == Role::Admin);
                let plans: Vec<(i64, String)> = plans.await.unwrap_or_default().into_iter()
                    .filter(|p| matches!(p.scene, crate::model::catalog::Scene::SelfRecovery | crate::model::catalog::Scene::Emergency))
                    .map(|p| (p.number, p.name))
                    .collect();
                let channels: Vec<Pageable> = if admin {
                    channels.await.unwrap_or_default().into_iter()
                        .map(|c| Pageable { id: c.id, name: c.name, enabled: c.enabled })
                        .collect()
                } else {
                    Vec::new()
                };
                match (rules.await, inhibits.await) {
                    (Ok(rules), Ok(inhibits)) => view! {
                        <section class="card" aria-labelledby="rules-title">
                            <h2 id="rules-title">"Alert rules"</h2>
                            <FormMessage error=Signal::derive(move || delete.value().with(form_error).or_else(|| save.value().with(form_error))) />
                            {if rules.is_empty() {
                                view! { <p class="empty-state">"No rules: events are only shown on the risk board."</p> }.into_any()
                            } else {
                                view! {
                                    <ol class="rule-list">
                                        {rules.into_iter().map(|r| view! { <RuleItem rule=r admin save posted delete plans=plans.clone() channels=channels.clone() /> }).collect_view()}
                                    </ol>
                                }.into_any()
                            }}
                        </section>
                        {admin.then(|| view! { <RuleForm save posted plans=plans.clone() channels=channels.clone() rule=None /> })}
                        <section class="card" aria-labelledby="inhibit-title">
                            <h2 id="inhibit-title">"Inhibition rules"</h2>
                            <p class="muted">"While an event matching the source fires, events matching the target that agree with it on every listed label are muted."</p>
                            <FormMessage error=Signal::derive(move || delete_inhibit.value().with(form_error)) />
                            {if inhibits.is_empty() {
                                view! { <p class="empty-state">"No inhibition rules."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="rule-list">
                                        {inhibits.into_iter().map(|r| view! { <InhibitItem rule=r admin delete=delete_inhibit /> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                        {admin.then(|| view! { <InhibitForm add=add_inhibit /> })}
                    }.into_any(),
                    (Err(AppError::Forbidden), _) | (_, Err(AppError::Forbidden)) => {
                        forbidden_status();
                        view! { <p class="empty-state">"You may not read the alerting rules."</p> }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A notification channel a rule may page.
#[derive(Clone)]
struct Pageable {
    id: String,
    name: String,
    enabled: bool,
}

#[component]
fn RuleItem(
    rule: AlertRule,
    admin: bool,
    save: ServerAction<SaveAlertRule>,
    posted: RwSignal<Option<String>>,
    delete: ServerAction<DeleteAlertRule>,
    plans: Vec<(i64, String)>,
    channels: Vec<Pageable>,
) -> impl IntoView {
    // A refused plain post of this rule's edit comes back open, with what was typed.
    let came_back = came_back(&rule.id);
    let matchers = format_matchers(&rule.matchers);
    let preview = preview_href(&matchers);
    let map = rule
        .severity_map
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let delete_label = format!("Delete the rule “{}”", rule.name);
    let id = rule.id.clone();
    // With JavaScript, a refused save keeps its panel open: the list may be drawn again when the
    // answer comes, and a closed panel would hide the message beside the field.
    let refused_here = {
        let mine = rule.id.clone();
        move || {
            posted.with(|p| p.as_deref() == Some(mine.as_str()))
                && save.value().with(|v| matches!(v, Some(Err(_))))
        }
    };
    view! {
        <li class="rule">
            <p>
                <strong>{rule.name.clone()}</strong>
                " "
                <span class=if rule.enabled { "badge status-on" } else { "badge status-off" }>{if rule.enabled { "Enabled" } else { "Disabled" }}</span>
            </p>
            <pre class="matchers">{matchers.clone()}</pre>
            <p class="muted small">
                {format!("It {}.", rule.describe())}
                {(!map.is_empty()).then(|| format!(" Severity: {map}."))}
                {rule.plan.filter(|_| rule.cooldown_minutes > 0).map(|_| format!(" The plan waits {} min before running again.", rule.cooldown_minutes))}
                " " <a href=preview>"What it matches now"</a>
            </p>
            {admin.then(|| view! {
                <details class="rule-edit" open=move || came_back || refused_here()>
                    <summary>"Edit"</summary>
                    <RuleForm save posted plans channels rule=Some(rule.clone()) />
                </details>
                <ActionForm action=delete attr:class="row-form">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="btn small danger" aria-label=delete_label>"Delete"</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn RuleForm(
    save: ServerAction<SaveAlertRule>,
    posted: RwSignal<Option<String>>,
    plans: Vec<(i64, String)>,
    channels: Vec<Pageable>,
    rule: Option<AlertRule>,
) -> impl IntoView {
    let editing = rule.is_some();
    let mine = rule.as_ref().map(|r| r.id.clone()).unwrap_or_default();
    // The last answer, when it answers this form.
    let result: Signal<Option<Result<(), AppError>>> = {
        let mine = mine.clone();
        let all = save.value();
        Signal::derive(move || {
            if posted.with(|p| p.as_deref() == Some(mine.as_str())) {
                all.get()
            } else {
                None
            }
        })
    };
    // Ids keep the new-rule form and each edit form apart.
    let key = rule.as_ref().map_or("new".to_owned(), |r| r.id.clone());
    let id = move |name: &str| format!("rule-{key}-{name}");
    // The form whose plain post was refused gets back what was typed, boxes included.
    let came_back = came_back(&mine);
    let typed_or = |name: &str, current: String| {
        if came_back {
            typed::<SaveAlertRule>(name).unwrap_or(current)
        } else {
            current
        }
    };
    let r = rule.clone();
    let name = typed_or(
        "name",
        r.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
    );
    let matchers = typed_or(
        "matchers",
        r.as_ref()
            .map(|r| format_matchers(&r.matchers))
            .unwrap_or_default(),
    );
    let map = typed_or(
        "severity_map",
        r.as_ref()
            .map(|r| {
                r.severity_map
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
    );
    let after_occurrences = typed_or(
        "after_occurrences",
        r.as_ref()
            .map_or("1".into(), |r| r.after_occurrences.to_string()),
    );
    let after_minutes = typed_or(
        "after_minutes_firing",
        r.as_ref()
            .map_or("0".into(), |r| r.after_minutes_firing.to_string()),
    );
    let cooldown = typed_or(
        "cooldown_minutes",
        r.as_ref()
            .map_or("30".into(), |r| r.cooldown_minutes.to_string()),
    );
    // An unticked box sends nothing: after a refused post, unticked is what was chosen.
    let ticked = |name: &str, current: bool| {
        if came_back {
            typed::<SaveAlertRule>(name).is_some()
        } else {
            current
        }
    };
    let declare = ticked(
        "declare_incident",
        r.as_ref().is_none_or(|r| r.declare_incident),
    );
    let enabled = ticked("enabled", r.as_ref().is_none_or(|r| r.enabled));
    let plan = if came_back {
        typed::<SaveAlertRule>("plan").and_then(|p| p.trim().parse().ok())
    } else {
        r.as_ref().and_then(|r| r.plan)
    };
    let typed_pages: Vec<String> = (0..channels.len())
        .filter_map(|i| typed::<SaveAlertRule>(&format!("notify[{i}]")))
        .collect();
    let pages = move |id: &str| {
        if came_back {
            typed_pages.iter().any(|c| c == id)
        } else {
            r.as_ref().is_some_and(|r| r.notify.iter().any(|c| c == id))
        }
    };
    let (pages_help, pages_described) = (id("notify"), id("notify"));
    let title = if editing {
        "Save the rule"
    } else {
        "Add the rule"
    };
    let matchers_id = id("matchers");
    let plan_id = id("plan");
    view! {
        <section class=if editing { "rule-form" } else { "card rule-form" } aria-label=if editing { "Edit the rule" } else { "New alert rule" }>
            {(!editing).then(|| view! { <h2>"New alert rule"</h2> })}
            <ActionForm action=save>
                <input type="hidden" name="id" value=rule.as_ref().map(|r| r.id.clone()).unwrap_or_default() />
                <TextField label="Name" name="name" id=id("name") required=true value=Some(name) error=field_signal(result, "name") />
                <div class="field" class:invalid=move || result.with(|r| list_field_error(r, "matchers").is_some())>
                    <label for=matchers_id.clone()>"Matchers"</label>
                    <p class="help">"One per line, every line must match: service=\"payments\", alertname=~\"High.*\"."</p>
                    <textarea id=matchers_id name="matchers" rows="3" spellcheck="false">{format::raw_text(&matchers)}</textarea>
                    <p class="field-error" role="alert">{move || result.with(|r| list_field_error(r, "matchers"))}</p>
                </div>
                <fieldset class="checks">
                    <legend>"What it does"</legend>
                    <label><input type="checkbox" name="declare_incident" value="on" checked=declare /> " Declare an incident (or link to the open one this rule declared for the same service)"</label>
                    <div class="field">
                        <label for=plan_id.clone()>"Run a plan"</label>
                        <select id=plan_id name="plan">
                            <option value="" selected=plan.is_none()>"No plan"</option>
                            {plans.into_iter().map(|(n, p)| view! {
                                <option value=n.to_string() selected=plan == Some(n)>{format!("PLAN-{n} {p}")}</option>
                            }).collect_view()}
                        </select>
                        <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "plan"))}</p>
                    </div>
                    <fieldset class="checks" aria-describedby=pages_described>
                        <legend>"Page these channels"</legend>
                        <p class="help" id=pages_help>
                            {if channels.is_empty() {
                                "No notification channels yet: add one under Notifications to page it from a rule."
                            } else {
                                "They get “Alert rule fired” with the event and the incident, whatever events they subscribe to."
                            }}
                        </p>
                        {channels.iter().enumerate().map(|(i, c)| view! {
                            <label>
                                <input type="checkbox" name=format!("notify[{i}]") value=c.id.clone() checked=pages(&c.id) />
                                " " {c.name.clone()} {(!c.enabled).then_some(" (disabled: sends nothing)")}
                            </label>
                        }).collect_view()}
                        <p class="field-error" role="alert">{move || result.with(|r| list_field_error(r, "notify"))}</p>
                    </fieldset>
                    <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "declare_incident"))}</p>
                </fieldset>
                <div class="field-grid">
                    <TextField label="After this many receipts" name="after_occurrences" id=id("after") value=Some(after_occurrences) error=field_signal(result, "after_occurrences") />
                    <TextField label="After firing this many minutes" name="after_minutes_firing" id=id("minutes") value=Some(after_minutes) error=field_signal(result, "after_minutes_firing") />
                    <TextField label="Plan cooldown (minutes)" name="cooldown_minutes" id=id("cooldown") value=Some(cooldown) error=field_signal(result, "cooldown_minutes") />
                </div>
                <TextField label="Incident severity by alert severity" name="severity_map" id=id("map") help="Like critical=sev1, warning=sev3; others keep the alert's own." value=Some(map) error=field_signal(result, "severity_map") />
                <label class="check"><input type="checkbox" name="enabled" value="on" checked=enabled /> " Enabled"</label>
                <FormMessage error=Signal::derive(move || result.with(form_error)) />
                <button type="submit" class="btn primary">{title}</button>
            </ActionForm>
        </section>
    }
}

/// The rule whose refused plain post the URL carries ("" for a new rule: an empty field is not
/// carried).
fn refused_id() -> String {
    typed::<SaveAlertRule>("id")
        .map(|id| id.trim().to_owned())
        .unwrap_or_default()
}

/// Whether the refused plain post the URL carries was of rule `id`'s form ("" for a new rule).
fn came_back(id: &str) -> bool {
    refused::<SaveAlertRule>() && refused_id() == id
}

#[component]
fn InhibitItem(
    rule: InhibitRule,
    admin: bool,
    delete: ServerAction<DeleteInhibitRule>,
) -> impl IntoView {
    let source = format_matchers(&rule.source_matchers);
    let target = format_matchers(&rule.target_matchers);
    let delete_label = format!("Delete the inhibition rule “{}”", rule.name);
    view! {
        <li class="rule">
            <p><strong>{rule.name.clone()}</strong></p>
            <p class="muted small">"While this fires:"</p>
            <pre class="matchers">{source.clone()}</pre>
            <p class="muted small">"mute these:"</p>
            <pre class="matchers">{target.clone()}</pre>
            <p class="muted small">
                {if rule.equal.is_empty() { "whatever their labels.".to_owned() } else { format!("when they agree on {}.", rule.equal.join(", ")) }}
                " " <a href=preview_href(&target)>"Targets firing now"</a>
            </p>
            {admin.then(|| view! {
                <ActionForm action=delete attr:class="row-form">
                    <input type="hidden" name="id" value=rule.id.clone() />
                    <button type="submit" class="btn small danger" aria-label=delete_label>"Delete"</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn InhibitForm(add: ServerAction<CreateInhibitRule>) -> impl IntoView {
    let result = add.value();
    let area = move |id: &'static str,
                     name: &'static str,
                     label: &'static str,
                     help: &'static str| {
        let typed = typed::<CreateInhibitRule>(name).unwrap_or_default();
        view! {
            <div class="field" class:invalid=move || result.with(|r| list_field_error(r, name).is_some())>
                <label for=id>{label}</label>
                <p class="help">{help}</p>
                <textarea id=id name=name rows="3" spellcheck="false">{format::raw_text(&typed)}</textarea>
                <p class="field-error" role="alert">{move || result.with(|r| list_field_error(r, name))}</p>
            </div>
        }
    };
    view! {
        <section class="card" aria-labelledby="new-inhibit-title">
            <h2 id="new-inhibit-title">"New inhibition rule"</h2>
            <ActionForm action=add>
                <TextField label="Name" name="name" id="inhibit-name" required=true value={typed::<CreateInhibitRule>("name")} error=field_signal(result, "name") />
                {area("inhibit-source", "source_matchers", "Source matchers", "The alert that mutes, like alertname=\"NodeDown\".")}
                {area("inhibit-target", "target_matchers", "Target matchers", "The alerts it mutes, like alertname=\"HighLatency\".")}
                <TextField label="Labels they must agree on" name="equal" id="inhibit-equal" help="Comma-separated, like instance." value={typed::<CreateInhibitRule>("equal")} error=Signal::derive(move || result.with(|r| list_field_error(r, "equal"))) />
                <FormMessage error=Signal::derive(move || result.with(form_error)) />
                <button type="submit" class="btn primary">"Add the rule"</button>
            </ActionForm>
        </section>
    }
}
