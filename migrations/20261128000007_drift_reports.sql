-- Drift checks: what AWS held that differed from the desired state, item by item.
CREATE TABLE drift_reports (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    checked_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    checked_by TEXT NOT NULL,
    -- NULL when the check itself failed (error says why).
    items JSONB,
    error TEXT
);
CREATE INDEX drift_reports_latest ON drift_reports (id DESC);
