-- A push taken over after its process died plans again from AWS's current state and the
-- current desired state before its next write; the run says so.
ALTER TABLE push_runs ADD COLUMN replanned_at TIMESTAMPTZ;
ALTER TABLE push_runs ADD COLUMN replan_note TEXT;
