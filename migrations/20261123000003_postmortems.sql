-- Postmortems: one per incident. The document is JSON (sections change together and are saved
-- together); `version` makes every save a compare-and-set so no edit is silently overwritten.

CREATE TABLE postmortems (
    id           TEXT PRIMARY KEY NOT NULL,
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    state        TEXT NOT NULL,
    doc          TEXT NOT NULL,
    version      BIGINT NOT NULL,
    created_by   TEXT REFERENCES users (id),
    updated_by   TEXT REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    published_at BIGINT,
    CONSTRAINT postmortems_incident_key UNIQUE (incident_id),
    CONSTRAINT postmortems_state_check CHECK (state IN ('draft', 'in_review', 'published'))
);
