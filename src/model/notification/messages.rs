//! The messages each event sends: one title line, a few lines of text, the page it links to and
//! the facts a generic webhook receives. Pure, so every wording is tested here and the server
//! only gathers the facts.

use serde_json::json;

use super::{Message, NotifyEvent};
use crate::model::alert::RiskEvent;
use crate::model::incident::{IncidentNumber, IncidentStatus, Severity};
use crate::model::run::{Awaiting, RunStatus};

/// An incident as a message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    /// Its number.
    pub number: IncidentNumber,
    /// Its title.
    pub title: String,
    /// Its severity now.
    pub severity: Severity,
    /// Its services.
    pub services: Vec<String>,
}

impl IncidentFacts {
    fn message(
        &self,
        event: NotifyEvent,
        what: &str,
        text: String,
        extra: serde_json::Value,
    ) -> Message {
        let mut data = json!({
            "incident": self.number.to_string(),
            "title": self.title,
            "severity": self.severity.as_str(),
            "services": self.services,
        });
        if let (Some(data), serde_json::Value::Object(extra)) = (data.as_object_mut(), extra) {
            data.extend(extra);
        }
        Message {
            id: String::new(),
            event,
            title: format!(
                "{} {what}: {} ({})",
                self.number,
                self.title,
                self.severity.label()
            ),
            text,
            link: format!("/incidents/{}", self.number),
            severity: Some(self.severity),
            service: self.services.first().cloned(),
            data,
        }
    }

    fn services_line(&self) -> String {
        if self.services.is_empty() {
            "No service named".to_owned()
        } else {
            format!("Services: {}", self.services.join(", "))
        }
    }

    /// The incident was declared by `by`.
    pub fn declared(&self, by: &str, detected_at: &str) -> Message {
        self.message(
            NotifyEvent::IncidentDeclared,
            "declared",
            format!("{}. Declared by {by}.", self.services_line()),
            json!({"declared_by": by, "detected_at": detected_at}),
        )
    }

    /// `by` moved it from `from` to `to`, saying `note`.
    pub fn status_changed(
        &self,
        from: IncidentStatus,
        to: IncidentStatus,
        note: &str,
        by: &str,
    ) -> Message {
        self.message(
            NotifyEvent::IncidentStatusChanged,
            &format!("is {}", to.label().to_lowercase()),
            format!(
                "{} → {} by {by}: {}",
                from.label(),
                to.label(),
                one_line(note)
            ),
            json!({"from": from.as_str(), "to": to.as_str(), "note": note, "by": by}),
        )
    }

    /// `by` changed its severity from `from` (it is now `self.severity`).
    pub fn severity_changed(&self, from: Severity, note: &str, by: &str) -> Message {
        let to = self.severity;
        let word = if to < from { "escalated" } else { "downgraded" };
        self.message(
            NotifyEvent::IncidentSeverityChanged,
            word,
            format!(
                "{} → {} by {by}: {}",
                from.label(),
                to.label(),
                one_line(note)
            ),
            json!({"from": from.as_str(), "to": to.as_str(), "note": note, "by": by}),
        )
    }

    /// `by` handed command from `previous` to `commander` (either may be nobody).
    pub fn commander_changed(
        &self,
        commander: Option<&str>,
        previous: Option<&str>,
        by: &str,
    ) -> Message {
        let text = match (previous, commander) {
            (Some(p), Some(c)) => format!("{p} handed command to {c} (by {by})."),
            (None, Some(c)) => format!("{c} is commanding (assigned by {by})."),
            (Some(p), None) => format!("{p} no longer commands; nobody does now (by {by})."),
            (None, None) => format!("Nobody commands it (by {by})."),
        };
        self.message(
            NotifyEvent::IncidentCommanderChanged,
            "has a new commander",
            text,
            json!({"commander": commander, "previous": previous, "by": by}),
        )
    }

    /// `by` published its postmortem.
    pub fn postmortem_published(&self, by: &str) -> Message {
        let mut m = self.message(
            NotifyEvent::PostmortemPublished,
            "postmortem published",
            format!("Published by {by}. {}.", self.services_line()),
            json!({"by": by}),
        );
        m.link = format!("/incidents/{}/postmortem/report", self.number);
        m
    }
}

/// A risk event as a message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFacts {
    /// Its number.
    pub number: i64,
    /// What is wrong.
    pub summary: String,
    /// Its severity.
    pub severity: Severity,
    /// Its service, from the labels.
    pub service: Option<String>,
    /// Which monitor sent it.
    pub source: String,
    /// Its labels.
    pub labels: serde_json::Value,
    /// A link back to the monitor.
    pub url: Option<String>,
}

impl RiskFacts {
    /// It opened (`true`) or resolved.
    pub fn message(&self, opened: bool) -> Message {
        let (event, what) = if opened {
            (NotifyEvent::RiskEventOpened, "opened")
        } else {
            (NotifyEvent::RiskEventResolved, "resolved")
        };
        let service = self
            .service
            .as_deref()
            .map_or_else(String::new, |s| format!(" on {s}"));
        Message {
            id: String::new(),
            event,
            title: format!(
                "RISK-{} {what}: {} ({})",
                self.number,
                self.summary,
                self.severity.label()
            ),
            text: format!("From {}{service}.", self.source),
            link: format!("/risks/{}", self.number),
            severity: Some(self.severity),
            service: self.service.clone(),
            data: json!({
                "risk_event": self.number,
                "summary": self.summary,
                "severity": self.severity.as_str(),
                "service": self.service,
                "source": self.source,
                "labels": self.labels,
                "monitor_url": self.url,
            }),
        }
    }
}

/// An alert rule acting on a risk event, as the page it sends says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFiring {
    /// The rule's name.
    pub rule: String,
    /// How many times the event was received.
    pub count: i64,
    /// How long it has fired, in whole minutes.
    pub minutes_firing: i64,
    /// The incident it is linked to (`INC-42`), if any.
    pub incident: Option<String>,
}

impl RiskFacts {
    /// The facts of `event`.
    pub fn of(event: &RiskEvent) -> Self {
        Self {
            number: event.id,
            summary: event.summary.clone(),
            severity: event.severity,
            service: event.service.clone(),
            source: event.source.clone(),
            labels: serde_json::to_value(&event.labels).unwrap_or_default(),
            url: event.url.clone(),
        }
    }

    /// The page an alert rule sends to the channels it names when it acts on the event.
    pub fn rule_fired(&self, firing: &RuleFiring) -> Message {
        let mut message = self.message(true);
        message.event = NotifyEvent::RuleFired;
        message.title = format!(
            "RISK-{} paged by “{}”: {} ({})",
            self.number,
            firing.rule,
            self.summary,
            self.severity.label()
        );
        let received = match firing.count {
            1 => "received once".to_owned(),
            n => format!("received {n} times"),
        };
        let firing_for = match firing.minutes_firing {
            m if m < 1 => "firing for under a minute".to_owned(),
            m => format!("firing for {m} min"),
        };
        let service = self
            .service
            .as_deref()
            .map_or_else(String::new, |s| format!(" on {s}"));
        message.text = format!(
            "From {}{service}; {received}, {firing_for}.{}",
            self.source,
            firing
                .incident
                .as_deref()
                .map_or_else(String::new, |i| format!(" Linked to {i}."))
        );
        if let Some(data) = message.data.as_object_mut() {
            data.insert("rule".into(), json!(firing.rule));
            data.insert("count".into(), json!(firing.count));
            data.insert("minutes_firing".into(), json!(firing.minutes_firing));
            data.insert("incident".into(), json!(firing.incident));
        }
        message
    }
}

/// A run as a message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFacts {
    /// Its number.
    pub number: i64,
    /// Its plan's name.
    pub plan: String,
    /// Its plan's service.
    pub service: Option<String>,
    /// The incident it runs for.
    pub incident: Option<String>,
}

impl RunFacts {
    fn message(
        &self,
        event: NotifyEvent,
        title: String,
        text: String,
        data: serde_json::Value,
    ) -> Message {
        let mut all = json!({
            "run": self.number,
            "plan": self.plan,
            "service": self.service,
            "incident": self.incident,
        });
        if let (Some(all), serde_json::Value::Object(data)) = (all.as_object_mut(), data) {
            all.extend(data);
        }
        Message {
            id: String::new(),
            event,
            title,
            text,
            link: format!("/runs/{}", self.number),
            severity: None,
            service: self.service.clone(),
            data: all,
        }
    }

    /// Step `index` (`step`, 0-based) waits for a person: who may answer, and what they are asked.
    pub fn waiting(&self, index: usize, step: &str, awaiting: Awaiting) -> Message {
        let who = awaiting.answered_by();
        let ask = match awaiting {
            Awaiting::Confirmation => "confirm or skip it",
            Awaiting::Verdict => "pass or fail the check",
        };
        self.message(
            NotifyEvent::RunWaiting,
            format!("Run #{} of {} waits for a person", self.number, self.plan),
            format!(
                "Step {} “{}”: a {} or above may {ask} on the run's page.",
                index + 1,
                step,
                who.label().to_lowercase()
            ),
            json!({"step": index + 1, "step_name": step, "awaiting": awaiting.as_str(),
                   "answered_by": who.as_str()}),
        )
    }

    /// It ended with `status`, scored `score` points (`passed` verdict) when it was scored.
    pub fn finished(&self, status: RunStatus, score: Option<(u32, bool)>) -> Message {
        let scored = score.map_or_else(String::new, |(points, passed)| {
            format!(
                " Score {points}/100 ({}).",
                if passed { "pass" } else { "fail" }
            )
        });
        self.message(
            NotifyEvent::RunFinished,
            format!(
                "Run #{} of {} {}",
                self.number,
                self.plan,
                status.label().to_lowercase()
            ),
            format!("{}.{scored}", status.label()),
            json!({"status": status.as_str(), "score": score.map(|s| s.0),
                   "verdict": score.map(|s| if s.1 { "pass" } else { "fail" })}),
        )
    }
}

/// An action item became overdue: `from` names where it came from (`INC-4`, `run #3`) and
/// `link` is that page.
pub fn action_item_overdue(
    id: &str,
    title: &str,
    owner: &str,
    due_on: &str,
    (from, link): (&str, &str),
) -> Message {
    Message {
        id: String::new(),
        event: NotifyEvent::ActionItemOverdue,
        title: format!("Action item overdue: {}", one_line(title)),
        text: format!("Owner {owner}, due {due_on}, from {from}."),
        link: link.to_owned(),
        severity: None,
        service: None,
        data: json!({"action_item": id, "title": title, "owner": owner, "due_on": due_on,
                     "from": from}),
    }
}

/// One owner's daily reminder: each item as (title, due on, overdue?).
pub fn reminder(owner: &str, on: &str, items: &[(String, String, bool)]) -> Message {
    let overdue = items.iter().filter(|i| i.2).count();
    let soon = items.len() - overdue;
    let mut text = String::new();
    for (title, due, late) in items.iter().take(20) {
        let word = if *late { "overdue since" } else { "due" };
        text.push_str(&format!("• {} ({word} {due})\n", one_line(title)));
    }
    if items.len() > 20 {
        text.push_str(&format!("… and {} more\n", items.len() - 20));
    }
    Message {
        id: String::new(),
        event: NotifyEvent::Reminder,
        title: format!("Reminder for {owner}: {overdue} overdue, {soon} due soon"),
        text: text.trim_end().to_owned(),
        link: "/actions?state=open".to_owned(),
        severity: None,
        service: None,
        data: json!({
            "owner": owner,
            "on": on,
            "items": items.iter().map(|(t, d, late)| json!({"title": t, "due_on": d, "overdue": late})).collect::<Vec<_>>(),
        }),
    }
}

/// A test message an admin sends to check a channel.
pub fn test_message(channel: &str, by: &str) -> Message {
    Message {
        id: String::new(),
        event: NotifyEvent::Test,
        title: format!("Test message for {channel}"),
        text: format!("{by} sent this from Nightwatch to check the channel works."),
        link: "/admin/notifications".to_owned(),
        severity: None,
        service: None,
        data: json!({"channel": channel, "by": by}),
    }
}

/// The first line of `text`, at most 200 characters (a message's text stays short).
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(200).collect();
    if line.chars().count() > 200 || text.trim().lines().count() > 1 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident() -> IncidentFacts {
        IncidentFacts {
            number: IncidentNumber(42),
            title: "Checkout down".into(),
            severity: Severity::Sev1,
            services: vec!["checkout".into(), "payments".into()],
        }
    }

    #[test]
    fn an_incident_message_names_it_links_to_it_and_carries_its_facts() {
        let m = incident().declared("ada", "2026-11-29T03:00:00Z");
        assert_eq!(m.title, "INC-42 declared: Checkout down (SEV1)");
        assert_eq!(m.link, "/incidents/INC-42");
        assert_eq!(m.service.as_deref(), Some("checkout"));
        assert_eq!(m.data["incident"], "INC-42");
        assert_eq!(m.data["declared_by"], "ada");
        assert_eq!(m.data["services"][1], "payments");
    }

    #[test]
    fn a_status_change_says_from_where_to_where_and_the_first_line_of_its_note() {
        let m = incident().status_changed(
            IncidentStatus::Open,
            IncidentStatus::Mitigating,
            "rolled back\nmore detail",
            "grace",
        );
        assert_eq!(m.event, NotifyEvent::IncidentStatusChanged);
        assert_eq!(m.title, "INC-42 is mitigating: Checkout down (SEV1)");
        assert_eq!(m.text, "Open → Mitigating by grace: rolled back…");
        assert_eq!(
            m.data["note"], "rolled back\nmore detail",
            "the webhook gets it all"
        );
    }

    #[test]
    fn a_severity_change_says_escalated_or_downgraded() {
        let m = incident().severity_changed(Severity::Sev3, "worse", "ada");
        assert!(m.title.starts_with("INC-42 escalated"), "{}", m.title);
        let mut lower = incident();
        lower.severity = Severity::Sev3;
        assert!(
            lower
                .severity_changed(Severity::Sev1, "better", "ada")
                .title
                .contains("downgraded")
        );
    }

    #[test]
    fn a_handover_names_both_commanders() {
        let m = incident().commander_changed(Some("grace"), Some("ada"), "ada");
        assert_eq!(m.text, "ada handed command to grace (by ada).");
        assert_eq!(m.data["commander"], "grace");
    }

    #[test]
    fn a_published_postmortem_links_to_its_report() {
        assert_eq!(
            incident().postmortem_published("ada").link,
            "/incidents/INC-42/postmortem/report"
        );
    }

    fn disk_full() -> RiskFacts {
        RiskFacts {
            number: 7,
            summary: "Disk full".into(),
            severity: Severity::Sev2,
            service: Some("db".into()),
            source: "alertmanager".into(),
            labels: json!({"alertname": "DiskFull"}),
            url: None,
        }
    }

    #[test]
    fn a_risk_event_message_says_opened_or_resolved() {
        let r = disk_full();
        let opened = r.message(true);
        assert_eq!(opened.title, "RISK-7 opened: Disk full (SEV2)");
        assert_eq!(opened.text, "From alertmanager on db.");
        assert_eq!(opened.link, "/risks/7");
        assert_eq!(r.message(false).event, NotifyEvent::RiskEventResolved);
    }

    #[test]
    fn a_rules_page_names_the_rule_how_long_it_fired_and_the_incident() {
        let r = disk_full();
        let mut firing = RuleFiring {
            rule: "DB on-call".into(),
            count: 5,
            minutes_firing: 12,
            incident: Some("INC-3".into()),
        };
        let m = r.rule_fired(&firing);
        assert_eq!(m.event, NotifyEvent::RuleFired);
        assert_eq!(m.title, "RISK-7 paged by “DB on-call”: Disk full (SEV2)");
        assert_eq!(
            m.text,
            "From alertmanager on db; received 5 times, firing for 12 min. Linked to INC-3."
        );
        assert_eq!(m.link, "/risks/7");
        assert_eq!(m.data["rule"], "DB on-call");
        assert_eq!(m.data["incident"], "INC-3");
        firing.count = 1;
        firing.minutes_firing = 0;
        firing.incident = None;
        assert_eq!(
            r.rule_fired(&firing).text,
            "From alertmanager on db; received once, firing for under a minute."
        );
    }

    #[test]
    fn a_waiting_run_says_who_may_answer() {
        let run = RunFacts {
            number: 3,
            plan: "Failover".into(),
            service: Some("db".into()),
            incident: None,
        };
        let gate = run.waiting(1, "Promote replica", Awaiting::Confirmation);
        assert_eq!(gate.title, "Run #3 of Failover waits for a person");
        assert!(
            gate.text
                .contains("Step 2 “Promote replica”: a commander or above may confirm"),
            "{}",
            gate.text
        );
        let check = run.waiting(0, "Look", Awaiting::Verdict);
        assert!(
            check.text.contains("a responder or above may pass or fail"),
            "{}",
            check.text
        );
        assert_eq!(check.data["answered_by"], "responder");
    }

    #[test]
    fn a_finished_run_gives_its_result_and_score() {
        let run = RunFacts {
            number: 3,
            plan: "Failover".into(),
            service: None,
            incident: Some("INC-1".into()),
        };
        let m = run.finished(RunStatus::Passed, Some((92, true)));
        assert_eq!(m.title, "Run #3 of Failover passed");
        assert_eq!(m.text, "Passed. Score 92/100 (pass).");
        assert_eq!(m.data["score"], 92);
        assert_eq!(m.data["incident"], "INC-1");
        assert_eq!(run.finished(RunStatus::Aborted, None).text, "Aborted.");
    }

    #[test]
    fn a_reminder_counts_and_lists_at_most_twenty_items() {
        let items: Vec<(String, String, bool)> = (0..25)
            .map(|i| (format!("item {i}"), "2026-11-20".into(), i < 5))
            .collect();
        let m = reminder("ada", "2026-11-29", &items);
        assert_eq!(m.title, "Reminder for ada: 5 overdue, 20 due soon");
        assert!(m.text.starts_with("• item 0 (overdue since 2026-11-20)"));
        assert!(m.text.ends_with("… and 5 more"));
        assert_eq!(m.data["items"].as_array().unwrap().len(), 25);
    }
}
