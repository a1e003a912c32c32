-- Alerts and risk events (#16). Every alert received is kept in `alerts_received` (for a while:
-- see NIGHTWATCH_ALERT_RETENTION_DAYS); the alerts of one identity (source + fingerprint) make one
-- risk event from their first firing until they resolve. A later firing opens a new event.

INSERT INTO counters (name, value) VALUES ('risk_event_number', 0);

CREATE TABLE risk_events (
    id              TEXT PRIMARY KEY NOT NULL,
    number          BIGINT NOT NULL,
    source          TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    -- 'silenced' is not a stored status: see silenced_by and inhibited_by.
    status          TEXT NOT NULL,
    severity        TEXT NOT NULL,
    summary         TEXT NOT NULL,
    -- JSON objects of name → value.
    labels          TEXT NOT NULL,
    annotations     TEXT NOT NULL,
    -- From the labels, for the board's grouping and filters.
    service         TEXT,
    alertname       TEXT NOT NULL,
    url             TEXT,
    -- Alerts received for it while open.
    seen_count      BIGINT NOT NULL,
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    starts_at       BIGINT,
    resolved_at     BIGINT,
    acknowledged_by TEXT REFERENCES users (id),
    acknowledged_at BIGINT,
    incident_id     TEXT REFERENCES incidents (id),
    -- The silence muting it (silences.id), or the number of the event whose firing mutes it
    -- through an inhibition rule.
    silenced_by     TEXT,
    inhibited_by    BIGINT,
    updated_at      BIGINT NOT NULL,
    CONSTRAINT risk_events_number_key UNIQUE (number),
    CONSTRAINT risk_events_status_check CHECK (status IN ('open', 'acknowledged', 'resolved'))
);

-- One unresolved event per identity, whichever instance receives its alerts: a re-send that
-- races a first send updates the event the first one made instead of adding a second.
CREATE UNIQUE INDEX risk_events_open_key ON risk_events (source, fingerprint) WHERE resolved_at IS NULL;
CREATE INDEX risk_events_status_idx ON risk_events (status, last_seen);
CREATE INDEX risk_events_alertname_idx ON risk_events (alertname) WHERE resolved_at IS NULL;
CREATE INDEX risk_events_service_idx ON risk_events (service, status);
CREATE INDEX risk_events_incident_idx ON risk_events (incident_id);
-- The board polls the newest change.
CREATE INDEX risk_events_updated_idx ON risk_events (updated_at);

CREATE TABLE alerts_received (
    id          TEXT PRIMARY KEY NOT NULL,
    received_at BIGINT NOT NULL,
    source      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    action      TEXT NOT NULL,
    labels      TEXT NOT NULL,
    annotations TEXT NOT NULL,
    -- The event it opened or updated (none for a resolve of nothing open).
    event_number BIGINT,
    -- The token it came with (none for inspections).
    token_id    TEXT
);

CREATE INDEX alerts_received_at_idx ON alerts_received (received_at);
CREATE INDEX alerts_received_event_idx ON alerts_received (event_number, received_at);

CREATE TABLE silences (
    id         TEXT PRIMARY KEY NOT NULL,
    -- JSON list of {name, value, is_regex, is_equal}.
    matchers   TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    ended_at   BIGINT,
    ended_by   TEXT REFERENCES users (id),
    comment    TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE INDEX silences_ends_at_idx ON silences (ends_at);

CREATE TABLE inhibit_rules (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    source_matchers TEXT NOT NULL,
    target_matchers TEXT NOT NULL,
    -- JSON list of label names.
    equal_labels    TEXT NOT NULL,
    created_by      TEXT REFERENCES users (id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Ordered rules deciding what an event that is not muted does: declare an incident (or link to
-- the open one the same rule declared for the same service), run a plan.
CREATE TABLE alert_rules (
    id                   TEXT PRIMARY KEY NOT NULL,
    position             BIGINT NOT NULL,
    name                 TEXT NOT NULL,
    matchers             TEXT NOT NULL,
    -- JSON object: an alert's severity label value → the incident's severity.
    severity_map         TEXT NOT NULL,
    declare_incident     BIGINT NOT NULL,
    after_occurrences    BIGINT NOT NULL,
    after_minutes_firing BIGINT NOT NULL,
    plan_id              TEXT REFERENCES plans (id),
    cooldown_minutes     BIGINT NOT NULL,
    enabled              BIGINT NOT NULL,
    created_by           TEXT REFERENCES users (id),
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

-- What a rule did for an event occurrence, claimed before it is done: an action is taken once
-- per occurrence however many instances evaluate the rule at once.
CREATE TABLE rule_firings (
    rule_id      TEXT NOT NULL,
    event_number BIGINT NOT NULL,
    action       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (rule_id, event_number, action)
);

-- One row per rule and service, locked while a rule decides whether to declare an incident for
-- that service, so two instances never both declare one.
CREATE TABLE rule_service_claims (
    rule_id    TEXT NOT NULL,
    service    TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (rule_id, service)
);

-- When a plan last ran because of an alert: its cooldown.
CREATE TABLE plan_alert_cooldowns (
    plan_id     TEXT PRIMARY KEY NOT NULL,
    last_run_at BIGINT NOT NULL
);

-- Runs started for an event (by a rule or a person).
CREATE TABLE risk_event_runs (
    event_number BIGINT NOT NULL,
    run_number   BIGINT NOT NULL,
    rule_id      TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (event_number, run_number)
);

-- The account alert rules act as (kind 'system': it cannot sign in and is listed nowhere): an
-- incident a rule declares, and a run it starts, name it as their author.
INSERT INTO users (id, username, role, password_hash, session_epoch, created_at, updated_at, kind)
VALUES ('00000000-0000-0000-0000-00000000a1e7', 'system:alert-rules', 'commander', '', 0, 0, 0, 'system');
