-- The mappings list is ordered by group name. Each binding keeps its group's name as it sorts
-- (kept by the database whenever a binding is written or its group renamed), so that a page of
-- the list reads only the rows it shows instead of sorting every binding.
ALTER TABLE bindings ADD COLUMN sort_name TEXT NOT NULL DEFAULT '';

UPDATE bindings b SET sort_name = lower(COALESCE(
    (SELECT g.display_name FROM directory_groups g
     WHERE g.source = b.group_source AND g.object_id = b.group_id),
    b.group_id));

CREATE FUNCTION binding_sort_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sort_name := lower(COALESCE(
        (SELECT g.display_name FROM directory_groups g
         WHERE g.source = NEW.group_source AND g.object_id = NEW.group_id),
        NEW.group_id));
    RETURN NEW;
END $$;

CREATE TRIGGER bindings_sort_name BEFORE INSERT OR UPDATE ON bindings
    FOR EACH ROW EXECUTE FUNCTION binding_sort_name();

CREATE FUNCTION group_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE bindings SET sort_name = lower(group_id)
        WHERE group_source = OLD.source AND group_id = OLD.object_id;
        RETURN OLD;
    END IF;
    UPDATE bindings SET sort_name = lower(NEW.display_name)
    WHERE group_source = NEW.source AND group_id = NEW.object_id
      AND sort_name IS DISTINCT FROM lower(NEW.display_name);
    RETURN NEW;
END $$;

CREATE TRIGGER directory_groups_rename_bindings
    AFTER INSERT OR DELETE OR UPDATE OF display_name ON directory_groups
    FOR EACH ROW EXECUTE FUNCTION group_renamed();

CREATE INDEX bindings_by_sort_name ON bindings (sort_name, group_source, group_id, role_arn);
