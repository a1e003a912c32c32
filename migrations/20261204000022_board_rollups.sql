-- The metrics board's figures per calendar month (UTC) of detection, kept by the database itself
-- on every insert, delete and change of an incident (whoever writes: the app, a second instance,
-- the demo generator), so a board over years reads a few thousand rows instead of every incident:
-- how many incidents there are per severity and status, how many repeat an earlier one, and per
-- time-to measure how many have it and their sum (the means), and a histogram of each measure
-- (the median and p90 over long ranges, approximated within a bucket's width). PostgreSQL's
-- text; SQLite runs migrations_sqlite/ of the same name.

-- Nothing the rollups count is written (by another instance) between the backfills below and
-- the triggers taking over.
LOCK TABLE incidents, incident_services, action_items IN SHARE ROW EXCLUSIVE MODE;

-- The histogram's buckets: [lo, next lo). Below one second, one bucket; from there each bucket
-- is 5 % wider than the one before (lo + lo / 20), up to about 31 years. `model::metrics` walks
-- the same sequence.
CREATE TABLE duration_buckets (
    lo BIGINT PRIMARY KEY
);
INSERT INTO duration_buckets (lo) VALUES (-9223372036854775807);
INSERT INTO duration_buckets (lo)
WITH RECURSIVE b (lo) AS (
    SELECT CAST(1000 AS BIGINT)
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

-- The month of a detection (ms since 1970, UTC) as year * 12 + month - 1.
CREATE FUNCTION incident_month(detected BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT CAST(EXTRACT(YEAR FROM to_timestamp(detected / 1000) AT TIME ZONE 'UTC') * 12
        + EXTRACT(MONTH FROM to_timestamp(detected / 1000) AT TIME ZONE 'UTC') - 1 AS BIGINT)
$$;

-- The bucket (its lower bound) a duration falls in.
CREATE FUNCTION duration_bucket(ms BIGINT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT MAX(lo) FROM duration_buckets WHERE lo <= ms
$$;

INSERT INTO incident_months
SELECT incident_month(detected_at), severity, status, COUNT(*), SUM(repeats),
    COUNT(acknowledged_at), COALESCE(SUM(acknowledged_at - detected_at), 0),
    COUNT(mitigated_at), COALESCE(SUM(mitigated_at - detected_at), 0),
    COUNT(resolved_at), COALESCE(SUM(resolved_at - detected_at), 0)
FROM incidents GROUP BY 1, 2, 3;

INSERT INTO incident_month_durations
SELECT measure, month, severity, duration_bucket(v), COUNT(*) FROM (
    SELECT 'mtta' AS measure, incident_month(detected_at) AS month, severity,
        acknowledged_at - detected_at AS v FROM incidents WHERE acknowledged_at IS NOT NULL
    UNION ALL
    SELECT 'mttm', incident_month(detected_at), severity, mitigated_at - detected_at
    FROM incidents WHERE mitigated_at IS NOT NULL
    UNION ALL
    SELECT 'mttr', incident_month(detected_at), severity, resolved_at - detected_at
    FROM incidents WHERE resolved_at IS NOT NULL
) d GROUP BY 1, 2, 3, 4;

-- A change is its old row taken out and its new row put in, in one statement per table whose
-- rows are taken in key order: two transactions changing incidents in opposite directions
-- cannot deadlock on them.
CREATE FUNCTION board_rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o incidents;
    w incidents;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN o := OLD; END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN w := NEW; END IF;
    INSERT INTO incident_months AS m
    SELECT month, severity, status, SUM(n), SUM(repeats), SUM(a), SUM(a_ms), SUM(mi), SUM(mi_ms),
        SUM(r), SUM(r_ms)
    FROM (
        SELECT incident_month(x.detected_at) AS month, x.severity, x.status, x.sign AS n,
            x.sign * x.repeats AS repeats,
            x.sign * (CASE WHEN x.acknowledged_at IS NULL THEN 0 ELSE 1 END) AS a,
            x.sign * COALESCE(x.acknowledged_at - x.detected_at, 0) AS a_ms,
            x.sign * (CASE WHEN x.mitigated_at IS NULL THEN 0 ELSE 1 END) AS mi,
            x.sign * COALESCE(x.mitigated_at - x.detected_at, 0) AS mi_ms,
            x.sign * (CASE WHEN x.resolved_at IS NULL THEN 0 ELSE 1 END) AS r,
            x.sign * COALESCE(x.resolved_at - x.detected_at, 0) AS r_ms
        FROM (
            SELECT -1 AS sign, o.detected_at, o.severity, o.status, o.repeats, o.acknowledged_at,
                o.mitigated_at, o.resolved_at WHERE o.id IS NOT NULL
            UNION ALL
            SELECT 1, w.detected_at, w.severity, w.status, w.repeats, w.acknowledged_at,
                w.mitigated_at, w.resolved_at WHERE w.id IS NOT NULL
        ) x
    ) d
    GROUP BY month, severity, status
    HAVING SUM(n) <> 0 OR SUM(repeats) <> 0 OR SUM(a) <> 0 OR SUM(a_ms) <> 0 OR SUM(mi) <> 0
        OR SUM(mi_ms) <> 0 OR SUM(r) <> 0 OR SUM(r_ms) <> 0
    ORDER BY month, severity, status
    ON CONFLICT (month, severity, status) DO UPDATE SET
        n = m.n + EXCLUDED.n, repeats = m.repeats + EXCLUDED.repeats,
        acknowledged = m.acknowledged + EXCLUDED.acknowledged,
        acknowledged_ms = m.acknowledged_ms + EXCLUDED.acknowledged_ms,
        mitigated = m.mitigated + EXCLUDED.mitigated,
        mitigated_ms = m.mitigated_ms + EXCLUDED.mitigated_ms,
        resolved = m.resolved + EXCLUDED.resolved,
        resolved_ms = m.resolved_ms + EXCLUDED.resolved_ms;
    INSERT INTO incident_month_durations AS h
    SELECT measure, month, severity, lo, SUM(n) FROM (
        SELECT x.measure, incident_month(x.detected_at) AS month, x.severity,
            duration_bucket(x.v) AS lo, x.sign AS n
        FROM (
            SELECT -1 AS sign, 'mtta' AS measure, o.detected_at, o.severity,
                o.acknowledged_at - o.detected_at AS v WHERE o.acknowledged_at IS NOT NULL
            UNION ALL SELECT -1, 'mttm', o.detected_at, o.severity, o.mitigated_at - o.detected_at
                WHERE o.mitigated_at IS NOT NULL
            UNION ALL SELECT -1, 'mttr', o.detected_at, o.severity, o.resolved_at - o.detected_at
                WHERE o.resolved_at IS NOT NULL
            UNION ALL SELECT 1, 'mtta', w.detected_at, w.severity, w.acknowledged_at - w.detected_at
                WHERE w.acknowledged_at IS NOT NULL
            UNION ALL SELECT 1, 'mttm', w.detected_at, w.severity, w.mitigated_at - w.detected_at
                WHERE w.mitigated_at IS NOT NULL
            UNION ALL SELECT 1, 'mttr', w.detected_at, w.severity, w.resolved_at - w.detected_at
                WHERE w.resolved_at IS NOT NULL
        ) x
    ) d
    GROUP BY measure, month, severity, lo HAVING SUM(n) <> 0
    ORDER BY measure, month, severity, lo
    ON CONFLICT (measure, month, severity, lo) DO UPDATE SET n = h.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE TRIGGER board_rollups_keep
AFTER INSERT OR DELETE OR UPDATE OF detected_at, severity, status, repeats, acknowledged_at,
    mitigated_at, resolved_at ON incidents
FOR EACH ROW EXECUTE FUNCTION board_rollups_apply();

-- Incidents per month, affected service and severity (an incident counts once per service): the
-- board's breakdown by service. Services and detection never change after the declaration; the
-- severity can, and moves the incident's counts with it.
CREATE TABLE incident_service_months (
    month BIGINT NOT NULL,
    service TEXT NOT NULL,
    severity TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (month, service, severity)
);

INSERT INTO incident_service_months
SELECT incident_month(s.detected_at), s.service, i.severity, COUNT(*)
FROM incident_services s JOIN incidents i ON i.id = s.incident_id GROUP BY 1, 2, 3;

CREATE FUNCTION service_months_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'incident_services' THEN
        -- As for action items below: a severity change at the same time waits, or is waited for.
        PERFORM 1 FROM incidents
        WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.incident_id ELSE OLD.incident_id END
        FOR SHARE;
        INSERT INTO incident_service_months AS m
        SELECT incident_month(s.detected_at), s.service, i.severity,
            CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END
        FROM (SELECT CASE WHEN TG_OP = 'INSERT' THEN NEW.incident_id ELSE OLD.incident_id END AS incident_id,
                CASE WHEN TG_OP = 'INSERT' THEN NEW.service ELSE OLD.service END AS service,
                CASE WHEN TG_OP = 'INSERT' THEN NEW.detected_at ELSE OLD.detected_at END AS detected_at) s
        JOIN incidents i ON i.id = s.incident_id
        ON CONFLICT (month, service, severity) DO UPDATE SET n = m.n + EXCLUDED.n;
    ELSIF OLD.severity <> NEW.severity THEN
        INSERT INTO incident_service_months AS m
        SELECT month, service, severity, SUM(n) FROM (
            SELECT incident_month(s.detected_at) AS month, s.service, OLD.severity AS severity, -1 AS n
            FROM incident_services s WHERE s.incident_id = NEW.id
            UNION ALL
            SELECT incident_month(s.detected_at), s.service, NEW.severity, 1
            FROM incident_services s WHERE s.incident_id = NEW.id
        ) d GROUP BY month, service, severity ORDER BY month, service, severity
        ON CONFLICT (month, service, severity) DO UPDATE SET n = m.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER service_months_keep
AFTER INSERT OR DELETE ON incident_services
FOR EACH ROW EXECUTE FUNCTION service_months_apply();

CREATE TRIGGER service_months_severity
AFTER UPDATE OF severity ON incidents
FOR EACH ROW EXECUTE FUNCTION service_months_apply();

-- Action items of incidents per month of their incident's detection and its severity: the open
-- ones by due day (overdue is "due before today", asked at read time), the done ones by whether
-- they were done by the end of their due day (UTC). An item moved between incidents, or whose
-- incident changes severity, moves with it.
CREATE TABLE incident_item_months (
    month BIGINT NOT NULL,
    severity TEXT NOT NULL,
    done BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    on_time BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (month, severity, done, due_on, on_time)
);

-- An item's key parts: done or not; its due day while open ('' once done); done on time.
CREATE FUNCTION item_done(state TEXT) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN state = 'done' THEN 1 ELSE 0 END
$$;
CREATE FUNCTION item_due(state TEXT, due_on TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN state = 'done' THEN '' ELSE due_on END
$$;
CREATE FUNCTION item_on_time(state TEXT, due_on TEXT, done_at BIGINT) RETURNS BIGINT
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN state = 'done'
        AND done_at < (CAST(due_on AS DATE) + 1 - DATE '1970-01-01') * CAST(86400000 AS BIGINT)
        THEN 1 ELSE 0 END
$$;

INSERT INTO incident_item_months
SELECT incident_month(i.detected_at), i.severity, item_done(a.state), item_due(a.state, a.due_on),
    item_on_time(a.state, a.due_on, a.done_at), COUNT(*)
FROM action_items a JOIN incidents i ON i.id = a.incident_id GROUP BY 1, 2, 3, 4, 5;

CREATE FUNCTION item_months_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'action_items' THEN
        -- The item's incidents are read locked: a change of their severity made at the same time
        -- waits for this item's transaction (and then moves the item as it is now), or this waits
        -- for it and reads the new severity. Without it, each side read the other's old state and
        -- the item was counted under both severities (write skew).
        PERFORM 1 FROM incidents
        WHERE id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.incident_id END,
                     CASE WHEN TG_OP <> 'DELETE' THEN NEW.incident_id END)
        ORDER BY id FOR SHARE;
        INSERT INTO incident_item_months AS m
        SELECT month, severity, done, due_on, on_time, SUM(n) FROM (
            SELECT incident_month(i.detected_at) AS month, i.severity, item_done(OLD.state) AS done,
                item_due(OLD.state, OLD.due_on) AS due_on,
                item_on_time(OLD.state, OLD.due_on, OLD.done_at) AS on_time, -1 AS n
            FROM incidents i WHERE TG_OP IN ('UPDATE', 'DELETE') AND i.id = OLD.incident_id
            UNION ALL
            SELECT incident_month(i.detected_at), i.severity, item_done(NEW.state),
                item_due(NEW.state, NEW.due_on), item_on_time(NEW.state, NEW.due_on, NEW.done_at), 1
            FROM incidents i WHERE TG_OP IN ('UPDATE', 'INSERT') AND i.id = NEW.incident_id
        ) d GROUP BY month, severity, done, due_on, on_time HAVING SUM(n) <> 0
        ORDER BY month, severity, done, due_on, on_time
        ON CONFLICT (month, severity, done, due_on, on_time) DO UPDATE SET n = m.n + EXCLUDED.n;
    ELSIF OLD.severity <> NEW.severity THEN
        INSERT INTO incident_item_months AS m
        SELECT month, severity, done, due_on, on_time, SUM(n) FROM (
            SELECT incident_month(NEW.detected_at) AS month, OLD.severity AS severity,
                item_done(a.state) AS done, item_due(a.state, a.due_on) AS due_on,
                item_on_time(a.state, a.due_on, a.done_at) AS on_time, -1 AS n
            FROM action_items a WHERE a.incident_id = NEW.id
            UNION ALL
            SELECT incident_month(NEW.detected_at), NEW.severity, item_done(a.state),
                item_due(a.state, a.due_on), item_on_time(a.state, a.due_on, a.done_at), 1
            FROM action_items a WHERE a.incident_id = NEW.id
        ) d GROUP BY month, severity, done, due_on, on_time HAVING SUM(n) <> 0
        ORDER BY month, severity, done, due_on, on_time
        ON CONFLICT (month, severity, done, due_on, on_time) DO UPDATE SET n = m.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER item_months_keep
AFTER INSERT OR DELETE OR UPDATE OF state, due_on, done_at, incident_id ON action_items
FOR EACH ROW EXECUTE FUNCTION item_months_apply();

CREATE TRIGGER item_months_severity
AFTER UPDATE OF severity ON incidents
FOR EACH ROW EXECUTE FUNCTION item_months_apply();
