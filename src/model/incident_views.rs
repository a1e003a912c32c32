//! What the incident pages receive: list rows with filters and keyset cursors, the detail view.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::incident::{IncidentId, IncidentNumber, IncidentStatus, Severity, Timestamps};
use super::timeline::TimelineEvent;

/// One row of the incident list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct IncidentSummary {
    /// Id.
    pub id: IncidentId,
    /// `INC-42`.
    pub number: IncidentNumber,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Status.
    pub status: IncidentStatus,
    /// Affected services.
    pub services: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The commander's username, if any.
    pub commander: Option<String>,
    /// Detection instant.
    pub detected_at: DateTime<Utc>,
}

/// Everything the incident page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct IncidentDetail {
    /// The list fields.
    pub summary: IncidentSummary,
    /// Description.
    pub description: String,
    /// Scribe's username.
    pub scribe: Option<String>,
    /// Communications lead's username.
    pub communications: Option<String>,
    /// Lifecycle instants.
    pub timestamps: Timestamps,
    /// Bumped by every change; a change based on an older version is a conflict.
    pub version: i64,
    /// The timeline in the order things happened (`occurred_at`, then entry number).
    pub timeline: Vec<TimelineEvent>,
    /// Whether the incident's postmortem is published (then it may be marked reviewed).
    pub postmortem_published: bool,
    /// When the server read this (elapsed times count from here, so server and client agree).
    pub as_of: DateTime<Utc>,
}

impl IncidentDetail {
    /// A stamp that moves whenever the incident or its timeline changes: its version plus its
    /// newest timeline entry's number (runs add entries without changing the version). The
    /// server computes the same sum for open pages to poll.
    pub fn change_stamp(&self) -> i64 {
        self.version + self.timeline.iter().map(|e| e.seq).max().unwrap_or(0)
    }
}

/// List order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum IncidentSort {
    /// Most recently detected first.
    #[default]
    Newest,
    /// Least recently detected first.
    Oldest,
    /// Worst severity first, then newest.
    Severity,
}

impl IncidentSort {
    /// Every order, for the picker.
    pub const ALL: [IncidentSort; 3] = [
        IncidentSort::Newest,
        IncidentSort::Oldest,
        IncidentSort::Severity,
    ];

    /// The URL value.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentSort::Newest => "newest",
            IncidentSort::Oldest => "oldest",
            IncidentSort::Severity => "severity",
        }
    }

    /// The displayed name.
    pub fn label(self) -> &'static str {
        match self {
            IncidentSort::Newest => "Newest first",
            IncidentSort::Oldest => "Oldest first",
            IncidentSort::Severity => "Worst severity first",
        }
    }

    /// Parses a URL value; anything unknown is the default.
    pub fn parse(s: &str) -> Self {
        IncidentSort::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .unwrap_or_default()
    }
}

/// The list's filters, as they appear in the URL. Empty strings mean "any".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct IncidentFilter {
    /// `open`, `mitigating`, `recovered`, `reviewed`, or `active` (open or mitigating).
    pub status: String,
    /// `sev1` … `sev4`.
    pub severity: String,
    /// A service name.
    pub service: String,
    /// A tag.
    pub tag: String,
    /// Words in the title.
    pub q: String,
    /// `newest`, `oldest`, `severity`.
    pub sort: String,
    /// The cursor of the page to show (from the previous page's `next`).
    pub after: String,
}

impl IncidentFilter {
    /// Refuses a filter a machine may have mistyped (the list page, fed by its own pickers,
    /// treats an unknown value as "any"): each bad value named by its field.
    pub fn check(&self) -> Result<(), crate::model::AppError> {
        let mut v = crate::model::error::Validator::default();
        let status = self.status.trim();
        if !status.is_empty() && status != "active" {
            v.check(
                "status",
                status
                    .parse::<IncidentStatus>()
                    .map(|_| ())
                    .map_err(|_| "Use open, mitigating, recovered, reviewed or active.".to_owned()),
            );
        }
        if !self.severity.trim().is_empty() {
            v.check("severity", self.severity.parse::<Severity>().map(|_| ()));
        }
        let sort = self.sort.trim();
        if !sort.is_empty() && !IncidentSort::ALL.iter().any(|s| s.as_str() == sort) {
            v.check(
                "sort",
                Err::<(), _>("Use newest, oldest or severity.".to_owned()),
            );
        }
        if !self.after.is_empty() && Cursor::decode(&self.after).is_none() {
            v.check(
                "after",
                Err::<(), _>("Use the `next` address of the previous page.".to_owned()),
            );
        }
        v.finish()
    }
}

/// A keyset position: the sort key of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The severity of the last row (severity order only).
    pub severity: Option<Severity>,
    /// Its detection instant in Unix milliseconds.
    pub detected_ms: i64,
    /// Its number (ties on the instant).
    pub number: i64,
}

impl Cursor {
    /// The opaque text form used in URLs.
    pub fn encode(&self) -> String {
        match self.severity {
            Some(s) => format!("{}.{}.{}", s.as_str(), self.detected_ms, self.number),
            None => format!("{}.{}", self.detected_ms, self.number),
        }
    }

    /// Reads a cursor back; a malformed one reads as none (the first page).
    pub fn decode(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.split('.').collect();
        let (severity, rest) = match parts.as_slice() {
            [sev, rest @ ..] if sev.starts_with("sev") => (Some(sev.parse().ok()?), rest),
            rest => (None, rest),
        };
        match rest {
            [ms, number] => Some(Self {
                severity,
                detected_ms: ms.parse().ok()?,
                number: number.parse().ok()?,
            }),
            _ => None,
        }
    }
}

/// Counts per status stop at this many (so counting stays cheap at a million incidents); a
/// count above it means "more than this".
pub const COUNT_CAP: i64 = 10_000;

/// A count as shown: exact up to [`COUNT_CAP`], then `10,000+`.
pub fn count_label(n: i64) -> String {
    if n > COUNT_CAP {
        format!("{}+", group_thousands(COUNT_CAP))
    } else {
        group_thousands(n)
    }
}

fn group_thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// One page of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct IncidentPage {
    /// The rows.
    pub items: Vec<IncidentSummary>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
    /// How many incidents match the other filters, per status (capped: see [`COUNT_CAP`]).
    pub counts: Vec<(IncidentStatus, i64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_filter_is_refused_field_by_field() {
        let filter = IncidentFilter {
            status: "closed".into(),
            severity: "sev9".into(),
            sort: "random".into(),
            after: "garbage".into(),
            ..Default::default()
        };
        let err = filter.check().unwrap_err();
        for field in ["status", "severity", "sort", "after"] {
            assert!(err.field_message(field).is_some(), "{field}: {err:?}");
        }
        let fine = IncidentFilter {
            status: "active".into(),
            severity: "sev1".into(),
            sort: "severity".into(),
            ..Default::default()
        };
        assert!(fine.check().is_ok());
    }

    #[test]
    fn cursors_round_trip() {
        for c in [
            Cursor {
                severity: None,
                detected_ms: 1_700_000_000_000,
                number: 42,
            },
            Cursor {
                severity: Some(Severity::Sev3),
                detected_ms: 5,
                number: 1,
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        assert_eq!(Cursor::decode("garbage"), None);
        assert_eq!(Cursor::decode("sev9.1.2"), None);
    }

    #[test]
    fn counts_are_exact_up_to_the_cap() {
        assert_eq!(count_label(0), "0");
        assert_eq!(count_label(1234), "1,234");
        assert_eq!(count_label(COUNT_CAP), "10,000");
        assert_eq!(count_label(COUNT_CAP + 1), "10,000+");
    }

    #[test]
    fn unknown_sort_is_newest() {
        assert_eq!(IncidentSort::parse("severity"), IncidentSort::Severity);
        assert_eq!(IncidentSort::parse("bogus"), IncidentSort::Newest);
    }
}
