-- An admin can end every session of a person: sessions signed in before this moment are over
-- at their next request.
ALTER TABLE users ADD COLUMN sessions_ended_at TIMESTAMPTZ;
