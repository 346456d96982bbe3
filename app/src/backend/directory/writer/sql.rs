//! The statements that write a listing: batched upserts that count what is new or changed and
//! write only those rows, and the resolution of staged edges to people and nested groups.

pub const UPSERT_GROUPS: &str = "
WITH input AS (
    SELECT * FROM UNNEST($2::text[], $3::text[], $4::bool[], $5::text[], $6::bool[], $7::text[],
                         $8::bool[], $9::text[], $10::bigint[])
        AS t(object_id, display_name, has_description, description, has_mail, mail,
             security_enabled, directory_ref, relative_id)
),
merged AS (
    SELECT i.object_id,
           COALESCE(i.display_name, o.display_name, i.object_id) AS display_name,
           CASE WHEN i.has_description THEN i.description ELSE o.description END AS description,
           CASE WHEN i.has_mail THEN i.mail ELSE o.mail END AS mail,
           COALESCE(i.security_enabled, o.security_enabled) AS security_enabled,
           COALESCE(i.directory_ref, o.directory_ref, i.object_id) AS directory_ref,
           COALESCE(i.relative_id, o.relative_id) AS relative_id,
           o.object_id IS NULL OR o.deleted_at IS NOT NULL AS is_new,
           o.display_name AS old_name, o.description AS old_description, o.mail AS old_mail,
           o.security_enabled AS old_security, o.directory_ref AS old_ref,
           o.relative_id AS old_rid
    FROM input i
    LEFT JOIN directory_groups o ON o.source = $1 AND o.object_id = i.object_id
),
classified AS (
    SELECT *, NOT is_new AND (display_name, description, mail, security_enabled)
              IS DISTINCT FROM (old_name, old_description, old_mail, old_security) AS is_changed,
              (directory_ref, relative_id) IS DISTINCT FROM (old_ref, old_rid) AS is_moved
    FROM merged
),
written AS (
    INSERT INTO directory_groups AS g (source, object_id, display_name, description, mail,
                                       security_enabled, directory_ref, relative_id)
    SELECT $1, object_id, display_name, description, mail, security_enabled, directory_ref,
           relative_id
    FROM classified WHERE is_new OR is_changed OR is_moved
    ON CONFLICT (source, object_id) DO UPDATE
    SET display_name = EXCLUDED.display_name, description = EXCLUDED.description,
        mail = EXCLUDED.mail, security_enabled = EXCLUDED.security_enabled,
        directory_ref = EXCLUDED.directory_ref, relative_id = EXCLUDED.relative_id,
        deleted_at = NULL, last_synced_at = now()
        -- A group that comes back keeps its first_seen_at: its history is the same group's.
    RETURNING 1
)
SELECT count(*) FILTER (WHERE is_new)::int, count(*) FILTER (WHERE is_changed)::int FROM classified";

pub const UPSERT_PEOPLE: &str = "
WITH input AS (
    SELECT * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bool[], $6::text[])
        AS t(object_id, directory_ref, display_name, has_upn, upn)
),
merged AS (
    SELECT i.object_id,
           COALESCE(i.directory_ref, o.directory_ref, i.object_id) AS directory_ref,
           COALESCE(i.display_name, o.display_name, i.object_id) AS display_name,
           CASE WHEN i.has_upn THEN i.upn ELSE o.user_principal_name END AS upn,
           o.object_id IS NULL OR o.deleted_at IS NOT NULL AS is_new,
           (o.directory_ref, o.display_name, o.user_principal_name) AS old
    FROM input i
    LEFT JOIN directory_people o ON o.source = $1 AND o.object_id = i.object_id
),
classified AS (
    SELECT *, NOT is_new AND (directory_ref, display_name, upn) IS DISTINCT FROM old AS is_changed
    FROM merged
),
written AS (
    INSERT INTO directory_people AS p (source, object_id, directory_ref, display_name, user_principal_name)
    SELECT $1, object_id, directory_ref, display_name, upn FROM classified WHERE is_new OR is_changed
    ON CONFLICT (source, object_id) DO UPDATE
    SET directory_ref = EXCLUDED.directory_ref, display_name = EXCLUDED.display_name,
        user_principal_name = EXCLUDED.user_principal_name, deleted_at = NULL, last_synced_at = now()
    RETURNING 1
)
SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE is_changed) FROM classified";

/// Resolves staged edges to people and groups. Full listings: one row per edge, a primary-group
/// edge only when `member` did not list it too. Deltas: the last word on each edge wins.
pub const RESOLVE_FULL: &str = "
CREATE TEMP TABLE sync_resolved ON COMMIT DROP AS
SELECT e.group_id, COALESCE(p.object_id, g.object_id) AS member_id,
       CASE WHEN p.object_id IS NOT NULL THEN 'person' ELSE 'group' END AS member_kind,
       bool_and(e.primary_group) AS via_primary_group, false AS removed
FROM sync_edges e
JOIN directory_groups parent ON parent.source = $1 AND parent.object_id = e.group_id
LEFT JOIN directory_people p ON p.source = $1 AND p.directory_ref = e.member_ref
LEFT JOIN directory_groups g ON g.source = $1 AND g.directory_ref = e.member_ref
-- A delta round that Graph cut short (resync) may have staged removals before the full
-- listing: the full listing alone says who is in.
WHERE (p.object_id IS NOT NULL OR g.object_id IS NOT NULL) AND NOT e.removed
GROUP BY 1, 2, 3";

pub const RESOLVE_DELTA: &str = "
CREATE TEMP TABLE sync_resolved ON COMMIT DROP AS
SELECT DISTINCT ON (e.group_id, member_id) e.group_id,
       COALESCE(p.object_id, g.object_id) AS member_id,
       CASE WHEN p.object_id IS NOT NULL THEN 'person' ELSE 'group' END AS member_kind,
       e.primary_group AS via_primary_group, e.removed
FROM sync_edges e
JOIN directory_groups parent ON parent.source = $1 AND parent.object_id = e.group_id
LEFT JOIN directory_people p ON p.source = $1 AND p.directory_ref = e.member_ref
LEFT JOIN directory_groups g ON g.source = $1 AND g.directory_ref = e.member_ref
WHERE p.object_id IS NOT NULL OR g.object_id IS NOT NULL
ORDER BY e.group_id, member_id, e.seq DESC";

pub const INSERT_EDGES: &str = "
WITH written AS (
    INSERT INTO directory_memberships AS m (source, group_id, member_id, member_kind, via_primary_group)
    SELECT $1, group_id, member_id, member_kind, via_primary_group FROM sync_resolved WHERE NOT removed
    ON CONFLICT (source, group_id, member_id) DO UPDATE
    SET member_kind = EXCLUDED.member_kind, via_primary_group = EXCLUDED.via_primary_group
    WHERE (m.member_kind, m.via_primary_group)
          IS DISTINCT FROM (EXCLUDED.member_kind, EXCLUDED.via_primary_group)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted) FROM written";
