//! Notifications (#17): the channels Nightwatch speaks to (a signed generic webhook, Slack,
//! Feishu / Lark, DingTalk, WeCom), the events they may subscribe to, and how one message is
//! rendered for each kind from one set of facts.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{AppError, FieldError};
use super::incident::Severity;

code_enum!(
    /// What a channel is.
    ChannelKind {
        /// A JSON POST signed per the Standard Webhooks specification.
        Webhook => "webhook", "Signed webhook",
        /// A Slack incoming webhook.
        Slack => "slack", "Slack",
        /// A Feishu / Lark custom bot (signed).
        Feishu => "feishu", "Feishu / Lark",
        /// A DingTalk custom robot (signed).
        Dingtalk => "dingtalk", "DingTalk",
        /// A WeCom (企业微信) group robot.
        Wecom => "wecom", "WeCom",
    }
);

code_enum!(
    /// What happened, as channels subscribe to it. Written by its dotted code everywhere (the
    /// API, the stored channel, the webhook's `type`).
    NotifyEvent {
        /// An incident was declared.
        #[serde(rename = "incident.declared")]
        IncidentDeclared => "incident.declared", "Incident declared",
        /// An incident moved to another status.
        #[serde(rename = "incident.status_changed")]
        IncidentStatusChanged => "incident.status_changed", "Incident status changed",
        /// An incident's severity changed.
        #[serde(rename = "incident.severity_changed")]
        IncidentSeverityChanged => "incident.severity_changed", "Incident severity changed",
        /// An incident got another commander.
        #[serde(rename = "incident.commander_changed")]
        IncidentCommanderChanged => "incident.commander_changed", "Incident commander changed",
        /// A postmortem was published.
        #[serde(rename = "postmortem.published")]
        PostmortemPublished => "postmortem.published", "Postmortem published",
        /// A risk event opened.
        #[serde(rename = "risk_event.opened")]
        RiskEventOpened => "risk_event.opened", "Risk event opened",
        /// A risk event resolved.
        #[serde(rename = "risk_event.resolved")]
        RiskEventResolved => "risk_event.resolved", "Risk event resolved",
        /// A run waits for a person (a gate, a manual check).
        #[serde(rename = "run.waiting")]
        RunWaiting => "run.waiting", "Run waiting for a person",
        /// A run finished.
        #[serde(rename = "run.finished")]
        RunFinished => "run.finished", "Run finished",
        /// An action item became overdue.
        #[serde(rename = "action_item.overdue")]
        ActionItemOverdue => "action_item.overdue", "Action item overdue",
        /// The daily reminder of overdue and soon-due action items.
        #[serde(rename = "reminder.daily")]
        Reminder => "reminder.daily", "Daily reminder",
        /// An alert rule acted on a risk event and pages the channels it names (whatever they
        /// subscribe to).
        #[serde(rename = "alert_rule.fired")]
        RuleFired => "alert_rule.fired", "Alert rule fired",
        /// A test message an admin sent to check a channel (sent at once, never queued).
        #[serde(rename = "test")]
        Test => "test", "Test message",
    }
);

mod messages;
pub use messages::{
    IncidentFacts, RiskFacts, RuleFiring, RunFacts, action_item_overdue, reminder, test_message,
};

impl NotifyEvent {
    /// The events a channel subscribes to (a test message goes to the one channel tested, an
    /// alert rule's page to the channels the rule names).
    pub fn subscribable() -> impl Iterator<Item = NotifyEvent> {
        Self::ALL.iter().copied().filter(|e| e.is_subscribable())
    }

    /// Whether a channel may subscribe to it.
    pub fn is_subscribable(self) -> bool {
        !matches!(self, Self::Test | Self::RuleFired)
    }
}

impl ChannelKind {
    /// Whether the kind signs with a secret of its own (Feishu, DingTalk) or must have one
    /// (the generic webhook, a `whsec_…` secret).
    pub fn takes_secret(self) -> bool {
        matches!(self, Self::Webhook | Self::Feishu | Self::Dingtalk)
    }
}

/// One message: what every kind renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Stable id (the same across retries, so a receiver drops duplicates).
    pub id: String,
    /// What happened.
    pub event: NotifyEvent,
    /// One line: `INC-42 declared: Checkout down (SEV1)`.
    pub title: String,
    /// A few lines more.
    pub text: String,
    /// The page in Nightwatch it is about (absolute when a public URL is configured).
    pub link: String,
    /// Its severity, when it has one (channels filter by it).
    pub severity: Option<Severity>,
    /// Its service, when it has one (channels filter by it).
    pub service: Option<String>,
    /// The event's facts, as the generic webhook sends them.
    pub data: Value,
}

/// Escapes what Slack's mrkdwn reads as markup: `&`, `<`, `>`.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Markdown text made safe to embed: characters that would start markup are escaped.
fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Message {
    /// The JSON body `kind` expects (Feishu's `timestamp` and `sign` are added when sent).
    pub fn body(&self, kind: ChannelKind) -> Value {
        match kind {
            ChannelKind::Webhook => json!({
                "id": self.id,
                "type": self.event.as_str(),
                "title": self.title,
                "text": self.text,
                "url": self.link,
                "severity": self.severity.map(Severity::as_str),
                "service": self.service,
                "data": self.data,
            }),
            ChannelKind::Slack => {
                let title = slack_escape(&self.title);
                json!({
                    "text": format!("{title}: {}", self.link),
                    "blocks": [
                        {"type": "section", "text": {"type": "mrkdwn",
                            "text": format!("*<{}|{}>*\n{}", self.link, title, slack_escape(&self.text))}},
                        {"type": "context", "elements": [{"type": "mrkdwn",
                            "text": format!("Nightwatch · {}", self.event.label())}]},
                    ],
                })
            }
            ChannelKind::Feishu => json!({
                "msg_type": "post",
                "content": {"post": {"zh_cn": {
                    "title": self.title,
                    "content": [
                        [{"tag": "text", "text": self.text}],
                        [{"tag": "a", "text": "Open in Nightwatch", "href": self.link}],
                    ],
                }}},
            }),
            ChannelKind::Dingtalk => json!({
                "msgtype": "markdown",
                "markdown": {
                    "title": self.title,
                    "text": format!(
                        "#### {}\n\n{}\n\n[Open in Nightwatch]({})",
                        markdown_escape(&self.title),
                        markdown_escape(&self.text),
                        self.link
                    ),
                },
            }),
            ChannelKind::Wecom => json!({
                "msgtype": "markdown",
                "markdown": {
                    "content": format!(
                        "**{}**\n{}\n[Open in Nightwatch]({})",
                        markdown_escape(&self.title),
                        markdown_escape(&self.text),
                        self.link
                    ),
                },
            }),
        }
    }
}

/// Whether a chat platform's answer `body` (after a 2xx) says the message was taken: Feishu
/// answers `{"code": 0}`, DingTalk and WeCom `{"errcode": 0}`; a non-zero code is a failure.
pub fn accepted(kind: ChannelKind, body: &str) -> Result<(), String> {
    let key = match kind {
        ChannelKind::Feishu => "code",
        ChannelKind::Dingtalk | ChannelKind::Wecom => "errcode",
        ChannelKind::Webhook | ChannelKind::Slack => return Ok(()),
    };
    let answer: Value =
        serde_json::from_str(body).map_err(|_| "the answer is not JSON".to_owned())?;
    match answer.get(key).and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(code) => {
            let message = answer
                .get("msg")
                .or_else(|| answer.get("errmsg"))
                .and_then(Value::as_str)
                .unwrap_or("");
            Err(format!("{key} {code}: {message}"))
        }
        None => Err(format!("the answer has no {key}")),
    }
}

/// A channel as an admin writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    /// What it is.
    pub kind: ChannelKind,
    /// A name people recognise (`#ops-oncall`).
    pub name: String,
    /// Where messages go (http or https).
    pub url: String,
    /// Its secret: `whsec_…` for a webhook, the bot's signing secret for Feishu and DingTalk.
    /// Stored, never shown back; left empty on an edit, the stored one is kept.
    #[serde(default)]
    pub secret: Option<String>,
    /// The events it receives, each once.
    #[cfg_attr(feature = "ssr", schemars(schema_with = "subscribable_events"))]
    pub events: Vec<NotifyEvent>,
    /// Only these services (all when empty).
    #[serde(default)]
    pub services: Vec<String>,
    /// Only this severity and worse (all when none).
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Whether it receives anything.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// The schema of a channel's events: at least one, each once, never `test`.
#[cfg(feature = "ssr")]
fn subscribable_events(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let codes: Vec<&str> = NotifyEvent::subscribable()
        .map(NotifyEvent::as_str)
        .collect();
    schemars::json_schema!({
        "type": "array",
        "minItems": 1,
        "uniqueItems": true,
        "items": {"type": "string", "enum": codes},
        "description": "The events it receives, each once.",
    })
}

impl ChannelInput {
    /// A channel from its form's fields: the kind's code, the ticked events' codes, services
    /// comma-separated, the lowest severity's code (blank: all), whether it is enabled. What
    /// cannot be read is named by field; the rest is checked by [`Self::check`].
    #[expect(clippy::too_many_arguments, reason = "one argument per form field")]
    pub fn from_form(
        kind: &str,
        name: &str,
        url: &str,
        secret: &str,
        events: &[String],
        services: &str,
        min_severity: &str,
        enabled: bool,
    ) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        let kind = kind.parse::<ChannelKind>().unwrap_or_else(|_| {
            errors.push(FieldError {
                field: "kind".into(),
                message: "Choose what kind of channel it is.".into(),
            });
            ChannelKind::Webhook
        });
        let events: Vec<NotifyEvent> = events
            .iter()
            .filter_map(|e| {
                e.parse().ok().or_else(|| {
                    errors.push(FieldError {
                        field: "events".into(),
                        message: format!("{e:?} is not an event Nightwatch sends."),
                    });
                    None
                })
            })
            .collect();
        let min_severity = match min_severity.trim() {
            "" => None,
            s => s.parse::<Severity>().map(Some).unwrap_or_else(|_| {
                errors.push(FieldError {
                    field: "min_severity".into(),
                    message: "Choose a severity, or all.".into(),
                });
                None
            }),
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(Self {
            kind,
            name: name.to_owned(),
            url: url.to_owned(),
            secret: Some(secret.to_owned()).filter(|s| !s.trim().is_empty()),
            events,
            services: services
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            min_severity,
            enabled,
        })
    }

    /// Checks the fields (the network policy is the server's to check); `has_secret` says
    /// whether a secret is stored already (an edit may leave it out).
    pub fn check(&self, has_secret: bool) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let mut push = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            })
        };
        if let Err(e) = super::incident_input::parse_text(&self.name, true, 100) {
            push("name", &e.to_string());
        } else if self.name.contains(['\n', '\r']) {
            push("name", "One line, without line breaks.");
        }
        match url::Url::parse(self.url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            _ => push("url", "A URL starting with http:// or https://."),
        }
        if self.url.len() > 2_000 {
            push("url", "At most 2,000 characters.");
        }
        if self.events.is_empty() {
            push("events", "Choose at least one event.");
        } else if self.events.contains(&NotifyEvent::Test) {
            push(
                "events",
                "A test message is sent with “Send a test”, not subscribed to.",
            );
        } else if self.events.contains(&NotifyEvent::RuleFired) {
            push(
                "events",
                "An alert rule pages the channels it names: choose this channel on the rule.",
            );
        } else if (1..self.events.len()).any(|i| self.events[..i].contains(&self.events[i])) {
            push("events", "Name each event once.");
        }
        if self.services.len() > 50
            || self
                .services
                .iter()
                .any(|s| s.trim().is_empty() || s.len() > 100)
        {
            push(
                "services",
                "At most 50 service names of 1 to 100 characters.",
            );
        }
        let secret = self
            .secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match (self.kind, secret) {
            (ChannelKind::Webhook, Some(s)) if !s.starts_with("whsec_") || s.len() < 30 => push(
                "secret",
                "A Standard Webhooks secret: whsec_ and at least 24 base64 characters.",
            ),
            (kind, None) if kind == ChannelKind::Webhook && !has_secret => {
                push("secret", "A signed webhook needs a secret (whsec_…).")
            }
            (ChannelKind::Slack | ChannelKind::Wecom, Some(_)) => push(
                "secret",
                "This kind signs nothing: its secret is the URL itself.",
            ),
            (_, Some(s)) if s.len() > 200 => push("secret", "At most 200 characters."),
            _ => {}
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(errors))
        }
    }

    /// Whether the channel wants a message about `event` for `service` at `severity`.
    pub fn wants(
        &self,
        event: NotifyEvent,
        service: Option<&str>,
        severity: Option<Severity>,
    ) -> bool {
        self.enabled
            && self.events.contains(&event)
            && (self.services.is_empty()
                || service.is_some_and(|s| self.services.iter().any(|x| x == s)))
            && match (self.min_severity, severity) {
                (Some(min), Some(sev)) => sev <= min,
                (Some(_), None) => true,
                (None, _) => true,
            }
    }
}

code_enum!(
    /// Where a delivery stands.
    DeliveryState {
        /// Waiting to be sent (first or again).
        Pending => "pending", "Pending",
        /// The receiver took it.
        Delivered => "delivered", "Delivered",
        /// No more attempts: it failed for good, or a day of retries ran out.
        Dead => "dead", "Dead",
    }
);

/// Failed attempts in a row after which a channel counts as failing.
pub const FAILING_AFTER: i64 = 3;

/// A channel as an admin reads it: never its secret, and its URL masked (the URL of a Slack,
/// DingTalk or WeCom hook is itself the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ChannelView {
    /// Its id.
    pub id: String,
    /// What it is.
    pub kind: ChannelKind,
    /// Its name.
    pub name: String,
    /// Where messages go, with everything after the host's first path segment hidden.
    pub url: String,
    /// Whether a secret is stored.
    pub has_secret: bool,
    /// The events it receives.
    pub events: Vec<NotifyEvent>,
    /// Only these services (all when empty).
    pub services: Vec<String>,
    /// Only this severity and worse (all when none).
    pub min_severity: Option<Severity>,
    /// Whether it receives anything.
    pub enabled: bool,
    /// How its deliveries go.
    pub health: ChannelHealth,
}

impl ChannelView {
    /// Whether the channel is enabled and keeps failing (a disabled one is paused, not failing).
    pub fn failing(&self) -> bool {
        self.enabled && self.health.failing()
    }
}

/// How a channel's deliveries go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ChannelHealth {
    /// Failed attempts since the last success.
    pub failures: i64,
    /// Deliveries waiting to be sent.
    pub pending: i64,
    /// Deliveries that could not be delivered.
    pub dead: i64,
    /// The last attempt, if any.
    pub last_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The last delivery taken, if any.
    pub last_delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

impl ChannelHealth {
    /// Whether the channel keeps failing: [`FAILING_AFTER`] failed attempts in a row.
    pub fn failing(&self) -> bool {
        self.failures >= FAILING_AFTER
    }
}

/// `url` with its secret parts hidden: the scheme, host and port stay; a path or query, where
/// hooks keep their tokens, is shown as `…`.
pub fn mask_url(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url.trim()) else {
        return "…".to_owned();
    };
    let mut out = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap_or(""));
    if let Some(port) = parsed.port() {
        out.push_str(&format!(":{port}"));
    }
    if parsed.path().trim_matches('/').is_empty() && parsed.query().is_none() {
        out.push('/');
    } else {
        out.push_str("/…");
    }
    out
}

/// One delivery, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DeliveryView {
    /// The message id (the receiver sees it on every attempt).
    pub id: String,
    /// What happened.
    pub event: NotifyEvent,
    /// The message's title.
    pub title: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i64,
    /// When it was written.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it is next tried (pending only).
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was delivered or given up.
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The HTTP status of the last answer.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// What a test message came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TestOutcome {
    /// Whether the receiver took it.
    pub delivered: bool,
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// The start of the answer.
    pub response: String,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// The retry schedule: the wait after failed attempt `n` (1-based), or `None` when the delivery
/// is dead: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then hourly until a day has passed since the
/// first attempt.
pub fn retry_after(attempt: u32, since_first: chrono::Duration) -> Option<chrono::Duration> {
    let wait = match attempt {
        0 | 1 => chrono::Duration::seconds(5),
        2 => chrono::Duration::seconds(30),
        3 => chrono::Duration::minutes(2),
        4 => chrono::Duration::minutes(10),
        5 => chrono::Duration::minutes(30),
        _ => chrono::Duration::hours(1),
    };
    (since_first + wait <= chrono::Duration::hours(24)).then_some(wait)
}

/// Whether an HTTP status is worth retrying: 408, 429 and 5xx are; other 4xx are not.
pub fn retryable(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            id: "msg_01".into(),
            event: NotifyEvent::IncidentDeclared,
            title: "INC-42 declared: Checkout <down> & *slow* (SEV1)".into(),
            text: "Commander: ada".into(),
            link: "https://nightwatch.example/incidents/INC-42".into(),
            severity: Some(Severity::Sev1),
            service: Some("checkout".into()),
            data: json!({"incident": "INC-42"}),
        }
    }

    fn input(kind: ChannelKind, secret: Option<&str>) -> ChannelInput {
        ChannelInput {
            kind,
            name: "#ops".into(),
            url: "https://hooks.example/x".into(),
            secret: secret.map(str::to_owned),
            events: vec![NotifyEvent::IncidentDeclared],
            services: vec![],
            min_severity: None,
            enabled: true,
        }
    }

    #[test]
    fn each_kind_gets_its_own_body_with_the_link_and_text_escaped_for_it() {
        let m = message();
        let webhook = m.body(ChannelKind::Webhook);
        assert_eq!(webhook["type"], "incident.declared");
        assert_eq!(webhook["id"], "msg_01");
        assert_eq!(webhook["data"]["incident"], "INC-42");
        let slack = m.body(ChannelKind::Slack);
        let text = slack["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(text.contains("&lt;down&gt; &amp;"), "{text}");
        assert!(text.contains("<https://nightwatch.example/incidents/INC-42|"));
        assert!(
            slack["text"].as_str().unwrap().contains("INC-42"),
            "a text fallback"
        );
        let feishu = m.body(ChannelKind::Feishu);
        assert_eq!(feishu["msg_type"], "post");
        let ding = m.body(ChannelKind::Dingtalk);
        assert!(
            ding["markdown"]["text"]
                .as_str()
                .unwrap()
                .contains("\\*slow\\*")
        );
        let wecom = m.body(ChannelKind::Wecom);
        assert_eq!(wecom["msgtype"], "markdown");
        assert!(
            wecom["markdown"]["content"]
                .as_str()
                .unwrap()
                .ends_with("(https://nightwatch.example/incidents/INC-42)")
        );
    }

    #[test]
    fn a_chat_platform_answering_a_non_zero_code_failed() {
        assert_eq!(
            accepted(ChannelKind::Feishu, r#"{"code":0,"msg":"success"}"#),
            Ok(())
        );
        assert_eq!(
            accepted(
                ChannelKind::Feishu,
                r#"{"code":19021,"msg":"sign match fail"}"#
            ),
            Err("code 19021: sign match fail".into())
        );
        assert!(
            accepted(
                ChannelKind::Dingtalk,
                r#"{"errcode":310000,"errmsg":"sign not match"}"#
            )
            .is_err()
        );
        assert_eq!(
            accepted(ChannelKind::Wecom, r#"{"errcode":0,"errmsg":"ok"}"#),
            Ok(())
        );
        assert!(accepted(ChannelKind::Wecom, "<html>").is_err());
        assert_eq!(accepted(ChannelKind::Slack, "ok"), Ok(()));
    }

    #[test]
    fn a_channel_names_each_bad_field_and_secrets_fit_their_kind() {
        assert!(input(ChannelKind::Slack, None).check(false).is_ok());
        let field = |r: Result<(), AppError>| match r {
            Err(AppError::Validation(e)) => e[0].field.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(input(ChannelKind::Webhook, None).check(false)),
            "secret"
        );
        assert!(
            input(ChannelKind::Webhook, None).check(true).is_ok(),
            "an edit keeps the stored secret"
        );
        assert_eq!(
            field(input(ChannelKind::Webhook, Some("short")).check(false)),
            "secret"
        );
        assert!(
            input(
                ChannelKind::Webhook,
                Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            )
            .check(false)
            .is_ok()
        );
        assert_eq!(
            field(input(ChannelKind::Slack, Some("x")).check(false)),
            "secret"
        );
        let mut bad = input(ChannelKind::Feishu, Some("s"));
        bad.url = "ftp://x".into();
        assert_eq!(field(bad.check(false)), "url");
        bad.url = "https://x".into();
        bad.events.clear();
        assert_eq!(field(bad.check(false)), "events");
        bad.events = vec![NotifyEvent::IncidentDeclared, NotifyEvent::IncidentDeclared];
        assert_eq!(field(bad.check(false)), "events", "each event once");
        bad.events = vec![NotifyEvent::Test];
        assert_eq!(
            field(bad.check(false)),
            "events",
            "a test is not subscribed to"
        );
        bad.events = vec![NotifyEvent::RuleFired];
        assert_eq!(
            field(bad.check(false)),
            "events",
            "a rule's page goes to the channels the rule names"
        );
        bad.events = vec![NotifyEvent::IncidentDeclared];
        bad.name = "two\nlines".into();
        assert_eq!(field(bad.check(false)), "name");
    }

    #[test]
    fn a_channel_wants_its_events_services_and_severities_only() {
        let mut c = input(ChannelKind::Slack, None);
        c.services = vec!["checkout".into()];
        c.min_severity = Some(Severity::Sev2);
        assert!(c.wants(
            NotifyEvent::IncidentDeclared,
            Some("checkout"),
            Some(Severity::Sev1)
        ));
        assert!(!c.wants(
            NotifyEvent::IncidentDeclared,
            Some("checkout"),
            Some(Severity::Sev3)
        ));
        assert!(!c.wants(
            NotifyEvent::IncidentDeclared,
            Some("payments"),
            Some(Severity::Sev1)
        ));
        assert!(!c.wants(NotifyEvent::RunFinished, Some("checkout"), None));
        c.enabled = false;
        assert!(!c.wants(
            NotifyEvent::IncidentDeclared,
            Some("checkout"),
            Some(Severity::Sev1)
        ));
    }

    #[test]
    fn a_masked_url_keeps_the_host_and_hides_tokens() {
        assert_eq!(
            mask_url("https://hooks.slack.com/services/T00/B00/XXXX"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            mask_url("https://oapi.dingtalk.com/robot/send?access_token=abc"),
            "https://oapi.dingtalk.com/…"
        );
        assert_eq!(
            mask_url("http://10.0.0.5:8080/SECRET"),
            "http://10.0.0.5:8080/…"
        );
        assert_eq!(
            mask_url("http://10.0.0.5:8080//%2FSECRET"),
            "http://10.0.0.5:8080/…"
        );
        assert_eq!(
            mask_url("http://user:pw@hooks.example/"),
            "http://hooks.example/"
        );
        assert_eq!(mask_url("not a url"), "…");
    }

    #[test]
    fn a_channel_fails_after_three_failed_attempts_in_a_row() {
        let health = |failures| ChannelHealth {
            failures,
            ..ChannelHealth::default()
        };
        assert!(!health(2).failing());
        assert!(health(3).failing());
    }

    #[test]
    fn retries_back_off_from_seconds_to_hourly_and_stop_after_a_day() {
        let s = chrono::Duration::seconds;
        let waits: Vec<i64> = (1..=6)
            .map(|n| retry_after(n, s(0)).unwrap().num_seconds())
            .collect();
        assert_eq!(waits, [5, 30, 120, 600, 1_800, 3_600]);
        assert_eq!(
            retry_after(9, chrono::Duration::hours(10)),
            Some(chrono::Duration::hours(1))
        );
        assert_eq!(
            retry_after(30, chrono::Duration::hours(23) + s(1)),
            None,
            "dead after a day"
        );
        assert!(retryable(503) && retryable(429) && retryable(408));
        assert!(!retryable(404) && !retryable(400));
    }
}
