-- A save that could not be stored (someone else saved first, or a section was too long) is kept
-- here for its author, one per author and postmortem, until they save again or discard it:
-- the author's text survives a conflict even with JavaScript off or after a reload.
CREATE TABLE postmortem_drafts (
    postmortem_id TEXT NOT NULL REFERENCES postmortems (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    doc           TEXT NOT NULL,
    based_on      BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (postmortem_id, user_id)
);

-- Reminders about action items, one row per item and day (the daily job may run on several
-- instances or twice: the key makes a second run record nothing). `reason` is 'overdue' or
-- 'due_soon'; `seen_at` is set when the owner marks them read.
CREATE TABLE reminders (
    action_item_id TEXT NOT NULL REFERENCES action_items (id),
    remind_on      TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id),
    reason         TEXT NOT NULL,
    due_on         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    seen_at        BIGINT,
    PRIMARY KEY (action_item_id, remind_on),
    CONSTRAINT reminders_reason_check CHECK (reason IN ('overdue', 'due_soon'))
);

CREATE INDEX reminders_user_idx ON reminders (user_id, seen_at);

-- Daily jobs claim their day here (first insert wins), so several instances run each once.
CREATE TABLE job_runs (
    job        TEXT NOT NULL,
    run_on     TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (job, run_on)
);

CREATE INDEX action_items_due_idx ON action_items (due_on, state);
