-- The API Gateway catalog, synced from AWS. `target` names the account and region it came from.
CREATE TABLE rest_apis (
    target TEXT NOT NULL,
    api_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    endpoint_types TEXT[] NOT NULL DEFAULT '{}',
    tags JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- Everything synced about the API, to tell a changed API from an unchanged one.
    snapshot JSONB NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when the API no longer exists in AWS: kept, never silently dropped.
    gone_at TIMESTAMPTZ,
    PRIMARY KEY (target, api_id)
);
CREATE INDEX rest_apis_name ON rest_apis (lower(name));

CREATE TABLE api_stages (
    target TEXT NOT NULL,
    api_id TEXT NOT NULL,
    stage_name TEXT NOT NULL,
    deployment_id TEXT,
    last_updated_at TIMESTAMPTZ,
    PRIMARY KEY (target, api_id, stage_name),
    FOREIGN KEY (target, api_id) REFERENCES rest_apis ON DELETE CASCADE
);

CREATE TABLE api_resources (
    target TEXT NOT NULL,
    api_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    parent_id TEXT,
    path TEXT NOT NULL,
    PRIMARY KEY (target, api_id, resource_id),
    FOREIGN KEY (target, api_id) REFERENCES rest_apis ON DELETE CASCADE
);

CREATE TABLE api_methods (
    target TEXT NOT NULL,
    api_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    http_method TEXT NOT NULL,
    authorization_type TEXT NOT NULL,
    authorizer_id TEXT,
    api_key_required BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (target, api_id, resource_id, http_method),
    FOREIGN KEY (target, api_id, resource_id) REFERENCES api_resources ON DELETE CASCADE
);

-- One row per catalog sync: what it found, or why it failed.
CREATE TABLE sync_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    catalog TEXT NOT NULL,
    started_by TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    added INT,
    changed INT,
    removed INT,
    error TEXT
);
CREATE INDEX sync_runs_catalog ON sync_runs (catalog, id DESC);
