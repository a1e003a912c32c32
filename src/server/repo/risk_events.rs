//! The `risk_events` and `alerts_received` tables: one event per alert identity while it fires,
//! every received alert kept for a while.

use sqlx::{AnyConnection, AnyPool, FromRow};
use uuid::Uuid;

use crate::model::AppError;
use crate::model::alert::{IncomingAlert, Labels, RiskEvent, RiskFilter, RiskStatus};
use crate::server::db::from_millis;

/// Most events one list returns.
pub const LIST_CAP: i64 = 500;

/// How an alert left its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new event (a first firing, or a firing after the last occurrence resolved).
    Opened(i64),
    /// An open event received its alert again.
    Updated(i64),
    /// An open event stopped firing.
    Resolved(i64),
    /// An open event was acknowledged by its sender.
    Acknowledged(i64),
    /// Nothing open had this identity (a resolve of something already resolved, say).
    Nothing,
}

impl Outcome {
    /// The event's number, if one was touched.
    pub fn number(self) -> Option<i64> {
        match self {
            Self::Opened(n) | Self::Updated(n) | Self::Resolved(n) | Self::Acknowledged(n) => {
                Some(n)
            }
            Self::Nothing => None,
        }
    }
}

/// What mutes an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mute {
    /// The silence's id.
    pub silenced_by: Option<String>,
    /// The inhibiting event's number.
    pub inhibited_by: Option<i64>,
}

fn json(labels: &Labels) -> String {
    serde_json::to_string(labels).unwrap_or_else(|_| "{}".into())
}

fn alertname(alert: &IncomingAlert) -> String {
    alert
        .labels
        .get("alertname")
        .cloned()
        .unwrap_or_else(|| alert.summary.chars().take(200).collect())
}

/// Records a firing alert in the caller's transaction: the open event of its identity takes it
/// (last seen, count, annotations, what mutes it), or a new event is opened. Two instances
/// receiving one identity at once end with one event: the unique index on open identities makes
/// the second insert update the first one's row.
pub async fn fire(
    conn: &mut AnyConnection,
    alert: &IncomingAlert,
    mute: &Mute,
    now: i64,
) -> Result<Outcome, AppError> {
    let service = crate::model::alert::service_of(&alert.labels);
    // Written by the update, or by the insert when nothing open has this identity.
    let (labels, annotations, name) = (
        json(&alert.labels),
        json(&alert.annotations),
        alertname(alert),
    );
    let updated: Option<i64> = sqlx::query_scalar(
        "UPDATE risk_events SET last_seen = $1, seen_count = seen_count + 1, summary = $2, \
         severity = $3, labels = $4, annotations = $5, service = $6, alertname = $7, url = $8, \
         silenced_by = $9, inhibited_by = $10, updated_at = $1 \
         WHERE source = $11 AND fingerprint = $12 AND resolved_at IS NULL RETURNING number",
    )
    .bind(now)
    .bind(&alert.summary)
    .bind(alert.severity.as_str())
    .bind(&labels)
    .bind(&annotations)
    .bind(service.as_deref())
    .bind(&name)
    .bind(alert.url.as_deref())
    .bind(mute.silenced_by.as_deref())
    .bind(mute.inhibited_by)
    .bind(&alert.source)
    .bind(&alert.fingerprint)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(number) = updated {
        return Ok(Outcome::Updated(number));
    }
    let number = super::next_value(conn, "risk_event_number").await?;
    let returned: i64 = sqlx::query_scalar(
        "INSERT INTO risk_events (id, number, source, fingerprint, status, severity, summary, \
         labels, annotations, service, alertname, url, seen_count, first_seen, last_seen, \
         starts_at, silenced_by, inhibited_by, updated_at) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $10, $11, 1, $12, $12, $13, $14, $15, $12) \
         ON CONFLICT (source, fingerprint) WHERE resolved_at IS NULL DO UPDATE SET \
         last_seen = excluded.last_seen, seen_count = risk_events.seen_count + 1, \
         summary = excluded.summary, severity = excluded.severity, labels = excluded.labels, \
         annotations = excluded.annotations, url = excluded.url, updated_at = excluded.updated_at \
         RETURNING number",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(number)
    .bind(&alert.source)
    .bind(&alert.fingerprint)
    .bind(alert.severity.as_str())
    .bind(&alert.summary)
    .bind(&labels)
    .bind(&annotations)
    .bind(service.as_deref())
    .bind(&name)
    .bind(alert.url.as_deref())
    .bind(now)
    .bind(alert.starts_at.map(crate::server::db::to_millis))
    .bind(mute.silenced_by.as_deref())
    .bind(mute.inhibited_by)
    .fetch_one(&mut *conn)
    .await?;
    Ok(if returned == number {
        Outcome::Opened(number)
    } else {
        Outcome::Updated(returned)
    })
}

/// Takes the event-number counter's row lock as the transaction's first write. Every delivery
/// takes it first, so deliveries on PostgreSQL run one at a time instead of locking events and
/// the counter in different orders (which deadlocks), and on SQLite the transaction writes
/// before it reads.
pub async fn take_turn(conn: &mut AnyConnection) -> Result<(), AppError> {
    sqlx::query("UPDATE counters SET value = value WHERE name = 'risk_event_number'")
        .execute(conn)
        .await?;
    Ok(())
}

/// Resolves the open event of an identity, if there is one.
pub async fn resolve(
    conn: &mut AnyConnection,
    source: &str,
    fingerprint: &str,
    now: i64,
) -> Result<Outcome, AppError> {
    let number: Option<i64> = sqlx::query_scalar(
        "UPDATE risk_events SET status = 'resolved', resolved_at = $1, last_seen = $1, \
         seen_count = seen_count + 1, updated_at = $1 \
         WHERE source = $2 AND fingerprint = $3 AND resolved_at IS NULL RETURNING number",
    )
    .bind(now)
    .bind(source)
    .bind(fingerprint)
    .fetch_optional(conn)
    .await?;
    Ok(number.map_or(Outcome::Nothing, Outcome::Resolved))
}

/// Marks the open event of an identity acknowledged by `by` (its sender's acknowledgement).
pub async fn acknowledge_identity(
    conn: &mut AnyConnection,
    source: &str,
    fingerprint: &str,
    by: &str,
    now: i64,
) -> Result<Outcome, AppError> {
    let number: Option<i64> = sqlx::query_scalar(
        "UPDATE risk_events SET status = 'acknowledged', acknowledged_by = $1, \
         acknowledged_at = $2, last_seen = $2, updated_at = $2 \
         WHERE source = $3 AND fingerprint = $4 AND resolved_at IS NULL RETURNING number",
    )
    .bind(by)
    .bind(now)
    .bind(source)
    .bind(fingerprint)
    .fetch_optional(conn)
    .await?;
    Ok(number.map_or(Outcome::Nothing, Outcome::Acknowledged))
}

/// Acknowledges open event `number` for `by`. `Ok(false)` when it is not open (already
/// acknowledged or resolved); `NotFound` when there is no such event.
pub async fn acknowledge(
    conn: &mut AnyConnection,
    number: i64,
    by: &str,
    now: i64,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE risk_events SET status = 'acknowledged', acknowledged_by = $1, \
         acknowledged_at = $2, updated_at = $2 WHERE number = $3 AND status = 'open'",
    )
    .bind(by)
    .bind(now)
    .bind(number)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if done == 0 {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT number FROM risk_events WHERE number = $1")
                .bind(number)
                .fetch_optional(&mut *conn)
                .await?;
        exists.ok_or(AppError::NotFound)?;
    }
    Ok(done > 0)
}

/// One received alert, as kept.
pub struct Received<'a> {
    /// The alert.
    pub alert: &'a IncomingAlert,
    /// The event it touched.
    pub event: Option<i64>,
}

/// Keeps received alerts (one statement per hundred).
pub async fn record_received(
    conn: &mut AnyConnection,
    received: &[Received<'_>],
    token_id: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    for chunk in received.chunks(100) {
        let mut sql = String::from(
            "INSERT INTO alerts_received (id, received_at, source, fingerprint, action, labels, \
             annotations, event_number, token_id) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 9;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
        }
        let mut query = sqlx::query(&sql);
        for r in chunk {
            query = query
                .bind(Uuid::now_v7().to_string())
                .bind(now)
                .bind(&r.alert.source)
                .bind(&r.alert.fingerprint)
                .bind(r.alert.action.as_str())
                .bind(json(&r.alert.labels))
                .bind(json(&r.alert.annotations))
                .bind(r.event)
                .bind(token_id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Deletes received alerts older than `before` (Unix ms); returns how many.
pub async fn prune_received(pool: &AnyPool, before: i64) -> Result<u64, AppError> {
    Ok(
        sqlx::query("DELETE FROM alerts_received WHERE received_at < $1")
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// An unresolved event's labels and what mutes it, for re-working its muting.
#[derive(Debug, Clone, FromRow)]
pub struct Unresolved {
    /// Its number.
    pub number: i64,
    /// Its labels (JSON).
    pub labels: String,
    /// Its silence.
    pub silenced_by: Option<String>,
    /// Its inhibitor.
    pub inhibited_by: Option<i64>,
}

impl Unresolved {
    /// Its labels, read.
    pub fn labels(&self) -> Labels {
        serde_json::from_str(&self.labels).unwrap_or_default()
    }
}

/// Every unresolved event (optionally only those named `alertname`).
pub async fn unresolved(
    conn: &mut AnyConnection,
    alertname: Option<&str>,
) -> Result<Vec<Unresolved>, AppError> {
    let rows = match alertname {
        Some(name) => {
            sqlx::query_as(
                "SELECT number, labels, silenced_by, inhibited_by FROM risk_events \
                 WHERE resolved_at IS NULL AND alertname = $1",
            )
            .bind(name)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query_as(
                "SELECT number, labels, silenced_by, inhibited_by FROM risk_events \
                 WHERE resolved_at IS NULL",
            )
            .fetch_all(conn)
            .await?
        }
    };
    Ok(rows)
}

/// Sets what mutes event `number` (only while it is unresolved).
pub async fn set_mute(conn: &mut AnyConnection, number: i64, mute: &Mute) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE risk_events SET silenced_by = $1, inhibited_by = $2, updated_at = $3 \
         WHERE number = $4 AND resolved_at IS NULL",
    )
    .bind(mute.silenced_by.as_deref())
    .bind(mute.inhibited_by)
    .bind(crate::server::db::now_millis())
    .bind(number)
    .execute(conn)
    .await?;
    Ok(())
}

const COLUMNS: &str = "e.number, e.status, e.source, e.fingerprint, e.labels, e.annotations, \
    e.summary, e.severity, e.service, e.seen_count, e.first_seen, e.last_seen, e.resolved_at, \
    u.username AS acknowledged_by, e.acknowledged_at, i.number AS incident_number, \
    e.silenced_by, e.inhibited_by, e.url";

const JOINS: &str = "risk_events e LEFT JOIN users u ON u.id = e.acknowledged_by \
    LEFT JOIN incidents i ON i.id = e.incident_id";

#[derive(FromRow)]
struct EventRow {
    number: i64,
    status: String,
    source: String,
    fingerprint: String,
    labels: String,
    annotations: String,
    summary: String,
    severity: String,
    service: Option<String>,
    seen_count: i64,
    first_seen: i64,
    last_seen: i64,
    resolved_at: Option<i64>,
    acknowledged_by: Option<String>,
    acknowledged_at: Option<i64>,
    incident_number: Option<i64>,
    silenced_by: Option<String>,
    inhibited_by: Option<i64>,
    url: Option<String>,
}

impl TryFrom<EventRow> for RiskEvent {
    type Error = AppError;

    fn try_from(row: EventRow) -> Result<Self, AppError> {
        let corrupt = |what| super::corrupt("risk_events", what);
        let stored: RiskStatus = row.status.parse().map_err(|_| corrupt("status"))?;
        let muted = row.silenced_by.is_some() || row.inhibited_by.is_some();
        Ok(Self {
            id: row.number,
            status: if stored != RiskStatus::Resolved && muted {
                RiskStatus::Silenced
            } else {
                stored
            },
            labels: serde_json::from_str(&row.labels).map_err(|_| corrupt("labels"))?,
            annotations: serde_json::from_str(&row.annotations)
                .map_err(|_| corrupt("annotations"))?,
            severity: row.severity.parse().map_err(|_| corrupt("severity"))?,
            source: row.source,
            fingerprint: row.fingerprint,
            summary: row.summary,
            service: row.service,
            count: row.seen_count,
            first_seen: from_millis(row.first_seen),
            last_seen: from_millis(row.last_seen),
            resolved_at: row.resolved_at.map(from_millis),
            acknowledged_by: row.acknowledged_by,
            acknowledged_at: row.acknowledged_at.map(from_millis),
            incident: row.incident_number.map(|n| format!("INC-{n}")),
            silenced_by: row.silenced_by,
            inhibited_by: row.inhibited_by,
            url: row.url,
        })
    }
}

/// Events matching `filter`, the most recently seen first, at most [`LIST_CAP`].
pub async fn list(pool: &AnyPool, filter: &RiskFilter) -> Result<Vec<RiskEvent>, AppError> {
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut arg = |value: String| {
        binds.push(value);
        format!("${}", binds.len())
    };
    conditions.push(
        match filter.status {
            RiskStatus::Open => {
                "e.status = 'open' AND e.silenced_by IS NULL AND e.inhibited_by IS NULL"
            }
            RiskStatus::Acknowledged => {
                "e.status = 'acknowledged' AND e.silenced_by IS NULL AND e.inhibited_by IS NULL"
            }
            RiskStatus::Silenced => {
                "e.resolved_at IS NULL AND (e.silenced_by IS NOT NULL OR e.inhibited_by IS NOT NULL)"
            }
            RiskStatus::Resolved => "e.status = 'resolved'",
        }
        .to_owned(),
    );
    if let Some(service) = &filter.service {
        conditions.push(format!("e.service = {}", arg(service.clone())));
    }
    if let Some(severity) = filter.severity {
        conditions.push(format!(
            "e.severity = {}",
            arg(severity.as_str().to_owned())
        ));
    }
    if let Some(source) = &filter.source {
        conditions.push(format!("e.source = {}", arg(source.clone())));
    }
    if let Some(q) = &filter.q {
        let pattern = format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let p = arg(pattern);
        conditions.push(format!(
            "(LOWER(e.summary) LIKE {p} ESCAPE '\\' OR LOWER(e.labels) LIKE {p} ESCAPE '\\')"
        ));
    }
    let order = if filter.status == RiskStatus::Resolved {
        "e.resolved_at DESC"
    } else {
        "e.severity, e.last_seen DESC"
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM {JOINS} WHERE {} ORDER BY {order}, e.number DESC LIMIT {LIST_CAP}",
        conditions.join(" AND ")
    );
    let mut query = sqlx::query_as::<_, EventRow>(&sql);
    for b in binds {
        query = query.bind(b);
    }
    query
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(RiskEvent::try_from)
        .collect()
}

/// Event `number`.
pub async fn find(conn: &mut AnyConnection, number: i64) -> Result<Option<RiskEvent>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM {JOINS} WHERE e.number = $1");
    sqlx::query_as::<_, EventRow>(&sql)
        .bind(number)
        .fetch_optional(conn)
        .await?
        .map(RiskEvent::try_from)
        .transpose()
}

/// How many unresolved events each tab holds: open, acknowledged, silenced.
pub async fn counts(pool: &AnyPool) -> Result<(i64, i64, i64), AppError> {
    let row: (i64, i64, i64) = sqlx::query_as(
        "SELECT \
         COALESCE(SUM(CASE WHEN status = 'open' AND silenced_by IS NULL AND inhibited_by IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN status = 'acknowledged' AND silenced_by IS NULL AND inhibited_by IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN silenced_by IS NOT NULL OR inhibited_by IS NOT NULL THEN 1 ELSE 0 END), 0) \
         FROM risk_events WHERE resolved_at IS NULL",
    )
    .fetch_one(pool)
    .await?;
    Ok(row)
}

/// The alerts received for event `number`, newest first (at most `limit`).
pub async fn received_for(
    pool: &AnyPool,
    number: i64,
    limit: i64,
) -> Result<Vec<(chrono::DateTime<chrono::Utc>, String)>, AppError> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT received_at, action FROM alerts_received WHERE event_number = $1 \
         ORDER BY received_at DESC LIMIT $2",
    )
    .bind(number)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, action)| (from_millis(at), action))
        .collect())
}

/// What changes whenever an event is received, changed or added: the newest change and the
/// newest number.
pub async fn stamp(pool: &AnyPool) -> Result<String, AppError> {
    let (changed, newest): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MAX(updated_at), MAX(number) FROM risk_events")
            .fetch_one(pool)
            .await?;
    Ok(format!("{}.{}", changed.unwrap_or(0), newest.unwrap_or(0)))
}
