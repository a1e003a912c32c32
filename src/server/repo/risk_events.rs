//! The `risk_events` and `alerts_received` tables: one event per alert identity while it fires,
//! every received alert kept for a while.

use sqlx::{AnyConnection, AnyPool, FromRow};
use uuid::Uuid;

use crate::model::AppError;
use crate::model::alert::{AlertAction, IncomingAlert, Labels, RiskEvent, RiskFilter, RiskStatus};
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

/// An alert ready to be written: its JSON and derived columns computed once, and what mutes it.
pub struct Staged<'a> {
    /// The alert.
    pub alert: &'a IncomingAlert,
    /// Its labels as stored (JSON).
    pub labels: String,
    /// Its annotations as stored (JSON).
    pub annotations: String,
    /// Its `alertname` label, or "".
    pub name: String,
    /// Its service, from its labels.
    pub service: Option<String>,
    /// What mutes it (firing alerts only).
    pub mute: Mute,
}

impl<'a> Staged<'a> {
    /// Stages `alert`, muted by `mute`.
    pub fn new(alert: &'a IncomingAlert, mute: Mute) -> Self {
        Self {
            labels: json(&alert.labels),
            annotations: json(&alert.annotations),
            name: alertname(alert),
            service: crate::model::alert::service_of(&alert.labels),
            alert,
            mute,
        }
    }

    fn identity(&self) -> (&str, &str) {
        (&self.alert.source, &self.alert.fingerprint)
    }
}

/// Rows per statement: 100 alerts of 14 values each stay far below either database's limit on
/// bound values.
const BATCH_ROWS: usize = 100;

/// `(…), (…)`: `rows` groups of `width` placeholders, in text order. SQLite gets anonymous `?`
/// (bound by position: a numbered one costs a look-up of its name per parameter, quadratic in a
/// statement of a thousand values), PostgreSQL `$n` numbered from `from`.
fn placeholders(sqlite: bool, rows: usize, width: usize, from: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..width {
            if col > 0 {
                sql.push_str(", ");
            }
            if sqlite {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&(from + row * width + col).to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// A returned row: the event's number and identity.
type Touched = (i64, String, String);

/// Applies a delivery's alerts in the caller's transaction and says what each did, in order.
/// Statements are per hundred alerts, not per alert: firing alerts update their open events in
/// one `UPDATE … FROM (VALUES …)`, the rest are inserted in one multi-row upsert (two instances
/// inserting one identity at once still end with one event: the unique index on open
/// identities turns the second insert into an update), resolves are one `UPDATE … FROM`.
/// An identity sent twice in one delivery is applied in turn, as if sent twice. Each outcome
/// comes with the incident of a resolved event, if it has one.
pub async fn apply(
    conn: &mut AnyConnection,
    staged: &[Staged<'_>],
    acked_by: &str,
    now: i64,
) -> Result<Vec<(Outcome, Option<String>)>, AppError> {
    let mut outcomes: Vec<(Outcome, Option<String>)> = vec![(Outcome::Nothing, None); staged.len()];
    // Rounds of distinct identities: the first sending of each, then the second, and so on.
    let mut round_of = vec![0usize; staged.len()];
    let mut seen: std::collections::HashMap<(&str, &str), usize> =
        std::collections::HashMap::with_capacity(staged.len());
    for (i, s) in staged.iter().enumerate() {
        let count = seen.entry(s.identity()).or_insert(0);
        round_of[i] = *count;
        *count += 1;
    }
    let rounds = seen.values().copied().max().unwrap_or(0);
    for round in 0..rounds {
        let members: Vec<usize> = (0..staged.len())
            .filter(|i| round_of[*i] == round)
            .collect();
        for chunk in members.chunks(BATCH_ROWS) {
            apply_distinct(conn, staged, chunk, acked_by, now, &mut outcomes).await?;
        }
    }
    Ok(outcomes)
}

/// Applies alerts `members` of `staged` (distinct identities), writing their outcomes.
async fn apply_distinct(
    conn: &mut AnyConnection,
    staged: &[Staged<'_>],
    members: &[usize],
    acked_by: &str,
    now: i64,
    outcomes: &mut [(Outcome, Option<String>)],
) -> Result<(), AppError> {
    let of = |action: AlertAction| -> Vec<usize> {
        members
            .iter()
            .copied()
            .filter(|i| staged[*i].alert.action == action)
            .collect()
    };
    let (fires, resolves, acks) = (
        of(AlertAction::Fire),
        of(AlertAction::Resolve),
        of(AlertAction::Acknowledge),
    );
    let index: std::collections::HashMap<(&str, &str), usize> = members
        .iter()
        .map(|i| (staged[*i].identity(), *i))
        .collect();
    let find = |source: &str, fingerprint: &str| index.get(&(source, fingerprint)).copied();

    if !fires.is_empty() {
        for (number, source, fingerprint) in update_firing(conn, staged, &fires, now).await? {
            if let Some(i) = find(&source, &fingerprint) {
                outcomes[i].0 = Outcome::Updated(number);
            }
        }
        // Each alert is in one round only: one still without an outcome found no open event.
        let fresh: Vec<usize> = fires
            .iter()
            .copied()
            .filter(|i| outcomes[*i].0 == Outcome::Nothing)
            .collect();
        if !fresh.is_empty() {
            for (i, outcome) in insert_firing(conn, staged, &fresh, now).await? {
                outcomes[i].0 = outcome;
            }
        }
    }
    if !resolves.is_empty() {
        // `now` is ours, an integer: written into the text, the values are all placeholders.
        let sql = format!(
            "UPDATE risk_events SET status = 'resolved', resolved_at = {now}, last_seen = {now}, \
             seen_count = seen_count + 1, updated_at = {now} FROM (VALUES {}) AS v \
             WHERE source = v.column1 AND fingerprint = v.column2 AND resolved_at IS NULL \
             RETURNING number, source, fingerprint, incident_id",
            placeholders(
                crate::server::db::is_sqlite_conn(conn),
                resolves.len(),
                2,
                1
            )
        );
        let mut query =
            sqlx::query_as::<_, (i64, String, String, Option<String>)>(&sql).persistent(false);
        for i in &resolves {
            query = query
                .bind(&staged[*i].alert.source)
                .bind(&staged[*i].alert.fingerprint);
        }
        for (number, source, fingerprint, incident) in query.fetch_all(&mut *conn).await? {
            if let Some(i) = find(&source, &fingerprint) {
                outcomes[i] = (Outcome::Resolved(number), incident);
            }
        }
    }
    for i in acks {
        let a = staged[i].alert;
        outcomes[i].0 =
            acknowledge_identity(conn, &a.source, &a.fingerprint, acked_by, now).await?;
    }
    Ok(())
}

/// Updates the open events of firing alerts `fires`; returns the events touched.
async fn update_firing(
    conn: &mut AnyConnection,
    staged: &[Staged<'_>],
    fires: &[usize],
    now: i64,
) -> Result<Vec<Touched>, AppError> {
    let sql = format!(
        "UPDATE risk_events SET last_seen = {now}, seen_count = seen_count + 1, updated_at = {now}, \
         summary = v.column3, severity = v.column4, labels = v.column5, annotations = v.column6, \
         service = v.column7, alertname = v.column8, url = v.column9, silenced_by = v.column10, \
         inhibited_by = v.column11 FROM (VALUES {}) AS v \
         WHERE source = v.column1 AND fingerprint = v.column2 AND resolved_at IS NULL \
         RETURNING number, source, fingerprint",
        placeholders(crate::server::db::is_sqlite_conn(conn), fires.len(), 11, 1)
    );
    let mut query = sqlx::query_as::<_, Touched>(&sql).persistent(false);
    for i in fires {
        let s = &staged[*i];
        query = query
            .bind(&s.alert.source)
            .bind(&s.alert.fingerprint)
            .bind(&s.alert.summary)
            .bind(s.alert.severity.as_str())
            .bind(&s.labels)
            .bind(&s.annotations)
            .bind(s.service.as_deref())
            .bind(&s.name)
            .bind(s.alert.url.as_deref())
            .bind(s.mute.silenced_by.as_deref())
            .bind(s.mute.inhibited_by);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// Opens events for firing alerts `fresh` (nothing open had their identity a moment ago), with
/// numbers reserved from the counter in one statement. An identity another instance opened in
/// between updates that event instead (the upsert); its reserved number stays unused.
async fn insert_firing(
    conn: &mut AnyConnection,
    staged: &[Staged<'_>],
    fresh: &[usize],
    now: i64,
) -> Result<Vec<(usize, Outcome)>, AppError> {
    let last: i64 = sqlx::query_scalar(
        "UPDATE counters SET value = value + $1 WHERE name = 'risk_event_number' RETURNING value",
    )
    .bind(fresh.len() as i64)
    .fetch_one(&mut *conn)
    .await?;
    let first = last - fresh.len() as i64 + 1;
    let sql = format!(
        "INSERT INTO risk_events (id, number, source, fingerprint, severity, summary, labels, \
         annotations, service, alertname, url, starts_at, silenced_by, inhibited_by, status, \
         seen_count, first_seen, last_seen, updated_at) \
         SELECT column1, column2, column3, column4, column5, column6, column7, column8, column9, \
         column10, column11, column12, column13, column14, 'open', 1, {now}, {now}, {now} \
         FROM (VALUES {}) AS v WHERE true \
         ON CONFLICT (source, fingerprint) WHERE resolved_at IS NULL DO UPDATE SET \
         last_seen = excluded.last_seen, seen_count = risk_events.seen_count + 1, \
         summary = excluded.summary, severity = excluded.severity, labels = excluded.labels, \
         annotations = excluded.annotations, url = excluded.url, updated_at = excluded.updated_at \
         RETURNING number, source, fingerprint",
        placeholders(crate::server::db::is_sqlite_conn(conn), fresh.len(), 14, 1)
    );
    let mut query = sqlx::query_as::<_, Touched>(&sql).persistent(false);
    for (k, i) in fresh.iter().enumerate() {
        let s = &staged[*i];
        query = query
            .bind(Uuid::now_v7().to_string())
            .bind(first + k as i64)
            .bind(&s.alert.source)
            .bind(&s.alert.fingerprint)
            .bind(s.alert.severity.as_str())
            .bind(&s.alert.summary)
            .bind(&s.labels)
            .bind(&s.annotations)
            .bind(s.service.as_deref())
            .bind(&s.name)
            .bind(s.alert.url.as_deref())
            .bind(s.alert.starts_at.map(crate::server::db::to_millis))
            .bind(s.mute.silenced_by.as_deref())
            .bind(s.mute.inhibited_by);
    }
    let reserved: std::collections::HashMap<(&str, &str), (usize, i64)> = fresh
        .iter()
        .enumerate()
        .map(|(k, i)| (staged[*i].identity(), (*i, first + k as i64)))
        .collect();
    let mut out = Vec::with_capacity(fresh.len());
    for (number, source, fingerprint) in query.fetch_all(&mut *conn).await? {
        if let Some((i, mine)) = reserved.get(&(source.as_str(), fingerprint.as_str())) {
            out.push((
                *i,
                if number == *mine {
                    Outcome::Opened(number)
                } else {
                    Outcome::Updated(number)
                },
            ));
        }
    }
    Ok(out)
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

/// Keeps received alerts with the events they touched (one statement per hundred).
pub async fn record_received(
    conn: &mut AnyConnection,
    received: &[Staged<'_>],
    events: &[Option<i64>],
    token_id: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    for (chunk, events) in received.chunks(BATCH_ROWS).zip(events.chunks(BATCH_ROWS)) {
        let sql = format!(
            "INSERT INTO alerts_received (id, received_at, source, fingerprint, action, labels, \
             annotations, event_number, token_id) VALUES {}",
            placeholders(crate::server::db::is_sqlite_conn(conn), chunk.len(), 9, 1)
        );
        let mut query = sqlx::query(&sql).persistent(false);
        for (r, event) in chunk.iter().zip(events) {
            query = query
                .bind(Uuid::now_v7().to_string())
                .bind(now)
                .bind(&r.alert.source)
                .bind(&r.alert.fingerprint)
                .bind(r.alert.action.as_str())
                .bind(&r.labels)
                .bind(&r.annotations)
                .bind(*event)
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

/// Every unresolved event muted now (by a silence or an inhibition).
pub async fn muted(conn: &mut AnyConnection) -> Result<Vec<Unresolved>, AppError> {
    Ok(sqlx::query_as(
        "SELECT number, labels, silenced_by, inhibited_by FROM risk_events \
         WHERE resolved_at IS NULL AND (silenced_by IS NOT NULL OR inhibited_by IS NOT NULL)",
    )
    .fetch_all(conn)
    .await?)
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

/// The events linked to incident `number` (at most 200, the newest first).
pub async fn of_incident(pool: &AnyPool, number: i64) -> Result<Vec<RiskEvent>, AppError> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {JOINS} WHERE i.number = $1 ORDER BY e.number DESC LIMIT 200"
    ))
    .bind(number)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(RiskEvent::try_from).collect()
}

/// Every unresolved event nothing mutes, in number order: what alert rules look at by the clock.
pub async fn unmuted(pool: &AnyPool) -> Result<Vec<RiskEvent>, AppError> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {JOINS} WHERE e.resolved_at IS NULL AND e.silenced_by IS NULL \
         AND e.inhibited_by IS NULL ORDER BY e.number"
    ))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(RiskEvent::try_from).collect()
}

/// The conditions of `filter` beside its tab (service, severity, source, words), over `e`, with
/// their values appended to `binds` (numbered after those already there).
fn narrowing(filter: &RiskFilter, conditions: &mut Vec<String>, binds: &mut Vec<String>) {
    let mut arg = |value: String| {
        binds.push(value);
        format!("${}", binds.len())
    };
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
}

/// Events matching `filter`, the most recently seen first, at most [`LIST_CAP`].
pub async fn list(pool: &AnyPool, filter: &RiskFilter) -> Result<Vec<RiskEvent>, AppError> {
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
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
    narrowing(filter, &mut conditions, &mut binds);
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

/// How many unresolved events each tab holds under `filter`'s other conditions: open,
/// acknowledged, silenced.
pub async fn counts(pool: &AnyPool, filter: &RiskFilter) -> Result<(i64, i64, i64), AppError> {
    let mut conditions = vec!["e.resolved_at IS NULL".to_owned()];
    let mut binds = Vec::new();
    narrowing(filter, &mut conditions, &mut binds);
    let sql = format!(
        "SELECT \
         COALESCE(SUM(CASE WHEN e.status = 'open' AND e.silenced_by IS NULL AND e.inhibited_by IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN e.status = 'acknowledged' AND e.silenced_by IS NULL AND e.inhibited_by IS NULL THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN e.silenced_by IS NOT NULL OR e.inhibited_by IS NOT NULL THEN 1 ELSE 0 END), 0) \
         FROM risk_events e WHERE {}",
        conditions.join(" AND ")
    );
    let mut query = sqlx::query_as::<_, (i64, i64, i64)>(&sql);
    for b in binds {
        query = query.bind(b);
    }
    Ok(query.fetch_one(pool).await?)
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
