-- Incidents and their append-only timeline. Portable DDL for SQLite and PostgreSQL.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);

INSERT INTO counters (name, value) VALUES ('incident_number', 0);

CREATE TABLE incidents (
    id                TEXT PRIMARY KEY NOT NULL,
    number            BIGINT NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL,
    severity          TEXT NOT NULL,
    status            TEXT NOT NULL,
    -- Display copies (comma-joined); filtering uses incident_services / incident_tags.
    services          TEXT NOT NULL,
    tags              TEXT NOT NULL,
    commander_id      TEXT REFERENCES users (id),
    scribe_id         TEXT REFERENCES users (id),
    communications_id TEXT REFERENCES users (id),
    detected_at       BIGINT NOT NULL,
    acknowledged_at   BIGINT,
    mitigated_at      BIGINT,
    resolved_at       BIGINT,
    reviewed_at       BIGINT,
    declared_by       TEXT REFERENCES users (id),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    -- Bumped by every change: a change based on an older version is refused as a conflict.
    version           BIGINT NOT NULL,
    CONSTRAINT incidents_number_key UNIQUE (number),
    CONSTRAINT incidents_severity_check CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4')),
    CONSTRAINT incidents_status_check CHECK (status IN ('open', 'mitigating', 'recovered', 'reviewed'))
);

-- Keyset pagination: (sort key, number) in both directions.
CREATE INDEX incidents_detected_idx ON incidents (detected_at, number);
CREATE INDEX incidents_status_detected_idx ON incidents (status, detected_at, number);
CREATE INDEX incidents_severity_detected_idx ON incidents (severity, detected_at, number);
-- Counts per status within a severity.
CREATE INDEX incidents_status_severity_idx ON incidents (status, severity);

CREATE TABLE incident_services (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    service     TEXT NOT NULL,
    -- Copies of the incident's status (kept in step by every change, in the same transaction)
    -- and of its fixed detection instant and number: a service filter is then one index range.
    status      TEXT NOT NULL,
    detected_at BIGINT NOT NULL,
    number      BIGINT NOT NULL,
    PRIMARY KEY (incident_id, service)
);

CREATE INDEX incident_services_list_idx ON incident_services (service, detected_at, number);
CREATE INDEX incident_services_status_idx ON incident_services (service, status, detected_at, number);

CREATE TABLE incident_tags (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    tag         TEXT NOT NULL,
    PRIMARY KEY (incident_id, tag)
);

CREATE INDEX incident_tags_tag_idx ON incident_tags (tag, incident_id);

CREATE TABLE incident_events (
    id          TEXT PRIMARY KEY NOT NULL,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    author_id   TEXT REFERENCES users (id),
    corrects_id TEXT REFERENCES incident_events (id),
    CONSTRAINT incident_events_seq_key UNIQUE (incident_id, seq)
);
