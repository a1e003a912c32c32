-- What the metrics board reads, kept where one index range gives it.
--
-- `repeats`: 1 when the incident shares a service and a tag with an earlier incident detected
-- within the 30 days before it (model::metrics::repeats). Services, tags and the detection
-- instant never change after an incident is declared, so the flag is set when an incident is
-- inserted: its own, and that of later incidents it becomes the earlier one of (a backdated
-- declaration). Here it is computed once for the incidents that exist: per (service, tag) pair,
-- a window counts the pair's earlier occurrences within 30 days (2,592,000,000 ms).
ALTER TABLE incidents ADD COLUMN repeats BIGINT NOT NULL DEFAULT 0;

UPDATE incidents SET repeats = 1 WHERE id IN (
    SELECT w.incident_id FROM (
        SELECT s.incident_id, COUNT(*) OVER (PARTITION BY s.service, t.tag ORDER BY s.detected_at
            RANGE BETWEEN 2592000000 PRECEDING AND 1 PRECEDING) AS prior
        FROM incident_services s JOIN incident_tags t ON t.incident_id = s.incident_id
    ) w WHERE w.prior > 0
);

-- Every board figure of a time range (and of a severity within it) from the index alone: the
-- incidents of the last 90 days are one contiguous range, not a row lookup each (the id joins
-- their action items). It replaces the detection index, whose (detected_at, number) prefix it
-- keeps for keyset pagination: with two indexes on the same leading column, SQLite's planner
-- sometimes took the narrow one and looked every row up.
DROP INDEX incidents_detected_idx;
CREATE INDEX incidents_detected_idx ON incidents (detected_at, number, severity, status, repeats,
    acknowledged_at, mitigated_at, resolved_at, id);
-- The same for one severity.
DROP INDEX incidents_severity_detected_idx;
CREATE INDEX incidents_severity_detected_idx ON incidents (severity, detected_at, number, status,
    repeats, acknowledged_at, mitigated_at, resolved_at, id);

-- The action item figures of a time range's incidents from the index alone (it keeps the
-- incident_id prefix of the index it replaces).
DROP INDEX action_items_incident_idx;
CREATE INDEX action_items_incident_idx ON action_items (incident_id, state, due_on, done_at);

-- Drill runs (and their action items) that ended in a time range.
CREATE INDEX runs_finished_idx ON runs (finished_at);

-- The breakdown by service of a time range; the pairs of a range for `repeats`.
CREATE INDEX incident_services_detected_idx ON incident_services (detected_at, service, incident_id);
