-- When customer impact began, if known: at or before detection. Declared with the incident or
-- set later by a commander; the postmortem measures time to detect and the impact's duration
-- from it.
ALTER TABLE incidents ADD COLUMN impact_started_at BIGINT;
