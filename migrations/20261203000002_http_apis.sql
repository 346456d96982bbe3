-- HTTP APIs (API Gateway v2) join the catalog beside REST APIs. Their routes are stored as
-- resources (one per route path, keyed by the path) and methods (the route's verb, `ANY`, and
-- `$default` as path `$default` with verb `ANY`); the route ids are read live at push time.
ALTER TABLE rest_apis ADD COLUMN kind TEXT NOT NULL DEFAULT 'REST'
    CHECK (kind IN ('REST', 'HTTP'));
