-- Directory groups (Entra ID through Microsoft Graph, on-prem AD through LDAP, or a file), synced.
-- `source` names the provider (graph, ldap, file); `object_id` is the directory's own id.
CREATE TABLE directory_groups (
    source TEXT NOT NULL,
    object_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT,
    mail TEXT,
    security_enabled BOOLEAN,
    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when the group vanished from the directory: kept, with the time it went.
    deleted_at TIMESTAMPTZ,
    PRIMARY KEY (source, object_id)
);
-- Keyset pagination walks (lower(display_name), object_id, source).
CREATE INDEX directory_groups_by_name ON directory_groups (lower(display_name), object_id, source);

-- Searching by any part of a name or mail stays fast at tens of thousands of groups.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX directory_groups_search ON directory_groups
    USING gin (display_name gin_trgm_ops, mail gin_trgm_ops);
CREATE INDEX directory_groups_object_id ON directory_groups (object_id);

-- Where incremental sync resumes (Graph's @odata.deltaLink), per source.
CREATE TABLE directory_sync_state (
    source TEXT PRIMARY KEY,
    delta_link TEXT,
    last_full_sync_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A group's transitive user members, read from the directory when someone opens the group and
-- kept for a while so paging through them is cheap.
CREATE TABLE directory_members (
    source TEXT NOT NULL,
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    user_principal_name TEXT,
    PRIMARY KEY (source, group_id, member_id),
    FOREIGN KEY (source, group_id) REFERENCES directory_groups ON DELETE CASCADE
);
CREATE INDEX directory_members_by_name ON directory_members (source, group_id, lower(display_name), member_id);

CREATE TABLE directory_member_reads (
    source TEXT NOT NULL,
    group_id TEXT NOT NULL,
    read_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    member_count INT NOT NULL,
    PRIMARY KEY (source, group_id),
    FOREIGN KEY (source, group_id) REFERENCES directory_groups ON DELETE CASCADE
);

-- A running sync says how far it got, for the Sync page.
ALTER TABLE sync_runs ADD COLUMN progress TEXT;
