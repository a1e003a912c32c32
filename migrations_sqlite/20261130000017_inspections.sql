-- Inspections, SQLite's text (see migrations/20261130000017_inspections.sql). SQLite cannot
-- alter a constraint, and sqlx runs a SQLite migration inside a transaction, where foreign keys
-- cannot be switched off to rebuild the table. SQLite documents a simpler procedure for a
-- changed CHECK constraint (https://sqlite.org/lang_altertable.html, "otheralter"): edit the
-- table's stored definition. Existing rows all satisfy the wider check. RESET makes this
-- connection read the schema again; re-making the index changes the schema cookie, so every
-- other connection does too.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''disaster_recovery'')', '''disaster_recovery'', ''inspection'')')
WHERE type = 'table' AND name = 'plans';
PRAGMA writable_schema = RESET;
DROP INDEX plans_scene_idx;
CREATE INDEX plans_scene_idx ON plans (scene, name);
