-- Time-bound access: a change set may say when the access it adds ends (`access_ends_at`). At
-- that time Gatehouse writes the revoking change set itself, approved under the original's
-- approval (`revokes_change_set_id`). One revocation per change set, whichever replica or
-- restart gets there: the unique index is what makes it run once.
ALTER TABLE change_sets ADD COLUMN access_ends_at TIMESTAMPTZ;
ALTER TABLE change_sets ADD COLUMN revokes_change_set_id BIGINT REFERENCES change_sets;
CREATE UNIQUE INDEX change_sets_one_revocation ON change_sets (revokes_change_set_id)
    WHERE revokes_change_set_id IS NOT NULL;
-- What the expiry job looks for each period: applied, time-bound, not yet revoked.
CREATE INDEX change_sets_access_ending ON change_sets (access_ends_at)
    WHERE access_ends_at IS NOT NULL AND applied_version IS NOT NULL;
-- When people were told the access ends soon (once: the job's UPDATE … RETURNING sets it).
ALTER TABLE change_sets ADD COLUMN access_warned_at TIMESTAMPTZ;
