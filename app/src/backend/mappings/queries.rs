//! The desired state as the Group and Mappings pages read it.

use crate::{
    domain::{
        desired::{ChangeItem, Route},
        grant::{Grant, GroupRef},
    },
    mappings::types::*,
};
use sqlx::PgPool;
use uuid::Uuid;

use super::{cache::DesiredCache, store, views::Names};
use crate::catalog::types::{Cursor, Page};

/// The groups the desired state binds to a role.
pub fn bound_groups(
    state: &crate::domain::desired::DesiredState,
) -> impl Iterator<Item = &GroupRef> {
    state.bindings.iter().map(|b| &b.group)
}

/// How many managed roles the bind form offers at once; a search narrows them.
pub const ROLE_CHOICES: usize = 25;

pub async fn group_mappings(
    pool: &PgPool,
    desired: &DesiredCache,
    viewer: Option<Uuid>,
    source: &str,
    id: &str,
    role_search: &str,
) -> sqlx::Result<GroupMappings> {
    // Every read on one connection: sqlx pings each connection given back to the pool, a round
    // trip per acquisition.
    let mut conn = pool.acquire().await?;
    let snapshot = desired.current_on(&mut conn).await?;
    let group = GroupRef::group(source, id);
    let names = Names::load_on(&mut conn, [&group]).await?;
    let bound = snapshot
        .roles_of(&group)
        .iter()
        .map(|role| BoundRole {
            arn: role.to_string(),
            routes: snapshot
                .grants_of(role)
                .iter()
                .map(|g| names.route(&Route::of(g)))
                .collect(),
        })
        .collect();
    let draft = match viewer {
        Some(oid) => {
            let mut tx = sqlx::Acquire::begin(&mut *conn).await?;
            let d = store::draft_of(&mut tx, oid).await?;
            tx.rollback().await?;
            d
        }
        None => None,
    };
    let pending = draft
        .as_ref()
        .map(|d| {
            d.items
                .iter()
                .filter(|i| match i {
                    ChangeItem::AddBinding(b) | ChangeItem::RemoveBinding(b) => b.group == group,
                    _ => false,
                })
                .map(|i| names.item(i))
                .collect()
        })
        .unwrap_or_default();
    let mut grant_roles: Vec<String> = snapshot
        .roles_of(&group)
        .iter()
        .map(|r| r.to_string())
        .chain(draft.iter().flat_map(|d| {
            d.items.iter().filter_map(|i| match i {
                ChangeItem::AddBinding(b) if b.group == group => Some(b.role.to_string()),
                _ => None,
            })
        }))
        .collect();
    grant_roles.sort();
    grant_roles.dedup();
    // The bind form offers a few managed roles matching the search, not every role: a company
    // has hundreds, and each would be shipped on every group page.
    let pattern = crate::backend::catalog::queries::like_pattern(role_search);
    let found = sqlx::query!(
        r#"SELECT arn, role_name, target, count(*) OVER () AS "total!" FROM iam_roles
         WHERE managed AND gone_at IS NULL AND ($1 = '' OR role_name ILIKE $2 OR arn ILIKE $2)
         ORDER BY lower(role_name), arn LIMIT $3"#,
        role_search,
        pattern,
        ROLE_CHOICES as i64,
    )
    .fetch_all(&mut *conn)
    .await?;
    let roles_total = found.first().map(|r| r.total).unwrap_or(0);
    let roles = found
        .into_iter()
        .map(|r| RoleOption {
            arn: r.arn,
            name: r.role_name,
            target: r.target,
        })
        .collect();
    let grant_roles = sqlx::query_as!(
        RoleOption,
        "SELECT arn, role_name AS name, target FROM iam_roles
         WHERE arn = ANY($1) ORDER BY lower(role_name), arn",
        &grant_roles,
    )
    .fetch_all(&mut *conn)
    .await?;
    // The APIs only: the grant form asks for the chosen API's paths (`api_paths`), so a page
    // does not ship every API's resource tree.
    let apis = sqlx::query_as!(
        ApiOption,
        "SELECT a.target, a.api_id, a.name
         FROM rest_apis a WHERE a.gone_at IS NULL ORDER BY lower(a.name), a.api_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let first_api_paths = match apis.first() {
        Some(api) => api_paths(&mut *conn, &api.api_id).await?,
        None => Vec::new(),
    };
    Ok(GroupMappings {
        first_api_paths,
        bound,
        pending,
        draft: draft.map(|d| d.id),
        roles,
        roles_total,
        role_search: role_search.to_string(),
        grant_roles,
        apis,
    })
}

/// The resource paths of an API (in every target that has it), for the grant form's hints.
pub async fn api_paths(db: impl sqlx::PgExecutor<'_>, api_id: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT DISTINCT r.path FROM api_resources r JOIN rest_apis a USING (target, api_id)
         WHERE r.api_id = $1 AND a.gone_at IS NULL ORDER BY 1",
        api_id
    )
    .fetch_all(db)
    .await
}

/// A mapping's place in the list, as cursors carry it: its sort columns, unit-separated.
fn mapping_key(r: &MappingKeyRow) -> String {
    [&r.sort_name, &r.group_source, &r.group_id, &r.role_arn]
        .map(|s| s.as_str())
        .join("\u{1f}")
}

#[derive(sqlx::FromRow)]
struct MappingKeyRow {
    sort_name: String,
    group_name: String,
    group_source: String,
    group_id: String,
    role_arn: String,
    /// `person` for an access request's binding of one person.
    principal_kind: String,
}

/// Bindings with their group's name; a search matches the group, the role or a route. The
/// order is the stored `sort_name` (the group's name, kept by the database), which an index
/// serves: a page reads the rows it shows, not every binding.
const MAPPING_ROWS: &str = "SELECT b.sort_name,
               COALESCE(g.display_name, p.display_name || ' (person)',
                        b.group_source || ' group ' || b.group_id) AS group_name,
               b.group_source, b.group_id, b.role_arn, b.principal_kind
        FROM bindings b
        LEFT JOIN directory_groups g ON b.principal_kind = 'group'
            AND g.source = b.group_source AND g.object_id = b.group_id
        LEFT JOIN directory_people p ON b.principal_kind = 'person'
            AND p.source = b.group_source AND p.object_id = b.group_id";

/// The search's condition (`$2` the pattern).
const MAPPING_MATCH: &str = "
        WHERE (COALESCE(g.display_name, p.display_name, b.group_source || ' group ' || b.group_id) ILIKE $2
            OR b.role_arn ILIKE $2
            OR EXISTS (SELECT 1 FROM grants r LEFT JOIN rest_apis a ON a.api_id = r.api_id
                       WHERE r.role_arn = b.role_arn
                         AND ((r.grant_json->>'method') || ' ' || (r.grant_json->>'path') ILIKE $2
                              OR r.api_id ILIKE $2 OR a.name ILIKE $2)))";

/// Without a search the statement is another text that does not name the search (`$1`, `$2`
/// are bound and unused): its plan (walk the sort index) is then the same for every page, and
/// the database keeps it instead of planning each request again.
fn mapping_rows(search: &str) -> String {
    if search.is_empty() {
        format!("{MAPPING_ROWS} WHERE true")
    } else {
        format!("{MAPPING_ROWS} {MAPPING_MATCH}")
    }
}

/// One page of the approved mappings (keyset over group name, group and role), matching `search`.
pub async fn mappings(
    pool: &PgPool,
    desired: &DesiredCache,
    search: &str,
    cursor: &Cursor,
    size: usize,
    routes_shown: usize,
) -> sqlx::Result<Page<MappingRow>> {
    let pattern = crate::backend::catalog::queries::like_pattern(search);
    let (compare, order) = match cursor {
        Cursor::First => ("", "ASC"),
        Cursor::After(_) => (">", "ASC"),
        Cursor::Before(_) => ("<", "DESC"),
    };
    let key: Vec<String> = match cursor {
        Cursor::First => vec![String::new(); 4],
        Cursor::After(k) | Cursor::Before(k) => {
            let mut parts: Vec<String> = k.split('\u{1f}').map(String::from).collect();
            parts.resize(4, String::new());
            parts
        }
    };
    // Both the comparison and the order come from the match above, never from the request.
    // The limit is written into the text: as a parameter, the database found a plan for each
    // request (0.35 ms, more than running it) instead of keeping one.
    let after = if compare.is_empty() {
        String::new()
    } else {
        format!(
            "AND (b.sort_name, b.group_source, b.group_id, b.role_arn) {compare} ($3, $4, $5, $6)"
        )
    };
    let sql = format!(
        "{} {after}
         ORDER BY b.sort_name {order}, b.group_source {order}, b.group_id {order}, b.role_arn {order}
         LIMIT {}",
        mapping_rows(search),
        size + 1
    );
    // Every read on one connection: sqlx pings each connection given back to the pool, a round
    // trip per acquisition, which was a third of this page's database time.
    let mut conn = pool.acquire().await?;
    let rows: Vec<MappingKeyRow> = sqlx::query_as(&sql)
        .bind(search)
        .bind(&pattern)
        .bind(&key[0])
        .bind(&key[1])
        .bind(&key[2])
        .bind(&key[3])
        .fetch_all(&mut *conn)
        .await?;
    let snapshot = desired.current_on(&mut conn).await?;
    let total: i64 = if search.is_empty() {
        // The approved version's count: no scan of the table per page.
        snapshot.state.bindings.len() as i64
    } else {
        sqlx::query_scalar(&format!(
            "SELECT count(*) FROM ({}) m",
            mapping_rows(search)
        ))
        .bind(search)
        .bind(&pattern)
        .fetch_one(&mut *conn)
        .await?
    };
    let page =
        crate::backend::catalog::group_queries::keyset_page(rows, cursor, total, mapping_key);
    let names = Names::load_on(&mut conn, std::iter::empty()).await?;
    drop(conn);
    // A role may grant hundreds of routes: the page names its first few (`ROUTES_SHOWN`), the
    // role's page the rest; the REST API answers them all.
    let row = |r: &MappingKeyRow| {
        let role = crate::domain::names::RoleArn::parse(&r.role_arn).ok();
        let grants = role
            .as_ref()
            .map(|role| snapshot.grants_of(role))
            .unwrap_or_default();
        MappingRow {
            group: r.group_name.clone(),
            group_href: match r.principal_kind.as_str() {
                "person" => format!("/people/{}/{}", r.group_source, r.group_id),
                _ => format!("/groups/{}/{}", r.group_source, r.group_id),
            },
            role: r.role_arn.clone(),
            role_href: role.as_ref().map_or_else(
                || "/roles".to_string(),
                |role| crate::catalog::types::role_page_href(role.name(), role.account.as_str()),
            ),
            routes: grants
                .iter()
                .take(routes_shown)
                .map(|g| names.route(&Route::of(g)))
                .collect(),
            more_routes: grants.len().saturating_sub(routes_shown),
        }
    };
    Ok(Page {
        items: page.items.iter().map(row).collect(),
        total: page.total,
        next: page.next,
        prev: page.prev,
    })
}

/// Routes the mappings list names per mapping; the role's page lists them all.
pub const ROUTES_SHOWN: usize = 5;

/// Callers an API page names per method; the matrix shows the rest.
pub const CALLERS_SHOWN: usize = 10;

/// Who may call each method of an API under the approved mappings, as "group via role (stage)"
/// (the first few by name, and how many more).
pub async fn fill_callers(
    state: &crate::backend::state::AppState,
    conn: &mut sqlx::PgConnection,
    detail: &mut crate::catalog::types::ApiDetail,
) -> sqlx::Result<()> {
    let snapshot = state.desired.current_on(conn).await?;
    // Only the roles granted something on this API: the page costs what the API has.
    let api_id = detail.summary.api_id.as_str();
    let grants: Vec<&Grant> = snapshot
        .roles_of_api(api_id)
        .iter()
        .flat_map(|role| snapshot.grants_of(role))
        .filter(|g| g.api.api_id.as_str() == api_id)
        .collect();
    if grants.is_empty() {
        return Ok(());
    }
    let groups: Vec<&GroupRef> = grants
        .iter()
        .flat_map(|g| snapshot.groups_of(&g.role))
        .collect();
    let names = Names::load_cached_on(conn, &state.directory_cache, groups.iter().copied()).await?;
    // Each group's name once (`groups` repeats a group reaching the API through several grants).
    // A method's callers are hundreds of (group, role, stage); only the CALLERS_SHOWN shown are
    // formatted.
    let mut named: std::collections::HashMap<&GroupRef, String> = Default::default();
    for g in groups {
        named.entry(g).or_insert_with(|| names.group(g));
    }
    let named = &named;
    for resource in &mut detail.resources {
        for method in &mut resource.methods {
            let mut callers: Vec<(&str, &str, &str)> = grants
                .iter()
                .filter(|g| g.path.covers(&resource.path) && g.method.covers(&method.http_method))
                .flat_map(|g| {
                    let (role, stage) = (g.role.name(), g.stage.as_str());
                    snapshot
                        .groups_of(&g.role)
                        .iter()
                        .map(move |group| (named[group].as_str(), role, stage))
                })
                .collect();
            callers.sort_unstable();
            callers.dedup();
            method.callers_more = callers.len().saturating_sub(CALLERS_SHOWN);
            method.callers = callers
                .iter()
                .take(CALLERS_SHOWN)
                .map(|(group, role, stage)| format!("{group} via {role} ({stage})"))
                .collect();
        }
    }
    Ok(())
}

/// One role under the approved mappings: its groups, its routes, the policy Gatehouse generates
/// for it, and what the newest drift check found on it.
pub async fn role_mappings(
    pool: &PgPool,
    desired: &DesiredCache,
    aws: &crate::backend::config::AwsSettings,
    arn: &str,
) -> sqlx::Result<crate::catalog::types::RoleMappings> {
    use crate::catalog::types::{RoleDrift, RoleMappings};
    use crate::domain::policy::{role_policy, DEFAULT_MANAGED_PER_ROLE};
    let Ok(role) = crate::domain::names::RoleArn::parse(arn) else {
        return Ok(RoleMappings::default());
    };
    let snapshot = desired.current(pool).await?;
    let catalog = {
        let mut conn = pool.acquire().await?;
        super::routes::route_catalog(&mut conn).await?
    };
    let bound: Vec<&GroupRef> = snapshot.groups_of(&role).iter().collect();
    let names = Names::load(pool, bound.iter().copied()).await?;
    let keys: Vec<(String, String)> = bound
        .iter()
        .map(|g| (g.source.clone(), g.object_id.clone()))
        .collect();
    let counts = crate::backend::directory::membership::people_counts(pool, &keys).await?;
    let mut named: Vec<((String, String), Option<i64>)> = bound
        .iter()
        .map(|g| {
            (
                (names.group(g), g.href()),
                counts
                    .get(&(g.source.clone(), g.object_id.clone()))
                    .copied(),
            )
        })
        .collect();
    named.sort_by_key(|((name, _), _)| name.to_lowercase());
    let (groups, group_people): (Vec<(String, String)>, Vec<Option<i64>>) =
        named.into_iter().unzip();
    let mode = aws.enforcement_of(role.account.as_str());
    let (policy, policy_summary, policy_error) = match role_policy(
        role.name(),
        &snapshot.grants_of(&role).iter().collect::<Vec<_>>(),
        &catalog,
        DEFAULT_MANAGED_PER_ROLE,
    ) {
        Ok(p) => {
            let (text, summary) = super::views::policy_text(&p);
            (text, summary, None)
        }
        Err(e) => (String::new(), String::new(), Some(e.to_string())),
    };
    let report = crate::backend::push::drift::latest(pool).await?;
    let drift = report
        .as_ref()
        .and_then(|r| r.items.as_ref())
        .map(|items| {
            items
                .0
                .iter()
                .filter(|i| i.subject == arn)
                .map(|i| RoleDrift {
                    kind: i.kind.clone(),
                    desired: i.desired.clone(),
                    actual: i.actual.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(RoleMappings {
        groups,
        routes: snapshot
            .grants_of(&role)
            .iter()
            .map(|g| names.route(&Route::of(g)))
            .collect(),
        policy,
        policy_summary,
        policy_error,
        drift,
        drift_checked_at: report.map(|r| crate::backend::catalog::queries::utc(r.checked_at)),
        pushed_as: match mode {
            crate::domain::enforcement::Enforcement::IdentityCenter => format!(
                "Pushed as the inline policy of permission set {name} in IAM Identity Center, which provisions it in account {account} as a role named AWSReservedSSO_{name}_… (the trust policy below is the catalog role's, not used for this access).",
                name = role.name(),
                account = role.account.as_str()
            ),
            _ => "Pushed as the role's inline policy.".to_string(),
        },
        broker: mode.broker().to_string(),
        group_people,
        enforcement_notice: (!mode.enforces_bindings())
            .then(|| crate::domain::enforcement::RECORDED_ONLY.to_string()),
    })
}
