//! Postmortems: their states, the 5-whys chain and its editing operations, and the impact
//! durations computed from the incident's timestamps (shown, never typed).

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::incident::Timestamps;
use super::timeline::{EventId, TimelineEvent};

/// Where a postmortem is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PostmortemState {
    /// Being written.
    Draft,
    /// Written; waiting for reviewers.
    InReview,
    /// Final: the incident may be marked reviewed.
    Published,
}

impl PostmortemState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PostmortemState::Draft => "draft",
            PostmortemState::InReview => "in_review",
            PostmortemState::Published => "published",
        }
    }

    /// The displayed name.
    pub fn label(self) -> &'static str {
        match self {
            PostmortemState::Draft => "Draft",
            PostmortemState::InReview => "In review",
            PostmortemState::Published => "Published",
        }
    }

    /// The states a postmortem may move to: forward one step, or back from review to draft.
    pub fn next(self) -> &'static [PostmortemState] {
        match self {
            PostmortemState::Draft => &[PostmortemState::InReview],
            PostmortemState::InReview => &[PostmortemState::Published, PostmortemState::Draft],
            PostmortemState::Published => &[],
        }
    }
}

/// One link of the 5-whys chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Why {
    /// The question ("Why did checkout fail?").
    pub why: String,
    /// The answer, which the next link asks about.
    pub because: String,
}

/// The 5-whys chain: ordered, at least five links allowed, at most [`WhyChain::MAX`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct WhyChain(Vec<Why>);

impl WhyChain {
    /// The longest chain accepted (deep enough for any honest analysis).
    pub const MAX: usize = 12;

    /// A chain of `links`, refused when it is too long.
    pub fn new(links: Vec<Why>) -> Result<Self, String> {
        if links.len() > Self::MAX {
            return Err(format!("A 5-whys chain has at most {} steps.", Self::MAX));
        }
        Ok(Self(links))
    }

    /// The links, in order.
    pub fn links(&self) -> &[Why] {
        &self.0
    }

    /// Adds an empty link after position `after` (or at the end with `None`).
    pub fn insert_after(&mut self, after: Option<usize>) -> Result<usize, String> {
        if self.0.len() >= Self::MAX {
            return Err(format!("A 5-whys chain has at most {} steps.", Self::MAX));
        }
        let at = after.map_or(self.0.len(), |i| (i + 1).min(self.0.len()));
        self.0.insert(at, Why::default());
        Ok(at)
    }

    /// Removes the link at `index` (no-op when out of range).
    pub fn remove(&mut self, index: usize) {
        if index < self.0.len() {
            self.0.remove(index);
        }
    }

    /// Moves the link at `index` one place earlier.
    pub fn move_up(&mut self, index: usize) {
        if index > 0 && index < self.0.len() {
            self.0.swap(index - 1, index);
        }
    }

    /// Moves the link at `index` one place later.
    pub fn move_down(&mut self, index: usize) {
        if index + 1 < self.0.len() {
            self.0.swap(index, index + 1);
        }
    }

    /// Replaces the text of the link at `index`.
    pub fn set(&mut self, index: usize, why: &str, because: &str) {
        if let Some(link) = self.0.get_mut(index) {
            link.why = why.to_owned();
            link.because = because.to_owned();
        }
    }
}

impl std::str::FromStr for PostmortemState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            PostmortemState::Draft,
            PostmortemState::InReview,
            PostmortemState::Published,
        ]
        .into_iter()
        .find(|v| v.as_str() == s.trim())
        .ok_or_else(|| format!("{s:?} is not a postmortem state"))
    }
}

/// The written review: every section of the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct PostmortemDoc {
    /// What happened, in a paragraph.
    pub summary: String,
    /// Who and what was affected (the durations are computed, not typed).
    pub impact: String,
    /// Timeline entries picked as key moments.
    pub key_moments: Vec<EventId>,
    /// Root causes.
    pub root_causes: Vec<String>,
    /// Contributing factors.
    pub contributing_factors: Vec<String>,
    /// The 5-whys chain.
    pub whys: WhyChain,
    /// Lessons: what went well.
    pub went_well: Vec<String>,
    /// Lessons: what went wrong.
    pub went_wrong: Vec<String>,
    /// Lessons: where we got lucky.
    pub got_lucky: Vec<String>,
}

impl PostmortemDoc {
    /// The timeline entries the report shows: the picked key moments, or the whole timeline when
    /// none are picked; in the order they happened.
    pub fn moments<'a>(&self, timeline: &'a [TimelineEvent]) -> Vec<&'a TimelineEvent> {
        let mut events: Vec<_> = timeline
            .iter()
            .filter(|e| self.key_moments.is_empty() || self.key_moments.contains(&e.id))
            .collect();
        events.sort_by_key(|e| (e.occurred_at, e.seq));
        events
    }
}

/// A postmortem as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Postmortem {
    /// Review state.
    pub state: PostmortemState,
    /// The document.
    pub doc: PostmortemDoc,
    /// Bumped by every save; a save based on an older version is a conflict.
    pub version: i64,
}

/// A save that could not be stored, kept for its author until they save again or discard it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct UnsavedDraft {
    /// The author's text.
    pub doc: PostmortemDoc,
    /// The version it was based on.
    pub based_on: i64,
    /// Why it was not stored (a conflict or a section too long).
    pub reason: String,
}

/// How long the impact lasted, from the incident's timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ImpactDurations {
    /// Impact began → detected (time to detect), when the impact start is known.
    #[serde(default)]
    pub to_detect: Option<Duration>,
    /// Detected → mitigated.
    pub to_mitigate: Option<Duration>,
    /// Detected → recovered.
    pub to_recover: Option<Duration>,
    /// Impact began (or, unknown, detected) → recovered: how long customers were affected.
    #[serde(default)]
    pub impact: Option<Duration>,
}

impl ImpactDurations {
    /// The durations an incident's timestamps give (none where a timestamp is missing or, by a
    /// data error, earlier than detection).
    pub fn from_timestamps(t: &Timestamps) -> Self {
        let since_detection = |at: Option<chrono::DateTime<chrono::Utc>>| {
            at.map(|at| at - t.detected_at)
                .filter(|d| *d >= Duration::zero())
        };
        let began = t.impact_started_at.unwrap_or(t.detected_at);
        Self {
            to_detect: t
                .impact_started_at
                .map(|at| t.detected_at - at)
                .filter(|d| *d >= Duration::zero()),
            to_mitigate: since_detection(t.mitigated_at),
            to_recover: since_detection(t.resolved_at),
            impact: t
                .resolved_at
                .map(|at| at - began)
                .filter(|d| *d >= Duration::zero()),
        }
    }
}

/// What the postmortem page needs: the incident, its postmortem (if started) and the durations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PostmortemPage {
    /// The incident with its timeline (to pick key moments from).
    pub incident: crate::model::incident_views::IncidentDetail,
    /// The postmortem, once someone started it.
    pub postmortem: Option<Postmortem>,
    /// Detected → mitigated / recovered, computed from the incident.
    pub durations: ImpactDurations,
    /// What the caller tried to save and could not (a conflict), kept until they resolve it.
    pub unsaved: Option<UnsavedDraft>,
    /// The incident's action items, soonest due first.
    pub actions: Vec<crate::model::action_item::ActionItemView>,
    /// Who may own an action item (responders and up).
    pub people: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;

    fn chain(n: usize) -> WhyChain {
        WhyChain::new(
            (0..n)
                .map(|i| Why {
                    why: format!("why {i}"),
                    because: format!("because {i}"),
                })
                .collect(),
        )
        .unwrap()
    }

    fn order(c: &WhyChain) -> Vec<String> {
        c.links().iter().map(|w| w.why.clone()).collect()
    }

    #[test]
    fn a_chain_can_be_five_deep_and_more() {
        let mut c = chain(5);
        assert_eq!(c.insert_after(None), Ok(5));
        assert_eq!(c.links().len(), 6);
    }

    #[test]
    fn a_chain_refuses_to_grow_past_the_maximum() {
        let mut c = chain(WhyChain::MAX);
        assert!(c.insert_after(None).is_err());
        assert!(WhyChain::new(vec![Why::default(); WhyChain::MAX + 1]).is_err());
    }

    #[test]
    fn links_insert_move_and_remove_in_place() {
        let mut c = chain(3);
        assert_eq!(c.insert_after(Some(0)), Ok(1));
        c.set(1, "new", "because new");
        assert_eq!(order(&c), ["why 0", "new", "why 1", "why 2"]);
        c.move_up(1);
        assert_eq!(order(&c), ["new", "why 0", "why 1", "why 2"]);
        c.move_down(3);
        c.move_up(0);
        assert_eq!(
            order(&c),
            ["new", "why 0", "why 1", "why 2"],
            "moves past the ends do nothing"
        );
        c.move_down(0);
        assert_eq!(order(&c), ["why 0", "new", "why 1", "why 2"]);
        c.remove(1);
        c.remove(99);
        assert_eq!(order(&c), ["why 0", "why 1", "why 2"]);
    }

    #[test]
    fn review_goes_forward_or_back_to_draft_and_publishing_is_final() {
        assert_eq!(PostmortemState::Draft.next(), [PostmortemState::InReview]);
        assert!(
            PostmortemState::InReview
                .next()
                .contains(&PostmortemState::Draft)
        );
        assert!(PostmortemState::Published.next().is_empty());
    }

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + min * 60, 0).unwrap()
    }

    #[test]
    fn durations_come_from_the_timestamps() {
        let mut t = Timestamps::detected(at(0));
        assert_eq!(
            ImpactDurations::from_timestamps(&t),
            ImpactDurations {
                to_detect: None,
                to_mitigate: None,
                to_recover: None,
                impact: None,
            }
        );
        t.mitigated_at = Some(at(25));
        t.resolved_at = Some(at(90));
        let d = ImpactDurations::from_timestamps(&t);
        assert_eq!(d.to_mitigate, Some(Duration::minutes(25)));
        assert_eq!(d.to_recover, Some(Duration::minutes(90)));
        assert_eq!(
            d.impact,
            Some(Duration::minutes(90)),
            "from detection when impact start is unknown"
        );
        assert_eq!(d.to_detect, None);
    }

    #[test]
    fn impact_and_time_to_detect_count_from_when_impact_began() {
        let mut t = Timestamps::detected(at(0));
        t.impact_started_at = Some(at(-12));
        t.resolved_at = Some(at(60));
        let d = ImpactDurations::from_timestamps(&t);
        assert_eq!(d.to_detect, Some(Duration::minutes(12)));
        assert_eq!(d.impact, Some(Duration::minutes(72)));
        assert_eq!(
            d.to_recover,
            Some(Duration::minutes(60)),
            "MTTR still counts from detection"
        );
    }

    #[test]
    fn the_report_shows_picked_moments_in_time_order_or_the_whole_timeline() {
        use crate::model::timeline::{EventData, TimelineEvent};
        let event = |seq: i64, min: i64| TimelineEvent {
            id: EventId(uuid::Uuid::from_u128(seq as u128)),
            seq,
            data: EventData::NoteAdded {
                body: String::new(),
            },
            occurred_at: at(min),
            recorded_at: at(min),
            author: None,
            corrects: None,
        };
        // A backdated note: recorded third, happened first.
        let timeline = [event(1, 10), event(2, 20), event(3, 5)];
        let mut doc = PostmortemDoc::default();
        let seqs = |doc: &PostmortemDoc| {
            doc.moments(&timeline)
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(&doc), [3, 1, 2]);
        doc.key_moments = vec![timeline[1].id, timeline[2].id];
        assert_eq!(seqs(&doc), [3, 2]);
    }

    #[test]
    fn an_instant_before_detection_gives_no_duration() {
        let mut t = Timestamps::detected(at(10));
        t.resolved_at = Some(at(5));
        assert_eq!(ImpactDurations::from_timestamps(&t).to_recover, None);
    }

    proptest! {
        #[test]
        fn editing_never_loses_or_duplicates_links(ops in prop::collection::vec((0u8..4, 0usize..8), 0..40)) {
            let mut c = chain(5);
            let mut expected_len = 5usize;
            for (op, i) in ops {
                match op {
                    0 => { if c.insert_after(Some(i)).is_ok() { expected_len += 1; } }
                    1 => { if i < c.links().len() { expected_len -= 1; } c.remove(i); }
                    2 => c.move_up(i),
                    _ => c.move_down(i),
                }
                prop_assert_eq!(c.links().len(), expected_len);
            }
            let mut originals: Vec<_> = c.links().iter().filter(|w| !w.why.is_empty()).map(|w| w.why.clone()).collect();
            let before = originals.len();
            originals.sort();
            originals.dedup();
            prop_assert_eq!(originals.len(), before);
        }
    }
}
