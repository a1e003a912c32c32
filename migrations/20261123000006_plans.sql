-- Plans and their runs. The catalog of atomic actions lives in code and is copied here at
-- start-up (so an action removed from the code stays readable in old plans and runs). A plan's
-- content is versioned: every edit writes a new version, and a run names the version it ran.

CREATE TABLE catalog_actions (
    code          TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    category      TEXT NOT NULL,
    scenes        TEXT NOT NULL,
    display_order BIGINT NOT NULL,
    params        TEXT NOT NULL,
    settings      TEXT NOT NULL,
    synced_at     BIGINT NOT NULL,
    -- Set when the action is no longer in the code: kept for reading, never offered.
    retired_at    BIGINT
);

INSERT INTO counters (name, value) VALUES ('plan_number', 0);
INSERT INTO counters (name, value) VALUES ('run_number', 0);

CREATE TABLE plans (
    id              TEXT PRIMARY KEY NOT NULL,
    number          BIGINT NOT NULL,
    name            TEXT NOT NULL,
    scene           TEXT NOT NULL,
    service         TEXT NOT NULL,
    enabled         BIGINT NOT NULL,
    current_version BIGINT NOT NULL,
    created_by      TEXT REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT plans_number_key UNIQUE (number),
    CONSTRAINT plans_scene_check CHECK (scene IN ('drill', 'emergency', 'self_recovery', 'disaster_recovery'))
);

CREATE INDEX plans_scene_idx ON plans (scene, name);

CREATE TABLE plan_versions (
    plan_id    TEXT NOT NULL REFERENCES plans (id),
    version    BIGINT NOT NULL,
    doc        TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (plan_id, version)
);
