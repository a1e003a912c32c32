//! `/admin/notifications`: the channels Nightwatch notifies (a signed webhook, Slack, Feishu,
//! DingTalk, WeCom), what each hears about, whether it is failing, a test message; and
//! `/admin/notifications/{id}`: one channel's delivery log by state, with "Retry now" on dead
//! deliveries.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::notifications::{
    DeleteChannel, RetryDelivery, SaveChannel, TestChannel, channel_log, list_channels,
    public_url_set, take_channel_test,
};
use crate::model::AppError;
use crate::model::incident::Severity;
use crate::model::notification::{
    ChannelKind, ChannelView, DeliveryState, DeliveryView, NotifyEvent, TestOutcome,
};
use crate::ui::components::feedback::typed;
use crate::ui::components::form::{
    FormMessage, TextField, field_error, field_signal, form_error, list_field_error,
};
use crate::ui::format;
use crate::ui::pages::admin::forbidden_status;
use crate::ui::pages::admin::tokens_page::AdminNav;

/// The events a new channel starts with: an incident's life.
const DEFAULT_EVENTS: [NotifyEvent; 3] = [
    NotifyEvent::IncidentDeclared,
    NotifyEvent::IncidentStatusChanged,
    NotifyEvent::IncidentSeverityChanged,
];

/// The notification channels page (admins only).
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let save = ServerAction::<SaveChannel>::new();
    let delete = ServerAction::<DeleteChannel>::new();
    let test = ServerAction::<TestChannel>::new();
    let channels = Resource::new(
        move || {
            (
                save.version().get(),
                delete.version().get(),
                test.version().get(),
            )
        },
        |_| list_channels(),
    );
    let handed = Resource::new(|| (), |_| take_channel_test());
    let public_url = Resource::new(|| (), |_| public_url_set());
    view! {
        <Title text="Notifications" />
        <div class="page-header">
            <h1>"Notifications"</h1>
            <p class="lede">
                "Where Nightwatch speaks: chat rooms and signed webhooks, for the events each one chooses. "
                "Messages go out from an outbox: a receiver that is down gets them when it is back (retried for a day)."
            </p>
            <AdminNav current="notifications" />
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading channels…"</p> }>
            {move || Suspend::new(async move {
                let handed = handed.await.ok().flatten();
                let linked = public_url.await.unwrap_or(true);
                match channels.await {
                    Ok(list) => view! {
                        {(!linked).then(|| view! {
                            <p class="alert info" role="status">
                                "NIGHTWATCH_PUBLIC_URL is not set: messages link to pages by their path alone (/incidents/INC-4), "
                                "which chat apps cannot open. Set it to the address people reach Nightwatch at."
                            </p>
                        })}
                        <section class="card" aria-labelledby="channels-title">
                            <h2 id="channels-title">"Channels"</h2>
                            <FormMessage error=Signal::derive(move || delete.value().with(form_error).or_else(|| test.value().with(form_error))) />
                            {if list.is_empty() {
                                view! { <p class="empty-state">"No channels yet: nobody hears of anything unless they look. Add one below."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="channel-list">
                                        {list.into_iter().map(|c| view! { <ChannelItem channel=c save delete test handed=handed.clone() /> }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                        <ChannelForm save channel=None />
                    }.into_any(),
                    Err(AppError::Forbidden) => {
                        forbidden_status();
                        view! { <p class="empty-state">"Only admins manage notification channels."</p> }.into_any()
                    }
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Where a channel's health stands: a word, its badge's class, and the detail (never by colour
/// alone).
fn health_line(c: &ChannelView) -> (&'static str, &'static str, String) {
    let h = &c.health;
    let last_error = h.last_error.clone().unwrap_or_default();
    if !c.enabled {
        return (
            "Disabled",
            "badge status-off",
            "It receives nothing.".into(),
        );
    }
    if h.failing() {
        return (
            "Failing",
            "badge failing",
            format!(
                "{} attempts in a row failed. Last: {last_error}",
                h.failures
            ),
        );
    }
    match (h.last_delivered_at, h.last_attempt_at) {
        (Some(at), _) => (
            "Working",
            "badge status-on",
            format!("Last delivered {}.", format::instant(at)),
        ),
        (None, Some(_)) => ("Not delivered yet", "badge pending", last_error),
        (None, None) => ("Nothing sent yet", "badge", String::new()),
    }
}

/// A channel's health as a line: its badge and the detail.
#[component]
fn Health(channel: ChannelView) -> impl IntoView {
    let (word, class, detail) = health_line(&channel);
    view! {
        <p class="small channel-health"><span class=class>{word}</span> " " <span class="wrap">{detail}</span></p>
    }
}

fn outcome_line(o: &TestOutcome) -> String {
    let status = o.status.map(|s| format!("HTTP {s}, ")).unwrap_or_default();
    if o.delivered {
        format!("Test delivered ({status}{} ms).", o.duration_ms)
    } else {
        format!(
            "Test failed ({status}{} ms): {}",
            o.duration_ms,
            o.error.clone().unwrap_or_default()
        )
    }
}

#[component]
fn ChannelItem(
    channel: ChannelView,
    save: ServerAction<SaveChannel>,
    delete: ServerAction<DeleteChannel>,
    test: ServerAction<TestChannel>,
    handed: Option<(String, TestOutcome)>,
) -> impl IntoView {
    let failing = channel.failing();
    let events = channel
        .events
        .iter()
        .map(|e| e.label())
        .collect::<Vec<_>>()
        .join(", ");
    let mut filters = Vec::new();
    if !channel.services.is_empty() {
        filters.push(format!("services {}", channel.services.join(", ")));
    }
    if let Some(s) = channel.min_severity {
        filters.push(format!("{} and worse", s.label()));
    }
    let id = channel.id.clone();
    let anchor = format!("channel-{id}");
    let log_href = format!("/admin/notifications/{id}");
    let test_label = format!("Send a test message to {}", channel.name);
    let delete_label = format!("Delete the channel {}", channel.name);
    let log_label = format!("Delivery log of {}", channel.name);
    let mine = id.clone();
    let outcome = move || match test.value().get() {
        Some(Ok((tested, o))) if tested == mine => Some(o),
        Some(_) => None,
        None => handed.clone().filter(|(t, _)| *t == mine).map(|(_, o)| o),
    };
    let (test_id, delete_id) = (id.clone(), id.clone());
    view! {
        <li class="channel" id=anchor>
            <p class="channel-head">
                <strong>{channel.name.clone()}</strong>
                " " <span class="badge">{channel.kind.label()}</span>
                {failing.then(|| view! { " " <span class="badge failing">"Failing"</span> })}
            </p>
            <p class="muted small wrap">{channel.url.clone()}</p>
            <p class="small">"Hears: " {events}
                {(!filters.is_empty()).then(|| format!(" — only {}", filters.join(", ")))}
            </p>
            <Health channel=channel.clone() />
            <p class="small muted">
                {format!("{} pending, {} dead. ", channel.health.pending, channel.health.dead)}
                <a href=log_href aria-label=log_label>"Delivery log"</a>
            </p>
            {move || outcome().map(|o| {
                let class = if o.delivered { "alert success" } else { "alert error" };
                view! {
                    <div class=class role="status">
                        <p>{outcome_line(&o)}</p>
                        {(!o.response.is_empty()).then(|| view! { <pre class="answer">{o.response.clone()}</pre> })}
                    </div>
                }
            })}
            <div class="row-actions">
                <ActionForm action=test attr:class="row-form">
                    <input type="hidden" name="id" value=test_id />
                    <button type="submit" class="btn small" aria-label=test_label>"Send a test"</button>
                </ActionForm>
            </div>
            <details class="rule-edit">
                <summary>"Delete…"</summary>
                <p class="small">"The channel and its delivery log go; messages still waiting are not sent."</p>
                <ActionForm action=delete attr:class="row-form">
                    <input type="hidden" name="id" value=delete_id />
                    <button type="submit" class="btn small danger" aria-label=delete_label>"Delete the channel"</button>
                </ActionForm>
            </details>
            <details class="rule-edit">
                <summary>"Edit"</summary>
                <ChannelForm save channel=Some(channel.clone()) />
            </details>
        </li>
    }
}

#[component]
fn ChannelForm(save: ServerAction<SaveChannel>, channel: Option<ChannelView>) -> impl IntoView {
    let result = save.value();
    let editing = channel.is_some();
    let key = channel.as_ref().map_or("new".to_owned(), |c| c.id.clone());
    let id = move |name: &str| format!("ch-{key}-{name}");
    let typed_or = |name: &str, current: String| {
        if editing {
            current
        } else {
            typed::<SaveChannel>(name).unwrap_or(current)
        }
    };
    let c = channel.clone();
    let name = typed_or(
        "name",
        c.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
    );
    let services = typed_or(
        "services",
        c.as_ref()
            .map(|c| c.services.join(", "))
            .unwrap_or_default(),
    );
    let kind = typed_or(
        "kind",
        c.as_ref()
            .map_or(ChannelKind::Slack.as_str(), |c| c.kind.as_str())
            .to_owned(),
    );
    let min = typed_or(
        "min_severity",
        c.as_ref()
            .and_then(|c| c.min_severity)
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    );
    let enabled = c.as_ref().is_none_or(|c| c.enabled);
    let typed_events: Vec<String> = (0..NotifyEvent::ALL.len())
        .filter_map(|i| typed::<SaveChannel>(&format!("events[{i}]")))
        .collect();
    let has_event = move |e: NotifyEvent| match &c {
        Some(c) => c.events.contains(&e),
        None if !typed_events.is_empty() => typed_events.iter().any(|t| t == e.as_str()),
        None => DEFAULT_EVENTS.contains(&e),
    };
    let url_help = if editing {
        "Leave blank to keep the stored URL (shown masked above)."
    } else {
        "The hook's address, http:// or https://."
    };
    let secret_help = if editing {
        "Leave blank to keep the stored secret; a signed webhook takes whsec_…, several space-separated while you rotate it."
    } else {
        "A signed webhook: whsec_ and base64 (Standard Webhooks). Feishu and DingTalk: the bot's signing secret. Slack and WeCom: none."
    };
    let kind_id = id("kind");
    let min_id = id("min");
    let events_legend = "Events it hears";
    view! {
        <section class=if editing { "rule-form" } else { "card rule-form" } aria-label=if editing { "Edit the channel" } else { "New channel" }>
            {(!editing).then(|| view! { <h2>"New channel"</h2> })}
            <ActionForm action=save>
                <input type="hidden" name="id" value=channel.as_ref().map(|c| c.id.clone()).unwrap_or_default() />
                <div class="field-grid">
                    <div class="field">
                        <label for=kind_id.clone()>"Kind"</label>
                        <select id=kind_id name="kind">
                            {ChannelKind::ALL.iter().map(|k| view! {
                                <option value=k.as_str() selected=kind == k.as_str()>{k.label()}</option>
                            }).collect_view()}
                        </select>
                        <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "kind"))}</p>
                    </div>
                    <TextField label="Name" name="name" id=id("name") required=true value=Some(name) error=field_signal(result, "name") />
                </div>
                <TextField label="URL" name="channel_url" id=id("url") kind="url" required=!editing help=url_help value=None error=Signal::derive(move || result.with(|r| field_error(r, "url").or_else(|| field_error(r, "channel_url")))) />
                <TextField label="Secret" name="secret" id=id("secret") kind="password" autocomplete="off" help=secret_help value=None error=field_signal(result, "secret") />
                <fieldset class="checks event-checks">
                    <legend>{events_legend}</legend>
                    {NotifyEvent::subscribable().enumerate().map(|(i, e)| view! {
                        <label><input type="checkbox" name=format!("events[{i}]") value=e.as_str() checked=has_event(e) /> " " {e.label()}</label>
                    }).collect_view()}
                    <p class="field-error" role="alert">{move || result.with(|r| list_field_error(r, "events"))}</p>
                </fieldset>
                <div class="field-grid">
                    <TextField label="Only these services" name="services" id=id("services") help="Comma-separated; blank for every service." value=Some(services) error=Signal::derive(move || result.with(|r| list_field_error(r, "services"))) />
                    <div class="field">
                        <label for=min_id.clone()>"Lowest severity"</label>
                        <select id=min_id name="min_severity">
                            <option value="" selected=min.is_empty()>"Every severity"</option>
                            {Severity::ALL.into_iter().map(|s| view! {
                                <option value=s.as_str() selected=min == s.as_str()>{format!("{} and worse", s.label())}</option>
                            }).collect_view()}
                        </select>
                        <p class="field-error" role="alert">{move || result.with(|r| field_error(r, "min_severity"))}</p>
                    </div>
                </div>
                <label class="check"><input type="checkbox" name="enabled" value="on" checked=enabled /> " Enabled"</label>
                <FormMessage error=Signal::derive(move || result.with(form_error)) />
                <button type="submit" class="btn primary">{if editing { "Save the channel" } else { "Add the channel" }}</button>
            </ActionForm>
        </section>
    }
}

/// One channel's delivery log (admins only).
#[component]
pub fn ChannelLogPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let state = move || query.read().get("state").unwrap_or_default();
    let retry = ServerAction::<RetryDelivery>::new();
    let log = Resource::new(
        move || (id(), state(), retry.version().get()),
        |(id, state, _)| channel_log(id, state),
    );
    view! {
        <Title text="Delivery log" />
        <Transition fallback=|| view! { <p class="muted">"Loading the log…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Ok((channel, deliveries)) => {
                        let current = state().parse::<DeliveryState>().ok();
                        view! { <LogBody channel deliveries current retry /> }.into_any()
                    }
                    Err(AppError::Forbidden) => {
                        forbidden_status();
                        view! { <p class="empty-state">"Only admins read delivery logs."</p> }.into_any()
                    }
                    Err(AppError::NotFound) => {
                        crate::ui::pages::not_found_status();
                        view! {
                        <h1>"No such channel"</h1>
                        <p class="empty-state">"It may have been deleted. " <a href="/admin/notifications">"All channels"</a></p>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LogBody(
    channel: ChannelView,
    deliveries: Vec<DeliveryView>,
    current: Option<DeliveryState>,
    retry: ServerAction<RetryDelivery>,
) -> impl IntoView {
    let base = format!("/admin/notifications/{}", channel.id);
    let tab = |state: Option<DeliveryState>, label: &'static str| {
        let href = match state {
            Some(s) => format!("{base}?state={}", s.as_str()),
            None => base.clone(),
        };
        view! { <a href=href aria-current=(state == current).then_some("page")>{label}</a> }
    };
    let title = format!("Delivery log: {}", channel.name);
    let empty = match current {
        None => "Nothing was sent to this channel yet.",
        Some(DeliveryState::Pending) => "Nothing is waiting to be sent.",
        Some(DeliveryState::Delivered) => "Nothing was delivered yet.",
        Some(DeliveryState::Dead) => {
            "No dead deliveries: everything arrived or is still being tried."
        }
    };
    let channel_id = channel.id.clone();
    view! {
        <div class="page-header">
            <h1>{title}</h1>
            <p class="lede">
                {channel.kind.label()} " · " <span class="wrap">{channel.url.clone()}</span>
                " · " <a href="/admin/notifications">"All channels"</a>
            </p>
            <AdminNav current="notifications" />
        </div>
        <Health channel=channel.clone() />
        <nav class="status-tabs" aria-label="Deliveries by state">
            {tab(None, "All")}
            {tab(Some(DeliveryState::Pending), "Pending")}
            {tab(Some(DeliveryState::Delivered), "Delivered")}
            {tab(Some(DeliveryState::Dead), "Dead")}
        </nav>
        <FormMessage error=Signal::derive(move || retry.value().with(form_error)) />
        {if deliveries.is_empty() {
            view! { <div class="card empty-state"><p>{empty}</p></div> }.into_any()
        } else {
            view! {
                <ul class="delivery-list">
                    {deliveries.into_iter().map(|d| view! { <DeliveryItem delivery=d channel=channel_id.clone() retry /> }).collect_view()}
                </ul>
                <p class="muted small">"The newest 200 are shown."</p>
            }.into_any()
        }}
    }
}

#[component]
fn DeliveryItem(
    delivery: DeliveryView,
    channel: String,
    retry: ServerAction<RetryDelivery>,
) -> impl IntoView {
    let d = delivery;
    let badge = match d.state {
        DeliveryState::Pending => "badge pending",
        DeliveryState::Delivered => "badge status-on",
        DeliveryState::Dead => "badge failing",
    };
    let when = match (d.state, d.due_at, d.finished_at) {
        (DeliveryState::Pending, Some(due), _) => format!("next try {}", format::instant(due)),
        (_, _, Some(done)) => format!("finished {}", format::instant(done)),
        _ => String::new(),
    };
    let last = match (d.last_status, &d.last_error) {
        (Some(s), Some(e)) => format!("HTTP {s}: {e}"),
        (None, Some(e)) => e.clone(),
        (Some(s), None) => format!("HTTP {s}"),
        (None, None) => String::new(),
    };
    let retry_label = format!("Retry now: {}", d.title);
    let dead = d.state == DeliveryState::Dead;
    let delivery_id = d.id.clone();
    view! {
        <li class="card delivery">
            <p>
                <span class=badge>{d.state.label()}</span> " "
                <strong class="wrap">{d.title.clone()}</strong>
            </p>
            <p class="muted small">
                {format!("{} · written {} · {} · {} ", d.event.label(), format::instant(d.created_at), format::count(d.attempts as u64, "attempt"), when)}
                <code class="wrap">{d.id.clone()}</code>
            </p>
            {(!last.is_empty()).then(|| view! { <p class="small wrap">"Last answer: " {last}</p> })}
            {dead.then(|| view! {
                <ActionForm action=retry attr:class="row-form">
                    <input type="hidden" name="channel" value=channel />
                    <input type="hidden" name="delivery" value=delivery_id />
                    <button type="submit" class="btn small" aria-label=retry_label>"Retry now"</button>
                </ActionForm>
            })}
        </li>
    }
}
