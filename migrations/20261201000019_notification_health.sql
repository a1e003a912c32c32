-- Notifications (#17), continued: each channel keeps how its recent attempts went (a channel
-- that keeps failing is shown as failing on the admin page and in /metrics), each delivery the
-- status of its last answer; the delivery log reads a channel's deliveries by state, and
-- deliveries that ended more than 30 days ago are deleted hourly.

ALTER TABLE notification_channels ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notification_channels ADD COLUMN last_attempt_at BIGINT;
ALTER TABLE notification_channels ADD COLUMN last_delivered_at BIGINT;
ALTER TABLE notification_channels ADD COLUMN last_error TEXT;
ALTER TABLE notification_deliveries ADD COLUMN last_status BIGINT;

CREATE INDEX notification_deliveries_channel_state_idx
    ON notification_deliveries (channel_id, state, created_at);
CREATE INDEX notification_deliveries_finished_idx
    ON notification_deliveries (finished_at) WHERE state <> 'pending';
