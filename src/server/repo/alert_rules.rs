//! The `alert_rules` table (with `alert_rule_channels`, the channels each rule pages) and the
//! claims that make a rule act once: `rule_firings` per event occurrence, `rule_service_claims`
//! per rule and service, `plan_alert_cooldowns` per plan; and what events are linked to
//! (incidents, `risk_event_runs`).

use sqlx::{AnyConnection, AnyPool, FromRow};

use crate::model::AppError;
use crate::model::alert_rule::{AlertRule, RuleInput};
use crate::model::incident::IncidentId;

#[derive(FromRow)]
struct RuleRow {
    id: String,
    position: i64,
    name: String,
    matchers: String,
    severity_map: String,
    declare_incident: i64,
    after_occurrences: i64,
    after_minutes_firing: i64,
    plan_number: Option<i64>,
    cooldown_minutes: i64,
    enabled: i64,
}

impl TryFrom<RuleRow> for AlertRule {
    type Error = AppError;

    fn try_from(r: RuleRow) -> Result<Self, AppError> {
        let corrupt = |what| super::corrupt("alert_rules", what);
        Ok(Self {
            matchers: serde_json::from_str(&r.matchers).map_err(|_| corrupt("matchers"))?,
            severity_map: serde_json::from_str(&r.severity_map)
                .map_err(|_| corrupt("severity_map"))?,
            id: r.id,
            position: r.position,
            name: r.name,
            declare_incident: r.declare_incident != 0,
            after_occurrences: u32::try_from(r.after_occurrences).unwrap_or(1),
            after_minutes_firing: u32::try_from(r.after_minutes_firing).unwrap_or(0),
            plan: r.plan_number,
            cooldown_minutes: u32::try_from(r.cooldown_minutes).unwrap_or(30),
            notify: Vec::new(),
            notify_names: Vec::new(),
            enabled: r.enabled != 0,
        })
    }
}

/// Every rule, in order, with the channels it pages (by name).
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<AlertRule>, AppError> {
    let mut rules = sqlx::query_as::<_, RuleRow>(
        "SELECT r.id, r.position, r.name, r.matchers, r.severity_map, r.declare_incident, \
         r.after_occurrences, r.after_minutes_firing, p.number AS plan_number, \
         r.cooldown_minutes, r.enabled FROM alert_rules r LEFT JOIN plans p ON p.id = r.plan_id \
         ORDER BY r.position, r.created_at",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(AlertRule::try_from)
    .collect::<Result<Vec<_>, _>>()?;
    let pages: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT rc.rule_id, c.id, c.name FROM alert_rule_channels rc \
         JOIN notification_channels c ON c.id = rc.channel_id ORDER BY c.name",
    )
    .fetch_all(conn)
    .await?;
    for (rule, channel, name) in pages {
        if let Some(r) = rules.iter_mut().find(|r| r.id == rule) {
            r.notify.push(channel);
            r.notify_names.push(name);
        }
    }
    Ok(rules)
}

/// Sets the channels rule `id` pages.
async fn set_channels(
    conn: &mut AnyConnection,
    id: &str,
    channels: &[String],
) -> Result<(), AppError> {
    sqlx::query("DELETE FROM alert_rule_channels WHERE rule_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for channel in channels {
        sqlx::query("INSERT INTO alert_rule_channels (rule_id, channel_id) VALUES ($1, $2)")
            .bind(id)
            .bind(channel)
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                if super::is_foreign_key_violation(&e) {
                    AppError::field(
                        "notify",
                        "A channel this rule names was deleted just now: choose again.",
                    )
                } else {
                    e.into()
                }
            })?;
    }
    Ok(())
}

/// The names of the rules that page channel `channel`.
pub async fn paging_through(
    conn: &mut AnyConnection,
    channel: &str,
) -> Result<Vec<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT r.name FROM alert_rule_channels rc JOIN alert_rules r ON r.id = rc.rule_id \
         WHERE rc.channel_id = $1 ORDER BY r.position, r.name",
    )
    .bind(channel)
    .fetch_all(conn)
    .await?)
}

/// The position rule `id` takes from `input`: the one given, else the one it has, else 10
/// after the last (read before the saving transaction, whose first statement must write on
/// SQLite; two rules added at once may share a place, ordered then by when they were made).
pub async fn position_for(
    conn: &mut AnyConnection,
    id: &str,
    input: &RuleInput,
) -> Result<i64, AppError> {
    if let Some(p) = input.position {
        return Ok(p);
    }
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT position FROM alert_rules WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(p) = existing {
        return Ok(p);
    }
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM alert_rules")
        .fetch_one(&mut *conn)
        .await?;
    Ok(last
        .unwrap_or(0)
        .saturating_add(10)
        .min(crate::model::alert_rule::POSITION_MAX))
}

/// Saves rule `id` from `input` at `position` (inserting it when new), with `plan_id` resolved.
pub async fn save(
    conn: &mut AnyConnection,
    id: &str,
    input: &RuleInput,
    position: i64,
    plan_id: Option<&str>,
    by: &str,
    now: i64,
) -> Result<(), AppError> {
    let matchers = serde_json::to_string(&input.matchers).map_err(|_| AppError::Internal)?;
    let map = serde_json::to_string(&input.severity_map).map_err(|_| AppError::Internal)?;
    sqlx::query(
        "INSERT INTO alert_rules (id, position, name, matchers, severity_map, declare_incident, \
         after_occurrences, after_minutes_firing, plan_id, cooldown_minutes, enabled, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
         ON CONFLICT (id) DO UPDATE SET position = excluded.position, name = excluded.name, \
         matchers = excluded.matchers, severity_map = excluded.severity_map, \
         declare_incident = excluded.declare_incident, after_occurrences = excluded.after_occurrences, \
         after_minutes_firing = excluded.after_minutes_firing, plan_id = excluded.plan_id, \
         cooldown_minutes = excluded.cooldown_minutes, enabled = excluded.enabled, \
         updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(position)
    .bind(input.name.trim())
    .bind(&matchers)
    .bind(&map)
    .bind(i64::from(input.declare_incident))
    .bind(i64::from(input.after_occurrences))
    .bind(i64::from(input.after_minutes_firing))
    .bind(plan_id)
    .bind(i64::from(input.cooldown_minutes))
    .bind(i64::from(input.enabled))
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    set_channels(conn, id, &input.notify).await
}

/// Whether rule `id` exists.
pub async fn exists(conn: &mut AnyConnection, id: &str) -> Result<bool, AppError> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM alert_rules WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Deletes rule `id`; whether there was one.
pub async fn delete(conn: &mut AnyConnection, id: &str) -> Result<bool, AppError> {
    set_channels(&mut *conn, id, &[]).await?;
    Ok(sqlx::query("DELETE FROM alert_rules WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected()
        > 0)
}

/// Claims `action` of rule `rule` for event `event`: true for the one caller that gets it.
pub async fn claim_firing(
    conn: &mut AnyConnection,
    rule: &str,
    event: i64,
    action: &str,
    now: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query(
        "INSERT INTO rule_firings (rule_id, event_number, action, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(rule)
    .bind(event)
    .bind(action)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// The (rule, action) pairs already taken for event `event`.
pub async fn firings(pool: &AnyPool, event: i64) -> Result<Vec<(String, String)>, AppError> {
    Ok(
        sqlx::query_as("SELECT rule_id, action FROM rule_firings WHERE event_number = $1")
            .bind(event)
            .fetch_all(pool)
            .await?,
    )
}

/// Locks the (rule, service) row until the caller's transaction ends: a rule deciding whether
/// to declare for a service does so one instance at a time.
pub async fn lock_service(
    conn: &mut AnyConnection,
    rule: &str,
    service: &str,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO rule_service_claims (rule_id, service, claimed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (rule_id, service) DO UPDATE SET claimed_at = excluded.claimed_at",
    )
    .bind(rule)
    .bind(service)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The open (or mitigating) incident rule `rule` declared for `service`, if there is one.
pub async fn open_incident_of(
    conn: &mut AnyConnection,
    rule: &str,
    service: &str,
) -> Result<Option<(IncidentId, i64)>, AppError> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT i.id, i.number FROM rule_firings f \
         JOIN risk_events e ON e.number = f.event_number \
         JOIN incidents i ON i.id = e.incident_id \
         WHERE f.rule_id = $1 AND f.action = 'declare' AND COALESCE(e.service, '') = $2 \
         AND i.status IN ('open', 'mitigating') ORDER BY i.number DESC LIMIT 1",
    )
    .bind(rule)
    .bind(service)
    .fetch_optional(conn)
    .await?;
    row.map(|(id, number)| {
        Ok((
            id.parse().map_err(|_| super::corrupt("incidents", "id"))?,
            number,
        ))
    })
    .transpose()
}

/// Claims plan `plan_id`'s alert cooldown: true when it last ran because of an alert before
/// `cutoff` (or never), and marks it run at `now`.
pub async fn claim_cooldown(
    conn: &mut AnyConnection,
    plan_id: &str,
    now: i64,
    cutoff: i64,
) -> Result<bool, AppError> {
    let claimed: Option<i64> = sqlx::query_scalar(
        "INSERT INTO plan_alert_cooldowns (plan_id, last_run_at) VALUES ($1, $2) \
         ON CONFLICT (plan_id) DO UPDATE SET last_run_at = excluded.last_run_at \
         WHERE plan_alert_cooldowns.last_run_at < $3 RETURNING last_run_at",
    )
    .bind(plan_id)
    .bind(now)
    .bind(cutoff)
    .fetch_optional(conn)
    .await?;
    Ok(claimed.is_some())
}

/// Claims event `event` while it is linked to no incident (its row stays locked until the
/// caller's transaction ends); false when it is linked already.
pub async fn claim_unlinked(
    conn: &mut AnyConnection,
    event: i64,
    now: i64,
) -> Result<bool, AppError> {
    Ok(sqlx::query(
        "UPDATE risk_events SET updated_at = $1 WHERE number = $2 AND incident_id IS NULL",
    )
    .bind(now)
    .bind(event)
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// Links event `event` to incident `incident`.
pub async fn link(
    conn: &mut AnyConnection,
    event: i64,
    incident: IncidentId,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query("UPDATE risk_events SET incident_id = $1, updated_at = $2 WHERE number = $3")
        .bind(incident.to_string())
        .bind(now)
        .bind(event)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that run `run` was started for event `event` (by rule `rule`, or a person).
pub async fn record_run(
    conn: &mut AnyConnection,
    event: i64,
    run: i64,
    rule: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO risk_event_runs (event_number, run_number, rule_id, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(event)
    .bind(run)
    .bind(rule)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The runs started for event `event`, oldest first.
pub async fn runs_of(pool: &AnyPool, event: i64) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT run_number FROM risk_event_runs WHERE event_number = $1 ORDER BY created_at, run_number",
    )
    .bind(event)
    .fetch_all(pool)
    .await?)
}
