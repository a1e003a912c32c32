-- Who a session is signed in as, beside its data: one query reads a request's session and its
-- user (a join on the users' key) instead of two. Written by the session store from the data it
-- saves; NULL for sessions saved before (they are read the two-query way until they are saved
-- again or expire). Portable DDL: SQLite and PostgreSQL run this same text.
ALTER TABLE sessions ADD COLUMN user_id TEXT;
ALTER TABLE sessions ADD COLUMN user_epoch BIGINT;
