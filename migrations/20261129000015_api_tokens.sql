-- API tokens (#15). Each token acts as a service account: a `users` row of kind 'token', named
-- `token:<name>`, that cannot sign in and is not listed with the people. Everything a token does
-- is authored by that row, so timelines, plans and runs name it like any author.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person';

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    account_id   TEXT NOT NULL REFERENCES users (id),
    -- `nw_` and the first six random characters: shown in lists and logs, never enough to use.
    prefix       TEXT NOT NULL,
    -- SHA-256 of the whole token text, hex: the secret itself is never stored.
    secret_hash  TEXT NOT NULL,
    role         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    created_by   TEXT REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    -- Written at most once a minute per token, so a busy token does not write on every request.
    last_used_at BIGINT,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    CONSTRAINT api_tokens_secret_hash_key UNIQUE (secret_hash),
    CONSTRAINT api_tokens_role_check CHECK (role IN ('viewer', 'responder', 'commander', 'admin')),
    CONSTRAINT api_tokens_scope_check CHECK (scope IN ('full', 'alerts:write'))
);

-- One live token per name; a revoked name may be given to a new token (rotation).
CREATE UNIQUE INDEX api_tokens_live_name_key ON api_tokens (name) WHERE revoked_at IS NULL;

-- Answers to POSTs sent with an `Idempotency-Key`, per token, kept 24 hours: a retried request
-- gets the first answer back instead of creating the thing twice.
CREATE TABLE idempotency_keys (
    token_id     TEXT NOT NULL REFERENCES api_tokens (id),
    idem_key     TEXT NOT NULL,
    -- Method and path with a hash of the body: the same key reused for another request is refused.
    fingerprint  TEXT NOT NULL,
    -- NULL while the first request is still being answered.
    status       INTEGER,
    location     TEXT,
    body         TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (token_id, idem_key)
);

CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
