-- Memberships stored at sync: the people of each directory, and every direct edge (group →
-- person, group → nested group), so group pages, access views and reviews read Postgres and
-- transitive membership is computed from the stored graph.

-- How the directory names an entry inside a `member` list: the DN for LDAP (lower case), the
-- object id for Graph and the file. Edges are resolved through it at the end of a sync.
ALTER TABLE directory_groups ADD COLUMN directory_ref TEXT;
UPDATE directory_groups SET directory_ref = object_id;
ALTER TABLE directory_groups ALTER COLUMN directory_ref SET NOT NULL;
CREATE INDEX directory_groups_ref ON directory_groups (source, directory_ref);
-- AD's relative id (the last part of objectSid): people name their primary group by it.
ALTER TABLE directory_groups ADD COLUMN relative_id BIGINT;

CREATE TABLE directory_people (
    source TEXT NOT NULL,
    object_id TEXT NOT NULL,
    directory_ref TEXT NOT NULL,
    display_name TEXT NOT NULL,
    user_principal_name TEXT,
    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ,
    PRIMARY KEY (source, object_id)
);
CREATE INDEX directory_people_ref ON directory_people (source, directory_ref);
CREATE INDEX directory_people_by_name ON directory_people (source, lower(display_name), object_id);

-- One row per direct edge. `member_kind` says whether the member is a person or a nested group;
-- `via_primary_group` marks AD members that hold the group as their primaryGroupID (AD never
-- lists those in `member`).
CREATE TABLE directory_memberships (
    source TEXT NOT NULL,
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    member_kind TEXT NOT NULL CHECK (member_kind IN ('person', 'group')),
    via_primary_group BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (source, group_id, member_id)
);
-- Walking down (a group's members) uses the key; walking up (a person's groups) this index.
CREATE INDEX directory_memberships_member ON directory_memberships (source, member_id);

ALTER TABLE directory_sync_state ADD COLUMN people_delta_link TEXT;
ALTER TABLE directory_sync_state ADD COLUMN memberships_synced_at TIMESTAMPTZ;
ALTER TABLE directory_sync_state ADD COLUMN full_resyncs INT NOT NULL DEFAULT 0;

-- What a run did beyond added/changed/removed: people and membership counts, a full resync
-- Graph asked for, removals held back by the mass-removal guard.
ALTER TABLE sync_runs ADD COLUMN details JSONB;

-- Members were read live from the directory and cached; the stored graph replaces both.
DROP TABLE directory_member_reads;
DROP TABLE directory_members;
