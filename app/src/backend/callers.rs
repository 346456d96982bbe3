//! Reads for "who can call this route?": the groups inside each bound group (one recursive
//! query), then one page of the people in any of them with a count (one query), now or as of a
//! moment (the membership history). The links themselves are `domain::callers`'.

use std::collections::BTreeSet;

use sqlx::PgPool;

use crate::{
    backend::mappings::views::Names,
    callers::{CallerView, CallersView},
    domain::{
        callers::{below, entries, links},
        desired::DesiredState,
        grant::GroupRef,
    },
};

/// People per page.
pub const PAGE_SIZE: usize = 50;

/// One person on the page: key, name, username and the groups of `reached` they are directly in.
type PersonRow = (String, String, String, Option<String>, Vec<String>, i64);

/// Who may call `http_method` on `path` of API `api_id` under `desired`, with the directory as
/// it is (`at` None) or was just before `at`: page `page` (from 0) of the people, by name.
#[allow(clippy::too_many_arguments)]
pub async fn callers(
    pool: &PgPool,
    desired: &DesiredState,
    at: Option<&str>,
    api_id: &str,
    path: &str,
    http_method: &str,
    page: usize,
) -> sqlx::Result<CallersView> {
    let entries = entries(desired, api_id, path, http_method);
    let bound: Vec<GroupRef> = entries
        .iter()
        .map(|e| e.group.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let children = super::memberships::nesting_below(pool, at, &bound).await?;
    let below = below(&bound, &children);
    let reached: BTreeSet<&GroupRef> = below.values().flat_map(|m| m.keys()).collect();
    let (sources, ids): (Vec<String>, Vec<String>) = reached
        .iter()
        .map(|g| (g.source.clone(), g.object_id.clone()))
        .unzip();
    let sql = format!(
        "SELECT p.source, p.object_id, p.display_name, p.user_principal_name,
                array_agg(m.group_id ORDER BY m.group_id), count(*) OVER ()
         FROM {edges} m
         JOIN UNNEST($2::text[], $3::text[]) AS r(source, group_id)
           ON m.source = r.source AND m.group_id = r.group_id
         JOIN directory_people p ON p.source = m.source AND p.object_id = m.member_id
         WHERE m.member_kind = 'person'
         GROUP BY p.source, p.object_id
         ORDER BY lower(p.display_name), p.object_id
         LIMIT $4 OFFSET $5",
        edges = super::memberships::edges(at.is_some())
    );
    let rows: Vec<PersonRow> = sqlx::query_as(&sql)
        .bind(at)
        .bind(&sources)
        .bind(&ids)
        .bind(PAGE_SIZE as i64)
        .bind((page * PAGE_SIZE) as i64)
        .fetch_all(pool)
        .await?;
    let total = rows.first().map_or(0, |r| r.5 as usize);
    let names = Names::load(pool, reached.iter().copied()).await?;
    let people = rows
        .into_iter()
        .map(|(source, oid, name, username, direct, _)| {
            let direct: Vec<GroupRef> = direct
                .into_iter()
                .map(|object_id| GroupRef {
                    source: source.clone(),
                    object_id,
                })
                .collect();
            let chains = links(&direct, &below, &entries)
                .into_iter()
                .map(|l| {
                    let path: Vec<String> = l.path.iter().map(|g| names.group(g)).collect();
                    format!(
                        "member of {} → role {} → grant {}",
                        path.join(" ⊂ "),
                        l.role.name(),
                        l.grant
                    )
                })
                .collect();
            CallerView {
                href: format!("/people/{source}/{oid}"),
                name,
                username,
                chains,
            }
        })
        .collect();
    Ok(CallersView {
        groups: bound.iter().map(|g| names.group(g)).collect(),
        total,
        page,
        page_size: PAGE_SIZE,
        people,
        ..Default::default()
    })
}

/// The server function's work: checks the route, the page and the moment, finds the method in
/// the catalog (what decides it), then the people.
pub async fn get(
    state: &crate::backend::state::AppState,
    api_id: &str,
    route: &str,
    at: &str,
    page: &str,
) -> Result<CallersView, crate::error::AppError> {
    use crate::error::AppError;
    // The API first: a page for an API never synced is "not found", whatever it asks.
    let detail = crate::backend::catalog::queries::api_detail(&state.pool, api_id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("No API with the id `{api_id}` was synced.")))?;
    // As the API page writes it (`GET /orders`, `$default`); the method in any case.
    let route = match route.trim().split_once(' ') {
        Some((verb, path)) => format!("{} {}", verb.trim().to_ascii_uppercase(), path.trim()),
        None => route.trim().to_string(),
    };
    let (verb, path) = crate::domain::route_key::route_key_parts(&route)
        .map(|(v, p)| (v.to_string(), p.to_string()))
        .ok_or_else(|| AppError::invalid("route", "give a method and a path: `GET /orders`"))?;
    let page = match page.trim() {
        "" => 0,
        p => match p.parse::<usize>() {
            Ok(n) if (1..=100_000).contains(&n) => n - 1,
            _ => return Err(AppError::invalid("page", "a page number from 1")),
        },
    };
    // A date that is not one is said next to its field, with the method still shown.
    let at = crate::history::as_of(at);
    let method = detail
        .resources
        .iter()
        .filter(|r| r.path == path)
        .flat_map(|r| r.methods.iter())
        .find(|m| m.http_method == verb)
        .ok_or_else(|| {
            AppError::not_found(format!(
                "API {} has no method {verb} {path} (as last synced).",
                detail.summary.name
            ))
        })?;
    let decided_by = crate::domain::method_access::decided_by(
        &method.authorization_type,
        method.authorizer.as_ref(),
        &state.settings.push.authorizer_function,
    );
    let header = CallersView {
        api_id: api_id.to_string(),
        api_name: detail.summary.name.clone(),
        http_method: verb.clone(),
        path: path.clone(),
        authorization_type: method.authorization_type.clone(),
        decided_by,
        page_size: PAGE_SIZE,
        ..Default::default()
    };
    let at = match at {
        Ok(at) => at,
        Err(e) => {
            return Ok(CallersView {
                at_error: Some(e),
                ..header
            })
        }
    };
    // The approved state then, replayed; or now, shared (not copied) from the cache.
    let (replayed, snapshot);
    let desired: &DesiredState = match &at {
        Some(at) => {
            replayed = crate::backend::history::reports::desired_as_of(&state.pool, at).await?;
            &replayed
        }
        None => {
            snapshot = state.desired.current(&state.pool).await?;
            &snapshot.state
        }
    };
    let view = callers(
        &state.pool,
        desired,
        at.as_deref(),
        api_id,
        &path,
        &verb,
        page,
    )
    .await?;
    Ok(CallersView {
        at,
        groups: view.groups,
        total: view.total,
        page: view.page,
        people: view.people,
        ..header
    })
}
