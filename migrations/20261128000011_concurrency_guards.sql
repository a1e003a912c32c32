-- Guards that hold with several instances on one PostgreSQL database, not only under SQLite's
-- single writer.
--
-- `event_seq`: the number of the incident's newest timeline entry. An entry takes the next
-- number by incrementing it (UPDATE … RETURNING), which locks the incident row until the entry
-- commits: two entries written at once, from any instance, queue there instead of both reading
-- the same MAX(seq) and colliding on incident_events_seq_key.
ALTER TABLE incidents ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;

UPDATE incidents SET event_seq = COALESCE(
    (SELECT MAX(e.seq) FROM incident_events e WHERE e.incident_id = incidents.id), 0);

-- Every change that can take away an enabled admin (a role change, disabling) first increments
-- this counter, so such changes run one at a time and each sees the one before it: two admins
-- demoting each other at once cannot both succeed.
INSERT INTO counters (name, value) VALUES ('admin_changes', 0);

-- A job's claim on a day is done only once the job finished; a claim whose job failed is given
-- back, and one left by an instance that died is taken over after a while.
ALTER TABLE job_runs ADD COLUMN finished_at BIGINT;

UPDATE job_runs SET finished_at = started_at;
