-- Notifications (#17): channels (a signed webhook, Slack, Feishu, DingTalk, WeCom), and the
-- outbox. A change writes one delivery per channel that wants it in the change's own
-- transaction; workers on any instance claim due deliveries with a lease (`locked_until`), send
-- them outside any transaction and record every attempt. `id` is the message id a receiver
-- sees on every retry.

CREATE TABLE notification_channels (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    url          TEXT NOT NULL,
    -- Never sent to a browser or an API client; several space-separated during a rotation.
    secret       TEXT,
    events       TEXT NOT NULL,
    services     TEXT NOT NULL,
    min_severity TEXT,
    enabled      BIGINT NOT NULL,
    created_by   TEXT REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT notification_channels_name_key UNIQUE (name),
    CONSTRAINT notification_channels_kind_check
        CHECK (kind IN ('webhook', 'slack', 'feishu', 'dingtalk', 'wecom'))
);

CREATE TABLE notification_deliveries (
    id           TEXT PRIMARY KEY NOT NULL,
    channel_id   TEXT NOT NULL REFERENCES notification_channels (id),
    event        TEXT NOT NULL,
    message      TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    due_at       BIGINT NOT NULL,
    locked_until BIGINT,
    locked_by    TEXT,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    last_error   TEXT,
    CONSTRAINT notification_deliveries_state_check CHECK (state IN ('pending', 'delivered', 'dead'))
);

CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (due_at) WHERE state = 'pending';
CREATE INDEX notification_deliveries_channel_idx ON notification_deliveries (channel_id, created_at);

CREATE TABLE notification_attempts (
    id           TEXT PRIMARY KEY NOT NULL,
    delivery_id  TEXT NOT NULL REFERENCES notification_deliveries (id),
    attempted_at BIGINT NOT NULL,
    status_code  BIGINT,
    duration_ms  BIGINT NOT NULL,
    response     TEXT NOT NULL DEFAULT '',
    error        TEXT
);

CREATE INDEX notification_attempts_delivery_idx ON notification_attempts (delivery_id, attempted_at);
