-- The desired state: bindings (group → role) and grants (role → route). Rows change only when an
-- approved change set is applied; `desired_state.version` moves with every application.
CREATE TABLE desired_state (
    singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    version BIGINT NOT NULL
);
INSERT INTO desired_state (version) VALUES (0);

CREATE TABLE bindings (
    group_source TEXT NOT NULL,
    group_id TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    -- The whole binding as the domain serialises it.
    binding JSONB NOT NULL,
    applied_by BIGINT NOT NULL,
    PRIMARY KEY (group_source, group_id, role_arn)
);

CREATE TABLE grants (
    grant_key TEXT PRIMARY KEY,
    role_arn TEXT NOT NULL,
    api_id TEXT NOT NULL,
    grant_json JSONB NOT NULL,
    applied_by BIGINT NOT NULL
);
CREATE INDEX grants_by_role ON grants (role_arn);
CREATE INDEX grants_by_api ON grants (api_id);

CREATE TABLE change_sets (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    justification TEXT NOT NULL DEFAULT '',
    ticket TEXT,
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN
        ('draft', 'submitted', 'approved', 'rejected', 'pushing', 'pushed', 'push_failed', 'withdrawn')),
    author_oid UUID NOT NULL,
    author_name TEXT NOT NULL,
    -- The desired-state version the items were written against.
    base_version BIGINT NOT NULL,
    -- The version this change set's application made.
    applied_version BIGINT,
    items JSONB NOT NULL DEFAULT '[]'::jsonb,
    -- What the items touch (`binding:…`, `role:…`), to tell a stale base from a harmless one.
    touches TEXT[] NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One open draft per person: edits land there.
CREATE UNIQUE INDEX change_sets_one_draft ON change_sets (author_oid) WHERE state = 'draft';
CREATE INDEX change_sets_by_state ON change_sets (state, id DESC);

CREATE TABLE reviews (
    change_set_id BIGINT NOT NULL REFERENCES change_sets,
    reviewer_oid UUID NOT NULL,
    reviewer_name TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment TEXT NOT NULL DEFAULT '',
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Each person counts once.
    PRIMARY KEY (change_set_id, reviewer_oid)
);
