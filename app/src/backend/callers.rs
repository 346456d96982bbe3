//! Reads for "who can call this route?": the groups inside each bound group (one recursive
//! query), then one page of the people in any of them with a count (one query), now or as of a
//! moment (the membership history). The links themselves are `domain::callers`'.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use sqlx::PgPool;

use crate::{
    backend::mappings::views::Names,
    callers::{CallerView, CallersView},
    domain::{
        callers::{below, entries, links},
        desired::DesiredState,
        effective::through,
        grant::GroupRef,
    },
};

/// People per page.
pub const PAGE_SIZE: usize = 50;

/// One person who may call: key, name, username and the groups of `reached` they are directly in.
type PersonRow = (String, String, String, Option<String>, Vec<String>);

/// Everyone who may call one method under one desired state and directory, in the order the
/// page lists them, with what their chains are drawn from. Pages are slices of it.
pub struct CallerSet {
    bound: Vec<GroupRef>,
    entries: Vec<crate::domain::callers::Entry>,
    below: BTreeMap<GroupRef, BTreeMap<GroupRef, crate::domain::effective::GroupPath>>,
    names: Names,
    people: Vec<PersonRow>,
}

/// Who may call `http_method` on `path` of API `api_id` under `desired`, with the directory as
/// it is (`at` None) or was just before `at`: every person, by name.
pub async fn caller_set(
    pool: &PgPool,
    desired: &DesiredState,
    at: Option<&str>,
    api_id: &str,
    path: &str,
    http_method: &str,
) -> sqlx::Result<CallerSet> {
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
                array_agg(m.group_id ORDER BY m.group_id)
         FROM {edges} m
         JOIN UNNEST($2::text[], $3::text[]) AS r(source, group_id)
           ON m.source = r.source AND m.group_id = r.group_id
         JOIN directory_people p ON p.source = m.source AND p.object_id = m.member_id
         WHERE m.member_kind = 'person'
         GROUP BY p.source, p.object_id
         ORDER BY lower(p.display_name), p.object_id",
        edges = super::memberships::edges(at.is_some())
    );
    let mut people: Vec<PersonRow> = sqlx::query_as(&sql)
        .bind(at)
        .bind(&sources)
        .bind(&ids)
        .fetch_all(pool)
        .await?;
    // People bound directly (access requests) may call too: their own object id stands in
    // their list of direct "groups", and `page` reads it as the binding of that one person.
    let direct = super::memberships::people(pool, bound.iter().filter(|g| g.is_person())).await?;
    if !direct.is_empty() {
        for p in direct {
            match people
                .iter_mut()
                .find(|k| k.0 == p.source && k.1 == p.object_id)
            {
                Some(known) => known.4.push(p.object_id),
                None => people.push((
                    p.source,
                    p.object_id.clone(),
                    p.display_name,
                    p.user_principal_name,
                    vec![p.object_id],
                )),
            }
        }
        people.sort_by(|a, b| (a.2.to_lowercase(), &a.1).cmp(&(b.2.to_lowercase(), &b.1)));
    }
    let names = Names::load(pool, reached.iter().copied()).await?;
    Ok(CallerSet {
        bound,
        entries,
        below,
        names,
        people,
    })
}

impl CallerSet {
    /// Page `page` (from 0), each person with the chains that let them call.
    pub fn page(&self, page: usize) -> CallersView {
        let people = self
            .people
            .iter()
            .skip(page * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|(source, oid, name, username, direct)| {
                let direct: Vec<GroupRef> = direct
                    .iter()
                    .map(|object_id| match object_id == oid {
                        true => GroupRef::person(source, oid),
                        false => GroupRef::group(source, object_id),
                    })
                    .collect();
                let chains = links(&direct, &self.below, &self.entries)
                    .into_iter()
                    .map(|l| {
                        format!(
                            "{} → role {} → grant {}",
                            through(&l.path, &|g| self.names.group(g)),
                            l.role.name(),
                            l.grant
                        )
                    })
                    .collect();
                CallerView {
                    href: format!("/people/{source}/{oid}"),
                    name: name.clone(),
                    username: username.clone(),
                    chains,
                }
            })
            .collect();
        CallersView {
            groups: self.bound.iter().map(|g| self.names.group(g)).collect(),
            total: self.people.len(),
            page,
            page_size: PAGE_SIZE,
            people,
            ..Default::default()
        }
    }
}

/// What a caller set is kept under: the desired version, the directory's generation, the method.
type SetKey = (i64, i64, String, String, String);

/// The caller sets of the methods looked at lately. A set changes only when the desired state
/// or the directory does, and paging through thousands of people must not list them all again
/// for each page. A set holds a few hundred bytes per person, and one method of a large company
/// may be open to tens of thousands: what is kept is bounded by people, not only by sets.
#[derive(Default)]
pub struct CallersCache {
    sets: std::sync::Mutex<std::collections::VecDeque<(SetKey, Arc<CallerSet>)>>,
}

/// How many methods' sets are kept at most.
const KEPT: usize = 16;
/// How many people the kept sets hold at most in all (the newest set is kept whatever its size:
/// its pages are being read).
const KEPT_PEOPLE: usize = 100_000;

impl CallersCache {
    fn get(&self, key: &SetKey) -> Option<Arc<CallerSet>> {
        let mut sets = self.sets.lock().ok()?;
        let at = sets.iter().position(|(k, _)| k == key)?;
        let found = sets.remove(at)?;
        let set = Arc::clone(&found.1);
        sets.push_front(found);
        Some(set)
    }

    fn put(&self, key: SetKey, set: Arc<CallerSet>) {
        if let Ok(mut sets) = self.sets.lock() {
            sets.retain(|(k, _)| k != &key);
            sets.push_front((key, set));
            let mut people = 0;
            let kept = sets
                .iter()
                .take(KEPT)
                .take_while(|(_, s)| {
                    people += s.people.len();
                    people <= KEPT_PEOPLE
                })
                .count();
            sets.truncate(kept.max(1));
        }
    }
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
    // As of a date: the approved state then, replayed, and the directory then (not kept). Now:
    // the set of this desired version and directory generation, kept between pages.
    let set = match &at {
        Some(at) => {
            let desired = crate::backend::history::reports::desired_as_of(&state.pool, at).await?;
            Arc::new(caller_set(&state.pool, &desired, Some(at), api_id, &path, &verb).await?)
        }
        None => {
            let snapshot = state.desired.current(&state.pool).await?;
            let generation = crate::backend::directory::cache::generation(&state.pool).await?;
            let key = (
                snapshot.version,
                generation,
                api_id.to_string(),
                path.clone(),
                verb.clone(),
            );
            match state.callers.get(&key) {
                Some(set) => set,
                None => {
                    let set = Arc::new(
                        caller_set(&state.pool, &snapshot.state, None, api_id, &path, &verb)
                            .await?,
                    );
                    state.callers.put(key, Arc::clone(&set));
                    set
                }
            }
        }
    };
    let view = set.page(page);
    Ok(CallersView {
        at,
        groups: view.groups,
        total: view.total,
        page: view.page,
        people: view.people,
        ..header
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_of(people: usize) -> Arc<CallerSet> {
        Arc::new(CallerSet {
            bound: Vec::new(),
            entries: Vec::new(),
            below: BTreeMap::new(),
            names: Names::default(),
            people: (0..people)
                .map(|i| {
                    (
                        "file".to_string(),
                        format!("p{i}"),
                        format!("Person {i}"),
                        None,
                        Vec::new(),
                    )
                })
                .collect(),
        })
    }

    fn key(n: usize) -> SetKey {
        (1, 1, format!("api{n}"), "/orders".into(), "GET".into())
    }

    #[test]
    fn the_cache_keeps_at_most_sixteen_sets_and_a_bounded_number_of_people() {
        let cache = CallersCache::default();
        for n in 0..20 {
            cache.put(key(n), set_of(10));
        }
        assert!(cache.get(&key(0)).is_none() && cache.get(&key(3)).is_none());
        assert!(cache.get(&key(4)).is_some() && cache.get(&key(19)).is_some());
        // Two large sets fit the bound; a third pushes the oldest out.
        let cache = CallersCache::default();
        cache.put(key(1), set_of(KEPT_PEOPLE / 2));
        cache.put(key(2), set_of(KEPT_PEOPLE / 2));
        assert!(cache.get(&key(1)).is_some());
        cache.put(key(3), set_of(KEPT_PEOPLE / 2));
        assert!(cache.get(&key(2)).is_none(), "the least recently read goes");
        assert!(cache.get(&key(1)).is_some() && cache.get(&key(3)).is_some());
        // A set larger than the bound is still kept while it is the newest.
        cache.put(key(4), set_of(KEPT_PEOPLE + 1));
        assert!(cache.get(&key(4)).is_some());
        assert!(cache.get(&key(1)).is_none() && cache.get(&key(3)).is_none());
    }
}
