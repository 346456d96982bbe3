-- An approval records what the reviewer saw: the hash of the change set's items and of the
-- mappings version its preview was computed on. A rebase supersedes earlier reviews (kept, for
-- the record): the reviewers must look again at what the change set now does.
ALTER TABLE reviews ADD COLUMN content_hash TEXT;
ALTER TABLE reviews ADD COLUMN superseded_at TIMESTAMPTZ;
-- One current review per reviewer; superseded ones stay beside it.
ALTER TABLE reviews DROP CONSTRAINT reviews_pkey;
ALTER TABLE reviews ADD COLUMN id BIGSERIAL PRIMARY KEY;
CREATE UNIQUE INDEX reviews_current ON reviews (change_set_id, reviewer_oid) WHERE superseded_at IS NULL;
