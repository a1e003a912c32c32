-- Alert rules can page channels (#17): the channels a rule sends "alert_rule.fired" to when it
-- acts on an event, whatever the channel subscribes to. A channel a rule pages through cannot
-- be deleted until it is taken off the rule (the service refuses it; the keys say so too).

CREATE TABLE alert_rule_channels (
    rule_id    TEXT NOT NULL REFERENCES alert_rules (id),
    channel_id TEXT NOT NULL REFERENCES notification_channels (id),
    PRIMARY KEY (rule_id, channel_id)
);

CREATE INDEX alert_rule_channels_channel_idx ON alert_rule_channels (channel_id);
