//! The `action_items` table.

use chrono::NaiveDate;
use sqlx::{AnyConnection, AnyPool, FromRow};
use uuid::Uuid;

use crate::model::action_item::{ActionItemView, ActionState, NewActionItem};
use crate::model::incident::IncidentNumber;
use crate::model::{AppError, UserId};

/// Which items a list shows. Empty strings and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    /// Owner's username.
    pub owner: String,
    /// `todo`, `doing`, `done`, or `open` (not done).
    pub state: String,
    /// Only items past their due date on `today` (and not done).
    pub overdue_on: Option<NaiveDate>,
    /// `p1` … `p3`.
    pub priority: String,
    /// Only items of this incident.
    pub incident: Option<IncidentNumber>,
    /// Only items of this run.
    pub run: Option<i64>,
    /// Only items due on or before this day.
    pub due_until: Option<NaiveDate>,
    /// Every match, not the first [`LIST_CAP`] (for jobs, not pages).
    pub uncapped: bool,
    /// Only the item with this id.
    pub id: Option<uuid::Uuid>,
}

pub use crate::model::action_item::LIST_CAP;

/// What a new item hangs from, by row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemLink<'a> {
    /// An incident (and its postmortem, if any).
    Incident(&'a str),
    /// A drill run.
    Run(&'a str),
}

/// See [`super::corrupt`].
fn corrupt(what: &str) -> AppError {
    super::corrupt("action_items", what)
}

/// Inserts an item owned by `owner_id`, linked to an incident (and its postmortem, if any) or
/// to a drill run.
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewActionItem,
    owner_id: &str,
    source: &ItemLink<'_>,
    author: UserId,
    now: i64,
) -> Result<Uuid, AppError> {
    let (incident_id, run_id) = match source {
        ItemLink::Incident(id) => (Some(*id), None),
        ItemLink::Run(id) => (None, Some(*id)),
    };
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO action_items (id, title, owner_id, due_on, priority, kind, state, incident_id, postmortem_id, \
         created_by, created_at, updated_at, run_id) \
         VALUES ($1, $2, $3, $4, $5, $6, 'todo', $7, (SELECT id FROM postmortems WHERE incident_id = $8), $9, $10, $11, $12)",
    )
    .bind(id.to_string())
    .bind(&new.title)
    .bind(owner_id)
    .bind(new.due_on.format("%Y-%m-%d").to_string())
    .bind(new.priority.as_str())
    .bind(new.kind.as_str())
    .bind(incident_id.map(str::to_owned))
    .bind(incident_id.map(str::to_owned))
    .bind(author.to_string())
    .bind(now)
    .bind(now)
    .bind(run_id.map(str::to_owned))
    .execute(conn)
    .await?;
    Ok(id)
}

/// Moves an item to `state`; `NotFound` if there is no such item.
pub async fn set_state(
    pool: &AnyPool,
    id: Uuid,
    state: ActionState,
    now: i64,
) -> Result<(), AppError> {
    let done = sqlx::query(
        "UPDATE action_items SET state = $1, updated_at = $2, done_at = $3 WHERE id = $4",
    )
    .bind(state.as_str())
    .bind(now)
    .bind((state == ActionState::Done).then_some(now))
    .bind(id.to_string())
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// The columns of an [`ItemRow`], over `action_items a`, `users u` (owner), `incidents i`.
pub(crate) const ITEM_COLUMNS: &str = "a.id, a.title, u.username AS owner, a.due_on, a.priority, \
     a.kind, a.state, i.number AS incident_number, rn.number AS run_number";

/// The joins an [`ItemRow`] needs after `action_items a`.
pub(crate) const ITEM_JOINS: &str = "JOIN users u ON u.id = a.owner_id LEFT JOIN incidents i ON i.id = a.incident_id \
     LEFT JOIN runs rn ON rn.id = a.run_id";

/// An action item as selected with [`ITEM_COLUMNS`].
#[derive(FromRow)]
pub(crate) struct ItemRow {
    id: String,
    title: String,
    owner: String,
    due_on: String,
    priority: String,
    kind: String,
    state: String,
    incident_number: Option<i64>,
    run_number: Option<i64>,
}

/// Items matching `filter`, soonest due first.
pub async fn list(pool: &AnyPool, filter: &ActionFilter) -> Result<Vec<ActionItemView>, AppError> {
    let mut conditions = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut arg = |value: String| {
        binds.push(value);
        format!("${}", binds.len())
    };
    if !filter.owner.trim().is_empty() {
        conditions.push(format!(
            "u.username = {}",
            arg(filter.owner.trim().to_ascii_lowercase())
        ));
    }
    match filter.state.as_str() {
        "" => {}
        "open" => conditions.push("a.state <> 'done'".to_owned()),
        other => {
            let state: ActionState = AppError::parse_field("state", other)?;
            conditions.push(format!("a.state = {}", arg(state.as_str().to_owned())));
        }
    }
    if let Some(today) = filter.overdue_on {
        conditions.push(format!(
            "a.state <> 'done' AND a.due_on < {}",
            arg(today.format("%Y-%m-%d").to_string())
        ));
    }
    if !filter.priority.is_empty() {
        let p: crate::model::action_item::Priority =
            AppError::parse_field("priority", &filter.priority)?;
        conditions.push(format!("a.priority = {}", arg(p.as_str().to_owned())));
    }
    if let Some(number) = filter.incident {
        conditions.push(format!(
            "i.number = CAST({} AS BIGINT)",
            arg(number.0.to_string())
        ));
    }
    if let Some(number) = filter.run {
        conditions.push(format!(
            "rn.number = CAST({} AS BIGINT)",
            arg(number.to_string())
        ));
    }
    if let Some(id) = filter.id {
        conditions.push(format!("a.id = {}", arg(id.to_string())));
    }
    if let Some(until) = filter.due_until {
        conditions.push(format!(
            "a.due_on <= {}",
            arg(until.format("%Y-%m-%d").to_string())
        ));
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let limit = if filter.uncapped {
        String::new()
    } else {
        format!(" LIMIT {LIST_CAP}")
    };
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM action_items a {ITEM_JOINS}{where_clause} ORDER BY a.due_on, a.priority, a.title{limit}"
    );
    let mut query = sqlx::query_as::<_, ItemRow>(&sql);
    for b in binds {
        query = query.bind(b);
    }
    query
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(ItemRow::into_view)
        .collect()
}

impl ItemRow {
    /// The typed item; a malformed row is logged and reported as an internal error.
    pub(crate) fn into_view(self) -> Result<ActionItemView, AppError> {
        Ok(ActionItemView {
            id: self.id.parse().map_err(|_| corrupt("id"))?,
            title: self.title,
            owner: self.owner,
            due_on: NaiveDate::parse_from_str(&self.due_on, "%Y-%m-%d")
                .map_err(|_| corrupt("due_on"))?,
            priority: self.priority.parse().map_err(|_| corrupt("priority"))?,
            kind: self.kind.parse().map_err(|_| corrupt("kind"))?,
            state: self.state.parse().map_err(|_| corrupt("state"))?,
            incident: self.incident_number.map(IncidentNumber),
            run: self.run_number,
        })
    }
}
