-- The History filters at 1,000,000 events (bench/plans.sh prints each plan): "actor contains"
-- and "action is, or starts with" had no index that serves them, so a rare actor or action
-- filtered the whole table (hundreds of milliseconds). Trigrams answer the actor's substring;
-- text_pattern_ops answers the action's prefix whatever the database's collation.
CREATE INDEX audit_events_actor_trgm ON audit_events USING gin (actor_name gin_trgm_ops);
CREATE INDEX audit_events_action_prefix ON audit_events (action text_pattern_ops, seq);
