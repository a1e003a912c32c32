//! The `incidents` table with its services and tags, and the `incident_events` timeline.

use sqlx::any::AnyArguments;
use sqlx::{Any, AnyConnection, AnyPool, Arguments, FromRow};
use uuid::Uuid;

use crate::model::incident::{
    IncidentId, IncidentNumber, IncidentRole, IncidentStatus, Severity, Timestamps,
};
use crate::model::incident_input::NewIncident;
use crate::model::incident_views::{
    COUNT_CAP, Cursor, IncidentDetail, IncidentFilter, IncidentPage, IncidentSort, IncidentSummary,
};
use crate::model::timeline::{EventData, EventId, TimelineEvent};
use crate::model::{AppError, UserId};
use crate::server::db::{from_millis, to_millis};

/// Rows per list page.
pub const PAGE_SIZE: usize = 25;

/// Longest title search, in characters (a title has at most 200).
pub const Q_MAX: usize = 200;

/// An incident's mutable state, read inside a change's transaction.
#[derive(Debug, Clone)]
pub struct IncidentState {
    /// Id.
    pub id: IncidentId,
    /// Number.
    pub number: IncidentNumber,
    /// Status.
    pub status: IncidentStatus,
    /// Severity.
    pub severity: Severity,
    /// Instants.
    pub timestamps: Timestamps,
    /// Role holders (user ids).
    pub commander_id: Option<String>,
    /// Scribe.
    pub scribe_id: Option<String>,
    /// Communications.
    pub communications_id: Option<String>,
    /// Usernames of the role holders when the change began (commander, scribe, communications).
    pub holder_names: [Option<String>; 3],
    /// Version after this change's bump.
    pub version: i64,
}

impl IncidentState {
    /// The holder of `role` (user id).
    pub fn holder(&self, role: IncidentRole) -> Option<&str> {
        match role {
            IncidentRole::Commander => self.commander_id.as_deref(),
            IncidentRole::Scribe => self.scribe_id.as_deref(),
            IncidentRole::Communications => self.communications_id.as_deref(),
        }
    }

    /// The holder's username when the change began.
    pub fn holder_name(&self, role: IncidentRole) -> Option<&str> {
        let i = IncidentRole::ALL
            .iter()
            .position(|r| *r == role)
            .unwrap_or(0);
        self.holder_names[i].as_deref()
    }

    /// Gives `role` to the user with this id (or nobody).
    pub fn set_holder(&mut self, role: IncidentRole, id: Option<String>) {
        match role {
            IncidentRole::Commander => self.commander_id = id,
            IncidentRole::Scribe => self.scribe_id = id,
            IncidentRole::Communications => self.communications_id = id,
        }
    }
}

/// See [`super::corrupt`].
fn corrupt(what: &str) -> AppError {
    super::corrupt("incidents", what)
}

fn ms(at: Option<i64>) -> Option<chrono::DateTime<chrono::Utc>> {
    at.map(from_millis)
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Incident `number` as a notification names it (title, severity, services), inside the
/// caller's transaction.
pub async fn facts(
    conn: &mut AnyConnection,
    number: IncidentNumber,
) -> Result<crate::model::notification::IncidentFacts, AppError> {
    let (title, severity, services): (String, String, String) =
        sqlx::query_as("SELECT title, severity, services FROM incidents WHERE number = $1")
            .bind(number.0)
            .fetch_one(conn)
            .await?;
    Ok(crate::model::notification::IncidentFacts {
        number,
        title,
        severity: severity.parse().map_err(|_| corrupt("severity"))?,
        services: split(&services),
    })
}

/// Takes the next incident number (atomic on both databases).
pub async fn next_number(conn: &mut AnyConnection) -> Result<IncidentNumber, AppError> {
    Ok(IncidentNumber(
        super::next_value(conn, "incident_number").await?,
    ))
}

/// Inserts a declared incident (version 1) with its services and tags.
pub async fn insert(
    conn: &mut AnyConnection,
    number: IncidentNumber,
    new: &NewIncident,
    declared_by: Option<UserId>,
    now: i64,
) -> Result<IncidentId, AppError> {
    // Time-ordered: the services, tags, events and action items of the incidents of a time
    // range sit together in their indexes, so the board's joins read few pages.
    let id = IncidentId(Uuid::now_v7());
    sqlx::query(
        "INSERT INTO incidents (id, number, title, description, severity, status, services, tags, \
         detected_at, declared_by, created_at, updated_at, version, impact_started_at) \
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $10, $11, 1, $12)",
    )
    .bind(id.to_string())
    .bind(number.0)
    .bind(&new.title)
    .bind(&new.description)
    .bind(new.severity.as_str())
    .bind(new.services.join(","))
    .bind(new.tags.join(","))
    .bind(to_millis(new.detected_at))
    .bind(declared_by.map(|u| u.to_string()))
    .bind(now)
    .bind(now)
    .bind(new.impact_started_at.map(to_millis))
    .execute(&mut *conn)
    .await?;
    for service in &new.services {
        sqlx::query(
            "INSERT INTO incident_services (incident_id, service, status, detected_at, number) \
             VALUES ($1, $2, 'open', $3, $4)",
        )
        .bind(id.to_string())
        .bind(service)
        .bind(to_millis(new.detected_at))
        .bind(number.0)
        .execute(&mut *conn)
        .await?;
    }
    for tag in &new.tags {
        sqlx::query("INSERT INTO incident_tags (incident_id, tag) VALUES ($1, $2)")
            .bind(id.to_string())
            .bind(tag)
            .execute(&mut *conn)
            .await?;
    }
    super::metrics::note_repeats(
        conn,
        &id.to_string(),
        to_millis(new.detected_at),
        &new.services,
        &new.tags,
    )
    .await?;
    Ok(id)
}

/// Claims incident `number` for a change in the caller's transaction and returns its state. The
/// claim is a write to the incident row — its first in the transaction — so concurrent changes
/// to one incident queue here, and each reads the state the one before it left. `bump` moves
/// the version on (a change to a fact the page shows: status, severity, a role); a note or an
/// action item does not, so a page loaded before it still acts on current facts.
pub async fn lock_for_change(
    conn: &mut AnyConnection,
    number: IncidentNumber,
    bump: bool,
    now: i64,
) -> Result<IncidentState, AppError> {
    let claimed = sqlx::query(
        "UPDATE incidents SET version = version + CASE WHEN $1 THEN 1 ELSE 0 END, updated_at = $2 \
         WHERE number = $3",
    )
    .bind(bump)
    .bind(now)
    .bind(number.0)
    .execute(&mut *conn)
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    let row: StateRow = sqlx::query_as(
        "SELECT i.id, i.number, i.status, i.severity, i.commander_id, i.scribe_id, i.communications_id, \
         c.username AS commander_name, s.username AS scribe_name, m.username AS communications_name, \
         i.impact_started_at, i.detected_at, i.acknowledged_at, i.mitigated_at, i.resolved_at, \
         i.reviewed_at, i.version \
         FROM incidents i LEFT JOIN users c ON c.id = i.commander_id \
         LEFT JOIN users s ON s.id = i.scribe_id LEFT JOIN users m ON m.id = i.communications_id \
         WHERE i.number = $1",
    )
    .bind(number.0)
    .fetch_one(&mut *conn)
    .await?;
    row.try_into()
}

#[derive(FromRow)]
struct StateRow {
    id: String,
    number: i64,
    status: String,
    severity: String,
    commander_id: Option<String>,
    scribe_id: Option<String>,
    communications_id: Option<String>,
    commander_name: Option<String>,
    scribe_name: Option<String>,
    communications_name: Option<String>,
    impact_started_at: Option<i64>,
    detected_at: i64,
    acknowledged_at: Option<i64>,
    mitigated_at: Option<i64>,
    resolved_at: Option<i64>,
    reviewed_at: Option<i64>,
    version: i64,
}

impl TryFrom<StateRow> for IncidentState {
    type Error = AppError;

    fn try_from(r: StateRow) -> Result<Self, AppError> {
        Ok(Self {
            id: r.id.parse().map_err(|_| corrupt("id"))?,
            number: IncidentNumber(r.number),
            status: r.status.parse().map_err(|_| corrupt("status"))?,
            severity: r.severity.parse().map_err(|_| corrupt("severity"))?,
            timestamps: Timestamps {
                impact_started_at: ms(r.impact_started_at),
                detected_at: from_millis(r.detected_at),
                acknowledged_at: ms(r.acknowledged_at),
                mitigated_at: ms(r.mitigated_at),
                resolved_at: ms(r.resolved_at),
                reviewed_at: ms(r.reviewed_at),
            },
            commander_id: r.commander_id,
            scribe_id: r.scribe_id,
            communications_id: r.communications_id,
            holder_names: [r.commander_name, r.scribe_name, r.communications_name],
            version: r.version,
        })
    }
}

/// Writes back status, severity, roles and timestamps of a locked incident.
pub async fn save_state(conn: &mut AnyConnection, s: &IncidentState) -> Result<(), AppError> {
    let t = &s.timestamps;
    sqlx::query(
        "UPDATE incidents SET status = $1, severity = $2, commander_id = $3, scribe_id = $4, \
         communications_id = $5, acknowledged_at = $6, mitigated_at = $7, resolved_at = $8, \
         reviewed_at = $9, impact_started_at = $10 WHERE id = $11",
    )
    .bind(s.status.as_str())
    .bind(s.severity.as_str())
    .bind(s.commander_id.clone())
    .bind(s.scribe_id.clone())
    .bind(s.communications_id.clone())
    .bind(t.acknowledged_at.map(to_millis))
    .bind(t.mitigated_at.map(to_millis))
    .bind(t.resolved_at.map(to_millis))
    .bind(t.reviewed_at.map(to_millis))
    .bind(t.impact_started_at.map(to_millis))
    .bind(s.id.to_string())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE incident_services SET status = $1 WHERE incident_id = $2")
        .bind(s.status.as_str())
        .bind(s.id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends an event to an incident's timeline (call inside the change's transaction). The
/// entry's number comes from the incident's `event_seq` counter, whose increment locks the
/// incident row until the transaction ends: concurrent entries for one incident — a note, a
/// run's step, a move, from any instance — queue there and never share a number.
pub async fn append_event(
    conn: &mut AnyConnection,
    incident: IncidentId,
    data: &EventData,
    occurred_at: i64,
    recorded_at: i64,
    author: Option<UserId>,
    corrects: Option<EventId>,
) -> Result<EventId, AppError> {
    let id = EventId(Uuid::new_v4());
    let json = serde_json::to_string(data).map_err(|_| AppError::Internal)?;
    let seq: i64 = sqlx::query_scalar(
        "UPDATE incidents SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
    )
    .bind(incident.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    sqlx::query(
        "INSERT INTO incident_events (id, incident_id, seq, kind, data, occurred_at, recorded_at, author_id, \
         corrects_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.to_string())
    .bind(incident.to_string())
    .bind(seq)
    .bind(data.kind())
    .bind(json)
    .bind(occurred_at)
    .bind(recorded_at)
    .bind(author.map(|a| a.to_string()))
    .bind(corrects.map(|c| c.to_string()))
    .execute(conn)
    .await?;
    Ok(id)
}

/// The ids of incident `number`'s timeline entries.
pub async fn event_ids(pool: &AnyPool, number: IncidentNumber) -> Result<Vec<EventId>, AppError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT e.id FROM incident_events e JOIN incidents i ON i.id = e.incident_id \
         WHERE i.number = $1",
    )
    .bind(number.0)
    .fetch_all(pool)
    .await?;
    ids.iter()
        .map(|id| id.parse().map_err(|_| corrupt("event id")))
        .collect()
}

/// Whether `event` is on the timeline of incident `number` (a correction may only point there).
pub async fn event_on_incident(
    pool: &AnyPool,
    event: EventId,
    number: IncidentNumber,
) -> Result<bool, AppError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT e.seq FROM incident_events e JOIN incidents i ON i.id = e.incident_id \
         WHERE e.id = $1 AND i.number = $2",
    )
    .bind(event.to_string())
    .bind(number.0)
    .fetch_optional(pool)
    .await?;
    Ok(found.is_some())
}

const SUMMARY_COLUMNS: &str = "i.id, i.number, i.title, i.severity, i.status, i.services, i.tags, \
     c.username AS commander, i.detected_at";

#[derive(FromRow)]
struct SummaryRow {
    id: String,
    number: i64,
    title: String,
    severity: String,
    status: String,
    services: String,
    tags: String,
    commander: Option<String>,
    detected_at: i64,
}

impl TryFrom<SummaryRow> for IncidentSummary {
    type Error = AppError;

    fn try_from(r: SummaryRow) -> Result<Self, AppError> {
        Ok(Self {
            id: r.id.parse().map_err(|_| corrupt("id"))?,
            number: IncidentNumber(r.number),
            title: r.title,
            severity: r.severity.parse().map_err(|_| corrupt("severity"))?,
            status: r.status.parse().map_err(|_| corrupt("status"))?,
            services: split(&r.services),
            tags: split(&r.tags),
            commander: r.commander,
            detected_at: from_millis(r.detected_at),
        })
    }
}

#[derive(FromRow)]
struct DetailRow {
    description: String,
    impact_started_at: Option<i64>,
    scribe: Option<String>,
    communications: Option<String>,
    acknowledged_at: Option<i64>,
    mitigated_at: Option<i64>,
    resolved_at: Option<i64>,
    reviewed_at: Option<i64>,
    version: i64,
}

#[derive(FromRow)]
struct EventRow {
    id: String,
    seq: i64,
    data: String,
    occurred_at: i64,
    recorded_at: i64,
    author: Option<String>,
    corrects_id: Option<String>,
}

/// The incident with this number, with its timeline in the order things happened (a backdated
/// note among the entries of its time; entry number breaks ties).
pub async fn find_detail(
    pool: &AnyPool,
    number: IncidentNumber,
) -> Result<Option<IncidentDetail>, AppError> {
    let summary: Option<SummaryRow> = sqlx::query_as(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM incidents i LEFT JOIN users c ON c.id = i.commander_id WHERE i.number = $1"
    ))
    .bind(number.0)
    .fetch_optional(pool)
    .await?;
    let Some(summary) = summary else {
        return Ok(None);
    };
    let summary = IncidentSummary::try_from(summary)?;
    let detail: DetailRow = sqlx::query_as(
        "SELECT i.description, i.impact_started_at, s.username AS scribe, m.username AS communications, \
         i.acknowledged_at, i.mitigated_at, i.resolved_at, i.reviewed_at, i.version FROM incidents i \
         LEFT JOIN users s ON s.id = i.scribe_id LEFT JOIN users m ON m.id = i.communications_id \
         WHERE i.number = $1",
    )
    .bind(number.0)
    .fetch_one(pool)
    .await?;
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT e.id, e.seq, e.data, e.occurred_at, e.recorded_at, u.username AS author, e.corrects_id \
         FROM incident_events e LEFT JOIN users u ON u.id = e.author_id \
         WHERE e.incident_id = $1 ORDER BY e.occurred_at, e.seq",
    )
    .bind(summary.id.to_string())
    .fetch_all(pool)
    .await?;
    let timeline = events
        .into_iter()
        .map(|e| {
            Ok(TimelineEvent {
                id: e.id.parse().map_err(|_| corrupt("event id"))?,
                seq: e.seq,
                data: serde_json::from_str(&e.data).map_err(|_| corrupt("event data"))?,
                occurred_at: from_millis(e.occurred_at),
                recorded_at: from_millis(e.recorded_at),
                author: e.author.map(super::users::author_label),
                corrects: e
                    .corrects_id
                    .map(|c| c.parse())
                    .transpose()
                    .map_err(|_| corrupt("event ref"))?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Some(IncidentDetail {
        timestamps: Timestamps {
            impact_started_at: ms(detail.impact_started_at),
            detected_at: summary.detected_at,
            acknowledged_at: ms(detail.acknowledged_at),
            mitigated_at: ms(detail.mitigated_at),
            resolved_at: ms(detail.resolved_at),
            reviewed_at: ms(detail.reviewed_at),
        },
        summary,
        description: detail.description,
        scribe: detail.scribe,
        communications: detail.communications,
        version: detail.version,
        timeline,
        postmortem_published: crate::server::repo::postmortems::is_published(pool, number).await?,
        as_of: chrono::Utc::now(),
    }))
}

/// The current version of an incident (cheap: live pages poll it).
pub async fn version(pool: &AnyPool, number: IncidentNumber) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM incidents WHERE number = $1")
            .bind(number.0)
            .fetch_optional(pool)
            .await?,
    )
}

/// A stamp that moves whenever incident `number` or its timeline changes (runs for the incident
/// add timeline entries without changing its version): what an open page polls. The same sum
/// as `IncidentDetail::change_stamp`.
pub async fn change_stamp(pool: &AnyPool, number: IncidentNumber) -> Result<Option<i64>, AppError> {
    Ok(
        sqlx::query_scalar("SELECT version + event_seq FROM incidents WHERE number = $1")
            .bind(number.0)
            .fetch_optional(pool)
            .await?,
    )
}

/// A list query's `FROM` and `WHERE`, with numbered placeholders. With a service filter the
/// query is driven by `incident_services` (alias `k`), whose copies of status, detection instant
/// and number make that filter one index range; otherwise by `incidents` itself (alias `i`, and
/// `k` is `i`).
struct Conditions {
    from: &'static str,
    sql: Vec<String>,
    args: AnyArguments<'static>,
    count: usize,
    /// Whether a condition reads `incidents` itself (not only the service copies).
    reads_incident: bool,
}

impl Conditions {
    /// Binds `value` and returns its placeholder (`$1`, `$2` …).
    fn arg<T>(&mut self, value: T) -> String
    where
        T: 'static + Send + sqlx::Encode<'static, Any> + sqlx::Type<Any>,
    {
        if let Err(e) = self.args.add(value) {
            // Only unencodable types fail here, and every caller binds a String or an i64.
            tracing::error!(error = %e, "cannot bind a list query argument");
        }
        self.count += 1;
        format!("${}", self.count)
    }

    fn push(&mut self, condition: String) {
        self.sql.push(condition);
    }

    fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql.join(" AND "))
        }
    }

    /// Filters other than status (the counts per status share them).
    fn common(filter: &IncidentFilter) -> Self {
        let service = filter.service.trim().to_ascii_lowercase();
        let mut c = Self {
            from: if service.is_empty() {
                "incidents i"
            } else {
                "incident_services k JOIN incidents i ON i.id = k.incident_id"
            },
            sql: Vec::new(),
            args: AnyArguments::default(),
            count: 0,
            reads_incident: false,
        };
        if !service.is_empty() {
            let a = c.arg(service);
            c.push(format!("k.service = {a}"));
        }
        if let Ok(sev) = filter.severity.parse::<Severity>() {
            let a = c.arg(sev.as_str().to_owned());
            c.push(format!("i.severity = {a}"));
            c.reads_incident = true;
        }
        let tag = filter.tag.trim().to_ascii_lowercase();
        if !tag.is_empty() {
            let a = c.arg(tag);
            c.push(format!(
                "EXISTS (SELECT 1 FROM incident_tags t WHERE t.incident_id = i.id AND t.tag = {a})"
            ));
            c.reads_incident = true;
        }
        let words = filter.q.trim().to_lowercase();
        if !words.is_empty() {
            // The words are matched as typed: `%`, `_` and `\` are escaped, not wildcards.
            let mut pattern = String::with_capacity(words.len() + 2);
            pattern.push('%');
            for ch in words.chars() {
                if matches!(ch, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(ch);
            }
            pattern.push('%');
            let a = c.arg(pattern);
            c.push(format!("LOWER(i.title) LIKE {a} ESCAPE '\\'"));
            c.reads_incident = true;
        }
        c
    }

    /// The `FROM` of a count: the service copies alone when nothing else is needed (an
    /// index-only range), else the full join.
    fn count_from(&self) -> &'static str {
        if self.key() == "k" && !self.reads_incident {
            "incident_services k"
        } else {
            self.from
        }
    }

    /// The alias whose status, detection instant and number drive the order.
    fn key(&self) -> &'static str {
        if self.from.starts_with("incident_services") {
            "k"
        } else {
            "i"
        }
    }

    fn status(&mut self, status: &str) {
        let k = self.key();
        match status {
            "active" => self.push(format!("{k}.status IN ('open', 'mitigating')")),
            other => {
                if let Ok(s) = other.parse::<IncidentStatus>() {
                    let a = self.arg(s.as_str().to_owned());
                    self.push(format!("{k}.status = {a}"));
                }
            }
        }
    }
}

/// One page of incidents matching `filter`, in keyset order, with counts per status. A search
/// longer than [`Q_MAX`] characters is refused.
pub async fn list(pool: &AnyPool, filter: &IncidentFilter) -> Result<IncidentPage, AppError> {
    if filter.q.trim().chars().count() > Q_MAX {
        return Err(AppError::field(
            "q",
            format!("Search for at most {Q_MAX} characters."),
        ));
    }
    let sort = IncidentSort::parse(&filter.sort);
    let mut c = Conditions::common(filter);
    c.status(&filter.status);
    let k = c.key();
    if let Some(cursor) = Cursor::decode(&filter.after) {
        let ms = c.arg(cursor.detected_ms);
        let n = c.arg(cursor.number);
        match (sort, cursor.severity) {
            (IncidentSort::Newest, _) => {
                c.push(format!("({k}.detected_at, {k}.number) < ({ms}, {n})"))
            }
            (IncidentSort::Oldest, _) => {
                c.push(format!("({k}.detected_at, {k}.number) > ({ms}, {n})"))
            }
            (IncidentSort::Severity, Some(sev)) => {
                let s = c.arg(sev.as_str().to_owned());
                c.push(format!(
                    "(i.severity > {s} OR (i.severity = {s} AND (i.detected_at, i.number) < ({ms}, {n})))"
                ));
            }
            (IncidentSort::Severity, None) => {}
        }
    }
    let order = match sort {
        IncidentSort::Newest => format!("{k}.detected_at DESC, {k}.number DESC"),
        IncidentSort::Oldest => format!("{k}.detected_at ASC, {k}.number ASC"),
        IncidentSort::Severity => "i.severity ASC, i.detected_at DESC, i.number DESC".to_owned(),
    };
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM {} LEFT JOIN users c ON c.id = i.commander_id{} \
         ORDER BY {order} LIMIT {}",
        c.from,
        c.where_clause(),
        PAGE_SIZE + 1
    );
    // The page and its counts on one connection: one pool checkout (on SQLite each is a round
    // trip to the connection's thread), not one per query.
    let mut conn = pool.acquire().await?;
    let rows: Vec<SummaryRow> = sqlx::query_as_with(&sql, c.args)
        .fetch_all(&mut *conn)
        .await?;
    let mut items = rows
        .into_iter()
        .map(IncidentSummary::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next = (items.len() > PAGE_SIZE).then(|| {
        items.truncate(PAGE_SIZE);
        let last = items.last().expect("a full page has a last row");
        Cursor {
            severity: (sort == IncidentSort::Severity).then_some(last.severity),
            detected_ms: to_millis(last.detected_at),
            number: last.number.0,
        }
        .encode()
    });

    let counts = match kept_counts(&mut conn, filter).await? {
        Some(counts) => counts,
        None => capped_counts(&mut conn, filter).await?,
    };
    Ok(IncidentPage {
        items,
        next,
        counts,
    })
}

/// The counts per status the database keeps (`incident_counts`, written by triggers), when the
/// filter is at most a severity: sixteen rows read, however many incidents there are. Capped
/// like the counted ones (COUNT_CAP + 1 means "more"), so the answer does not depend on the way.
async fn kept_counts(
    conn: &mut AnyConnection,
    filter: &IncidentFilter,
) -> Result<Option<Vec<(IncidentStatus, i64)>>, AppError> {
    if !(filter.service.trim().is_empty()
        && filter.tag.trim().is_empty()
        && filter.q.trim().is_empty())
    {
        return Ok(None);
    }
    let severity = filter
        .severity
        .parse::<Severity>()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, CAST(SUM(n) AS BIGINT) FROM incident_counts \
         WHERE ($1 = '' OR severity = $1) GROUP BY status",
    )
    .bind(severity)
    .fetch_all(conn)
    .await?;
    Ok(Some(
        IncidentStatus::ALL
            .iter()
            .map(|status| {
                let n = rows
                    .iter()
                    .find(|(s, _)| s == status.as_str())
                    .map_or(0, |(_, n)| *n);
                (*status, n.clamp(0, COUNT_CAP + 1))
            })
            .collect(),
    ))
}

/// One bounded count per status: each stops after COUNT_CAP + 1 rows of its index.
async fn capped_counts(
    conn: &mut AnyConnection,
    filter: &IncidentFilter,
) -> Result<Vec<(IncidentStatus, i64)>, AppError> {
    let mut counts = Vec::with_capacity(IncidentStatus::ALL.len());
    for status in IncidentStatus::ALL {
        let mut c = Conditions::common(filter);
        c.status(status.as_str());
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {}{} LIMIT {}) capped",
            c.count_from(),
            c.where_clause(),
            COUNT_CAP + 1
        );
        let n: i64 = sqlx::query_scalar_with(&sql, c.args)
            .fetch_one(&mut *conn)
            .await?;
        counts.push((status, n));
    }
    Ok(counts)
}

/// The id and status of the incident numbered `number`, if there is one.
pub async fn id_and_status(
    pool: &AnyPool,
    number: IncidentNumber,
) -> Result<Option<(crate::model::incident::IncidentId, IncidentStatus)>, AppError> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT id, status FROM incidents WHERE number = $1")
            .bind(number.0)
            .fetch_optional(pool)
            .await?;
    row.map(|(id, status)| {
        Ok((
            id.parse().map_err(|_| AppError::Internal)?,
            status.parse().map_err(|_| corrupt("status"))?,
        ))
    })
    .transpose()
}

/// Incidents still being handled (open or mitigating), newest first, at most 200: number
/// (`INC-7`) and title, for a picker.
pub async fn active_titles(pool: &AnyPool) -> Result<Vec<(String, String)>, AppError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT number, title FROM incidents WHERE status IN ('open', 'mitigating') \
         ORDER BY number DESC LIMIT 200",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(n, title)| (IncidentNumber(n).to_string(), title))
        .collect())
}
