-- Scheduled jobs (the catalog sync, the drift check) run once per period across every replica:
-- the replica whose UPDATE moves `claimed_at` into the new period runs it, the others skip.
CREATE TABLE schedule_claims (
    job TEXT PRIMARY KEY,
    claimed_at TIMESTAMPTZ NOT NULL,
    claimed_by TEXT NOT NULL
);
