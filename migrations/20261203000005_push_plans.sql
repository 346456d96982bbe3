-- The last plan read from AWS for a change set waiting for its push: the change set page shows
-- it with its age at once and reads AWS again in the background, so the page never waits on AWS.
-- Exactly one of steps (the calls, as shown) and error (why there is no plan) is set.
CREATE TABLE push_plans (
    change_set_id BIGINT PRIMARY KEY REFERENCES change_sets ON DELETE CASCADE,
    computed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    steps JSONB,
    error TEXT,
    CHECK ((steps IS NULL) <> (error IS NULL))
);
