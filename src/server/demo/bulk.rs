//! The bulk writer behind `demo-data`: incidents with their services, tags, timelines and action
//! items go in as multi-row INSERTs, a few thousand incidents per transaction, so a million fit
//! in minutes on SQLite. Ids come from the seeded generator, so a seed always gives the same data.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

use super::{ACTIONS, Story};
use crate::model::AppError;
use crate::model::incident::IncidentStatus;
use crate::model::timeline::EventData;
use crate::server::db::to_millis;
use crate::server::repo::metrics;
use crate::server::repo::users::UserRecord;

/// Flipped in an incident's id (random bits only) to make its postmortem's: deterministic, unique.
const POSTMORTEM_BITS: u128 = 0x0a5a_5a5a_5a5a_5a5a;

/// Incidents per transaction.
const BATCH: usize = 2_000;
/// Bound parameters per statement. SQLite allows 32,766, but binding costs grow with the
/// statement's parameter count (sqlx looks each one's name up, a linear walk in SQLite), so
/// many mid-sized statements beat a few huge ones.
const MAX_PARAMS: usize = 900;

/// A random (version 4) UUID drawn from `rng`.
pub fn uuid(rng: &mut StdRng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.r#gen()).into_uuid()
}

/// A time-ordered id (version 7) for a record created at `millis`, random bits from `rng`: what
/// `Uuid::now_v7` gives a record created then.
pub fn time_uuid(rng: &mut StdRng, millis: i64) -> Uuid {
    let millis = u64::try_from(millis).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &rng.r#gen()).into_uuid()
}

/// An action item row.
pub struct ItemRow {
    id: Uuid,
    title: &'static str,
    owner: String,
    due_on: String,
    priority: &'static str,
    kind: &'static str,
    done_at: Option<i64>,
    created_at: i64,
}

/// An old recovered incident as it ends up after its review: usually reviewed a few days after
/// recovery, sometimes with action items — most done (some after their due day), some still open.
pub fn archive(
    rng: &mut StdRng,
    story: &mut Story,
    people: &[UserRecord],
    now: DateTime<Utc>,
) -> Vec<ItemRow> {
    let Some(resolved) = story.state.timestamps.resolved_at else {
        return Vec::new();
    };
    if story.state.status != IncidentStatus::Recovered || !rng.gen_bool(0.7) {
        return Vec::new();
    }
    let reviewed = (resolved + Duration::hours(rng.gen_range(20..120))).min(now);
    story.state.timestamps.reviewed_at = Some(reviewed);
    story.state.status = IncidentStatus::Reviewed;
    // The writer adds the published postmortem itself.
    story
        .events
        .push((reviewed, story.declared_by, EventData::PostmortemPublished));
    story.events.push((
        reviewed,
        story.declared_by,
        EventData::StatusChanged {
            from: IncidentStatus::Recovered,
            to: IncidentStatus::Reviewed,
            note: "Reviewed with the team".into(),
        },
    ));
    if !rng.gen_bool(0.4) {
        return Vec::new();
    }
    (0..rng.gen_range(1..3))
        .filter_map(|_| {
            let owner = people.choose(rng)?.id.to_string();
            let due = reviewed + Duration::days(rng.gen_range(7..30));
            let done_at = rng.gen_bool(0.85).then(|| {
                let late = rng.gen_bool(0.25);
                let at = if late {
                    due + Duration::days(rng.gen_range(1..20))
                } else {
                    reviewed
                        + Duration::hours(rng.gen_range(1..(due - reviewed).num_hours().max(2)))
                };
                to_millis(at.min(now))
            });
            Some(ItemRow {
                id: uuid(rng),
                title: ACTIONS.choose(rng).copied().unwrap_or(ACTIONS[0]),
                owner,
                due_on: due.format("%Y-%m-%d").to_string(),
                priority: ["p1", "p2", "p3"].choose(rng).copied().unwrap_or("p2"),
                kind: ["corrective", "preventive"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("corrective"),
                done_at,
                created_at: to_millis(reviewed),
            })
        })
        .collect()
}

/// A value to bind.
#[derive(Clone)]
enum Val {
    Int(Option<i64>),
    Text(Option<String>),
}

fn int(v: i64) -> Val {
    Val::Int(Some(v))
}

fn text(v: impl Into<String>) -> Val {
    Val::Text(Some(v.into()))
}

/// Collects stories and writes them a batch at a time.
pub struct Writer<'a> {
    pool: &'a AnyPool,
    /// The document (JSON) of every reviewed incident's published postmortem.
    postmortem: String,
    stories: Vec<(Story, Vec<ItemRow>)>,
}

impl<'a> Writer<'a> {
    /// A writer into `pool`; reviewed incidents get a published postmortem with `postmortem`
    /// (a document as JSON).
    pub fn new(pool: &'a AnyPool, postmortem: String) -> Self {
        Self {
            pool,
            postmortem,
            stories: Vec::with_capacity(BATCH),
        }
    }

    /// Adds a story (written when the batch is full).
    pub async fn push(&mut self, story: Story, items: Vec<ItemRow>) -> Result<(), AppError> {
        self.stories.push((story, items));
        if self.stories.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is left and sets the incident number counter to `last_number`.
    pub async fn finish(mut self, last_number: i64) -> Result<(), AppError> {
        self.flush().await?;
        sqlx::query("UPDATE counters SET value = $1 WHERE name = 'incident_number'")
            .bind(last_number)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), AppError> {
        if self.stories.is_empty() {
            return Ok(());
        }
        let (mut incidents, mut services, mut tags, mut events, mut items, mut postmortems) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        let detections = self
            .stories
            .iter()
            .map(|(story, _)| to_millis(story.state.timestamps.detected_at));
        let (first, last) = (detections.clone().min(), detections.max());
        for (story, story_items) in self.stories.drain(..) {
            let s = &story.state;
            let t = &s.timestamps;
            let id = s.id.to_string();
            let detected = to_millis(t.detected_at);
            let updated = story
                .events
                .last()
                .map_or(story.created_at, |e| to_millis(e.0))
                .max(t.reviewed_at.map_or(0, to_millis));
            incidents.push(vec![
                text(&id),
                int(s.number.0),
                text(story.new.title.clone()),
                text(story.new.description.clone()),
                text(s.severity.as_str()),
                text(s.status.as_str()),
                text(story.new.services.join(",")),
                text(story.new.tags.join(",")),
                Val::Text(s.commander_id.clone()),
                int(detected),
                Val::Int(t.acknowledged_at.map(to_millis)),
                Val::Int(t.mitigated_at.map(to_millis)),
                Val::Int(t.resolved_at.map(to_millis)),
                Val::Int(t.reviewed_at.map(to_millis)),
                text(story.declared_by.to_string()),
                int(story.created_at),
                int(updated),
                int(1 + story.events.len() as i64),
                int(story.events.len() as i64),
                Val::Int(story.new.impact_started_at.map(to_millis)),
            ]);
            for service in &story.new.services {
                services.push(vec![
                    text(&id),
                    text(service.clone()),
                    text(s.status.as_str()),
                    int(detected),
                    int(s.number.0),
                ]);
            }
            for tag in &story.new.tags {
                tags.push(vec![text(&id), text(tag.clone())]);
            }
            if let (IncidentStatus::Reviewed, Some(resolved), Some(reviewed)) =
                (s.status, t.resolved_at, t.reviewed_at)
            {
                // Drafted an hour after recovery (or at the review, if that came first).
                let drafted = to_millis((resolved + Duration::hours(1)).min(reviewed));
                let author = text(story.declared_by.to_string());
                postmortems.push(vec![
                    text(Uuid::from_u128(s.id.0.as_u128() ^ POSTMORTEM_BITS).to_string()),
                    text(&id),
                    text("published"),
                    text(self.postmortem.clone()),
                    int(3),
                    author.clone(),
                    author,
                    int(drafted),
                    int(to_millis(reviewed)),
                    int(to_millis(reviewed)),
                ]);
            }
            for (seq, (at, author, data)) in story.events.iter().enumerate() {
                let json = serde_json::to_string(data).map_err(|_| AppError::Internal)?;
                let event_id = Uuid::from_u128(
                    s.id.0.as_u128() ^ ((seq as u128 + 1) << 64) ^ (seq as u128 + 1),
                );
                events.push(vec![
                    text(event_id.to_string()),
                    text(&id),
                    int(seq as i64 + 1),
                    text(data.kind()),
                    text(json),
                    int(to_millis(*at)),
                    int(to_millis(*at)),
                    text(author.to_string()),
                ]);
            }
            for item in story_items {
                let done = item.done_at.is_some();
                items.push(vec![
                    text(item.id.to_string()),
                    text(item.title),
                    text(item.owner),
                    text(item.due_on),
                    text(item.priority),
                    text(item.kind),
                    text(if done { "done" } else { "todo" }),
                    text(&id),
                    text(story.declared_by.to_string()),
                    int(item.created_at),
                    int(item.done_at.unwrap_or(item.created_at)),
                    Val::Int(item.done_at),
                ]);
            }
        }
        let mut tx = self.pool.begin().await?;
        insert_many(
            &mut tx,
            "incidents (id, number, title, description, severity, status, services, tags, \
             commander_id, detected_at, acknowledged_at, mitigated_at, resolved_at, reviewed_at, \
             declared_by, created_at, updated_at, version, event_seq, impact_started_at)",
            &incidents,
        )
        .await?;
        insert_many(
            &mut tx,
            "incident_services (incident_id, service, status, detected_at, number)",
            &services,
        )
        .await?;
        insert_many(&mut tx, "incident_tags (incident_id, tag)", &tags).await?;
        insert_many(
            &mut tx,
            "postmortems (id, incident_id, state, doc, version, created_by, updated_by, \
             created_at, updated_at, published_at)",
            &postmortems,
        )
        .await?;
        insert_many(
            &mut tx,
            "incident_events (id, incident_id, seq, kind, data, occurred_at, recorded_at, author_id)",
            &events,
        )
        .await?;
        insert_many(
            &mut tx,
            "action_items (id, title, owner_id, due_on, priority, kind, state, incident_id, \
             created_by, created_at, updated_at, done_at)",
            &items,
        )
        .await?;
        if let (Some(first), Some(last)) = (first, last) {
            metrics::mark_repeats(&mut tx, first, last + 1).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// `INSERT INTO <into> VALUES (…), (…)`, as few statements as the parameter limit allows.
async fn insert_many(
    conn: &mut AnyConnection,
    into: &str,
    rows: &[Vec<Val>],
) -> Result<(), AppError> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    for chunk in rows.chunks((MAX_PARAMS / width).max(1)) {
        let mut sql = format!("INSERT INTO {into} VALUES ");
        let mut n = 0;
        for r in 0..chunk.len() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                n += 1;
                let _ = write!(sql, "{}${n}", if c == 0 { "" } else { ", " });
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for value in chunk.iter().flatten() {
            query = match value {
                Val::Int(v) => query.bind(*v),
                Val::Text(v) => query.bind(v.clone()),
            };
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
