-- IAM roles, synced from AWS. `managed` is true for roles tagged gatehouse:managed=true: only
-- those will ever be changed by Gatehouse.
CREATE TABLE iam_roles (
    target TEXT NOT NULL,
    role_name TEXT NOT NULL,
    role_id TEXT NOT NULL,
    arn TEXT NOT NULL,
    path TEXT NOT NULL,
    description TEXT,
    trust_policy JSONB,
    tags JSONB NOT NULL DEFAULT '{}'::jsonb,
    managed BOOLEAN NOT NULL DEFAULT false,
    snapshot JSONB NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_synced_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    gone_at TIMESTAMPTZ,
    PRIMARY KEY (target, role_name)
);
