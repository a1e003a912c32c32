-- Inspections (自动巡检): a plan scene of scheduled checks whose failed runs raise risk events
-- (source 'inspection', one identity per plan) and whose passing runs resolve them.
--
-- This is the PostgreSQL text. SQLite cannot alter a CHECK constraint: it runs the text of the
-- same version in migrations_sqlite/ instead (src/server/db.rs swaps it in).

ALTER TABLE plans DROP CONSTRAINT plans_scene_check;
ALTER TABLE plans ADD CONSTRAINT plans_scene_check
    CHECK (scene IN ('drill', 'emergency', 'self_recovery', 'disaster_recovery', 'inspection'));
