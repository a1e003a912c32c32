-- The metrics board's figures per calendar month (UTC) of detection, kept by the database itself
-- on every insert, delete and change of an incident: SQLite's text of migrations/ of the same
-- name (what the tables hold is explained there; triggers are written differently, one writer).

CREATE TABLE duration_buckets (
    lo BIGINT PRIMARY KEY
);
INSERT INTO duration_buckets (lo) VALUES (-9223372036854775807);
INSERT INTO duration_buckets (lo)
WITH RECURSIVE b (lo) AS (
    SELECT 1000
    UNION ALL
    SELECT lo + lo / 20 FROM b WHERE lo < 1000000000000
)
SELECT lo FROM b;

CREATE TABLE incident_months (
    month BIGINT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    repeats BIGINT NOT NULL,
    acknowledged BIGINT NOT NULL,
    acknowledged_ms BIGINT NOT NULL,
    mitigated BIGINT NOT NULL,
    mitigated_ms BIGINT NOT NULL,
    resolved BIGINT NOT NULL,
    resolved_ms BIGINT NOT NULL,
    PRIMARY KEY (month, severity, status)
);

CREATE TABLE incident_month_durations (
    measure TEXT NOT NULL,
    month BIGINT NOT NULL,
    severity TEXT NOT NULL,
    lo BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (measure, month, severity, lo)
);

-- The month of a detection as year * 12 + month - 1 (as `incident_month()` on PostgreSQL):
-- CAST(strftime('%Y', d / 1000, 'unixepoch') AS INTEGER) * 12
--     + CAST(strftime('%m', d / 1000, 'unixepoch') AS INTEGER) - 1
-- and the bucket of a duration v: (SELECT MAX(lo) FROM duration_buckets WHERE lo <= v).

CREATE VIEW incident_rollup_rows AS
SELECT id,
    CAST(strftime('%Y', detected_at / 1000, 'unixepoch') AS INTEGER) * 12
        + CAST(strftime('%m', detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month,
    severity, status, repeats,
    CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END AS a,
    COALESCE(acknowledged_at - detected_at, 0) AS a_ms,
    CASE WHEN mitigated_at IS NULL THEN 0 ELSE 1 END AS mi,
    COALESCE(mitigated_at - detected_at, 0) AS mi_ms,
    CASE WHEN resolved_at IS NULL THEN 0 ELSE 1 END AS r,
    COALESCE(resolved_at - detected_at, 0) AS r_ms
FROM incidents;

INSERT INTO incident_months
SELECT month, severity, status, COUNT(*), SUM(repeats), SUM(a), SUM(a_ms), SUM(mi), SUM(mi_ms),
    SUM(r), SUM(r_ms)
FROM incident_rollup_rows GROUP BY 1, 2, 3;

INSERT INTO incident_month_durations
SELECT measure, month, severity, (SELECT MAX(b.lo) FROM duration_buckets b WHERE b.lo <= v), COUNT(*)
FROM (
    SELECT 'mtta' AS measure, CAST(strftime('%Y', detected_at / 1000, 'unixepoch') AS INTEGER) * 12
        + CAST(strftime('%m', detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month,
        severity, acknowledged_at - detected_at AS v FROM incidents WHERE acknowledged_at IS NOT NULL
    UNION ALL
    SELECT 'mttm', CAST(strftime('%Y', detected_at / 1000, 'unixepoch') AS INTEGER) * 12
        + CAST(strftime('%m', detected_at / 1000, 'unixepoch') AS INTEGER) - 1,
        severity, mitigated_at - detected_at FROM incidents WHERE mitigated_at IS NOT NULL
    UNION ALL
    SELECT 'mttr', CAST(strftime('%Y', detected_at / 1000, 'unixepoch') AS INTEGER) * 12
        + CAST(strftime('%m', detected_at / 1000, 'unixepoch') AS INTEGER) - 1,
        severity, resolved_at - detected_at FROM incidents WHERE resolved_at IS NOT NULL
) d GROUP BY 1, 2, 3, 4;

CREATE TRIGGER board_rollups_insert AFTER INSERT ON incidents
BEGIN
    INSERT INTO incident_months
    SELECT month, severity, status, SUM(n), SUM(repeats), SUM(a), SUM(a_ms), SUM(mi), SUM(mi_ms),
        SUM(r), SUM(r_ms)
    FROM (
        SELECT CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, NEW.severity AS severity, NEW.status AS status, 1 AS n, 1 * NEW.repeats AS repeats, 1 * (CASE WHEN NEW.acknowledged_at IS NULL THEN 0 ELSE 1 END) AS a, 1 * COALESCE(NEW.acknowledged_at - NEW.detected_at, 0) AS a_ms, 1 * (CASE WHEN NEW.mitigated_at IS NULL THEN 0 ELSE 1 END) AS mi, 1 * COALESCE(NEW.mitigated_at - NEW.detected_at, 0) AS mi_ms, 1 * (CASE WHEN NEW.resolved_at IS NULL THEN 0 ELSE 1 END) AS r, 1 * COALESCE(NEW.resolved_at - NEW.detected_at, 0) AS r_ms
    ) WHERE true
    GROUP BY month, severity, status
    HAVING SUM(n) <> 0 OR SUM(repeats) <> 0 OR SUM(a) <> 0 OR SUM(a_ms) <> 0 OR SUM(mi) <> 0
        OR SUM(mi_ms) <> 0 OR SUM(r) <> 0 OR SUM(r_ms) <> 0
    ON CONFLICT (month, severity, status) DO UPDATE SET
        n = n + excluded.n, repeats = repeats + excluded.repeats,
        acknowledged = acknowledged + excluded.acknowledged,
        acknowledged_ms = acknowledged_ms + excluded.acknowledged_ms,
        mitigated = mitigated + excluded.mitigated, mitigated_ms = mitigated_ms + excluded.mitigated_ms,
        resolved = resolved + excluded.resolved, resolved_ms = resolved_ms + excluded.resolved_ms;
    INSERT INTO incident_month_durations
    SELECT measure, month, severity, (SELECT MAX(b.lo) FROM duration_buckets b WHERE b.lo <= v) AS lo,
        SUM(n)
    FROM (
        SELECT 'mtta' AS measure, CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, NEW.severity AS severity, NEW.acknowledged_at - NEW.detected_at AS v, 1 AS n WHERE NEW.acknowledged_at IS NOT NULL
        UNION ALL SELECT 'mttm' AS measure, CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, NEW.severity AS severity, NEW.mitigated_at - NEW.detected_at AS v, 1 AS n WHERE NEW.mitigated_at IS NOT NULL
        UNION ALL SELECT 'mttr' AS measure, CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, NEW.severity AS severity, NEW.resolved_at - NEW.detected_at AS v, 1 AS n WHERE NEW.resolved_at IS NOT NULL
    ) WHERE true
    GROUP BY 1, 2, 3, 4 HAVING SUM(n) <> 0
    ON CONFLICT (measure, month, severity, lo) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER board_rollups_delete AFTER DELETE ON incidents
BEGIN
    INSERT INTO incident_months
    SELECT month, severity, status, SUM(n), SUM(repeats), SUM(a), SUM(a_ms), SUM(mi), SUM(mi_ms),
        SUM(r), SUM(r_ms)
    FROM (
        SELECT CAST(strftime('%Y', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, OLD.severity AS severity, OLD.status AS status, -1 AS n, -1 * OLD.repeats AS repeats, -1 * (CASE WHEN OLD.acknowledged_at IS NULL THEN 0 ELSE 1 END) AS a, -1 * COALESCE(OLD.acknowledged_at - OLD.detected_at, 0) AS a_ms, -1 * (CASE WHEN OLD.mitigated_at IS NULL THEN 0 ELSE 1 END) AS mi, -1 * COALESCE(OLD.mitigated_at - OLD.detected_at, 0) AS mi_ms, -1 * (CASE WHEN OLD.resolved_at IS NULL THEN 0 ELSE 1 END) AS r, -1 * COALESCE(OLD.resolved_at - OLD.detected_at, 0) AS r_ms
    ) WHERE true
    GROUP BY month, severity, status
    HAVING SUM(n) <> 0 OR SUM(repeats) <> 0 OR SUM(a) <> 0 OR SUM(a_ms) <> 0 OR SUM(mi) <> 0
        OR SUM(mi_ms) <> 0 OR SUM(r) <> 0 OR SUM(r_ms) <> 0
    ON CONFLICT (month, severity, status) DO UPDATE SET
        n = n + excluded.n, repeats = repeats + excluded.repeats,
        acknowledged = acknowledged + excluded.acknowledged,
        acknowledged_ms = acknowledged_ms + excluded.acknowledged_ms,
        mitigated = mitigated + excluded.mitigated, mitigated_ms = mitigated_ms + excluded.mitigated_ms,
        resolved = resolved + excluded.resolved, resolved_ms = resolved_ms + excluded.resolved_ms;
    INSERT INTO incident_month_durations
    SELECT measure, month, severity, (SELECT MAX(b.lo) FROM duration_buckets b WHERE b.lo <= v) AS lo,
        SUM(n)
    FROM (
        SELECT 'mtta' AS measure, CAST(strftime('%Y', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, OLD.severity AS severity, OLD.acknowledged_at - OLD.detected_at AS v, -1 AS n WHERE OLD.acknowledged_at IS NOT NULL
        UNION ALL SELECT 'mttm' AS measure, CAST(strftime('%Y', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, OLD.severity AS severity, OLD.mitigated_at - OLD.detected_at AS v, -1 AS n WHERE OLD.mitigated_at IS NOT NULL
        UNION ALL SELECT 'mttr' AS measure, CAST(strftime('%Y', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, OLD.severity AS severity, OLD.resolved_at - OLD.detected_at AS v, -1 AS n WHERE OLD.resolved_at IS NOT NULL
    ) WHERE true
    GROUP BY 1, 2, 3, 4 HAVING SUM(n) <> 0
    ON CONFLICT (measure, month, severity, lo) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER board_rollups_update AFTER UPDATE OF detected_at, severity, status, repeats, acknowledged_at, mitigated_at, resolved_at ON incidents
BEGIN
    INSERT INTO incident_months
    SELECT month, severity, status, SUM(n), SUM(repeats), SUM(a), SUM(a_ms), SUM(mi), SUM(mi_ms),
        SUM(r), SUM(r_ms)
    FROM (
        SELECT CAST(strftime('%Y', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, OLD.severity AS severity, OLD.status AS status, -1 AS n, -1 * OLD.repeats AS repeats, -1 * (CASE WHEN OLD.acknowledged_at IS NULL THEN 0 ELSE 1 END) AS a, -1 * COALESCE(OLD.acknowledged_at - OLD.detected_at, 0) AS a_ms, -1 * (CASE WHEN OLD.mitigated_at IS NULL THEN 0 ELSE 1 END) AS mi, -1 * COALESCE(OLD.mitigated_at - OLD.detected_at, 0) AS mi_ms, -1 * (CASE WHEN OLD.resolved_at IS NULL THEN 0 ELSE 1 END) AS r, -1 * COALESCE(OLD.resolved_at - OLD.detected_at, 0) AS r_ms
        UNION ALL SELECT CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, NEW.severity AS severity, NEW.status AS status, 1 AS n, 1 * NEW.repeats AS repeats, 1 * (CASE WHEN NEW.acknowledged_at IS NULL THEN 0 ELSE 1 END) AS a, 1 * COALESCE(NEW.acknowledged_at - NEW.detected_at, 0) AS a_ms, 1 * (CASE WHEN NEW.mitigated_at IS NULL THEN 0 ELSE 1 END) AS mi, 1 * COALESCE(NEW.mitigated_at - NEW.detected_at, 0) AS mi_ms, 1 * (CASE WHEN NEW.resolved_at IS NULL THEN 0 ELSE 1 END) AS r, 1 * COALESCE(NEW.resolved_at - NEW.detected_at, 0) AS r_ms
    ) WHERE true
    GROUP BY month, severity, status
    HAVING SUM(n) <> 0 OR SUM(repeats) <> 0 OR SUM(a) <> 0 OR SUM(a_ms) <> 0 OR SUM(mi) <> 0
        OR SUM(mi_ms) <> 0 OR SUM(r) <> 0 OR SUM(r_ms) <> 0
    ON CONFLICT (month, severity, status) DO UPDATE SET
        n = n + excluded.n, repeats = repeats + excluded.repeats,
        acknowledged = acknowledged + excluded.acknowledged,
        acknowledged_ms = acknowledged_ms + excluded.acknowledged_ms,
        mitigated = mitigated + excluded.mitigated, mitigated_ms = mitigated_ms + excluded.mitigated_ms,
        resolved = resolved + excluded.resolved, resolved_ms = resolved_ms + excluded.resolved_ms;
    INSERT INTO incident_month_durations
    SELECT measure, month, severity, (SELECT MAX(b.lo) FROM duration_buckets b WHERE b.lo <= v) AS lo,
        SUM(n)
    FROM (
        SELECT 'mtta' AS measure, CAST(strftime('%Y', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, OLD.severity AS severity, OLD.acknowledged_at - OLD.detected_at AS v, -1 AS n WHERE OLD.acknowledged_at IS NOT NULL
        UNION ALL SELECT 'mttm' AS measure, CAST(strftime('%Y', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, OLD.severity AS severity, OLD.mitigated_at - OLD.detected_at AS v, -1 AS n WHERE OLD.mitigated_at IS NOT NULL
        UNION ALL SELECT 'mttr' AS measure, CAST(strftime('%Y', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, OLD.severity AS severity, OLD.resolved_at - OLD.detected_at AS v, -1 AS n WHERE OLD.resolved_at IS NOT NULL
        UNION ALL SELECT 'mtta' AS measure, CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, NEW.severity AS severity, NEW.acknowledged_at - NEW.detected_at AS v, 1 AS n WHERE NEW.acknowledged_at IS NOT NULL
        UNION ALL SELECT 'mttm' AS measure, CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, NEW.severity AS severity, NEW.mitigated_at - NEW.detected_at AS v, 1 AS n WHERE NEW.mitigated_at IS NOT NULL
        UNION ALL SELECT 'mttr' AS measure, CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, NEW.severity AS severity, NEW.resolved_at - NEW.detected_at AS v, 1 AS n WHERE NEW.resolved_at IS NOT NULL
    ) WHERE true
    GROUP BY 1, 2, 3, 4 HAVING SUM(n) <> 0
    ON CONFLICT (measure, month, severity, lo) DO UPDATE SET n = n + excluded.n;
END;

CREATE TABLE incident_service_months (
    month BIGINT NOT NULL,
    service TEXT NOT NULL,
    severity TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (month, service, severity)
);

INSERT INTO incident_service_months
SELECT CAST(strftime('%Y', s.detected_at / 1000, 'unixepoch') AS INTEGER) * 12
        + CAST(strftime('%m', s.detected_at / 1000, 'unixepoch') AS INTEGER) - 1,
    s.service, i.severity, COUNT(*)
FROM incident_services s JOIN incidents i ON i.id = s.incident_id GROUP BY 1, 2, 3;

CREATE TRIGGER service_months_insert AFTER INSERT ON incident_services
BEGIN
    INSERT INTO incident_service_months
    SELECT CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12
            + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1,
        NEW.service, i.severity, 1
    FROM incidents i WHERE i.id = NEW.incident_id
    ON CONFLICT (month, service, severity) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER service_months_delete AFTER DELETE ON incident_services
BEGIN
    UPDATE incident_service_months SET n = n - 1
    WHERE month = CAST(strftime('%Y', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) * 12
            + CAST(strftime('%m', OLD.detected_at / 1000, 'unixepoch') AS INTEGER) - 1
        AND service = OLD.service
        AND severity = (SELECT i.severity FROM incidents i WHERE i.id = OLD.incident_id);
END;

CREATE TRIGGER service_months_severity AFTER UPDATE OF severity ON incidents
WHEN OLD.severity <> NEW.severity
BEGIN
    UPDATE incident_service_months SET n = n - 1
    WHERE severity = OLD.severity AND (month, service) IN (
        SELECT CAST(strftime('%Y', s.detected_at / 1000, 'unixepoch') AS INTEGER) * 12
                + CAST(strftime('%m', s.detected_at / 1000, 'unixepoch') AS INTEGER) - 1,
            s.service
        FROM incident_services s WHERE s.incident_id = NEW.id);
    INSERT INTO incident_service_months
    SELECT CAST(strftime('%Y', s.detected_at / 1000, 'unixepoch') AS INTEGER) * 12
            + CAST(strftime('%m', s.detected_at / 1000, 'unixepoch') AS INTEGER) - 1,
        s.service, NEW.severity, 1
    FROM incident_services s WHERE s.incident_id = NEW.id
    ON CONFLICT (month, service, severity) DO UPDATE SET n = n + 1;
END;

-- Action items of incidents per month of their incident's detection and its severity (see the
-- PostgreSQL text).
CREATE TABLE incident_item_months (
    month BIGINT NOT NULL,
    severity TEXT NOT NULL,
    done BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    on_time BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (month, severity, done, due_on, on_time)
);

INSERT INTO incident_item_months
SELECT CAST(strftime('%Y', i.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', i.detected_at / 1000, 'unixepoch') AS INTEGER) - 1, i.severity, CASE WHEN a.state = 'done' THEN 1 ELSE 0 END, CASE WHEN a.state = 'done' THEN '' ELSE a.due_on END, CASE WHEN a.state = 'done' AND a.done_at < CAST(strftime('%s', a.due_on, '+1 day') AS INTEGER) * 1000 THEN 1 ELSE 0 END, COUNT(*)
FROM action_items a JOIN incidents i ON i.id = a.incident_id GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER item_months_insert AFTER INSERT ON action_items
BEGIN
    INSERT INTO incident_item_months
    SELECT month, severity, done, due_on, on_time, SUM(n) FROM (
        SELECT CAST(strftime('%Y', i.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', i.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, i.severity AS severity, CASE WHEN NEW.state = 'done' THEN 1 ELSE 0 END AS done, CASE WHEN NEW.state = 'done' THEN '' ELSE NEW.due_on END AS due_on, CASE WHEN NEW.state = 'done' AND NEW.done_at < CAST(strftime('%s', NEW.due_on, '+1 day') AS INTEGER) * 1000 THEN 1 ELSE 0 END AS on_time, 1 AS n FROM incidents i WHERE i.id = NEW.incident_id
    ) WHERE true
    GROUP BY month, severity, done, due_on, on_time HAVING SUM(n) <> 0
    ON CONFLICT (month, severity, done, due_on, on_time) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER item_months_delete AFTER DELETE ON action_items
BEGIN
    INSERT INTO incident_item_months
    SELECT month, severity, done, due_on, on_time, SUM(n) FROM (
        SELECT CAST(strftime('%Y', i.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', i.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, i.severity AS severity, CASE WHEN OLD.state = 'done' THEN 1 ELSE 0 END AS done, CASE WHEN OLD.state = 'done' THEN '' ELSE OLD.due_on END AS due_on, CASE WHEN OLD.state = 'done' AND OLD.done_at < CAST(strftime('%s', OLD.due_on, '+1 day') AS INTEGER) * 1000 THEN 1 ELSE 0 END AS on_time, -1 AS n FROM incidents i WHERE i.id = OLD.incident_id
    ) WHERE true
    GROUP BY month, severity, done, due_on, on_time HAVING SUM(n) <> 0
    ON CONFLICT (month, severity, done, due_on, on_time) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER item_months_update AFTER UPDATE OF state, due_on, done_at, incident_id ON action_items
BEGIN
    INSERT INTO incident_item_months
    SELECT month, severity, done, due_on, on_time, SUM(n) FROM (
        SELECT CAST(strftime('%Y', i.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', i.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, i.severity AS severity, CASE WHEN OLD.state = 'done' THEN 1 ELSE 0 END AS done, CASE WHEN OLD.state = 'done' THEN '' ELSE OLD.due_on END AS due_on, CASE WHEN OLD.state = 'done' AND OLD.done_at < CAST(strftime('%s', OLD.due_on, '+1 day') AS INTEGER) * 1000 THEN 1 ELSE 0 END AS on_time, -1 AS n FROM incidents i WHERE i.id = OLD.incident_id
        UNION ALL SELECT CAST(strftime('%Y', i.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', i.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, i.severity AS severity, CASE WHEN NEW.state = 'done' THEN 1 ELSE 0 END AS done, CASE WHEN NEW.state = 'done' THEN '' ELSE NEW.due_on END AS due_on, CASE WHEN NEW.state = 'done' AND NEW.done_at < CAST(strftime('%s', NEW.due_on, '+1 day') AS INTEGER) * 1000 THEN 1 ELSE 0 END AS on_time, 1 AS n FROM incidents i WHERE i.id = NEW.incident_id
    ) WHERE true
    GROUP BY month, severity, done, due_on, on_time HAVING SUM(n) <> 0
    ON CONFLICT (month, severity, done, due_on, on_time) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER item_months_severity AFTER UPDATE OF severity ON incidents
WHEN OLD.severity <> NEW.severity
BEGIN
    INSERT INTO incident_item_months
    SELECT month, severity, done, due_on, on_time, SUM(n) FROM (
        SELECT CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, OLD.severity AS severity, CASE WHEN a.state = 'done' THEN 1 ELSE 0 END AS done, CASE WHEN a.state = 'done' THEN '' ELSE a.due_on END AS due_on, CASE WHEN a.state = 'done' AND a.done_at < CAST(strftime('%s', a.due_on, '+1 day') AS INTEGER) * 1000 THEN 1 ELSE 0 END AS on_time, -1 AS n FROM action_items a WHERE a.incident_id = NEW.id
        UNION ALL SELECT CAST(strftime('%Y', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) * 12 + CAST(strftime('%m', NEW.detected_at / 1000, 'unixepoch') AS INTEGER) - 1 AS month, NEW.severity AS severity, CASE WHEN a.state = 'done' THEN 1 ELSE 0 END AS done, CASE WHEN a.state = 'done' THEN '' ELSE a.due_on END AS due_on, CASE WHEN a.state = 'done' AND a.done_at < CAST(strftime('%s', a.due_on, '+1 day') AS INTEGER) * 1000 THEN 1 ELSE 0 END AS on_time, 1 AS n FROM action_items a WHERE a.incident_id = NEW.id
    ) WHERE true
    GROUP BY month, severity, done, due_on, on_time HAVING SUM(n) <> 0
    ON CONFLICT (month, severity, done, due_on, on_time) DO UPDATE SET n = n + excluded.n;
END;
