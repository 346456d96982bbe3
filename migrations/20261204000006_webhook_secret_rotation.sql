-- A receiver's signing secret can be replaced: for a while after, each notification is signed
-- with the old secret too (a second `v1=` in the signature header), so the receiver switches
-- without refusing what is sent meanwhile.
ALTER TABLE webhook_subscriptions
    ADD COLUMN previous_secret TEXT,
    ADD COLUMN previous_secret_until TIMESTAMPTZ;
