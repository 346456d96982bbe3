-- Every access bundle a push published for the Lambda authorizer: its version, the hash of its
-- content (version and time left out, so an unchanged bundle hashes the same), the ETag S3
-- answered (an object whose ETag differs was written outside Gatehouse), and the bytes
-- published, so "what did the authorizer enforce at version N" has an answer.
CREATE TABLE access_bundles (
    version BIGINT PRIMARY KEY CHECK (version > 0),
    content_sha256 TEXT NOT NULL,
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    etag TEXT,
    body BYTEA NOT NULL,
    push_run_id BIGINT REFERENCES push_runs (id),
    published_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
