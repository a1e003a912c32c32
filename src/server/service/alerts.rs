//! Alert intake and risk events: alerts are deduplicated into events in one transaction per
//! delivery, muted by silences and inhibition rules as they arrive, and acknowledged by people.
//! Silences and inhibition rules change what is muted; [`refresh_mutes`] works it out again for
//! every unresolved event (on each change, and every few seconds for silences that start or end
//! by the clock).

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool};
use uuid::Uuid;

use crate::model::alert::{AlertAction, IncomingAlert, Labels, RiskEvent, RiskFilter, RiskStatus};
use crate::model::matcher::{
    InhibitRule, MatcherSet, NewSilence, Silence, SilenceState, agree_on, check_label_name,
};
use crate::model::notification::RiskFacts;
use crate::model::{AppError, Role};
use crate::server::actor::Actor;
use crate::server::db::to_millis;
use crate::server::repo::risk_events::{self as repo, Mute, Outcome, Staged};
use crate::server::repo::silences as silence_repo;

/// What a delivery of alerts did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intake {
    /// Alerts received.
    pub received: usize,
    /// Events opened.
    pub opened: Vec<i64>,
    /// Open events that received their alert again.
    pub updated: usize,
    /// Events resolved.
    pub resolved: Vec<i64>,
    /// Alerts that touched no event (a resolve of something already resolved).
    pub ignored: usize,
    /// Open events that fired again (rules may now be due for them).
    pub fired: Vec<i64>,
}

impl Intake {
    /// Events a rule may act on now: those opened and those that fired again.
    pub fn firing(&self) -> Vec<i64> {
        let mut all: Vec<i64> = self.opened.iter().chain(&self.fired).copied().collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// An inhibition rule with its matchers compiled.
struct CompiledRule {
    equal: Vec<String>,
    source: MatcherSet,
    target: MatcherSet,
    /// The `alertname` its source matchers require, if one (sources are looked up by it).
    source_alertname: Option<String>,
}

impl CompiledRule {
    /// Whether both alerts match both sides of the rule: as in Alertmanager, such alerts do not
    /// inhibit each other (else two of them would mute each other for ever).
    fn matches_both(&self, source: &Labels, target: &Labels) -> bool {
        self.source.matches(target) && self.target.matches(source)
    }
}

/// What mutes what right now: active silences, inhibition rules and the unresolved events that
/// can inhibit others.
struct Mutes {
    silences: Vec<(String, MatcherSet)>,
    rules: Vec<CompiledRule>,
    sources: Vec<(i64, Labels)>,
}

impl Mutes {
    /// Loads the silences active at `now`, the rules and their possible sources.
    async fn load(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<Self, AppError> {
        let mut silences = Vec::new();
        for s in silence_repo::active(&mut *conn, now).await? {
            // A stored silence was checked when made; one that no longer compiles mutes nothing.
            if let Ok(set) = MatcherSet::compile(&s.matchers, "matchers") {
                silences.push((s.id, set));
            }
        }
        let mut rules = Vec::new();
        for r in silence_repo::rules(&mut *conn).await? {
            let (Ok(source), Ok(target)) = (
                MatcherSet::compile(&r.source_matchers, "source_matchers"),
                MatcherSet::compile(&r.target_matchers, "target_matchers"),
            ) else {
                continue;
            };
            let source_alertname = r
                .source_matchers
                .iter()
                .find(|m| m.name == "alertname" && m.is_equal && !m.is_regex)
                .map(|m| m.value.clone());
            rules.push(CompiledRule {
                equal: r.equal,
                source,
                target,
                source_alertname,
            });
        }
        let mut sources = Vec::new();
        if !rules.is_empty() {
            let mut names: Vec<Option<&str>> = rules
                .iter()
                .map(|r| r.source_alertname.as_deref())
                .collect();
            if names.contains(&None) {
                names = vec![None];
            }
            names.sort_unstable();
            names.dedup();
            for name in names {
                for e in repo::unresolved(&mut *conn, name).await? {
                    let labels = e.labels();
                    if rules.iter().any(|r| r.source.matches(&labels)) {
                        sources.push((e.number, labels));
                    }
                }
            }
        }
        Ok(Self {
            silences,
            rules,
            sources,
        })
    }

    /// What mutes an event (`number`, if it has one yet) with `labels`: the first active silence
    /// matching it, and the first firing event that inhibits it.
    fn mute_for(&self, number: Option<i64>, labels: &Labels) -> Mute {
        let silenced_by = self
            .silences
            .iter()
            .find(|(_, set)| set.matches(labels))
            .map(|(id, _)| id.clone());
        let inhibited_by = self
            .rules
            .iter()
            .filter(|r| r.target.matches(labels))
            .find_map(|r| {
                self.sources
                    .iter()
                    .find(|(n, source)| {
                        Some(*n) != number
                            && source != labels
                            && r.source.matches(source)
                            && agree_on(&r.equal, source, labels)
                            && !r.matches_both(source, labels)
                    })
                    .map(|(n, _)| *n)
            });
        Mute {
            silenced_by,
            inhibited_by,
        }
    }

    /// Whether active silence `id` matches `labels`.
    fn silence_holds(&self, id: &str, labels: &Labels) -> bool {
        self.silences
            .iter()
            .any(|(sid, set)| sid == id && set.matches(labels))
    }

    /// Whether firing event `source` inhibits event `number` with `labels` by some rule.
    fn inhibition_holds(&self, source: i64, number: i64, labels: &Labels) -> bool {
        source != number
            && self.sources.iter().any(|(n, source_labels)| {
                *n == source
                    && source_labels != labels
                    && self.rules.iter().any(|r| {
                        r.target.matches(labels)
                            && r.source.matches(source_labels)
                            && agree_on(&r.equal, source_labels, labels)
                            && !r.matches_both(source_labels, labels)
                    })
            })
    }

    /// Whether an alert with `labels` takes part in some inhibition rule (as source or target):
    /// its opening or resolving can change what else is muted.
    fn concerns(&self, labels: &Labels) -> bool {
        self.rules
            .iter()
            .any(|r| r.source.matches(labels) || r.target.matches(labels))
    }
}

/// Takes a delivery of alerts, in one transaction: each firing alert opens or updates the event
/// of its identity (muted as silences and inhibition rules say), each resolve resolves it, and
/// every alert is kept. Alerts are applied in identity order, so two instances taking
/// overlapping deliveries at once lock their events in the same order and never deadlock.
pub async fn ingest(
    pool: &AnyPool,
    actor: &Actor,
    mut alerts: Vec<IncomingAlert>,
) -> Result<Intake, AppError> {
    alerts.sort_by(|a, b| (&a.source, &a.fingerprint).cmp(&(&b.source, &b.fingerprint)));
    let now = Utc::now();
    let ms = to_millis(now);
    // Read on a connection of its own: on SQLite the transaction below must write first.
    let mutes = {
        let mut conn = pool.acquire().await?;
        Mutes::load(&mut conn, now).await?
    };
    let mut intake = Intake {
        received: alerts.len(),
        ..Intake::default()
    };
    let staged: Vec<Staged<'_>> = alerts
        .iter()
        .map(|alert| {
            let mute = match alert.action {
                AlertAction::Fire => mutes.mute_for(None, &alert.labels),
                _ => Mute::default(),
            };
            Staged::new(alert, mute)
        })
        .collect();
    let mut tx = pool.begin().await?;
    repo::take_turn(&mut tx).await?;
    let outcomes = repo::apply(&mut tx, &staged, &actor.id.to_string(), ms).await?;
    let mut inhibition_changed = false;
    let mut notices = Vec::new();
    for ((alert, staged), (outcome, incident)) in alerts.iter().zip(&staged).zip(&outcomes) {
        // Channels hear of events that open or resolve unmuted: a silenced alert stays quiet.
        if let Outcome::Opened(n) | Outcome::Resolved(n) = *outcome {
            let opened = matches!(outcome, Outcome::Opened(_));
            let muted = if opened {
                staged.mute.silenced_by.is_some() || staged.mute.inhibited_by.is_some()
            } else {
                let now_mute = mutes.mute_for(None, &alert.labels);
                now_mute.silenced_by.is_some() || now_mute.inhibited_by.is_some()
            };
            if !muted {
                notices.push(risk_notice(n, alert, staged).message(opened));
            }
        }
        match *outcome {
            Outcome::Opened(n) => intake.opened.push(n),
            Outcome::Resolved(n) => {
                if incident.is_some() {
                    crate::server::service::alert_rules::note_resolved_in(&mut tx, n, ms).await?;
                }
                intake.resolved.push(n);
            }
            Outcome::Updated(n) => {
                intake.updated += 1;
                intake.fired.push(n);
            }
            Outcome::Acknowledged(_) => intake.updated += 1,
            Outcome::Nothing => intake.ignored += 1,
        }
        if matches!(outcome, Outcome::Opened(_) | Outcome::Resolved(_))
            && mutes.concerns(&alert.labels)
        {
            inhibition_changed = true;
        }
    }
    intake.opened.sort_unstable();
    let events: Vec<Option<i64>> = outcomes.iter().map(|(o, _)| o.number()).collect();
    let token = actor.token.as_ref().map(|t| t.id.as_str());
    repo::record_received(&mut tx, &staged, &events, token, ms).await?;
    crate::server::service::notifications::notify_all(&mut tx, &notices).await?;
    tx.commit().await?;
    if inhibition_changed {
        // A source that started or stopped firing (or a target that fired beside one) can
        // change what other events are muted by.
        refresh_mutes(pool, now).await?;
    }
    metrics::counter!("nightwatch_alerts_received_total").increment(intake.received as u64);
    Ok(intake)
}

/// A risk event as its notification names it, from the alert that opened or resolved it.
fn risk_notice(number: i64, alert: &IncomingAlert, staged: &Staged<'_>) -> RiskFacts {
    RiskFacts {
        number,
        summary: alert.summary.clone(),
        severity: alert.severity,
        service: staged.service.clone(),
        source: alert.source.clone(),
        labels: serde_json::to_value(&alert.labels).unwrap_or_default(),
        url: alert.url.clone(),
    }
}

/// Works out again what mutes every unresolved event, and writes the changes. Returns how many
/// events changed.
pub async fn refresh_mutes(pool: &AnyPool, now: DateTime<Utc>) -> Result<usize, AppError> {
    refresh(pool, now, false).await
}

/// What the clock alone changes since `since`: a silence that started by itself can mute any
/// event (all are worked out again); otherwise only muted events can change (a silence that
/// ended, a source that stopped), so only they are read — not every open event, every time.
/// Everything else that changes muting (a new or ended silence, a rule, a source firing or
/// resolving) works it out again when it happens.
pub async fn refresh_mutes_by_clock(
    pool: &AnyPool,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let started = {
        let mut conn = pool.acquire().await?;
        silence_repo::started_between(&mut conn, since, now).await?
    };
    refresh(pool, now, !started).await
}

/// Works out muting again for every unresolved event, or only for the muted ones.
async fn refresh(pool: &AnyPool, now: DateTime<Utc>, muted_only: bool) -> Result<usize, AppError> {
    let mut conn = pool.acquire().await?;
    let events = if muted_only {
        let events = repo::muted(&mut conn).await?;
        if events.is_empty() {
            return Ok(0);
        }
        events
    } else {
        repo::unresolved(&mut conn, None).await?
    };
    let mutes = Mutes::load(&mut conn, now).await?;
    let mut changed = 0;
    for e in events {
        let labels = e.labels();
        let fresh = mutes.mute_for(Some(e.number), &labels);
        // Keep the reason an event already has while it still holds, so what is shown does not
        // jump between two overlapping silences (or two firing sources).
        let next = Mute {
            silenced_by: e
                .silenced_by
                .clone()
                .filter(|id| mutes.silence_holds(id, &labels))
                .or(fresh.silenced_by),
            inhibited_by: e
                .inhibited_by
                .filter(|source| mutes.inhibition_holds(*source, e.number, &labels))
                .or(fresh.inhibited_by),
        };
        let current = Mute {
            silenced_by: e.silenced_by,
            inhibited_by: e.inhibited_by,
        };
        if next != current {
            repo::set_mute(&mut conn, e.number, &next).await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Risk events matching `filter`.
pub async fn list(pool: &AnyPool, filter: &RiskFilter) -> Result<Vec<RiskEvent>, AppError> {
    repo::list(pool, filter).await
}

/// Risk event `number`.
pub async fn read(pool: &AnyPool, number: i64) -> Result<RiskEvent, AppError> {
    let mut conn = pool.acquire().await?;
    repo::find(&mut conn, number)
        .await?
        .ok_or(AppError::NotFound)
}

/// Acknowledges event `number` (responder+): someone is on it. Acknowledging it again changes
/// nothing; a resolved event cannot be acknowledged.
pub async fn acknowledge(
    pool: &AnyPool,
    actor: &Actor,
    number: i64,
) -> Result<RiskEvent, AppError> {
    if !actor.allows(Role::Responder) {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let changed = repo::acknowledge(
        &mut tx,
        number,
        &actor.id.to_string(),
        to_millis(Utc::now()),
    )
    .await?;
    let event = repo::find(&mut tx, number)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    if !changed && event.status == RiskStatus::Resolved {
        return Err(AppError::Conflict(format!(
            "{} is resolved: there is nothing to acknowledge.",
            event.name()
        )));
    }
    Ok(event)
}

/// Creates a silence (responder+) and mutes what it matches at once.
pub async fn create_silence(
    pool: &AnyPool,
    actor: &Actor,
    new: &NewSilence,
) -> Result<Silence, AppError> {
    if !actor.allows(Role::Responder) {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    let starts_at = new.check(now)?;
    let set = MatcherSet::compile(&new.matchers, "matchers")?;
    set.check_selective("matchers")?;
    let id = Uuid::now_v7().to_string();
    let comment = crate::model::incident_input::parse_text(
        &new.comment,
        true,
        crate::model::matcher::COMMENT_MAX,
    )
    .map_err(|e| AppError::field("comment", e.to_string()))?;
    let mut tx = pool.begin().await?;
    silence_repo::insert(
        &mut tx,
        &silence_repo::NewSilenceRow {
            id: &id,
            matchers: &new.matchers,
            starts_at: to_millis(starts_at),
            ends_at: to_millis(new.ends_at),
            comment: &comment,
            created_by: &actor.id.to_string(),
            now: to_millis(now),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(silence = %id, by = %actor.username, "silence created");
    refresh_mutes(pool, now).await?;
    silence_repo::find(pool, &id, now)
        .await?
        .ok_or(AppError::Internal)
}

/// Ends silence `id` now (responder+); what it muted is unmuted at once. Ending one that is
/// already over changes nothing.
pub async fn end_silence(pool: &AnyPool, actor: &Actor, id: &str) -> Result<Silence, AppError> {
    if !actor.allows(Role::Responder) {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    let silence = silence_repo::find(pool, id, now)
        .await?
        .ok_or(AppError::NotFound)?;
    if silence.state != SilenceState::Expired {
        let mut tx = pool.begin().await?;
        silence_repo::end(&mut tx, id, &actor.id.to_string(), to_millis(now)).await?;
        tx.commit().await?;
        tracing::info!(silence = %id, by = %actor.username, "silence ended");
        refresh_mutes(pool, now).await?;
    }
    silence_repo::find(pool, id, now)
        .await?
        .ok_or(AppError::NotFound)
}

/// Silences active, pending, or ended in the last day.
pub async fn silences(pool: &AnyPool) -> Result<Vec<Silence>, AppError> {
    let now = Utc::now();
    silence_repo::list(pool, to_millis(now - chrono::Duration::days(1)), now).await
}

/// Silence `id`.
pub async fn silence(pool: &AnyPool, id: &str) -> Result<Silence, AppError> {
    silence_repo::find(pool, id, Utc::now())
        .await?
        .ok_or(AppError::NotFound)
}

/// Unresolved events a set of matchers would match now (a silence's or a rule's preview).
pub async fn preview(pool: &AnyPool, set: &MatcherSet) -> Result<Vec<i64>, AppError> {
    let mut conn = pool.acquire().await?;
    Ok(repo::unresolved(&mut conn, None)
        .await?
        .into_iter()
        .filter(|e| set.matches(&e.labels()))
        .map(|e| e.number)
        .collect())
}

/// Every inhibition rule.
pub async fn inhibit_rules(pool: &AnyPool) -> Result<Vec<InhibitRule>, AppError> {
    let mut conn = pool.acquire().await?;
    silence_repo::rules(&mut conn).await
}

/// Saves an inhibition rule (admin): new when `rule.id` is empty. Mutes and unmutes at once.
pub async fn save_inhibit_rule(
    pool: &AnyPool,
    actor: &Actor,
    mut rule: InhibitRule,
) -> Result<InhibitRule, AppError> {
    if !actor.allows(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let mut errors = Vec::new();
    rule.name = match crate::model::incident_input::parse_text(&rule.name, true, 100) {
        Ok(name) => name,
        Err(e) => {
            errors.push(crate::model::FieldError {
                field: "name".into(),
                message: e.to_string(),
            });
            String::new()
        }
    };
    for (field, matchers) in [
        ("source_matchers", &rule.source_matchers),
        ("target_matchers", &rule.target_matchers),
    ] {
        if matchers.is_empty() {
            errors.push(crate::model::FieldError {
                field: field.into(),
                message: "Give at least one matcher.".into(),
            });
        } else if let Err(AppError::Validation(mut e)) =
            MatcherSet::compile(matchers, field).and_then(|set| set.check_selective(field))
        {
            errors.append(&mut e);
        }
    }
    for (i, name) in rule.equal.iter().enumerate() {
        if let Err(message) = check_label_name(name) {
            errors.push(crate::model::FieldError {
                field: format!("equal[{i}]"),
                message,
            });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if rule.id.trim().is_empty() {
        rule.id = Uuid::now_v7().to_string();
    }
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    silence_repo::save_rule(&mut tx, &rule, &actor.id.to_string(), to_millis(now)).await?;
    tx.commit().await?;
    refresh_mutes(pool, now).await?;
    Ok(rule)
}

/// Deletes an inhibition rule (admin); what it muted is unmuted at once.
pub async fn delete_inhibit_rule(pool: &AnyPool, actor: &Actor, id: &str) -> Result<(), AppError> {
    if !actor.allows(Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let found = silence_repo::delete_rule(&mut tx, id).await?;
    tx.commit().await?;
    if !found {
        return Err(AppError::NotFound);
    }
    refresh_mutes(pool, Utc::now()).await?;
    Ok(())
}
