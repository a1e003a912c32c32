-- Runs of a plan and one record per step. State is written after every step, so a restart never
-- loses a run: at start-up, runs left unfinished by a crash are marked interrupted.

CREATE TABLE runs (
    id            TEXT PRIMARY KEY NOT NULL,
    number        BIGINT NOT NULL,
    plan_id       TEXT NOT NULL REFERENCES plans (id),
    plan_version  BIGINT NOT NULL,
    status        TEXT NOT NULL,
    run_trigger   TEXT NOT NULL,
    triggered_by  TEXT REFERENCES users (id),
    incident_id   TEXT REFERENCES incidents (id),
    -- The parameter values this run used, secrets masked (JSON: one object per step).
    params        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT,
    CONSTRAINT runs_number_key UNIQUE (number),
    CONSTRAINT runs_status_check CHECK (status IN ('pending', 'running', 'waiting_for_confirmation', 'passed', 'failed', 'aborted', 'interrupted'))
);

CREATE INDEX runs_plan_idx ON runs (plan_id, created_at);
CREATE INDEX runs_status_idx ON runs (status);

CREATE TABLE run_steps (
    run_id      TEXT NOT NULL REFERENCES runs (id),
    idx         BIGINT NOT NULL,
    step_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    action      TEXT NOT NULL,
    phase       TEXT,
    status      TEXT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    output      TEXT NOT NULL,
    error       TEXT,
    PRIMARY KEY (run_id, idx)
);
