//! The incident timeline: append-only events, each with its author, the moment it happened and the
//! moment it was recorded. A correction is a new event pointing at the one it corrects.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::incident::{IncidentRole, IncidentStatus, Severity};

/// A timeline event's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct EventId(pub Uuid);

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for EventId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim())
            .map(EventId)
            .map_err(|_| "not a valid event id".to_owned())
    }
}

/// What happened. Stored as JSON beside its `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventData {
    /// The incident was declared.
    Declared {
        /// Title at declaration.
        title: String,
        /// Severity at declaration.
        severity: Severity,
        /// Affected services.
        services: Vec<String>,
    },
    /// The status changed.
    StatusChanged {
        /// Before.
        from: IncidentStatus,
        /// After.
        to: IncidentStatus,
        /// Why.
        note: String,
    },
    /// The severity changed.
    SeverityChanged {
        /// Before.
        from: Severity,
        /// After.
        to: Severity,
        /// Why.
        note: String,
    },
    /// A role was assigned or handed over.
    RoleAssigned {
        /// Which role.
        role: IncidentRole,
        /// The new holder (username), or none when the role was cleared.
        user: Option<String>,
        /// The previous holder, if any.
        previous: Option<String>,
    },
    /// When customer impact began was recorded (or cleared).
    ImpactStartSet {
        /// The instant, or none when it was cleared.
        at: Option<DateTime<Utc>>,
    },
    /// The impact was mitigated.
    Mitigated {
        /// How.
        note: String,
    },
    /// A note (possibly about an earlier moment).
    NoteAdded {
        /// The text.
        body: String,
    },
    /// The postmortem was published.
    PostmortemPublished,
    /// An action item was created from this incident.
    ActionItemCreated {
        /// What to do.
        title: String,
        /// Owner's username.
        owner: String,
        /// Due date (YYYY-MM-DD).
        due_on: String,
    },
    /// A plan was run for this incident (an emergency plan, say).
    RunStarted {
        /// The run's number.
        run: i64,
        /// The plan's name.
        plan: String,
    },
    /// A step of such a run ended.
    RunStepEnded {
        /// The run's number.
        run: i64,
        /// The step's name.
        step: String,
        /// How it ended.
        status: crate::model::run::StepStatus,
        /// Its error, the person's comment, or how long it took.
        detail: String,
    },
    /// Such a run ended.
    RunEnded {
        /// The run's number.
        run: i64,
        /// The plan's name.
        plan: String,
        /// How it ended.
        status: crate::model::run::RunStatus,
    },
    /// A risk event (an alert) was linked to this incident, by a rule or a person.
    AlertLinked {
        /// The event's number.
        event: i64,
        /// Its summary.
        summary: String,
        /// The monitor that sent it.
        source: String,
    },
    /// A linked risk event stopped firing.
    AlertResolved {
        /// The event's number.
        event: i64,
        /// Its summary.
        summary: String,
    },
}

impl EventData {
    /// The stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            EventData::Declared { .. } => "declared",
            EventData::StatusChanged { .. } => "status_changed",
            EventData::SeverityChanged { .. } => "severity_changed",
            EventData::RoleAssigned { .. } => "role_assigned",
            EventData::ImpactStartSet { .. } => "impact_start_set",
            EventData::Mitigated { .. } => "mitigated",
            EventData::NoteAdded { .. } => "note_added",
            EventData::PostmortemPublished => "postmortem_published",
            EventData::ActionItemCreated { .. } => "action_item_created",
            EventData::RunStarted { .. } => "run_started",
            EventData::RunStepEnded { .. } => "run_step_ended",
            EventData::RunEnded { .. } => "run_ended",
            EventData::AlertLinked { .. } => "alert_linked",
            EventData::AlertResolved { .. } => "alert_resolved",
        }
    }

    /// One line saying what happened.
    pub fn headline(&self) -> String {
        match self {
            EventData::Declared {
                severity, services, ..
            } => {
                format!("Declared as {severity} affecting {}", services.join(", "))
            }
            EventData::StatusChanged { from, to, .. }
                if *from == IncidentStatus::Recovered && *to == IncidentStatus::Mitigating =>
            {
                "Reopened: Recovered → Mitigating".to_owned()
            }
            EventData::StatusChanged { from, to, .. } => format!("Status {from} → {to}"),
            EventData::SeverityChanged { from, to, .. } => format!("Severity {from} → {to}"),
            EventData::RoleAssigned {
                role,
                user: Some(user),
                previous: Some(prev),
            } => {
                format!("{} handed over from {prev} to {user}", role.label())
            }
            EventData::RoleAssigned {
                role,
                user: Some(user),
                previous: None,
            } => {
                format!("{user} is {}", role.label().to_lowercase())
            }
            EventData::RoleAssigned {
                role, user: None, ..
            } => {
                format!("{} role cleared", role.label())
            }
            EventData::ImpactStartSet { at: Some(at) } => format!(
                "Impact began at {} (recorded)",
                at.format("%Y-%m-%d %H:%M UTC")
            ),
            EventData::ImpactStartSet { at: None } => "Impact start cleared".to_owned(),
            EventData::Mitigated { .. } => "Impact mitigated".to_owned(),
            EventData::NoteAdded { .. } => "Note".to_owned(),
            EventData::PostmortemPublished => "Postmortem published".to_owned(),
            EventData::ActionItemCreated {
                title,
                owner,
                due_on,
            } => {
                format!("Action item for {owner}, due {due_on}: {title}")
            }
            EventData::RunStarted { run, plan } => format!("Run #{run} of “{plan}” started"),
            EventData::RunStepEnded {
                run, step, status, ..
            } => {
                format!(
                    "Run #{run}: step “{step}” {}",
                    status.label().to_lowercase()
                )
            }
            EventData::RunEnded { run, plan, status } => {
                format!("Run #{run} of “{plan}” {}", status.label().to_lowercase())
            }
            EventData::AlertLinked {
                event,
                summary,
                source,
            } => format!("Alert linked: RISK-{event} “{summary}” from {source}"),
            EventData::AlertResolved { event, summary } => {
                format!("Alert resolved: RISK-{event} “{summary}”")
            }
        }
    }

    /// The free text the author wrote with it, if any.
    pub fn text(&self) -> Option<&str> {
        match self {
            EventData::StatusChanged { note, .. }
            | EventData::SeverityChanged { note, .. }
            | EventData::Mitigated { note } => Some(note),
            EventData::NoteAdded { body } => Some(body),
            EventData::RunStepEnded { detail, .. } if !detail.is_empty() => Some(detail),
            EventData::Declared { .. }
            | EventData::RoleAssigned { .. }
            | EventData::ImpactStartSet { .. }
            | EventData::PostmortemPublished
            | EventData::ActionItemCreated { .. }
            | EventData::RunStarted { .. }
            | EventData::RunStepEnded { .. }
            | EventData::RunEnded { .. }
            | EventData::AlertLinked { .. }
            | EventData::AlertResolved { .. } => None,
        }
    }

    /// The risk event this entry is about, if any (the timeline links to it).
    pub fn risk_event(&self) -> Option<i64> {
        match self {
            EventData::AlertLinked { event, .. } | EventData::AlertResolved { event, .. } => {
                Some(*event)
            }
            _ => None,
        }
    }

    /// The plan run this event is about, if any (the timeline links to it).
    pub fn run(&self) -> Option<i64> {
        match self {
            EventData::RunStarted { run, .. }
            | EventData::RunStepEnded { run, .. }
            | EventData::RunEnded { run, .. } => Some(*run),
            _ => None,
        }
    }
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TimelineEvent {
    /// Id.
    pub id: EventId,
    /// Position in the incident's timeline (1, 2, …), in recording order.
    pub seq: i64,
    /// What happened.
    pub data: EventData,
    /// When it happened (a note may be about an earlier moment).
    pub occurred_at: DateTime<Utc>,
    /// When it was written down.
    pub recorded_at: DateTime<Utc>,
    /// Who (username); none for the system.
    pub author: Option<String>,
    /// The event this one corrects, if it is a correction.
    pub corrects: Option<EventId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_data_is_stored_with_its_kind() {
        let data = EventData::StatusChanged {
            from: IncidentStatus::Open,
            to: IncidentStatus::Mitigating,
            note: "on it".into(),
        };
        let json = serde_json::to_value(&data).unwrap();
        assert_eq!(json["kind"], data.kind());
        assert_eq!(serde_json::from_value::<EventData>(json).unwrap(), data);
    }

    #[test]
    fn a_reopen_reads_as_a_reopen() {
        let data = EventData::StatusChanged {
            from: IncidentStatus::Recovered,
            to: IncidentStatus::Mitigating,
            note: "errors again".into(),
        };
        assert!(data.headline().starts_with("Reopened"));
        assert_eq!(data.text(), Some("errors again"));
    }

    #[test]
    fn a_handover_names_both_holders() {
        let data = EventData::RoleAssigned {
            role: IncidentRole::Commander,
            user: Some("bob".into()),
            previous: Some("alice".into()),
        };
        assert_eq!(data.headline(), "Commander handed over from alice to bob");
    }
}
