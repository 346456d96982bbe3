-- A counter that moves whenever the directory copy changes (memberships, people, groups), so
-- what is derived from it (who can call a method) can be kept between requests and known stale
-- by one tiny read. Moved once per statement, not per row.
CREATE TABLE directory_generation (
    only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    n BIGINT NOT NULL
);
INSERT INTO directory_generation (n) VALUES (0);

CREATE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_generation SET n = n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER directory_memberships_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON directory_memberships FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER directory_people_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON directory_people FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER directory_groups_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON directory_groups FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
