-- What a drift check found approved but not yet pushed: the change sets waiting for their push
-- and the calls that push will make. Shown as "pending push", never counted as drift.
ALTER TABLE drift_reports ADD COLUMN pending JSONB;
