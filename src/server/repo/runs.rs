//! The `runs` and `run_steps` tables.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool, FromRow};
use uuid::Uuid;

use crate::model::AppError;
use crate::model::UserId;
use crate::model::review::RunReview;
use crate::model::run::{
    Awaiting, Decision, RunStatus, RunStep, RunSummary, RunView, StepStatus, Trigger,
};
use crate::model::score::{PlanRecord, Score};
use crate::server::db::{from_millis, to_millis};
use crate::server::repo::plans::StoredPlan;

/// See [`super::corrupt`].
fn corrupt(what: &str) -> AppError {
    super::corrupt("runs", what)
}

fn instant(ms: Option<i64>) -> Option<DateTime<Utc>> {
    ms.map(from_millis)
}

/// Creates run n+1 of `plan` (at its version) with every step pending; returns its number.
/// `params` are the values used, secrets already masked.
pub async fn insert(
    conn: &mut AnyConnection,
    plan: &StoredPlan,
    trigger: Trigger,
    by: Option<UserId>,
    incident_id: Option<&str>,
    params: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let number = super::next_value(conn, "run_number").await?;
    let id = Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO runs (id, number, plan_id, plan_version, status, run_trigger, triggered_by, incident_id, params, created_at, rto_secs) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(number)
    .bind(&plan.id)
    .bind(plan.version)
    .bind(trigger.as_str())
    .bind(by.map(|u| u.to_string()))
    .bind(incident_id.map(str::to_owned))
    .bind(params.to_string())
    .bind(to_millis(now))
    .bind(plan.plan.rto_secs.map(i64::from))
    .execute(&mut *conn)
    .await?;
    for (i, step) in plan.plan.steps.iter().enumerate() {
        sqlx::query(
            "INSERT INTO run_steps (run_id, idx, step_id, name, action, phase, status, output, weight, mark) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', '', $7, $8)",
        )
        .bind(&id)
        .bind(i as i64)
        .bind(&step.id)
        .bind(&step.name)
        .bind(&step.action)
        .bind(step.phase.map(|p| p.as_str()))
        .bind(i64::from(step.weight))
        .bind(step.mark.map(|m| m.as_str()))
        .execute(&mut *conn)
        .await?;
    }
    Ok(number)
}

/// Moves run `number` to an unfinished `status` (stamping its start the first time it runs), if
/// it has not ended — another instance may have marked it interrupted. Whether it moved. A run
/// ends through [`finish`], with its score in the same statement.
pub async fn set_status(
    db: impl sqlx::Executor<'_, Database = sqlx::Any>,
    number: i64,
    status: RunStatus,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    debug_assert!(!status.is_finished(), "a run ends through finish()");
    let done = sqlx::query(&format!(
        "UPDATE runs SET status = $1, \
         started_at = CASE WHEN started_at IS NULL AND $2 = 'running' THEN $3 ELSE started_at END \
         WHERE number = $4 AND status IN ({})",
        RunStatus::unfinished_sql()
    ))
    .bind(status.as_str())
    .bind(status.as_str())
    .bind(to_millis(now))
    .bind(number)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a step record becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpdate {
    /// New status.
    pub status: StepStatus,
    /// Output so far (already truncated and masked).
    pub output: String,
    /// Why it failed.
    pub error: Option<String>,
    /// What it now waits for (with status waiting for confirmation).
    pub awaiting: Option<Awaiting>,
    /// How long a gate waited for a person before the step ran (set once it is known).
    pub waited_ms: Option<i64>,
}

impl StepUpdate {
    /// A step that starts or ends with no output.
    pub fn status(status: StepStatus) -> Self {
        Self {
            status,
            output: String::new(),
            error: None,
            awaiting: None,
            waited_ms: None,
        }
    }

    /// A step waiting for a person.
    pub fn waiting(awaiting: Awaiting) -> Self {
        Self {
            awaiting: Some(awaiting),
            ..Self::status(StepStatus::WaitingForConfirmation)
        }
    }
}

/// Writes step `index` of run `number`: started when it starts running, finished when it ends.
/// Only while the run has not ended; whether it was written.
pub async fn set_step(
    db: impl sqlx::Executor<'_, Database = sqlx::Any>,
    number: i64,
    index: usize,
    update: &StepUpdate,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let ms = to_millis(now);
    let starts = matches!(
        update.status,
        StepStatus::Running | StepStatus::WaitingForConfirmation
    );
    let done = sqlx::query(&format!(
        "UPDATE run_steps SET status = $1, output = $2, error = $3, awaiting = $4, \
         decision = CASE WHEN $5 THEN NULL ELSE decision END, \
         started_at = CASE WHEN started_at IS NULL AND $6 THEN $7 ELSE started_at END, \
         finished_at = CASE WHEN $8 THEN $9 ELSE finished_at END, \
         waited_ms = COALESCE($10, waited_ms) \
         WHERE run_id = (SELECT id FROM runs WHERE number = $11 AND status IN ({})) AND idx = $12",
        RunStatus::unfinished_sql()
    ))
    .bind(update.status.as_str())
    .bind(&update.output)
    .bind(update.error.clone())
    .bind(update.awaiting.map(|a| a.as_str()))
    // A new wait starts with no answer (a gate's "confirm" must not answer the check after it).
    .bind(update.awaiting.is_some())
    .bind(starts)
    .bind(ms)
    .bind(update.status.is_finished())
    .bind(ms)
    .bind(update.waited_ms)
    .bind(number)
    .bind(index as i64)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks interrupted every unfinished run whose executor has not shown a sign of life since
/// `stale_before` (a crash or a kill), with its unfinished steps; completed steps are kept.
/// Returns the numbers of the runs it marked, with their incident ids.
pub async fn interrupt_stale(
    pool: &AnyPool,
    stale_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, Option<String>)>, AppError> {
    let mut tx = pool.begin().await?;
    let marked: Vec<(i64, Option<String>)> = sqlx::query_as(&format!(
        "UPDATE runs SET status = 'interrupted', finished_at = $1 \
             WHERE status IN ({}) \
             AND COALESCE(heartbeat_at, created_at) < $2 RETURNING number, incident_id",
        RunStatus::unfinished_sql()
    ))
    .bind(to_millis(now))
    .bind(to_millis(stale_before))
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE run_steps SET status = 'interrupted', awaiting = NULL, finished_at = $1 \
         WHERE status IN ('running', 'waiting_for_confirmation') \
         AND run_id IN (SELECT id FROM runs WHERE status = 'interrupted')",
    )
    .bind(to_millis(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(marked)
}

/// Records that the executor of runs `numbers` is alive.
pub async fn heartbeat(
    pool: &AnyPool,
    numbers: &[i64],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for number in numbers {
        sqlx::query("UPDATE runs SET heartbeat_at = $1 WHERE number = $2")
            .bind(to_millis(now))
            .bind(number)
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Records `decision` on step `index` of run `number` if that step still waits for what the
/// decision answers and nobody answered first. Returns whether it was recorded.
pub async fn decide(
    pool: &AnyPool,
    number: i64,
    index: usize,
    decision: Decision,
    note: &str,
    by: &str,
) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE run_steps SET decision = $1, decision_note = $2, decided_by = $3 \
         WHERE run_id = (SELECT id FROM runs WHERE number = $4) AND idx = $5 \
         AND status = 'waiting_for_confirmation' AND decision IS NULL \
         AND ((awaiting = 'confirmation' AND $6) OR (awaiting = 'verdict' AND $7))",
    )
    .bind(decision.as_str())
    .bind(note)
    .bind(by)
    .bind(number)
    .bind(index as i64)
    .bind(decision.answers(Awaiting::Confirmation))
    .bind(decision.answers(Awaiting::Verdict))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The answer recorded on a waiting step, if any.
pub async fn decision(
    pool: &AnyPool,
    number: i64,
    index: usize,
) -> Result<Option<(Decision, String, String)>, AppError> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT s.decision, s.decision_note, s.decided_by FROM run_steps s JOIN runs r ON r.id = s.run_id \
         WHERE r.number = $1 AND s.idx = $2",
    )
    .bind(number)
    .bind(index as i64)
    .fetch_optional(pool)
    .await?;
    match row {
        Some((Some(d), note, by)) => Ok(Some((
            d.parse().map_err(|_| corrupt("decision"))?,
            note.unwrap_or_default(),
            by.unwrap_or_default(),
        ))),
        _ => Ok(None),
    }
}

/// Asks run `number` to stop. Returns false when it has already ended.
pub async fn request_abort<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    number: i64,
    by: &str,
) -> Result<bool, AppError> {
    // 'static text: the caller's executor (a transaction) may outlive this call's temporaries.
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        format!(
            "UPDATE runs SET abort_requested = 1, aborted_by = COALESCE(aborted_by, $1) \
             WHERE number = $2 AND status IN ({})",
            RunStatus::unfinished_sql()
        )
    });
    let done = sqlx::query(sql).bind(by).bind(number).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Run `number`'s row id.
pub async fn id_by_number(
    conn: &mut AnyConnection,
    number: i64,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar("SELECT id FROM runs WHERE number = $1")
        .bind(number)
        .fetch_optional(conn)
        .await?)
}

/// Whether run `number` exists.
pub async fn exists(pool: &AnyPool, number: i64) -> Result<bool, AppError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT number FROM runs WHERE number = $1")
        .bind(number)
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}

/// Whether someone asked run `number` to stop.
pub async fn abort_requested(pool: &AnyPool, number: i64) -> Result<bool, AppError> {
    let flag: Option<i64> =
        sqlx::query_scalar("SELECT abort_requested FROM runs WHERE number = $1")
            .bind(number)
            .fetch_optional(pool)
            .await?;
    Ok(flag.unwrap_or(0) != 0)
}

/// Marks every step of run `number` not yet ended as `status` (the run was aborted).
pub async fn end_open_steps(
    pool: &AnyPool,
    number: i64,
    status: StepStatus,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE run_steps SET status = $1, awaiting = NULL, finished_at = CASE WHEN started_at IS NULL THEN NULL ELSE $2 END \
         WHERE run_id = (SELECT id FROM runs WHERE number = $3) \
         AND status IN ('pending', 'running', 'waiting_for_confirmation')",
    )
    .bind(status.as_str())
    .bind(to_millis(now))
    .bind(number)
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct SummaryRow {
    number: i64,
    plan_number: i64,
    plan_version: i64,
    doc: String,
    status: String,
    run_trigger: String,
    triggered_by: Option<String>,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    incident_number: Option<i64>,
    aborted_by: Option<String>,
    rto_secs: Option<i64>,
    score: Option<i64>,
    verdict: Option<String>,
    reviewed: i64,
}

impl SummaryRow {
    fn into_summary(self) -> Result<RunSummary, AppError> {
        let plan: crate::model::plan::PlanDraft =
            serde_json::from_str(&self.doc).map_err(|_| corrupt("plan doc"))?;
        Ok(RunSummary {
            number: self.number,
            plan_number: self.plan_number,
            plan_version: self.plan_version,
            plan_name: plan.name,
            status: self.status.parse().map_err(|_| corrupt("status"))?,
            trigger: self.run_trigger.parse().map_err(|_| corrupt("trigger"))?,
            triggered_by: self.triggered_by.map(super::users::actor_label),
            created_at: from_millis(self.created_at),
            started_at: instant(self.started_at),
            finished_at: instant(self.finished_at),
            incident: self
                .incident_number
                .map(|n| crate::model::incident::IncidentNumber(n).to_string()),
            aborted_by: self.aborted_by,
            rto_secs: self.rto_secs.and_then(|s| u32::try_from(s).ok()),
            score: self.score.and_then(|s| u32::try_from(s).ok()),
            verdict: self
                .verdict
                .map(|v| v.parse())
                .transpose()
                .map_err(|_: String| corrupt("verdict"))?,
            reviewed: self.reviewed != 0,
        })
    }
}

const SUMMARY: &str = "SELECT r.number, p.number AS plan_number, r.plan_version, v.doc, r.status, r.run_trigger, \
     u.username AS triggered_by, r.created_at, r.started_at, r.finished_at, \
     i.number AS incident_number, r.aborted_by, r.rto_secs, r.score, r.verdict, \
     (SELECT COUNT(*) FROM run_reviews rv WHERE rv.run_id = r.id) AS reviewed \
     FROM runs r JOIN plans p ON p.id = r.plan_id \
     JOIN plan_versions v ON v.plan_id = r.plan_id AND v.version = r.plan_version \
     LEFT JOIN users u ON u.id = r.triggered_by \
     LEFT JOIN incidents i ON i.id = r.incident_id";

#[derive(FromRow)]
struct StepRow {
    idx: i64,
    name: String,
    action: String,
    phase: Option<String>,
    status: String,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    output: String,
    error: Option<String>,
    awaiting: Option<String>,
    decision: Option<String>,
    decision_note: Option<String>,
    decided_by: Option<String>,
    weight: i64,
    mark: Option<String>,
    waited_ms: Option<i64>,
}

/// Run `number` with its steps.
pub async fn find(pool: &AnyPool, number: i64) -> Result<Option<RunView>, AppError> {
    let row: Option<SummaryRow> = sqlx::query_as(&format!("{SUMMARY} WHERE r.number = $1"))
        .bind(number)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let steps: Vec<StepRow> = sqlx::query_as(
        "SELECT s.idx, s.name, s.action, s.phase, s.status, s.started_at, s.finished_at, s.output, s.error, \
         s.awaiting, s.decision, s.decision_note, s.decided_by, s.weight, s.mark, s.waited_ms \
         FROM run_steps s JOIN runs r ON r.id = s.run_id WHERE r.number = $1 ORDER BY s.idx",
    )
    .bind(number)
    .fetch_all(pool)
    .await?;
    let steps = steps
        .into_iter()
        .map(|s| {
            Ok(RunStep {
                index: usize::try_from(s.idx).map_err(|_| corrupt("idx"))?,
                name: s.name,
                action: s.action,
                phase: s
                    .phase
                    .map(|p| p.parse())
                    .transpose()
                    .map_err(|_: String| corrupt("phase"))?,
                status: s.status.parse().map_err(|_| corrupt("step status"))?,
                started_at: instant(s.started_at),
                finished_at: instant(s.finished_at),
                output: s.output,
                output_hidden: false,
                waited_ms: s.waited_ms,
                error: s.error,
                awaiting: s
                    .awaiting
                    .map(|a| a.parse())
                    .transpose()
                    .map_err(|_: String| corrupt("awaiting"))?,
                decision: s
                    .decision
                    .map(|d| d.parse())
                    .transpose()
                    .map_err(|_: String| corrupt("decision"))?,
                decision_note: s.decision_note,
                decided_by: s.decided_by.map(super::users::actor_label),
                weight: u32::try_from(s.weight).map_err(|_| corrupt("weight"))?,
                mark: s
                    .mark
                    .map(|m| m.parse())
                    .transpose()
                    .map_err(|_: String| corrupt("mark"))?,
            })
        })
        .collect::<Result<_, AppError>>()?;
    let params: String = sqlx::query_scalar("SELECT params FROM runs WHERE number = $1")
        .bind(number)
        .fetch_one(pool)
        .await?;
    Ok(Some(RunView {
        summary: row.into_summary()?,
        steps,
        params: serde_json::from_str(&params).map_err(|_| corrupt("params"))?,
    }))
}

/// The newest runs of plan `plan_number` (all plans when `None`), newest first.
pub async fn list(
    pool: &AnyPool,
    plan_number: Option<i64>,
    limit: i64,
) -> Result<Vec<RunSummary>, AppError> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY} WHERE ($1 IS NULL OR p.number = $2) ORDER BY r.number DESC LIMIT $3"
    ))
    .bind(plan_number)
    .bind(plan_number)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// Ends run `number` with `status` at `now`, with its score (none for an interrupted run), if it
/// has not ended already (another instance may have marked it interrupted); whether it did.
pub async fn finish(
    db: impl sqlx::Executor<'_, Database = sqlx::Any>,
    number: i64,
    status: RunStatus,
    now: DateTime<Utc>,
    score: Option<&Score>,
) -> Result<bool, AppError> {
    let done = sqlx::query(&format!(
        "UPDATE runs SET status = $1, finished_at = $2, \
         score = $3, score_version = $4, verdict = $5, recovery_ms = $6 \
         WHERE number = $7 AND status IN ({})",
        RunStatus::unfinished_sql()
    ))
    .bind(status.as_str())
    .bind(to_millis(now))
    .bind(score.map(|s| i64::from(s.points)))
    .bind(score.map(|s| i64::from(s.version)))
    .bind(score.map(|s| s.verdict.as_str()))
    .bind(score.and_then(|s| s.recovery.millis()))
    .bind(number)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The service of run `number`'s plan.
pub async fn plan_service(pool: &AnyPool, number: i64) -> Result<Option<String>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT p.service FROM runs r JOIN plans p ON p.id = r.plan_id WHERE r.number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await?)
}

/// Whether every run of `numbers` has ended.
pub async fn all_finished(pool: &AnyPool, numbers: &[i64]) -> Result<bool, AppError> {
    for number in numbers {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM runs WHERE number = $1")
                .bind(number)
                .fetch_optional(pool)
                .await?;
        let finished = status
            .map(|s| s.parse::<RunStatus>().is_ok_and(RunStatus::is_finished))
            .unwrap_or(true);
        if !finished {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The numbers of plan `plan_id`'s runs that have not finished, oldest first.
pub async fn active_of_plan(conn: &mut AnyConnection, plan_id: &str) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT number FROM runs WHERE plan_id = $1 AND status IN ({}) ORDER BY number",
        RunStatus::unfinished_sql()
    ))
    .bind(plan_id)
    .fetch_all(conn)
    .await?)
}

/// Plan `plan_number`'s record over its scored runs.
pub async fn record(pool: &AnyPool, plan_number: i64) -> Result<PlanRecord, AppError> {
    let sums: RecordSums = sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM runs r JOIN plans p ON p.id = r.plan_id \
         WHERE p.number = $1 AND r.score IS NOT NULL"
    ))
    .bind(plan_number)
    .fetch_one(pool)
    .await?;
    record_of(sums)
}

/// Scored runs, passed runs and the sum of scores over `runs r`: see [`record_of`].
pub(crate) const RECORD_COLUMNS: &str = "COUNT(r.score), \
     CAST(SUM(CASE WHEN r.verdict = 'pass' THEN 1 ELSE 0 END) AS BIGINT), CAST(SUM(r.score) AS BIGINT)";

/// A row of [`RECORD_COLUMNS`].
pub(crate) type RecordSums = (i64, Option<i64>, Option<i64>);

/// The record those sums make.
pub(crate) fn record_of((scored, passed, total): RecordSums) -> Result<PlanRecord, AppError> {
    let scored = u32::try_from(scored).map_err(|_| corrupt("count"))?;
    Ok(PlanRecord {
        scored,
        passed: u32::try_from(passed.unwrap_or(0)).map_err(|_| corrupt("count"))?,
        mean_score: (scored > 0).then(|| total.unwrap_or(0) as f64 / f64::from(scored)),
    })
}

/// Finished drill runs of plans owned (created) by `owner` that nobody reviewed yet, newest
/// first (interrupted runs are not counted: nothing ran to be reviewed).
pub async fn unreviewed(pool: &AnyPool, owner: UserId) -> Result<Vec<RunSummary>, AppError> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY} WHERE p.created_by = $1 AND p.scene = 'drill' \
         AND r.status IN ('passed', 'failed', 'aborted') \
         AND NOT EXISTS (SELECT 1 FROM run_reviews rr WHERE rr.run_id = r.id) \
         ORDER BY r.number DESC LIMIT 100"
    ))
    .bind(owner.to_string())
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(SummaryRow::into_summary).collect()
}

/// Writes run `number`'s review (the first writing keeps its time; later ones update it).
pub async fn save_review(
    pool: &AnyPool,
    number: i64,
    findings: &str,
    changes: &str,
    by: UserId,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO run_reviews (run_id, findings, changes, reviewed_by, reviewed_at, updated_at) \
         SELECT id, $1, $2, $3, $4, $5 FROM runs WHERE number = $6 \
         ON CONFLICT (run_id) DO UPDATE SET findings = excluded.findings, changes = excluded.changes, \
         reviewed_by = excluded.reviewed_by, updated_at = excluded.updated_at",
    )
    .bind(findings)
    .bind(changes)
    .bind(by.to_string())
    .bind(now)
    .bind(now)
    .bind(number)
    .execute(pool)
    .await?;
    Ok(())
}

/// Run `number`'s review, if it has one.
pub async fn review(pool: &AnyPool, number: i64) -> Result<Option<RunReview>, AppError> {
    let row: Option<(String, String, Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT rv.findings, rv.changes, u.username, rv.reviewed_at, rv.updated_at \
         FROM run_reviews rv JOIN runs r ON r.id = rv.run_id LEFT JOIN users u ON u.id = rv.reviewed_by \
         WHERE r.number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(findings, changes, by, reviewed_at, updated_at)| RunReview {
            findings,
            changes,
            reviewed_by: by.unwrap_or_default(),
            reviewed_at: from_millis(reviewed_at),
            updated_at: from_millis(updated_at),
        },
    ))
}
