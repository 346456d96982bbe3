-- Notifications: admins subscribe a receiver (generic JSON signed with HMAC-SHA256, a Slack
-- incoming webhook, a Microsoft Teams workflow) to events. Deliveries are an outbox: made from
-- the audit log (after a cursor, in the chain's order), sent and retried with back-off until the
-- receiver takes them, one at a time per change set so their order is kept.
CREATE TABLE webhook_subscriptions (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    kind TEXT NOT NULL CHECK (kind IN ('generic', 'slack', 'teams')),
    url TEXT NOT NULL,
    -- The HMAC key of generic receivers.
    secret TEXT NOT NULL,
    events TEXT[] NOT NULL CHECK (cardinality(events) > 0),
    -- Change-set events only for change sets granting routes of these APIs (empty: all).
    api_ids TEXT[] NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    disabled_at TIMESTAMPTZ
);

CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES webhook_subscriptions,
    event_seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    change_set_id BIGINT,
    payload JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_status SMALLINT,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    UNIQUE (subscription_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE delivered_at IS NULL;
CREATE INDEX webhook_deliveries_in_order ON webhook_deliveries (subscription_id, change_set_id, id)
    WHERE delivered_at IS NULL;
CREATE INDEX webhook_deliveries_newest ON webhook_deliveries (id DESC);

-- The last audit event (by seq) turned into deliveries. Events before the feature existed are
-- not announced.
CREATE TABLE webhook_cursor (
    only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    last_seq BIGINT NOT NULL
);
INSERT INTO webhook_cursor (last_seq) SELECT coalesce(max(seq), 0) FROM audit_events;
