-- An event's time is read under the chain lock (clock_timestamp(), not the transaction's start),
-- so time order follows sequence order and a time-range export never skips a sequence number.
-- Only the table's owner (imports, back-fills) may give an event a time of its own; the server's
-- runtime role cannot back-date what it writes.
CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq BIGINT;
    last_hash TEXT;
BEGIN
    PERFORM pg_advisory_xact_lock(7450712506241335);
    IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        NEW.occurred_at := clock_timestamp();
    END IF;
    -- A statement after the lock: it sees every event committed before, and this command's own.
    SELECT seq, hash INTO last_seq, last_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
    NEW.hash := audit_event_hash(NEW);
    RETURN NEW;
END;
$$;
