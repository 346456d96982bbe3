-- Every server keeps the sessions it read lately, and when each person's sessions were last
-- ended, so a page does not ask the database for them on every request. These triggers tell
-- every server (LISTEN) when either changes, whoever changes it.

-- The session store's table (tower-sessions-sqlx-store creates the same when it is missing,
-- after these migrations): made here so its trigger can be.
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
  id text PRIMARY KEY NOT NULL,
  data bytea NOT NULL,
  expiry_date timestamptz NOT NULL
);

CREATE FUNCTION session_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_sessions_changed', OLD.id);
  RETURN NULL;
END $$;

CREATE TRIGGER session_changed_notify
  AFTER UPDATE OR DELETE ON tower_sessions.session
  FOR EACH ROW EXECUTE FUNCTION session_changed_notify();

CREATE FUNCTION users_sessions_ended_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_sessions_ended', NEW.tid::text || ':' || NEW.oid::text);
  RETURN NULL;
END $$;

CREATE TRIGGER users_sessions_ended_notify
  AFTER UPDATE OF sessions_ended_at ON users
  FOR EACH ROW WHEN (NEW.sessions_ended_at IS DISTINCT FROM OLD.sessions_ended_at)
  EXECUTE FUNCTION users_sessions_ended_notify();

CREATE TRIGGER users_sessions_ended_notify_insert
  AFTER INSERT ON users
  FOR EACH ROW WHEN (NEW.sessions_ended_at IS NOT NULL)
  EXECUTE FUNCTION users_sessions_ended_notify();
