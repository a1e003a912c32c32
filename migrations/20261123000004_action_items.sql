-- Action items: corrective and preventive actions, linked to an incident (and its postmortem).
-- The due date is a calendar date stored as TEXT 'YYYY-MM-DD' (sorts like a date on both
-- databases); "overdue" is derived from it, never stored.

CREATE TABLE action_items (
    id            TEXT PRIMARY KEY NOT NULL,
    title         TEXT NOT NULL,
    owner_id      TEXT NOT NULL REFERENCES users (id),
    due_on        TEXT NOT NULL,
    priority      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    incident_id   TEXT REFERENCES incidents (id),
    postmortem_id TEXT REFERENCES postmortems (id),
    created_by    TEXT REFERENCES users (id),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    done_at       BIGINT,
    CONSTRAINT action_items_priority_check CHECK (priority IN ('p1', 'p2', 'p3')),
    CONSTRAINT action_items_kind_check CHECK (kind IN ('corrective', 'preventive')),
    CONSTRAINT action_items_state_check CHECK (state IN ('todo', 'doing', 'done'))
);

CREATE INDEX action_items_owner_idx ON action_items (owner_id, state, due_on);
CREATE INDEX action_items_state_due_idx ON action_items (state, due_on);
CREATE INDEX action_items_incident_idx ON action_items (incident_id);
