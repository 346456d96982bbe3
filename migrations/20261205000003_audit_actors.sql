-- History's actor filter matches names containing a text. There are few actors and very many
-- events, so the names are kept here once each: the filter finds the matching names first, then
-- walks each one's newest events on (actor_name, seq), instead of testing every event's name.
CREATE TABLE audit_actors (name TEXT PRIMARY KEY);

INSERT INTO audit_actors (name) SELECT DISTINCT actor_name FROM audit_events;

-- Kept by the database whoever adds events. The runtime role may only read the list (see
-- grant_runtime): a name taken out of it would hide that actor's events from the filter.
CREATE FUNCTION audit_actors_add() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO audit_actors (name)
    SELECT DISTINCT actor_name FROM added_events ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER audit_actors_add AFTER INSERT ON audit_events
  REFERENCING NEW TABLE AS added_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_actors_add();
