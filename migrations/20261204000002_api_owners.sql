-- The owners of APIs: the members of a directory group (directly or through nesting), named for
-- one API or for every API carrying a tag (team=logistics). A change set that changes who may
-- call an owned API is approved only once one of its owners has approved it, on top of the
-- approvals every change set needs.
CREATE TABLE api_owners (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    api_id TEXT,
    tag_key TEXT,
    tag_value TEXT,
    group_source TEXT NOT NULL,
    group_id TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((api_id IS NOT NULL AND tag_key IS NULL AND tag_value IS NULL)
        OR (api_id IS NULL AND tag_key IS NOT NULL AND tag_value IS NOT NULL))
);
CREATE UNIQUE INDEX api_owners_api ON api_owners (api_id) WHERE api_id IS NOT NULL;
CREATE UNIQUE INDEX api_owners_tag ON api_owners (tag_key, tag_value) WHERE tag_key IS NOT NULL;
