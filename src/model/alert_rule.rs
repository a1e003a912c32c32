//! Alert rules: what a risk event that is not muted does. Rules are ordered; the first enabled
//! rule whose matchers match an event decides for it: declare an incident (or link the event to
//! the open incident the same rule declared for the same service), and/or run a self-recovery or
//! emergency plan, once the event has been received often enough or fired long enough.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::alert::RiskEvent;
use crate::model::error::{AppError, FieldError};
use crate::model::incident::Severity;
use crate::model::matcher::{MATCHERS_MAX, Matcher};

/// Longest a rule may wait for an event to keep firing, in minutes (a week).
pub const AFTER_MINUTES_MAX: u32 = 7 * 24 * 60;
/// Most receipts a rule may wait for.
pub const AFTER_OCCURRENCES_MAX: u32 = 10_000;
/// Longest plan cooldown, in minutes (a day).
pub const COOLDOWN_MAX: u32 = 24 * 60;
/// Most channels a rule may page.
pub const NOTIFY_MAX: usize = 10;

/// A rule as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AlertRule {
    /// Its id.
    pub id: String,
    /// Its place in the order (lower first).
    pub position: i64,
    /// A name to recognise it by.
    pub name: String,
    /// Every one of these must match the event's labels.
    pub matchers: Vec<Matcher>,
    /// An alert's `severity` label value → the declared incident's severity (others keep the
    /// event's own severity).
    pub severity_map: BTreeMap<String, Severity>,
    /// Whether it declares an incident (or links to the open one it declared for the service).
    pub declare_incident: bool,
    /// Act once the event was received this many times (1: at once).
    pub after_occurrences: u32,
    /// Act once the event has fired this many minutes (0: at once).
    pub after_minutes_firing: u32,
    /// The self-recovery or emergency plan to run (`PLAN-3`'s number), if any.
    pub plan: Option<i64>,
    /// Minutes before the plan may run again because of an alert.
    pub cooldown_minutes: u32,
    /// The notification channels it pages when it acts (their ids), whatever they subscribe to.
    pub notify: Vec<String>,
    /// Those channels' names, in the same order.
    pub notify_names: Vec<String>,
    /// Whether it is applied.
    pub enabled: bool,
}

/// A rule as written in a form or an API request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// A name to recognise it by.
    pub name: String,
    /// Every one of these must match.
    pub matchers: Vec<Matcher>,
    /// Severity label value → incident severity.
    #[serde(default)]
    pub severity_map: BTreeMap<String, Severity>,
    /// Declare (or link to) an incident.
    #[serde(default)]
    pub declare_incident: bool,
    /// Receipts before acting (default 1).
    #[serde(default = "one")]
    pub after_occurrences: u32,
    /// Minutes firing before acting (default 0).
    #[serde(default)]
    pub after_minutes_firing: u32,
    /// A plan to run (its number).
    #[serde(default)]
    pub plan: Option<i64>,
    /// Minutes before the plan may run again because of an alert (default 30).
    #[serde(default = "thirty")]
    pub cooldown_minutes: u32,
    /// Notification channels to page when it acts (their ids, each once), whatever they
    /// subscribe to: `alert_rule.fired` with the event, the rule and the incident.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(length(max = 10), extend("uniqueItems" = true)))]
    pub notify: Vec<String>,
    /// Applied (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Its place in the order, 0 to 1,000,000 (default: last).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schemars(range(min = 0, max = 1_000_000)))]
    pub position: Option<i64>,
}

/// The largest position a rule may be given (new rules go 10 after the last).
pub const POSITION_MAX: i64 = 1_000_000;

fn one() -> u32 {
    1
}

fn thirty() -> u32 {
    30
}

fn yes() -> bool {
    true
}

impl RuleInput {
    /// Checks everything but the regular expressions' syntax (checked where compiled).
    pub fn check(&self) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let mut push = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.to_owned(),
                message,
            })
        };
        if let Err(e) = crate::model::incident_input::parse_text(&self.name, true, 100) {
            push("name", e.to_string());
        } else if self
            .name
            .chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            // It heads every message the rule sends, and a form's one-line field would drop
            // the break on the next edit.
            push("name", "One line, without line breaks or tabs.".into());
        }
        if self.matchers.is_empty() {
            push(
                "matchers",
                "Give at least one matcher: a rule for every alert is rarely meant.".into(),
            );
        } else if self.matchers.len() > MATCHERS_MAX {
            push("matchers", format!("Use at most {MATCHERS_MAX} matchers."));
        }
        for (i, m) in self.matchers.iter().enumerate() {
            if let Err(message) = m.check() {
                push(&format!("matchers[{i}]"), message);
            }
        }
        if !self.declare_incident && self.plan.is_none() && self.notify.is_empty() {
            push(
                "declare_incident",
                "Choose what the rule does: declare an incident, run a plan, page channels, or several."
                    .into(),
            );
        }
        if self.notify.len() > NOTIFY_MAX {
            push("notify", format!("Page at most {NOTIFY_MAX} channels."));
        } else if (1..self.notify.len()).any(|i| self.notify[..i].contains(&self.notify[i])) {
            push("notify", "Name each channel once.".into());
        }
        if self
            .position
            .is_some_and(|p| !(0..=POSITION_MAX).contains(&p))
        {
            push("position", format!("Give 0 to {POSITION_MAX}."));
        }
        if !(1..=AFTER_OCCURRENCES_MAX).contains(&self.after_occurrences) {
            push(
                "after_occurrences",
                format!("Give 1 to {AFTER_OCCURRENCES_MAX}."),
            );
        }
        if self.after_minutes_firing > AFTER_MINUTES_MAX {
            push(
                "after_minutes_firing",
                format!("Give 0 to {AFTER_MINUTES_MAX} minutes."),
            );
        }
        if self.cooldown_minutes > COOLDOWN_MAX {
            push(
                "cooldown_minutes",
                format!("Give 0 to {COOLDOWN_MAX} minutes."),
            );
        }
        if self.severity_map.len() > 16 || self.severity_map.keys().any(|k| k.len() > 64) {
            push(
                "severity_map",
                "Map at most 16 severity words of up to 64 characters.".into(),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

impl AlertRule {
    /// Whether an event received `count` times since `first_seen` is due for this rule at `now`.
    pub fn is_due(&self, count: i64, first_seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        count >= i64::from(self.after_occurrences)
            && now - first_seen >= chrono::Duration::minutes(i64::from(self.after_minutes_firing))
    }

    /// The severity of an incident declared for `event`: its severity label mapped by the rule,
    /// else the event's own.
    pub fn incident_severity(&self, event: &RiskEvent) -> Severity {
        event
            .labels
            .get("severity")
            .and_then(|s| self.severity_map.get(&s.to_ascii_lowercase()))
            .copied()
            .unwrap_or(event.severity)
    }

    /// What the rule does, in words.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.declare_incident {
            parts.push("declares an incident".to_owned());
        }
        if let Some(plan) = self.plan {
            parts.push(format!("runs PLAN-{plan}"));
        }
        if !self.notify_names.is_empty() {
            parts.push(format!("pages {}", self.notify_names.join(", ")));
        }
        let mut when = Vec::new();
        if self.after_occurrences > 1 {
            when.push(format!("after {} receipts", self.after_occurrences));
        }
        if self.after_minutes_firing > 0 {
            when.push(format!("after {} min firing", self.after_minutes_firing));
        }
        let when = if when.is_empty() {
            "at once".to_owned()
        } else {
            when.join(" and ")
        };
        let parts = match parts.split_last() {
            Some((last, rest)) if rest.len() > 1 => format!("{}, and {last}", rest.join(", ")),
            Some((last, [first])) => format!("{first} and {last}"),
            _ => parts.join(""),
        };
        format!("{parts} {when}")
    }
}

/// The title of an incident declared for an event: its summary, with the alert's name when the
/// summary does not say it.
pub fn incident_title(event: &RiskEvent) -> String {
    let name = event.alertname();
    let title = if event.summary.contains(name) || name == event.summary {
        event.summary.clone()
    } else {
        format!("{name}: {}", event.summary)
    };
    // One line (a label may hold line breaks), and long enough to be a title.
    let title: String = title.split_whitespace().collect::<Vec<_>>().join(" ");
    let title = if title.chars().count() < 3 {
        format!("Alert {title}")
    } else {
        title
    };
    title.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::alert::{Labels, RiskStatus};

    fn rule() -> AlertRule {
        AlertRule {
            id: "r".into(),
            position: 1,
            name: "Payments down".into(),
            matchers: vec![Matcher::equal("service", "payments")],
            severity_map: [("critical".to_owned(), Severity::Sev1)]
                .into_iter()
                .collect(),
            declare_incident: true,
            after_occurrences: 3,
            after_minutes_firing: 5,
            plan: None,
            cooldown_minutes: 30,
            notify: vec![],
            notify_names: vec![],
            enabled: true,
        }
    }

    fn event(labels: &[(&str, &str)]) -> RiskEvent {
        let now = Utc::now();
        RiskEvent {
            id: 1,
            status: RiskStatus::Open,
            source: "alertmanager".into(),
            fingerprint: "f".into(),
            labels: crate::model::matcher::labels(labels),
            annotations: Labels::new(),
            summary: "p99 over 2 s".into(),
            severity: Severity::Sev3,
            service: None,
            count: 1,
            first_seen: now,
            last_seen: now,
            resolved_at: None,
            acknowledged_by: None,
            acknowledged_at: None,
            incident: None,
            silenced_by: None,
            inhibited_by: None,
            url: None,
        }
    }

    #[test]
    fn a_rule_is_due_after_both_its_receipts_and_its_minutes() {
        let r = rule();
        let t = Utc::now();
        let m = chrono::Duration::minutes;
        assert!(!r.is_due(2, t - m(10), t), "too few receipts");
        assert!(!r.is_due(3, t - m(4), t), "not firing long enough");
        assert!(r.is_due(3, t - m(5), t));
    }

    #[test]
    fn the_incident_severity_is_mapped_from_the_severity_label() {
        let r = rule();
        assert_eq!(
            r.incident_severity(&event(&[("severity", "Critical")])),
            Severity::Sev1
        );
        assert_eq!(
            r.incident_severity(&event(&[("severity", "warning")])),
            Severity::Sev3
        );
    }

    #[test]
    fn the_title_names_the_alert_unless_the_summary_does() {
        assert_eq!(
            incident_title(&event(&[("alertname", "HighLatency")])),
            "HighLatency: p99 over 2 s"
        );
        let mut e = event(&[("alertname", "p99")]);
        e.summary = "p99 over 2 s".into();
        assert_eq!(incident_title(&e), "p99 over 2 s");
    }

    #[test]
    fn a_title_is_one_line_and_never_too_short() {
        let mut e = event(&[("alertname", "DB")]);
        e.summary = "DB".into();
        assert_eq!(incident_title(&e), "Alert DB");
        let mut e = event(&[("alertname", "X\n# heading")]);
        e.summary = "X\n# heading".into();
        assert_eq!(incident_title(&e), "X # heading");
    }

    #[test]
    fn a_rule_that_does_nothing_or_matches_everything_is_refused() {
        let input = RuleInput {
            name: "x".into(),
            matchers: vec![],
            severity_map: BTreeMap::new(),
            declare_incident: false,
            after_occurrences: 0,
            after_minutes_firing: 0,
            plan: None,
            cooldown_minutes: 30,
            notify: vec![],
            enabled: true,
            position: None,
        };
        let err = input.check().unwrap_err();
        for field in ["matchers", "declare_incident", "after_occurrences"] {
            assert!(err.field_message(field).is_some(), "{field}");
        }
        // Paging a channel is something to do; the same channel twice is not.
        let mut pages = input.clone();
        pages.matchers = vec![Matcher::equal("service", "db")];
        pages.after_occurrences = 1;
        pages.notify = vec!["c1".into()];
        assert_eq!(pages.check(), Ok(()));
        pages.notify = vec!["c1".into(), "c1".into()];
        assert!(pages.check().unwrap_err().field_message("notify").is_some());
        pages.notify = vec!["c1".into()];
        for name in ["two\nlines", "tab\there", "line\u{2028}separator"] {
            pages.name = name.into();
            assert!(
                pages.check().unwrap_err().field_message("name").is_some(),
                "{name:?}"
            );
        }
    }

    #[test]
    fn a_rule_says_everything_it_does() {
        let mut r = rule();
        assert_eq!(
            r.describe(),
            "declares an incident after 3 receipts and after 5 min firing"
        );
        r.plan = Some(4);
        r.notify_names = vec!["db-oncall".into(), "ops".into()];
        r.after_occurrences = 1;
        r.after_minutes_firing = 0;
        assert_eq!(
            r.describe(),
            "declares an incident, runs PLAN-4, and pages db-oncall, ops at once"
        );
        r.declare_incident = false;
        assert_eq!(r.describe(), "runs PLAN-4 and pages db-oncall, ops at once");
        r.plan = None;
        assert_eq!(r.describe(), "pages db-oncall, ops at once");
    }
}
