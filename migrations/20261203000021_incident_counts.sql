-- How many incidents there are per status and severity, kept by the database itself on every
-- insert, delete and change of status or severity (whoever writes: the app, a second instance,
-- the demo generator), so the incident list's tabs read sixteen rows instead of counting an
-- index. PostgreSQL's text; SQLite runs migrations_sqlite/ of the same name.

-- No incident is written between the counting below and the trigger taking over.
LOCK TABLE incidents IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE incident_counts (
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (status, severity)
);

INSERT INTO incident_counts (status, severity, n)
SELECT status, severity, COUNT(*) FROM incidents GROUP BY status, severity;

-- Two rows of one change are always taken in the same order (the smaller key first), so two
-- transactions moving incidents in opposite directions cannot deadlock on them.
CREATE FUNCTION incident_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO incident_counts (status, severity, n) VALUES (NEW.status, NEW.severity, 1)
        ON CONFLICT (status, severity) DO UPDATE SET n = incident_counts.n + 1;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE incident_counts SET n = n - 1
        WHERE status = OLD.status AND severity = OLD.severity;
    ELSIF (OLD.status, OLD.severity) < (NEW.status, NEW.severity) THEN
        UPDATE incident_counts SET n = n - 1
        WHERE status = OLD.status AND severity = OLD.severity;
        INSERT INTO incident_counts (status, severity, n) VALUES (NEW.status, NEW.severity, 1)
        ON CONFLICT (status, severity) DO UPDATE SET n = incident_counts.n + 1;
    ELSIF (OLD.status, OLD.severity) > (NEW.status, NEW.severity) THEN
        INSERT INTO incident_counts (status, severity, n) VALUES (NEW.status, NEW.severity, 1)
        ON CONFLICT (status, severity) DO UPDATE SET n = incident_counts.n + 1;
        UPDATE incident_counts SET n = n - 1
        WHERE status = OLD.status AND severity = OLD.severity;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER incident_counts_keep
AFTER INSERT OR DELETE OR UPDATE OF status, severity ON incidents
FOR EACH ROW EXECUTE FUNCTION incident_counts_apply();
