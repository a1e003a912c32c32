//! Alerts from monitoring and the risk events they become (风险事件). Three wire formats arrive:
//! Alertmanager's webhook (and Grafana Alerting's variant of it), Nightwatch's own generic JSON,
//! and PagerDuty's Events API v2. Each is read here into one [`IncomingAlert`]; a risk event is one
//! alert identity (source + fingerprint) from its first firing until it resolves.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::error::{AppError, FieldError};
use crate::model::incident::Severity;
pub use crate::model::matcher::Labels;

/// Most labels (or annotations) one alert may carry.
pub const LABELS_MAX: usize = 64;
/// Longest label value kept, in characters (longer values from a monitor are cut).
pub const LABEL_VALUE_MAX: usize = 1024;
/// Longest annotation kept, in characters.
pub const ANNOTATION_MAX: usize = 16 * 1024;
/// Longest summary kept, in characters.
pub const SUMMARY_MAX: usize = 500;
/// Longest source name or fingerprint.
pub const IDENTITY_MAX: usize = 128;
/// Most alerts in one request.
pub const BATCH_MAX: usize = 5000;

code_enum!(
    /// What an incoming alert says about its alert.
    AlertAction {
        /// It is firing (again).
        Fire => "fire", "Firing",
        /// It stopped.
        Resolve => "resolve", "Resolved",
        /// Someone acknowledged it at the sender (Events API v2 `acknowledge`).
        Acknowledge => "acknowledge", "Acknowledged",
    }
);

code_enum!(
    /// Where a risk event is in its life. `silenced` is not stored: an open or acknowledged
    /// event is reported silenced while a silence or an inhibition rule mutes it.
    RiskStatus {
        /// Firing, nobody has taken it.
        Open => "open", "Open",
        /// Firing, someone is on it.
        Acknowledged => "acknowledged", "Acknowledged",
        /// Firing but muted by a silence or an inhibition rule.
        Silenced => "silenced", "Silenced",
        /// Stopped firing.
        Resolved => "resolved", "Resolved",
    }
);

/// An alert as every format is read into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingAlert {
    /// Which monitor sent it (`alertmanager`, `grafana`, `events_v2`, `inspection` or the
    /// generic form's `source`).
    pub source: String,
    /// Its identity at that source.
    pub fingerprint: String,
    /// Firing, resolved or acknowledged.
    pub action: AlertAction,
    /// Its labels.
    pub labels: Labels,
    /// Its annotations.
    pub annotations: Labels,
    /// One line saying what is wrong.
    pub summary: String,
    /// Its severity on Nightwatch's scale.
    pub severity: Severity,
    /// When it started firing, as the sender says.
    pub starts_at: Option<DateTime<Utc>>,
    /// A link back to the monitor.
    pub url: Option<String>,
}

/// Nightwatch's severity for a monitor's severity word: `critical` is SEV1, `error` SEV2,
/// `warning` SEV3, `info` SEV4, with the usual synonyms (Zabbix, Nagios, Datadog, P1–P5).
pub fn severity_of(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_lowercase().as_str() {
        "critical" | "crit" | "fatal" | "emergency" | "emerg" | "disaster" | "page" | "sev1"
        | "p1" | "alert" => Some(Severity::Sev1),
        "error" | "err" | "major" | "high" | "sev2" | "p2" => Some(Severity::Sev2),
        "warning" | "warn" | "minor" | "average" | "medium" | "sev3" | "p3" => Some(Severity::Sev3),
        "info" | "information" | "informational" | "notice" | "low" | "ok" | "none" | "debug"
        | "sev4" | "p4" | "p5" | "not classified" => Some(Severity::Sev4),
        _ => None,
    }
}

/// An alert's severity from its `severity` label (or `priority`), SEV3 when it has none Nightwatch
/// knows.
pub fn severity_from_labels(labels: &Labels) -> Severity {
    ["severity", "priority", "level"]
        .iter()
        .find_map(|k| labels.get(*k).and_then(|v| severity_of(v)))
        .unwrap_or(Severity::Sev3)
}

/// The service an alert is about: its `service` label, else `job`, else `app`, else none.
pub fn service_of(labels: &Labels) -> Option<String> {
    ["service", "job", "app", "application"]
        .iter()
        .find_map(|k| labels.get(*k))
        .and_then(|v| crate::model::incident_input::parse_label(v).ok())
}

/// A stable fingerprint of a label set, computed as Prometheus computes one (64-bit FNV-1a over
/// each name and value in name order, each followed by the byte 0xff), in 16 hex digits: the
/// same labels always give the same fingerprint, whatever order they arrived in.
pub fn fingerprint(labels: &Labels) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for (name, value) in labels {
        add(name.as_bytes());
        add(&[0xff]);
        add(value.as_bytes());
        add(&[0xff]);
    }
    format!("{hash:016x}")
}

/// Whether `text` holds a control character or one that disguises text (a direction override):
/// an identity with one could not be shown or logged as sent.
fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || crate::model::incident_input::is_disguising(c))
}

/// `text` without control characters, cut to `max` characters (what a monitor sends is kept, not
/// refused, but it cannot break a page or a log line).
pub fn clean(text: &str, max: usize) -> String {
    let mut out: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .filter(|c| !crate::model::incident_input::is_disguising(*c) || *c == '\n')
        .take(max + 1)
        .collect();
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
    }
    out
}

/// Labels as kept: at most [`LABELS_MAX`], names that are not label names dropped, values cut.
fn clean_labels(labels: Labels, max_value: usize) -> Labels {
    labels
        .into_iter()
        .filter(|(k, _)| crate::model::matcher::check_label_name(k).is_ok())
        .take(LABELS_MAX)
        .map(|(k, v)| (k, clean(&v, max_value)))
        .collect()
}

/// The summary of an alert: its `summary` annotation, else `description`, `message`, `title`,
/// else its `alertname`.
fn summary_of(annotations: &Labels, labels: &Labels) -> String {
    let text = ["summary", "description", "message", "title"]
        .iter()
        .find_map(|k| annotations.get(*k).filter(|v| !v.trim().is_empty()))
        .or_else(|| labels.get("alertname"))
        .map_or("Alert", String::as_str);
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or(text);
    let summary = clean(first_line, SUMMARY_MAX);
    // Text made only of control characters cleans to nothing: a page still needs a title.
    if summary.trim().is_empty() {
        "Alert".to_owned()
    } else {
        summary
    }
}

/// An instant a sender wrote, or none for Alertmanager's "zero" time (year 1) and its like.
fn real_instant(at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    at.filter(|t| t.timestamp() > 0)
}

/// A URL kept only when it is http(s) (a link shown on the page).
fn link(url: Option<String>) -> Option<String> {
    url.filter(|u| {
        let u = u.trim();
        (u.starts_with("http://") || u.starts_with("https://")) && u.len() <= 2048
    })
    .map(|u| u.trim().to_owned())
}

/// Alertmanager's webhook payload (version 4), and Grafana Alerting's variant of it (which adds
/// `orgId`, `title`, `state`, `message` and per-alert dashboard links). Unknown fields are
/// ignored: newer senders add some.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerPayload {
    /// `4` from Alertmanager, `1` from Grafana (a number is taken too: it is not used).
    #[serde(default, deserialize_with = "any_text")]
    pub version: Option<String>,
    /// The group's key.
    #[serde(default, deserialize_with = "any_text")]
    pub group_key: Option<String>,
    /// How many alerts the sender left out (its `max_alerts`).
    #[serde(default)]
    pub truncated_alerts: Option<u64>,
    /// `firing` or `resolved` (for the whole group).
    #[serde(default, deserialize_with = "any_text")]
    pub status: Option<String>,
    /// The receiver's name.
    #[serde(default, deserialize_with = "any_text")]
    pub receiver: Option<String>,
    /// Grafana's organisation (present only from Grafana).
    #[serde(default)]
    pub org_id: Option<i64>,
    /// The alerts of the group, each read on its own: one that does not read is reported by its
    /// place and the others are taken.
    #[cfg_attr(feature = "ssr", schemars(schema_with = "lenient_alerts"))]
    pub alerts: Vec<serde_json::Value>,
}

/// The schema of `alerts`: each is an Alertmanager alert, but one that is not is reported in
/// `rejected` rather than refusing the group, so the schema lets any item through.
#[cfg(feature = "ssr")]
fn lenient_alerts(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let alert = generator.subschema_for::<AlertmanagerAlert>().to_value();
    schemars::json_schema!({
        "type": "array",
        "description": "The group's alerts, each an Alertmanager alert. One that cannot be read is left out and named in the answer's `rejected`; the group is refused only when none can be.",
        "items": {"anyOf": [alert, {}]}
    })
}

/// An envelope field the payload does not act on, taken as text whatever its JSON type (a
/// sender writing `"version": 4` must not lose its group).
fn any_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

/// One alert of an Alertmanager (or Grafana) group.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerAlert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Its labels (identify it).
    #[serde(default)]
    pub labels: Labels,
    /// Its annotations (describe it).
    #[serde(default)]
    pub annotations: Labels,
    /// When it started.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// When it ended (year 1 while firing).
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// The rule's page in Prometheus (or Grafana).
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
    /// Its identity (a hash of its labels).
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Grafana: the dashboard's page.
    #[serde(default, rename = "dashboardURL")]
    pub dashboard_url: Option<String>,
    /// Grafana: the panel's page.
    #[serde(default, rename = "panelURL")]
    pub panel_url: Option<String>,
    /// Grafana: the values that fired it, as text.
    #[serde(default)]
    pub value_string: Option<String>,
}

impl AlertmanagerPayload {
    /// The payload's alerts, read, with what is wrong with those that could not be (named by
    /// their place, `alerts[3].status`). A group is not refused for one bad alert: the sender
    /// would not retry a 4xx, and its good alerts would be lost; it is refused when none is
    /// usable. A Grafana payload is told by its `orgId`.
    #[cfg(feature = "ssr")]
    pub fn alerts(self) -> Result<(Vec<IncomingAlert>, Vec<FieldError>), AppError> {
        let source = if self.org_id.is_some() {
            "grafana"
        } else {
            "alertmanager"
        };
        let mut errors = Vec::new();
        let mut out = Vec::with_capacity(self.alerts.len());
        if self.alerts.len() > BATCH_MAX {
            return Err(AppError::field(
                "alerts",
                format!("Send at most {BATCH_MAX} alerts at once."),
            ));
        }
        for (i, raw) in self.alerts.into_iter().enumerate() {
            let alert = match serde_path_to_error::deserialize::<_, AlertmanagerAlert>(raw) {
                Ok(alert) => alert,
                Err(e) => {
                    let path = e.path().to_string();
                    errors.push(FieldError {
                        field: if path == "." {
                            format!("alerts[{i}]")
                        } else {
                            format!("alerts[{i}].{path}")
                        },
                        message: e.into_inner().to_string(),
                    });
                    continue;
                }
            };
            let action = match alert.status.trim() {
                "firing" => AlertAction::Fire,
                "resolved" => AlertAction::Resolve,
                other => {
                    errors.push(FieldError {
                        field: format!("alerts[{i}].status"),
                        message: format!("{other:?} is neither firing nor resolved."),
                    });
                    continue;
                }
            };
            for name in alert.labels.keys() {
                if let Err(message) = crate::model::matcher::check_label_name(name) {
                    errors.push(FieldError {
                        field: format!("alerts[{i}].labels.{name}"),
                        message: format!("{message} This label was dropped; the alert was kept."),
                    });
                }
            }
            let labels = clean_labels(alert.labels, LABEL_VALUE_MAX);
            if labels.is_empty() {
                errors.push(FieldError {
                    field: format!("alerts[{i}].labels"),
                    message: "An alert needs at least one label (alertname).".into(),
                });
                continue;
            }
            let mut annotations = clean_labels(alert.annotations, ANNOTATION_MAX);
            if let Some(values) = alert.value_string.filter(|v| !v.trim().is_empty()) {
                annotations
                    .entry("values".into())
                    .or_insert_with(|| clean(&values, ANNOTATION_MAX));
            }
            for (key, url) in [
                ("dashboard_url", alert.dashboard_url),
                ("panel_url", alert.panel_url),
            ] {
                if let Some(url) = link(url) {
                    annotations.entry(key.into()).or_insert(url);
                }
            }
            let fingerprint = alert
                .fingerprint
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty() && f.len() <= IDENTITY_MAX && !has_control(f))
                .unwrap_or_else(|| fingerprint(&labels));
            out.push(IncomingAlert {
                source: source.to_owned(),
                fingerprint,
                action,
                summary: summary_of(&annotations, &labels),
                severity: severity_from_labels(&labels),
                starts_at: real_instant(alert.starts_at),
                url: link(alert.generator_url),
                labels,
                annotations,
            });
        }
        if out.is_empty() && !errors.is_empty() {
            Err(AppError::Validation(errors))
        } else {
            Ok((out, errors))
        }
    }
}

code_enum!(
    /// A generic alert's state.
    GenericStatus {
        /// Firing.
        Firing => "firing", "Firing",
        /// Stopped.
        Resolved => "resolved", "Resolved",
    }
);

/// Sources the generic form may not claim: each names alerts that arrive by their own route (and
/// an inspection's event must only ever be raised and resolved by its runs).
pub const RESERVED_SOURCES: [&str; 4] = ["alertmanager", "grafana", "events_v2", "inspection"];

/// Nightwatch's own alert form, for any monitor or script: one of these, or a list.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GenericAlert {
    /// The monitor sending it (`zabbix`, `nagios`, `cron-check`…): letters, digits, `.-_`.
    pub source: String,
    /// Its identity at that source; a hash of its sorted labels when left out.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// `firing` (the default) or `resolved`.
    #[serde(default)]
    pub status: Option<GenericStatus>,
    /// Labels that identify it (`alertname`, `service`, `instance`…).
    #[serde(default)]
    pub labels: Labels,
    /// Labels that describe it.
    #[serde(default)]
    pub annotations: Labels,
    /// One line saying what is wrong (default: the `summary` annotation, else `alertname`).
    #[serde(default)]
    pub summary: Option<String>,
    /// `critical`, `error`, `warning`, `info` (or `sev1`…`sev4`); default: the `severity`
    /// label, else warning.
    #[serde(default)]
    pub severity: Option<String>,
    /// When it started firing.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// When it stopped.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// A link back to the monitor (http or https).
    #[serde(default)]
    pub url: Option<String>,
}

impl GenericAlert {
    /// Reads the alert; what is wrong is a `Validation` error on `{prefix}{field}`.
    pub fn read(self, prefix: &str) -> Result<IncomingAlert, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut push = |field: &str, message: String| {
            errors.push(FieldError {
                field: format!("{prefix}{field}"),
                message,
            })
        };
        let source = self.source.trim().to_ascii_lowercase();
        if source.is_empty()
            || source.len() > 64
            || !source
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            push(
                "source",
                "Name the monitor with 1 to 64 letters, digits and . - _.".into(),
            );
        } else if RESERVED_SOURCES.contains(&source.as_str()) {
            push(
                "source",
                format!(
                    "“{source}” is Nightwatch's own name for alerts it receives another way: name your monitor differently."
                ),
            );
        }
        if self.labels.len() > LABELS_MAX {
            push("labels", format!("Send at most {LABELS_MAX} labels."));
        }
        if self.annotations.len() > LABELS_MAX {
            push(
                "annotations",
                format!("Send at most {LABELS_MAX} annotations."),
            );
        }
        for (name, value) in &self.labels {
            if let Err(m) = crate::model::matcher::check_label_name(name) {
                push(&format!("labels.{name}"), m);
            } else if value.chars().count() > LABEL_VALUE_MAX {
                push(
                    &format!("labels.{name}"),
                    format!("A label value has at most {LABEL_VALUE_MAX} characters."),
                );
            }
        }
        for name in self.annotations.keys() {
            if let Err(m) = crate::model::matcher::check_label_name(name) {
                push(&format!("annotations.{name}"), m);
            }
        }
        let fingerprint = match self.fingerprint.as_deref().map(str::trim) {
            Some(f) if f.is_empty() || f.len() > IDENTITY_MAX || has_control(f) => {
                push(
                    "fingerprint",
                    format!(
                        "A fingerprint has 1 to {IDENTITY_MAX} characters, none of them control characters."
                    ),
                );
                String::new()
            }
            Some(f) => f.to_owned(),
            None if self.labels.is_empty() => {
                push(
                    "labels",
                    "Send labels (at least alertname) or a fingerprint: one of them identifies the alert."
                        .into(),
                );
                String::new()
            }
            None => fingerprint(&self.labels),
        };
        let severity = match self.severity.as_deref() {
            Some(word) => match severity_of(word) {
                Some(s) => Some(s),
                None => {
                    push(
                        "severity",
                        format!(
                            "{word:?} is not a severity: use critical, error, warning or info."
                        ),
                    );
                    None
                }
            },
            None => None,
        };
        if let Some(url) = &self.url
            && link(Some(url.clone())).is_none()
        {
            push("url", "Give an http or https link.".into());
        }
        let summary = match self.summary.as_deref() {
            Some(s) => match crate::model::incident_input::parse_text(s, true, SUMMARY_MAX) {
                Ok(s) => Some(s),
                Err(e) => {
                    push("summary", e.to_string());
                    None
                }
            },
            None => None,
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let labels = clean_labels(self.labels, LABEL_VALUE_MAX);
        let annotations = clean_labels(self.annotations, ANNOTATION_MAX);
        Ok(IncomingAlert {
            action: match self.status {
                Some(GenericStatus::Resolved) => AlertAction::Resolve,
                _ => AlertAction::Fire,
            },
            summary: summary.unwrap_or_else(|| summary_of(&annotations, &labels)),
            severity: severity.unwrap_or_else(|| severity_from_labels(&labels)),
            starts_at: real_instant(self.starts_at),
            url: link(self.url),
            source,
            fingerprint,
            labels,
            annotations,
        })
    }
}

code_enum!(
    /// What an Events API v2 event asks.
    EventAction {
        /// Open (or update) an alert.
        Trigger => "trigger", "Trigger",
        /// Someone took it.
        Acknowledge => "acknowledge", "Acknowledge",
        /// It is over.
        Resolve => "resolve", "Resolve",
    }
);

code_enum!(
    /// Events API v2 severities.
    EventSeverity {
        /// SEV1.
        Critical => "critical", "Critical",
        /// SEV2.
        Error => "error", "Error",
        /// SEV3.
        Warning => "warning", "Warning",
        /// SEV4.
        Info => "info", "Info",
    }
);

/// A PagerDuty Events API v2 event, so that anything able to page PagerDuty (Zabbix, Nagios,
/// Datadog…) can page Nightwatch. `routing_key` is a Nightwatch API token.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EventsV2 {
    /// A Nightwatch API token (instead of an Authorization header).
    #[serde(default)]
    pub routing_key: Option<String>,
    /// `trigger`, `acknowledge` or `resolve`.
    pub event_action: EventAction,
    /// The alert's identity; made from the payload when a trigger leaves it out.
    #[serde(default)]
    pub dedup_key: Option<String>,
    /// What is wrong (required to trigger).
    #[serde(default)]
    pub payload: Option<EventsV2Payload>,
    /// The monitoring tool's name.
    #[serde(default)]
    pub client: Option<String>,
    /// A link to the monitoring tool.
    #[serde(default)]
    pub client_url: Option<String>,
}

/// The `payload` of an Events API v2 trigger.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EventsV2Payload {
    /// One line saying what is wrong.
    pub summary: String,
    /// The affected system (host name, say).
    pub source: String,
    /// `critical`, `error`, `warning` or `info`.
    pub severity: EventSeverity,
    /// When it was detected.
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    /// The affected part of the system.
    #[serde(default)]
    pub component: Option<String>,
    /// A grouping of components (a service, say).
    #[serde(default)]
    pub group: Option<String>,
    /// The kind of event.
    #[serde(default)]
    pub class: Option<String>,
    /// Anything else, shown as annotations.
    #[serde(default)]
    pub custom_details: Option<serde_json::Value>,
}

impl EventsV2 {
    /// Reads the event.
    pub fn read(self) -> Result<IncomingAlert, AppError> {
        let dedup = self
            .dedup_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if let Some(key) = dedup
            && (key.len() > 255 || has_control(key))
        {
            return Err(AppError::field(
                "dedup_key",
                "A dedup_key has at most 255 characters, none of them control characters.",
            ));
        }
        let action = match self.event_action {
            EventAction::Trigger => AlertAction::Fire,
            EventAction::Acknowledge => AlertAction::Acknowledge,
            EventAction::Resolve => AlertAction::Resolve,
        };
        let Some(payload) = self.payload else {
            return match (action, dedup) {
                (AlertAction::Fire, _) => Err(AppError::field(
                    "payload",
                    "A trigger needs a payload with summary, source and severity.",
                )),
                (_, None) => Err(AppError::field(
                    "dedup_key",
                    "Say which alert to acknowledge or resolve: its dedup_key.",
                )),
                (_, Some(key)) => Ok(IncomingAlert {
                    source: "events_v2".into(),
                    fingerprint: key.to_owned(),
                    action,
                    labels: Labels::new(),
                    annotations: Labels::new(),
                    summary: String::new(),
                    severity: Severity::Sev3,
                    starts_at: None,
                    url: None,
                }),
            };
        };
        let summary = crate::model::incident_input::parse_text(&payload.summary, true, 1024)
            .map_err(|e| AppError::field("payload.summary", e.to_string()))?;
        let mut labels = Labels::new();
        labels.insert("source".into(), clean(&payload.source, LABEL_VALUE_MAX));
        for (name, value) in [
            ("component", payload.component),
            ("group", payload.group),
            ("class", payload.class),
            ("client", self.client),
        ] {
            if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
                labels.insert(name.into(), clean(&value, LABEL_VALUE_MAX));
            }
        }
        labels.insert("severity".into(), payload.severity.as_str().into());
        let mut annotations = Labels::new();
        if let Some(serde_json::Value::Object(details)) = payload.custom_details {
            for (name, value) in details.into_iter().take(LABELS_MAX) {
                let text = match value {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                let name: String = name
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                if crate::model::matcher::check_label_name(&name).is_ok() {
                    annotations.insert(name, clean(&text, ANNOTATION_MAX));
                }
            }
        }
        let fingerprint = match dedup {
            Some(key) => key.to_owned(),
            None => {
                let mut identity = labels.clone();
                identity.insert("summary".into(), summary.clone());
                fingerprint(&identity)
            }
        };
        Ok(IncomingAlert {
            source: "events_v2".into(),
            fingerprint,
            action,
            summary: clean(&summary, SUMMARY_MAX),
            severity: match payload.severity {
                EventSeverity::Critical => Severity::Sev1,
                EventSeverity::Error => Severity::Sev2,
                EventSeverity::Warning => Severity::Sev3,
                EventSeverity::Info => Severity::Sev4,
            },
            starts_at: real_instant(payload.timestamp),
            url: link(self.client_url),
            labels,
            annotations,
        })
    }
}

/// A risk event as pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RiskEvent {
    /// Its number (`RISK-12` on pages).
    pub id: i64,
    /// Open, acknowledged, silenced or resolved.
    pub status: RiskStatus,
    /// The monitor that sent it.
    pub source: String,
    /// Its identity at that source.
    pub fingerprint: String,
    /// Its labels.
    pub labels: Labels,
    /// Its annotations, as last received.
    pub annotations: Labels,
    /// One line saying what is wrong.
    pub summary: String,
    /// Its severity.
    pub severity: Severity,
    /// The service it is about (from its `service` or `job` label), if any.
    pub service: Option<String>,
    /// How many times it was received in this occurrence.
    pub count: i64,
    /// When it was first received.
    pub first_seen: DateTime<Utc>,
    /// When it was last received.
    pub last_seen: DateTime<Utc>,
    /// When it stopped firing.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who acknowledged it, when someone did.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The incident it is linked to (`INC-7`).
    pub incident: Option<String>,
    /// The silence muting it, if one does.
    pub silenced_by: Option<String>,
    /// The event whose firing mutes it (an inhibition rule), if one does.
    pub inhibited_by: Option<i64>,
    /// A link back to the monitor.
    pub url: Option<String>,
}

/// A risk event's number as written in a URL or a form: `RISK-7` or `7`.
pub fn parse_risk_number(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let digits = raw
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("RISK-"))
        .map_or(raw, |_| &raw[5..]);
    digits.parse::<i64>().ok().filter(|n| *n > 0)
}

impl RiskEvent {
    /// Its name on pages: `RISK-12`.
    pub fn name(&self) -> String {
        format!("RISK-{}", self.id)
    }

    /// The `alertname` label, else the summary.
    pub fn alertname(&self) -> &str {
        self.labels
            .get("alertname")
            .map_or(self.summary.as_str(), String::as_str)
    }
}

/// How many unresolved events each tab of the board holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RiskCounts {
    /// Firing, not taken, not muted.
    pub open: i64,
    /// Firing and taken.
    pub acknowledged: i64,
    /// Firing but muted.
    pub silenced: i64,
}

impl RiskCounts {
    /// The count of a tab (none for resolved: it only grows).
    pub fn of(&self, status: RiskStatus) -> Option<i64> {
        match status {
            RiskStatus::Open => Some(self.open),
            RiskStatus::Acknowledged => Some(self.acknowledged),
            RiskStatus::Silenced => Some(self.silenced),
            RiskStatus::Resolved => None,
        }
    }
}

/// The risk board: one tab's events and the counts of all tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskBoard {
    /// The events of the tab asked for.
    pub events: Vec<RiskEvent>,
    /// Every tab's count.
    pub counts: RiskCounts,
    /// Whether the list was cut at its cap.
    pub capped: bool,
    /// What changes whenever any event changes (the page polls it to know when to reload).
    pub stamp: String,
    /// When it was read.
    pub as_of: DateTime<Utc>,
}

/// The events of one service on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceGroup {
    /// The service (`no service` for events without one).
    pub service: String,
    /// Its events by alert name.
    pub alerts: Vec<AlertGroup>,
}

/// The events of one alert name within a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertGroup {
    /// The alert's name.
    pub name: String,
    /// Its events.
    pub events: Vec<RiskEvent>,
}

/// Events grouped as the board shows them: by service, then by alert name, in the order the
/// events come (most severe first).
pub fn group_events(events: Vec<RiskEvent>) -> Vec<ServiceGroup> {
    let mut groups: Vec<ServiceGroup> = Vec::new();
    for e in events {
        let service = e.service.clone().unwrap_or_else(|| "no service".to_owned());
        let name = e.alertname().to_owned();
        let at = match groups.iter().position(|g| g.service == service) {
            Some(i) => i,
            None => {
                groups.push(ServiceGroup {
                    service,
                    alerts: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let alerts = &mut groups[at].alerts;
        match alerts.iter_mut().find(|a| a.name == name) {
            Some(group) => group.events.push(e),
            None => alerts.push(AlertGroup {
                name,
                events: vec![e],
            }),
        }
    }
    groups
}

/// Filters of the risk board and `GET /api/v1/risk-events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RiskQuery {
    /// `open` (the default), `acknowledged`, `silenced` or `resolved`.
    #[serde(default)]
    pub status: Option<String>,
    /// Only events about this service.
    #[serde(default)]
    pub service: Option<String>,
    /// Only events of this severity (`sev1`…`sev4`).
    #[serde(default)]
    pub severity: Option<String>,
    /// Only events from this source (`alertmanager`, `inspection`…).
    #[serde(default)]
    pub source: Option<String>,
    /// Words in the summary or labels.
    #[serde(default)]
    pub q: Option<String>,
}

/// A checked [`RiskQuery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFilter {
    /// Which tab.
    pub status: RiskStatus,
    /// Service.
    pub service: Option<String>,
    /// Severity.
    pub severity: Option<Severity>,
    /// Source.
    pub source: Option<String>,
    /// Search words (lower case).
    pub q: Option<String>,
}

impl RiskQuery {
    /// Checks the filters; a bad one is a `Validation` error naming it.
    pub fn check(&self) -> Result<RiskFilter, AppError> {
        let blank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let status = match blank(&self.status) {
            Some(s) => AppError::parse_field("status", &s)?,
            None => RiskStatus::Open,
        };
        let severity = match blank(&self.severity) {
            Some(s) => Some(AppError::parse_field("severity", &s)?),
            None => None,
        };
        let q = blank(&self.q).map(|q| q.to_lowercase());
        if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(AppError::field("q", "Search for at most 200 characters."));
        }
        Ok(RiskFilter {
            status,
            service: blank(&self.service).map(|s| s.to_ascii_lowercase()),
            severity,
            source: blank(&self.source).map(|s| s.to_ascii_lowercase()),
            q,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::matcher::labels;

    #[test]
    fn a_fingerprint_does_not_depend_on_label_order() {
        let a = labels(&[("alertname", "X"), ("instance", "a")]);
        let mut b = Labels::new();
        b.insert("instance".into(), "a".into());
        b.insert("alertname".into(), "X".into());
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_eq!(fingerprint(&a).len(), 16);
    }

    #[test]
    fn a_fingerprint_tells_names_from_values() {
        assert_ne!(
            fingerprint(&labels(&[("ab", "c")])),
            fingerprint(&labels(&[("a", "bc")]))
        );
        assert_ne!(
            fingerprint(&labels(&[("a", "1")])),
            fingerprint(&labels(&[("a", "2")]))
        );
    }

    #[test]
    fn the_fingerprint_of_no_labels_is_fnv_offset() {
        // FNV-1a of nothing is its offset basis, as Prometheus's emptyLabelSignature.
        assert_eq!(fingerprint(&Labels::new()), "cbf29ce484222325");
    }

    #[test]
    fn monitor_severities_map_onto_nightwatch_severities() {
        assert_eq!(severity_of("critical"), Some(Severity::Sev1));
        assert_eq!(severity_of("Disaster"), Some(Severity::Sev1));
        assert_eq!(severity_of("error"), Some(Severity::Sev2));
        assert_eq!(severity_of("warning"), Some(Severity::Sev3));
        assert_eq!(severity_of("info"), Some(Severity::Sev4));
        assert_eq!(severity_of("banana"), None);
        assert_eq!(severity_from_labels(&Labels::new()), Severity::Sev3);
    }

    #[test]
    fn the_service_comes_from_the_service_label_then_job() {
        assert_eq!(
            service_of(&labels(&[("job", "node"), ("service", "Payments")])),
            Some("payments".into())
        );
        assert_eq!(service_of(&labels(&[("job", "api")])), Some("api".into()));
        assert_eq!(service_of(&labels(&[("instance", "x")])), None);
    }

    const ALERTMANAGER: &str = r#"{
      "receiver": "nightwatch", "status": "firing", "version": "4",
      "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0,
      "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {}, "commonAnnotations": {},
      "externalURL": "http://am:9093",
      "alerts": [
        {"status": "firing", "labels": {"alertname": "HighLatency", "service": "api", "severity": "critical", "instance": "web-1"},
         "annotations": {"summary": "p99 over 2 s\nfor 10 minutes"},
         "startsAt": "2026-11-29T01:02:03.123Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prom:9090/graph?g0.expr=x", "fingerprint": "c6d2a1e0b1c2d3e4"},
        {"status": "resolved", "labels": {"alertname": "HighLatency", "instance": "web-2"},
         "annotations": {}, "startsAt": "2026-11-29T01:00:00Z", "endsAt": "2026-11-29T01:05:00Z",
         "generatorURL": "javascript:alert(1)", "fingerprint": "0123456789abcdef"}
      ]
    }"#;

    #[test]
    fn an_alertmanager_payload_reads_into_alerts() {
        let payload: AlertmanagerPayload = serde_json::from_str(ALERTMANAGER).unwrap();
        let (alerts, _) = payload.alerts().unwrap();
        assert_eq!(alerts.len(), 2);
        let a = &alerts[0];
        assert_eq!(a.source, "alertmanager");
        assert_eq!(a.fingerprint, "c6d2a1e0b1c2d3e4");
        assert_eq!(a.action, AlertAction::Fire);
        assert_eq!(a.summary, "p99 over 2 s");
        assert_eq!(a.severity, Severity::Sev1);
        assert!(a.starts_at.is_some());
        assert_eq!(a.url.as_deref(), Some("http://prom:9090/graph?g0.expr=x"));
        assert_eq!(alerts[1].action, AlertAction::Resolve);
        assert_eq!(alerts[1].summary, "HighLatency");
        assert_eq!(alerts[1].url, None, "only http(s) links are kept");
    }

    #[test]
    fn a_grafana_payload_is_told_by_its_org_id() {
        let json = r#"{"receiver":"nw","status":"firing","orgId":1,"version":"1","title":"[FIRING:1]","state":"alerting","message":"x",
          "alerts":[{"status":"firing","labels":{"alertname":"DiskFull","grafana_folder":"infra"},"annotations":{},
          "startsAt":"2026-11-29T01:02:03Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"https://grafana/alerting/1/edit",
          "fingerprint":"8d2a","silenceURL":"https://grafana/silence","dashboardURL":"https://grafana/d/abc","panelURL":"","values":{"B":95.5},"valueString":"[ var='B' value=95.5 ]"}]}"#;
        let payload: AlertmanagerPayload = serde_json::from_str(json).unwrap();
        let (alerts, _) = payload.alerts().unwrap();
        assert_eq!(alerts[0].source, "grafana");
        assert_eq!(
            alerts[0].annotations["dashboard_url"],
            "https://grafana/d/abc"
        );
        assert!(alerts[0].annotations["values"].contains("95.5"));
    }

    #[test]
    fn an_alert_with_an_unknown_status_is_refused_by_its_place() {
        let json = r#"{"alerts":[{"status":"exploded","labels":{"a":"b"}}]}"#;
        let payload: AlertmanagerPayload = serde_json::from_str(json).unwrap();
        let err = payload.alerts().unwrap_err();
        assert!(err.field_message("alerts[0].status").is_some());
        let json = r#"{"alerts":[{"status":"firing","labels":{"a":"b"}},{"status":"exploded","labels":{"a":"c"}}]}"#;
        let payload: AlertmanagerPayload = serde_json::from_str(json).unwrap();
        let (good, bad) = payload.alerts().unwrap();
        assert_eq!(good.len(), 1, "the good alert of a group is kept");
        assert_eq!(bad[0].field, "alerts[1].status");
    }

    #[test]
    fn a_generic_alert_without_a_fingerprint_is_identified_by_its_labels() {
        let alert: GenericAlert = serde_json::from_str(
            r#"{"source":"Zabbix","labels":{"alertname":"CPU","host":"db1"},"severity":"high"}"#,
        )
        .unwrap();
        let read = alert.read("").unwrap();
        assert_eq!(read.source, "zabbix");
        assert_eq!(
            read.fingerprint,
            fingerprint(&labels(&[("alertname", "CPU"), ("host", "db1")]))
        );
        assert_eq!(read.severity, Severity::Sev2);
        assert_eq!(read.summary, "CPU");
        assert_eq!(read.action, AlertAction::Fire);
    }

    #[test]
    fn a_generic_alert_names_each_bad_field() {
        let alert: GenericAlert = serde_json::from_str(
            r#"{"source":"a b","labels":{"9x":"v"},"severity":"banana","url":"ftp://x"}"#,
        )
        .unwrap();
        let errors = alert.read("[2].").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"[2].source"));
        assert!(fields.contains(&"[2].labels.9x"));
        assert!(fields.contains(&"[2].severity"));
        assert!(fields.contains(&"[2].url"));
    }

    #[test]
    fn the_generic_form_may_not_claim_a_source_that_arrives_another_way() {
        for source in ["inspection", "Alertmanager", " grafana ", "events_v2"] {
            let alert: GenericAlert = serde_json::from_value(
                serde_json::json!({"source": source, "labels": {"alertname": "X"}}),
            )
            .unwrap();
            let errors = alert.read("").unwrap_err();
            assert_eq!(errors[0].field, "source", "{source}");
        }
    }

    #[test]
    fn a_generic_alert_needs_labels_or_a_fingerprint() {
        let alert: GenericAlert = serde_json::from_str(r#"{"source":"cron"}"#).unwrap();
        assert!(alert.read("").is_err());
    }

    #[test]
    fn an_events_v2_trigger_reads_its_payload() {
        let event: EventsV2 = serde_json::from_str(
            r#"{"routing_key":"k","event_action":"trigger","dedup_key":"srv01/disk",
            "payload":{"summary":"Disk full on srv01","source":"srv01","severity":"critical","component":"disk","group":"storage",
            "custom_details":{"free bytes":0,"mount":"/var"}},"client":"Zabbix","client_url":"https://zabbix/"}"#,
        )
        .unwrap();
        let a = event.read().unwrap();
        assert_eq!(a.source, "events_v2");
        assert_eq!(a.fingerprint, "srv01/disk");
        assert_eq!(a.severity, Severity::Sev1);
        assert_eq!(a.labels["component"], "disk");
        assert_eq!(a.annotations["free_bytes"], "0");
        assert_eq!(a.annotations["mount"], "/var");
    }

    #[test]
    fn an_events_v2_resolve_needs_only_its_dedup_key() {
        let event: EventsV2 =
            serde_json::from_str(r#"{"event_action":"resolve","dedup_key":"srv01/disk"}"#).unwrap();
        let a = event.read().unwrap();
        assert_eq!(a.action, AlertAction::Resolve);
        let event: EventsV2 = serde_json::from_str(r#"{"event_action":"resolve"}"#).unwrap();
        assert!(
            event
                .read()
                .unwrap_err()
                .field_message("dedup_key")
                .is_some()
        );
        let event: EventsV2 = serde_json::from_str(r#"{"event_action":"trigger"}"#).unwrap();
        assert!(event.read().unwrap_err().field_message("payload").is_some());
        let event: EventsV2 =
            serde_json::from_str(r#"{"event_action":"resolve","dedup_key":"a\u0007b"}"#).unwrap();
        assert!(
            event
                .read()
                .unwrap_err()
                .field_message("dedup_key")
                .is_some()
        );
    }

    #[test]
    fn monitor_text_loses_control_characters_and_is_cut() {
        assert_eq!(clean("a\u{0}b\u{202e}c", 10), "a bc");
        assert_eq!(clean("abcdef", 4), "abc…");
    }

    #[test]
    fn the_risk_query_defaults_to_open_and_names_a_bad_filter() {
        assert_eq!(
            RiskQuery::default().check().unwrap().status,
            RiskStatus::Open
        );
        let bad = RiskQuery {
            status: Some("burning".into()),
            ..RiskQuery::default()
        };
        assert!(bad.check().unwrap_err().field_message("status").is_some());
    }
}
