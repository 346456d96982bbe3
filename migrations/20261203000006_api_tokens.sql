-- Tokens for the REST API (/api/v1). A person's token acts as that person, within the roles they
-- had when they made it; a service token acts as a named service identity that can read, draft
-- and submit, and push, but never review. Only the secret's SHA-256 is kept: the secret is shown
-- once, when the token is made.
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    kind TEXT NOT NULL CHECK (kind IN ('person', 'service')),
    -- Who the token acts as: the person's ids, or the service identity's (derived from its name,
    -- so a new token for the same service is the same author).
    subject_tid UUID,
    subject_oid UUID NOT NULL,
    subject_name TEXT NOT NULL,
    scopes TEXT[] NOT NULL CHECK (cardinality(scopes) > 0),
    -- The first characters of the secret, shown in lists so people can tell tokens apart.
    prefix TEXT NOT NULL,
    secret_sha256 BYTEA NOT NULL UNIQUE,
    created_by_oid UUID NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    revoked_by TEXT,
    last_used_at TIMESTAMPTZ,
    CHECK (expires_at > created_at),
    CHECK ((kind = 'person') = (subject_tid IS NOT NULL))
);
CREATE INDEX api_tokens_subject ON api_tokens (subject_oid, created_at DESC);

-- Every request made with a token: when, what, and how it was answered.
CREATE TABLE api_token_uses (
    id BIGSERIAL PRIMARY KEY,
    token_id BIGINT NOT NULL REFERENCES api_tokens,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status SMALLINT NOT NULL,
    request_id TEXT
);
CREATE INDEX api_token_uses_token ON api_token_uses (token_id, at DESC);

-- A create sent again with the same Idempotency-Key answers what the first one answered.
CREATE TABLE api_idempotency (
    token_id BIGINT NOT NULL REFERENCES api_tokens,
    key TEXT NOT NULL,
    request_sha256 BYTEA NOT NULL,
    status SMALLINT NOT NULL,
    body JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);
