-- Run control: a person's decisions on gated and manual steps, abort requests, and the heartbeat
-- by which any instance can tell a run whose executor died (it is then marked interrupted).

ALTER TABLE runs ADD COLUMN abort_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN aborted_by TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_at BIGINT;

-- What a waiting step waits for: 'confirmation' (a gate before it runs) or 'verdict' (a manual
-- check's pass or fail).
ALTER TABLE run_steps ADD COLUMN awaiting TEXT;
-- A person's answer: 'confirm', 'skip', 'pass' or 'fail', with their comment and username.
ALTER TABLE run_steps ADD COLUMN decision TEXT;
ALTER TABLE run_steps ADD COLUMN decision_note TEXT;
ALTER TABLE run_steps ADD COLUMN decided_by TEXT;

CREATE INDEX runs_incident_idx ON runs (incident_id);
