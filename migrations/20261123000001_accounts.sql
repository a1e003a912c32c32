-- Accounts and server-side sessions. Portable DDL: the same file runs on SQLite and PostgreSQL.
-- Ids are TEXT (UUIDs), instants are BIGINT Unix milliseconds.

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- Bumped when the password is reset: sessions signed in under an older epoch end.
    session_epoch BIGINT NOT NULL DEFAULT 0,
    disabled_at   BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_role_check CHECK (role IN ('viewer', 'responder', 'commander', 'admin'))
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
