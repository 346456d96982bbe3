-- Lists paged and counted by the database, lookups by index (issue 16).
--
-- The roles list is paged in the database (keyset): its order (gone last, managed first, name,
-- target) as one key compared byte by byte, kept by the database and indexed, so a page reads
-- its rows only instead of every role.
ALTER TABLE iam_roles ADD COLUMN list_key TEXT COLLATE "C" GENERATED ALWAYS AS (
    (CASE WHEN gone_at IS NULL THEN '0' ELSE '1' END)
    || (CASE WHEN managed THEN '0' ELSE '1' END)
    || chr(31) || lower(role_name) || chr(31) || target || chr(31) || role_name
) STORED;

CREATE UNIQUE INDEX iam_roles_list_key ON iam_roles (list_key);

-- The matrix and the group page look roles up by ARN.
CREATE INDEX iam_roles_arn ON iam_roles (arn);

-- An API's counts of stages, methods and methods not decided by IAM, kept on the API by the
-- database (every write of methods or stages recounts the APIs it touched), so the APIs list
-- reads one row per API instead of grouping every method of every API per request.
ALTER TABLE rest_apis
    ADD COLUMN stage_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN method_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN non_iam_count BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION api_methods_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rest_apis a SET
        method_count = (SELECT count(*) FROM api_methods m
                        WHERE m.target = a.target AND m.api_id = a.api_id),
        non_iam_count = (SELECT count(*) FROM api_methods m
                         WHERE m.target = a.target AND m.api_id = a.api_id
                           AND m.authorization_type <> 'AWS_IAM')
    WHERE (a.target, a.api_id) IN (SELECT DISTINCT target, api_id FROM changed);
    RETURN NULL;
END
$$;

CREATE FUNCTION api_stages_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rest_apis a SET
        stage_count = (SELECT count(*) FROM api_stages s
                       WHERE s.target = a.target AND s.api_id = a.api_id)
    WHERE (a.target, a.api_id) IN (SELECT DISTINCT target, api_id FROM changed);
    RETURN NULL;
END
$$;

-- Transition tables allow one event per trigger.
CREATE TRIGGER api_methods_counted_insert AFTER INSERT ON api_methods
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION api_methods_recount();
CREATE TRIGGER api_methods_counted_update AFTER UPDATE ON api_methods
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION api_methods_recount();
CREATE TRIGGER api_methods_counted_delete AFTER DELETE ON api_methods
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION api_methods_recount();
CREATE TRIGGER api_stages_counted_insert AFTER INSERT ON api_stages
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION api_stages_recount();
CREATE TRIGGER api_stages_counted_update AFTER UPDATE ON api_stages
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION api_stages_recount();
CREATE TRIGGER api_stages_counted_delete AFTER DELETE ON api_stages
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION api_stages_recount();

UPDATE rest_apis a SET
    stage_count = (SELECT count(*) FROM api_stages s WHERE s.target = a.target AND s.api_id = a.api_id),
    method_count = (SELECT count(*) FROM api_methods m WHERE m.target = a.target AND m.api_id = a.api_id),
    non_iam_count = (SELECT count(*) FROM api_methods m WHERE m.target = a.target AND m.api_id = a.api_id
                       AND m.authorization_type <> 'AWS_IAM');
