-- How many incidents there are per status and severity, kept by the database itself on every
-- insert, delete and change of status or severity (whoever writes: the app, the demo generator),
-- so the incident list's tabs read sixteen rows instead of counting an index. SQLite's text of
-- migrations/ of the same name (triggers are written differently; one writer, no lock needed).

CREATE TABLE incident_counts (
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (status, severity)
);

INSERT INTO incident_counts (status, severity, n)
SELECT status, severity, COUNT(*) FROM incidents GROUP BY status, severity;

CREATE TRIGGER incident_counts_insert AFTER INSERT ON incidents
BEGIN
    INSERT INTO incident_counts (status, severity, n) VALUES (NEW.status, NEW.severity, 1)
    ON CONFLICT (status, severity) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER incident_counts_delete AFTER DELETE ON incidents
BEGIN
    UPDATE incident_counts SET n = n - 1
    WHERE status = OLD.status AND severity = OLD.severity;
END;

CREATE TRIGGER incident_counts_update AFTER UPDATE OF status, severity ON incidents
WHEN OLD.status <> NEW.status OR OLD.severity <> NEW.severity
BEGIN
    UPDATE incident_counts SET n = n - 1
    WHERE status = OLD.status AND severity = OLD.severity;
    INSERT INTO incident_counts (status, severity, n) VALUES (NEW.status, NEW.severity, 1)
    ON CONFLICT (status, severity) DO UPDATE SET n = n + 1;
END;
