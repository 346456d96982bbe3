-- Every directory membership edge with the time it held: a row opens when a sync stores the edge
-- and closes when a sync removes it, so "who was in which group on a date" is answerable. Only
-- changes are stored (one row per edge per stretch of time), kept by triggers so that no writer
-- of `directory_memberships` can forget it. Times are the storing transaction's start.
CREATE TABLE directory_membership_history (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    member_kind TEXT NOT NULL CHECK (member_kind IN ('person', 'group')),
    valid_from TIMESTAMPTZ NOT NULL,
    valid_to TIMESTAMPTZ,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
-- One open stretch per edge.
CREATE UNIQUE INDEX directory_membership_history_open
    ON directory_membership_history (source, group_id, member_id) WHERE valid_to IS NULL;
-- A person's groups as of a date walk up by member; who was in a group walks down by group.
CREATE INDEX directory_membership_history_member
    ON directory_membership_history (source, member_id, valid_from);
CREATE INDEX directory_membership_history_group
    ON directory_membership_history (source, group_id, valid_from);

-- Edges stored before history was kept count from their directory's last membership sync.
INSERT INTO directory_membership_history (source, group_id, member_id, member_kind, valid_from)
SELECT m.source, m.group_id, m.member_id, m.member_kind, COALESCE(s.memberships_synced_at, now())
FROM directory_memberships m LEFT JOIN directory_sync_state s USING (source);

CREATE FUNCTION directory_membership_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO directory_membership_history (source, group_id, member_id, member_kind, valid_from)
    SELECT source, group_id, member_id, member_kind, now() FROM added
    ON CONFLICT (source, group_id, member_id) WHERE valid_to IS NULL DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION directory_membership_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_membership_history h SET valid_to = now()
    FROM removed r
    WHERE h.valid_to IS NULL AND h.source = r.source AND h.group_id = r.group_id
      AND h.member_id = r.member_id;
    RETURN NULL;
END $$;

-- Statement triggers with transition tables: one insert per sync statement, not one per edge.
CREATE TRIGGER directory_memberships_opened AFTER INSERT ON directory_memberships
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION directory_membership_opened();
CREATE TRIGGER directory_memberships_closed AFTER DELETE ON directory_memberships
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION directory_membership_closed();
