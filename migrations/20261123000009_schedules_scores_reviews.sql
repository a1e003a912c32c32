-- Drill schedules, run scores and run reviews.
--
-- A plan's schedule (cron expression, time zone, concurrency policy) is part of its versioned
-- content; the plan row carries a copy for the scheduler plus the next due time, which the
-- scheduler finds through an index (no scan of all plans) and claims by compare-and-set.
-- NULL next_due_at: no schedule, disabled, or paused.

ALTER TABLE plans ADD COLUMN schedule_cron TEXT;
ALTER TABLE plans ADD COLUMN schedule_zone TEXT;
ALTER TABLE plans ADD COLUMN concurrency TEXT NOT NULL DEFAULT 'forbid';
ALTER TABLE plans ADD COLUMN schedule_paused BIGINT NOT NULL DEFAULT 0;
ALTER TABLE plans ADD COLUMN next_due_at BIGINT;

CREATE INDEX plans_next_due_idx ON plans (next_due_at) WHERE next_due_at IS NOT NULL;

-- What the scheduler did with each due time it claimed: started a run, skipped it (a run of
-- the plan was still active), refused it (an open parameter without a default); `missed`
-- counts the due times that passed while no instance was running (fired once for all).
CREATE TABLE schedule_events (
    id        TEXT PRIMARY KEY NOT NULL,
    plan_id   TEXT NOT NULL REFERENCES plans (id),
    due_at    BIGINT NOT NULL,
    fired_at  BIGINT NOT NULL,
    outcome   TEXT NOT NULL,
    run_id    TEXT REFERENCES runs (id),
    missed    BIGINT NOT NULL DEFAULT 0,
    reason    TEXT NOT NULL DEFAULT '',
    CONSTRAINT schedule_events_outcome_check CHECK (outcome IN ('started', 'skipped', 'refused')),
    CONSTRAINT schedule_events_due_key UNIQUE (plan_id, due_at)
);

-- Scoring: each step's weight and mark (failure injection / recovery check) and the plan's RTO
-- are copied onto the run when it is created, so a score never depends on later plan edits.
ALTER TABLE run_steps ADD COLUMN weight BIGINT NOT NULL DEFAULT 20;
ALTER TABLE run_steps ADD COLUMN mark TEXT;
ALTER TABLE runs ADD COLUMN rto_secs BIGINT;
-- Written when the run finishes (interrupted runs are not scored).
ALTER TABLE runs ADD COLUMN score BIGINT;
ALTER TABLE runs ADD COLUMN score_version BIGINT;
ALTER TABLE runs ADD COLUMN verdict TEXT;
ALTER TABLE runs ADD COLUMN recovery_ms BIGINT;

CREATE INDEX runs_plan_status_idx ON runs (plan_id, status);

-- A finished drill run's review: what was found and what to change. Action items created from
-- it point at the run.
CREATE TABLE run_reviews (
    run_id      TEXT PRIMARY KEY NOT NULL REFERENCES runs (id),
    findings    TEXT NOT NULL,
    changes     TEXT NOT NULL,
    reviewed_by TEXT REFERENCES users (id),
    reviewed_at BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

ALTER TABLE action_items ADD COLUMN run_id TEXT REFERENCES runs (id);
CREATE INDEX action_items_run_idx ON action_items (run_id);
