-- Access requests: a person asks for a role for themselves, for a bounded time. The request is a
-- change set (purpose 'access-request') whose binding names that one person instead of a group;
-- the binding's JSON says so (`"kind": "Person"`), and the row does too, for the lists.
ALTER TABLE bindings ADD COLUMN principal_kind TEXT NOT NULL DEFAULT 'group'
    CHECK (principal_kind IN ('group', 'person'));

-- A person's binding sorts by the person's name.
CREATE OR REPLACE FUNCTION binding_sort_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sort_name := lower(COALESCE(
        CASE WHEN NEW.principal_kind = 'person' THEN
            (SELECT p.display_name FROM directory_people p
             WHERE p.source = NEW.group_source AND p.object_id = NEW.group_id)
        ELSE
            (SELECT g.display_name FROM directory_groups g
             WHERE g.source = NEW.group_source AND g.object_id = NEW.group_id)
        END,
        NEW.group_id));
    RETURN NEW;
END $$;

-- A requester's own requests, newest first (their page and Home read this).
CREATE INDEX change_sets_requests ON change_sets (author_oid, id DESC)
    WHERE purpose = 'access-request';
