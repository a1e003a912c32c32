//! Incidents: numbers, severity, status, the one state machine every caller uses, and what each
//! move does to the incident's timestamps.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An incident's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct IncidentId(pub Uuid);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for IncidentId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim())
            .map(IncidentId)
            .map_err(|_| "not a valid incident id".to_owned())
    }
}

/// The short human number, shown as `INC-42`: unique and increasing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct IncidentNumber(pub i64);

impl fmt::Display for IncidentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{}", self.0)
    }
}

impl FromStr for IncidentNumber {
    type Err = String;

    /// Accepts `INC-42`, `inc-42` or `42`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let digits = s
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("inc-"))
            .map_or(s, |_| &s[4..]);
        digits
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(IncidentNumber)
            .ok_or_else(|| format!("{s:?} is not an incident number like INC-42"))
    }
}

/// How bad it is: SEV1 is the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Critical: a core service is down or data is at risk for many users.
    Sev1,
    /// Major: significant degradation for many users.
    Sev2,
    /// Minor: limited impact or a workaround exists.
    Sev3,
    /// Low: cosmetic or internal-only impact.
    Sev4,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 4] = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ];

    /// The stored name (`sev1` …); its text order is the severity order.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
        }
    }

    /// The displayed name (`SEV1` …).
    pub fn label(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
        }
    }

    /// What the level means, for pickers.
    pub fn meaning(self) -> &'static str {
        match self {
            Severity::Sev1 => "Critical: core service down or data at risk",
            Severity::Sev2 => "Major: significant degradation for many users",
            Severity::Sev3 => "Minor: limited impact or a workaround exists",
            Severity::Sev4 => "Low: cosmetic or internal impact",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == wanted)
            .ok_or_else(|| "Choose a severity from SEV1 to SEV4.".to_owned())
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    /// Detected and declared; nobody is working on it yet (发现).
    Open,
    /// Being handled (处理中).
    Mitigating,
    /// Service restored (已恢复).
    Recovered,
    /// The postmortem is published (已复盘).
    Reviewed,
}

impl IncidentStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [IncidentStatus; 4] = [
        IncidentStatus::Open,
        IncidentStatus::Mitigating,
        IncidentStatus::Recovered,
        IncidentStatus::Reviewed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Mitigating => "mitigating",
            IncidentStatus::Recovered => "recovered",
            IncidentStatus::Reviewed => "reviewed",
        }
    }

    /// The displayed name.
    pub fn label(self) -> &'static str {
        match self {
            IncidentStatus::Open => "Open",
            IncidentStatus::Mitigating => "Mitigating",
            IncidentStatus::Recovered => "Recovered",
            IncidentStatus::Reviewed => "Reviewed",
        }
    }

    /// Whether the incident is still being worked on.
    pub fn is_active(self) -> bool {
        matches!(self, IncidentStatus::Open | IncidentStatus::Mitigating)
    }

    /// The statuses an incident may move to from this one.
    pub fn next(self) -> &'static [IncidentStatus] {
        match self {
            IncidentStatus::Open => &[IncidentStatus::Mitigating],
            IncidentStatus::Mitigating => &[IncidentStatus::Recovered],
            IncidentStatus::Recovered => &[IncidentStatus::Mitigating, IncidentStatus::Reviewed],
            IncidentStatus::Reviewed => &[],
        }
    }

    /// The label of the button that moves an incident from `self` to `to`.
    pub fn action_label(self, to: IncidentStatus) -> &'static str {
        match (self, to) {
            (IncidentStatus::Recovered, IncidentStatus::Mitigating) => "Reopen",
            (_, IncidentStatus::Mitigating) => "Start mitigating",
            (_, IncidentStatus::Recovered) => "Mark recovered",
            (_, IncidentStatus::Reviewed) => "Mark reviewed",
            (_, IncidentStatus::Open) => "Open",
        }
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for IncidentStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        IncidentStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == wanted)
            .ok_or_else(|| format!("{s:?} is not an incident status"))
    }
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionError {
    /// The state machine has no such edge.
    NotAllowed {
        /// Current status.
        from: IncidentStatus,
        /// Requested status.
        to: IncidentStatus,
    },
    /// Every move needs a note saying why.
    NoteRequired,
    /// `reviewed` needs a published postmortem.
    PostmortemNotPublished,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransitionError::NotAllowed { from, to } => {
                write!(f, "An incident that is {from} cannot move to {to}.")
            }
            TransitionError::NoteRequired => f.write_str("Write a note saying why."),
            TransitionError::PostmortemNotPublished => f.write_str(
                "An incident is reviewed once its postmortem is published; publish the postmortem first.",
            ),
        }
    }
}

/// Checks a move from `from` to `to`. This one function decides for the UI (which buttons
/// show) and for the server (which requests are refused).
pub fn check_transition(
    from: IncidentStatus,
    to: IncidentStatus,
    note: &str,
    postmortem_published: bool,
) -> Result<(), TransitionError> {
    if !from.next().contains(&to) {
        return Err(TransitionError::NotAllowed { from, to });
    }
    if note.trim().is_empty() {
        return Err(TransitionError::NoteRequired);
    }
    if to == IncidentStatus::Reviewed && !postmortem_published {
        return Err(TransitionError::PostmortemNotPublished);
    }
    Ok(())
}

/// The moves to offer from `from`: the state machine's edges, less `reviewed` until the
/// postmortem is published (a note is asked for with any of them).
pub fn available_transitions(
    from: IncidentStatus,
    postmortem_published: bool,
) -> Vec<IncidentStatus> {
    from.next()
        .iter()
        .copied()
        .filter(|to| check_transition(from, *to, "note", postmortem_published).is_ok())
        .collect()
}

/// The instants an incident keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Timestamps {
    /// When customer impact began, if known: at or before detection.
    #[serde(default)]
    pub impact_started_at: Option<DateTime<Utc>>,
    /// When the problem was detected (may be backdated, never in the future).
    pub detected_at: DateTime<Utc>,
    /// The first human response.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When the impact was first mitigated.
    pub mitigated_at: Option<DateTime<Utc>>,
    /// When service was restored (cleared by a reopen, set again at the next recovery).
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the review was complete.
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl Timestamps {
    /// Fresh timestamps of an incident detected at `detected_at`.
    pub fn detected(detected_at: DateTime<Utc>) -> Self {
        Self {
            impact_started_at: None,
            detected_at,
            acknowledged_at: None,
            mitigated_at: None,
            resolved_at: None,
            reviewed_at: None,
        }
    }

    /// A human acted at `now`: the first such action acknowledges the incident; later ones
    /// change nothing.
    pub fn acknowledge(&mut self, now: DateTime<Utc>) {
        self.acknowledged_at.get_or_insert(now);
    }

    /// The impact is mitigated at `now` (the first time counts).
    pub fn mitigate(&mut self, now: DateTime<Utc>) {
        self.acknowledge(now);
        self.mitigated_at.get_or_insert(now);
    }

    /// What moving from `from` to `to` at `now` does to the timestamps. Recovery implies the
    /// impact was mitigated; a reopen clears the recovery instant.
    pub fn apply_transition(
        &mut self,
        from: IncidentStatus,
        to: IncidentStatus,
        now: DateTime<Utc>,
    ) {
        self.acknowledge(now);
        match to {
            IncidentStatus::Mitigating if from == IncidentStatus::Recovered => {
                self.resolved_at = None
            }
            IncidentStatus::Recovered => {
                self.mitigate(now);
                self.resolved_at = Some(now);
            }
            IncidentStatus::Reviewed => self.reviewed_at = Some(now),
            IncidentStatus::Open | IncidentStatus::Mitigating => {}
        }
    }
}

/// A role held on an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum IncidentRole {
    /// Runs the incident and decides.
    Commander,
    /// Keeps the record.
    Scribe,
    /// Talks to stakeholders.
    Communications,
}

impl IncidentRole {
    /// Every role.
    pub const ALL: [IncidentRole; 3] = [
        IncidentRole::Commander,
        IncidentRole::Scribe,
        IncidentRole::Communications,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentRole::Commander => "commander",
            IncidentRole::Scribe => "scribe",
            IncidentRole::Communications => "communications",
        }
    }

    /// The displayed name.
    pub fn label(self) -> &'static str {
        match self {
            IncidentRole::Commander => "Commander",
            IncidentRole::Scribe => "Scribe",
            IncidentRole::Communications => "Communications",
        }
    }
}

impl FromStr for IncidentRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        IncidentRole::ALL
            .into_iter()
            .find(|v| v.as_str() == wanted)
            .ok_or_else(|| "Choose commander, scribe or communications.".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::IncidentStatus::*;
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn the_lifecycle_moves_forward_one_step_at_a_time() {
        assert_eq!(check_transition(Open, Mitigating, "on it", false), Ok(()));
        assert_eq!(
            check_transition(Mitigating, Recovered, "fixed", false),
            Ok(())
        );
        assert_eq!(check_transition(Recovered, Reviewed, "done", true), Ok(()));
    }

    #[test]
    fn recovered_incident_can_be_reopened_with_a_note() {
        assert_eq!(
            check_transition(Recovered, Mitigating, "errors are back", false),
            Ok(())
        );
        assert_eq!(Recovered.action_label(Mitigating), "Reopen");
    }

    #[test]
    fn reviewed_is_offered_only_once_the_postmortem_is_published() {
        assert_eq!(available_transitions(Recovered, false), [Mitigating]);
        assert_eq!(
            available_transitions(Recovered, true),
            [Mitigating, Reviewed]
        );
        assert_eq!(available_transitions(Open, false), [Mitigating]);
        assert!(available_transitions(Reviewed, true).is_empty());
    }

    #[test]
    fn every_move_needs_a_note() {
        assert_eq!(
            check_transition(Open, Mitigating, "  ", false),
            Err(TransitionError::NoteRequired)
        );
    }

    #[test]
    fn reviewed_needs_a_published_postmortem() {
        assert_eq!(
            check_transition(Recovered, Reviewed, "ok", false),
            Err(TransitionError::PostmortemNotPublished)
        );
    }

    #[test]
    fn skipping_or_going_back_is_refused() {
        for (from, to) in [
            (Open, Recovered),
            (Open, Reviewed),
            (Open, Open),
            (Mitigating, Open),
            (Mitigating, Reviewed),
            (Mitigating, Mitigating),
            (Recovered, Open),
            (Reviewed, Open),
            (Reviewed, Mitigating),
            (Reviewed, Recovered),
        ] {
            assert_eq!(
                check_transition(from, to, "note", true),
                Err(TransitionError::NotAllowed { from, to }),
                "{from} → {to}"
            );
        }
    }

    #[test]
    fn acknowledged_at_is_set_by_the_first_action_only() {
        let mut t = Timestamps::detected(at(0));
        t.acknowledge(at(60));
        t.acknowledge(at(120));
        t.apply_transition(Open, Mitigating, at(180));
        assert_eq!(t.acknowledged_at, Some(at(60)));
    }

    #[test]
    fn recovery_sets_mitigated_once_and_reopen_clears_resolved() {
        let mut t = Timestamps::detected(at(0));
        t.apply_transition(Open, Mitigating, at(10));
        assert_eq!(t.mitigated_at, None);
        t.apply_transition(Mitigating, Recovered, at(20));
        assert_eq!(
            (t.mitigated_at, t.resolved_at),
            (Some(at(20)), Some(at(20)))
        );
        t.apply_transition(Recovered, Mitigating, at(30));
        assert_eq!((t.mitigated_at, t.resolved_at), (Some(at(20)), None));
        t.apply_transition(Mitigating, Recovered, at(40));
        assert_eq!(
            (t.mitigated_at, t.resolved_at),
            (Some(at(20)), Some(at(40)))
        );
        t.apply_transition(Recovered, Reviewed, at(50));
        assert_eq!(t.reviewed_at, Some(at(50)));
    }

    #[test]
    fn an_explicit_mitigation_counts_before_recovery() {
        let mut t = Timestamps::detected(at(0));
        t.mitigate(at(15));
        t.apply_transition(Mitigating, Recovered, at(90));
        assert_eq!(t.mitigated_at, Some(at(15)));
        assert_eq!(t.acknowledged_at, Some(at(15)));
    }

    #[test]
    fn incident_numbers_parse_with_or_without_prefix() {
        assert_eq!("INC-42".parse::<IncidentNumber>(), Ok(IncidentNumber(42)));
        assert_eq!("inc-7".parse::<IncidentNumber>(), Ok(IncidentNumber(7)));
        assert_eq!(" 9 ".parse::<IncidentNumber>(), Ok(IncidentNumber(9)));
        assert!("INC-0".parse::<IncidentNumber>().is_err());
        assert!("INC-x".parse::<IncidentNumber>().is_err());
        assert_eq!(IncidentNumber(42).to_string(), "INC-42");
    }

    #[test]
    fn severity_text_order_is_severity_order() {
        let mut names: Vec<_> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        names.sort();
        assert_eq!(names, ["sev1", "sev2", "sev3", "sev4"]);
        assert!(Severity::Sev1 < Severity::Sev4);
        assert_eq!("SEV2".parse::<Severity>(), Ok(Severity::Sev2));
    }

    fn status() -> impl Strategy<Value = IncidentStatus> {
        prop::sample::select(IncidentStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn a_move_is_allowed_exactly_when_it_is_an_edge_with_a_note(
            from in status(), to in status(), note in ".{0,5}", published: bool
        ) {
            let result = check_transition(from, to, &note, published);
            let edge = from.next().contains(&to);
            let ok = edge && !note.trim().is_empty() && (to != Reviewed || published);
            prop_assert_eq!(result.is_ok(), ok);
        }

        #[test]
        fn any_walk_keeps_timestamps_ordered(steps in prop::collection::vec(status(), 0..12)) {
            let mut t = Timestamps::detected(at(0));
            let mut current = Open;
            for (i, to) in steps.into_iter().enumerate() {
                if check_transition(current, to, "n", true).is_ok() {
                    t.apply_transition(current, to, at(10 * (i as i64 + 1)));
                    current = to;
                }
            }
            if let Some(ack) = t.acknowledged_at { prop_assert!(ack >= t.detected_at); }
            if let (Some(m), Some(ack)) = (t.mitigated_at, t.acknowledged_at) { prop_assert!(m >= ack); }
            if let (Some(r), Some(m)) = (t.resolved_at, t.mitigated_at) { prop_assert!(r >= m); }
            prop_assert_eq!(t.resolved_at.is_some(), matches!(current, Recovered | Reviewed));
        }
    }
}
