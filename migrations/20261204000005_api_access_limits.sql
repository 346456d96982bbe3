-- An API's longest access: every access a change set adds to the API (a grant on it, a binding
-- to a role that may call it) must end within this many hours of its submission, approval or
-- request. Access in force before the limit was set is not shortened.
CREATE TABLE api_access_limits (
    api_id TEXT PRIMARY KEY,
    max_hours INTEGER NOT NULL CHECK (max_hours BETWEEN 1 AND 8784),
    set_by TEXT NOT NULL,
    set_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
