//! Reads what a person's access view needs: the person, their direct groups and the nesting
//! above them (one recursive query), the approved state and the catalogued methods of the APIs
//! their roles are granted; the chains themselves are `domain::effective`'s.

use std::collections::BTreeSet;

use sqlx::PgPool;

use crate::{
    backend::{mappings::views::Names, state::AppState},
    domain::{
        effective::{person_roles, person_routes, through, with_self, CatalogMethod},
        grant::{ApiRef, GroupRef},
        names::{AccountId, ApiId, Region},
    },
    person::{PersonGroup, PersonHit, PersonRole, PersonRouteView, PersonView},
};

pub async fn search(pool: &PgPool, q: &str) -> sqlx::Result<Vec<PersonHit>> {
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT source, object_id, display_name, user_principal_name FROM directory_people
         WHERE deleted_at IS NULL AND (display_name ILIKE $1 OR user_principal_name ILIKE $1)
         ORDER BY lower(display_name), object_id LIMIT 50",
    )
    .bind(pattern)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(source, oid, name, username)| PersonHit {
            source,
            oid,
            name,
            username,
        })
        .collect())
}

/// The catalogued methods of `apis`, with their authorization types.
async fn methods_of(
    db: impl sqlx::PgExecutor<'_>,
    apis: &BTreeSet<String>,
) -> sqlx::Result<Vec<CatalogMethod>> {
    let ids: Vec<&str> = apis.iter().map(String::as_str).collect();
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT a.target, a.api_id, r.path, m.http_method, m.authorization_type
         FROM api_methods m
         JOIN api_resources r USING (target, api_id, resource_id)
         JOIN rest_apis a USING (target, api_id)
         WHERE a.gone_at IS NULL AND a.api_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(target, api_id, path, http_method, authorization_type)| {
            let (account, region) = target.split_once('/')?;
            Some(CatalogMethod {
                api: ApiRef {
                    account: AccountId::parse(account).ok()?,
                    region: Region::parse(region).ok()?,
                    api_id: ApiId::parse(&api_id).ok()?,
                },
                path,
                http_method,
                authorization_type,
            })
        })
        .collect())
}

fn authorization_link(kind: &str) -> String {
    match kind {
        "AWS_IAM" => "method AWS_IAM: IAM checks the role's policy".into(),
        "NONE" => "method NONE: open to anyone who can reach the API".into(),
        "CUSTOM" => "method CUSTOM: its Lambda authorizer decides".into(),
        other => format!("method {other}: decided outside Gatehouse"),
    }
}

/// A person's access now, or (`at`: a moment, exclusive) as it stood then: the approved state
/// replayed to it and the directory's memberships then.
pub async fn person(
    app: &AppState,
    source: &str,
    oid: &str,
    at: Option<&str>,
) -> Result<Option<PersonView>, crate::error::AppError> {
    Ok(match at {
        Some(at) => {
            let desired = crate::backend::history::reports::desired_as_of(&app.pool, at).await?;
            person_with(
                &app.pool,
                &desired,
                &app.settings.aws,
                source,
                oid,
                Some(at),
            )
            .await?
        }
        None => {
            let snapshot = app.desired.current(&app.pool).await?;
            person_with(&app.pool, &*snapshot, &app.settings.aws, source, oid, None).await?
        }
    })
}

/// As [`person`], with the approved state (as of `at`, if given) and the AWS settings given.
pub async fn person_with(
    pool: &PgPool,
    approved: &impl crate::domain::effective::Approved,
    aws: &crate::backend::config::AwsSettings,
    source: &str,
    oid: &str,
    at: Option<&str>,
) -> sqlx::Result<Option<PersonView>> {
    // The person, their groups and their APIs' methods on one connection (each query on a
    // connection of its own costs a round trip more: sqlx pings a connection given back), given
    // back before the names are read from the pool.
    let mut conn = pool.acquire().await?;
    // As of a past moment, people the directory has deleted since still count.
    let found: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT display_name, user_principal_name FROM directory_people
         WHERE source = $1 AND object_id = $2 AND (deleted_at IS NULL OR $3)",
    )
    .bind(source)
    .bind(oid)
    .bind(at.is_some())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((name, username)) = found else {
        return Ok(None);
    };
    let reached = with_self(
        super::memberships::groups_of(&mut *conn, source, oid, at).await?,
        source,
        oid,
    );
    let roles = person_roles(&reached, approved);
    let apis: BTreeSet<String> = roles
        .iter()
        .flat_map(|(r, _)| approved.grants_of_role(r))
        .map(|g| g.api.api_id.as_str().to_string())
        .collect();
    let methods = methods_of(&mut *conn, &apis).await?;
    drop(conn);
    let routes = person_routes(&reached, approved, &methods);
    let names = Names::load(pool, reached.keys()).await?;
    let path_names =
        |path: &[GroupRef]| -> Vec<String> { path.iter().map(|g| names.group(g)).collect() };
    let member_of = |path: &[GroupRef]| through(path, &|g| names.group(g));
    let mut groups: Vec<PersonGroup> = reached
        .iter()
        .filter(|(g, _)| !g.is_person())
        .map(|(g, path)| PersonGroup {
            name: names.group(g),
            href: format!("/groups/{}/{}", g.source, g.object_id),
            path: path_names(path),
        })
        .collect();
    groups.sort_by(|a, b| (a.path.len(), &a.name).cmp(&(b.path.len(), &b.name)));
    let broker = |arn: &crate::domain::names::RoleArn| {
        aws.enforcement_of(arn.account.as_str())
            .broker()
            .to_string()
    };
    // What the latest drift check found AWS allowing their roles outside Gatehouse (now only:
    // drift checks say nothing of the past).
    let report = match at {
        None => crate::backend::push::drift::latest(pool).await?,
        Some(_) => None,
    };
    let outside: Vec<String> = report
        .and_then(|r| r.items)
        .map(|items| items.0)
        .unwrap_or_default()
        .into_iter()
        .filter(|i| {
            i.kind == "access granted outside Gatehouse"
                && roles.iter().any(|(arn, _)| arn.to_string() == i.subject)
        })
        .flat_map(|i| {
            let role = i.subject.rsplit('/').next().unwrap_or_default().to_string();
            i.actual
                .lines()
                .map(|l| format!("role {role}: {l}"))
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(Some(PersonView {
        at: at.map(str::to_string),
        at_error: None,
        outside,
        source: source.to_string(),
        oid: oid.to_string(),
        name,
        username,
        roles: roles
            .iter()
            .map(|(arn, path)| PersonRole {
                arn: arn.to_string(),
                name: arn.name().to_string(),
                through: member_of(path),
                broker: broker(arn),
            })
            .collect(),
        routes: routes
            .into_iter()
            .map(|r| PersonRouteView {
                api_id: r.api.api_id.as_str().to_string(),
                api_name: names.api(r.api.api_id.as_str()),
                stage: r.stage.clone(),
                method: r.http_method.clone(),
                path: r.path.clone(),
                open: r.authorization_type == "NONE",
                chain: vec![
                    member_of(&r.groups),
                    format!("role {} (through {})", r.role.name(), broker(&r.role)),
                    format!("grant {}", r.grant),
                    authorization_link(&r.authorization_type),
                ],
                authorization: r.authorization_type,
            })
            .collect(),
        groups,
    }))
}

/// Which catalogued method of `api_id` a request `verb path` goes to: the route template API
/// Gateway would pick for the path (literal segments before parameters), then the verb or `ANY`.
pub async fn resolve_method(
    db: impl sqlx::PgExecutor<'_>,
    api_id: &str,
    verb: &str,
    path: &str,
) -> sqlx::Result<Option<CatalogMethod>> {
    let methods = methods_of(db, &BTreeSet::from([api_id.to_string()])).await?;
    let paths: Vec<&str> = {
        let mut p: Vec<&str> = methods.iter().map(|m| m.path.as_str()).collect();
        p.sort();
        p.dedup();
        p
    };
    let chosen = if paths.contains(&path) {
        Some(path)
    } else {
        let templates: Vec<Vec<authorizer::route::Segment>> = paths
            .iter()
            .map(|p| authorizer::route::template(p).unwrap_or_default())
            .collect();
        authorizer::route::resolve(templates.iter().map(Vec::as_slice), path).map(|i| paths[i])
    };
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let on_path = || methods.iter().filter(|m| m.path == chosen);
    Ok(on_path()
        .find(|m| m.http_method.eq_ignore_ascii_case(verb))
        .or_else(|| on_path().find(|m| m.http_method == "ANY"))
        .cloned())
}

/// "Can this person call the route, and why?" (`None`: no such person.)
pub async fn explain(
    pool: &PgPool,
    approved: &impl crate::domain::effective::Approved,
    (source, oid): (&str, &str),
    route: &crate::tryit::TryRoute,
) -> sqlx::Result<Option<crate::domain::explain::Explanation>> {
    let (api_id, stage, verb, path) = (
        route.api_id.as_str(),
        route.stage.as_str(),
        route.method.as_str(),
        route.path.as_str(),
    );
    // Every read on one connection (see `person_with`).
    let mut conn = pool.acquire().await?;
    let Some(name): Option<String> = sqlx::query_scalar(
        "SELECT display_name FROM directory_people
         WHERE source = $1 AND object_id = $2 AND deleted_at IS NULL",
    )
    .bind(source)
    .bind(oid)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let reached = with_self(
        super::memberships::groups_of(&mut *conn, source, oid, None).await?,
        source,
        oid,
    );
    let method = resolve_method(&mut *conn, api_id, verb, path).await?;
    // The chain names the person's groups and the person (read above): one query, not
    // `Names::load`'s three (it reads every API's name too).
    let wanted: Vec<(String, String)> = reached
        .keys()
        .filter(|g| !g.is_person())
        .map(|g| (g.source.clone(), g.object_id.clone()))
        .collect();
    let names = Names::known(
        crate::backend::directory::cache::group_names(&mut *conn, &wanted).await?,
        [((source.to_string(), oid.to_string()), name)].into(),
    );
    Ok(Some(crate::domain::explain::explain(
        &reached,
        approved,
        method.as_ref(),
        verb,
        stage,
        &|g| names.group(g),
    )))
}

/// A person named as `SOURCE:OBJECT_ID`, an email (user principal name) or a display name:
/// `Err` says why none or several match.
pub async fn find_one(pool: &PgPool, who: &str) -> sqlx::Result<Result<PersonHit, String>> {
    if let Some((source, oid)) = who.split_once(':') {
        // By key, not by the name search (an object id is rarely part of a name).
        let found: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT display_name, user_principal_name FROM directory_people
             WHERE source = $1 AND object_id = $2 AND deleted_at IS NULL",
        )
        .bind(source)
        .bind(oid)
        .fetch_optional(pool)
        .await?;
        if let Some((name, username)) = found {
            return Ok(Ok(PersonHit {
                source: source.to_string(),
                oid: oid.to_string(),
                name,
                username,
            }));
        }
    }
    let hits = search(pool, who).await?;
    let exact: Vec<&PersonHit> = hits
        .iter()
        .filter(|h| {
            h.username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(who))
                || h.name.eq_ignore_ascii_case(who)
        })
        .collect();
    Ok(match exact.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "no directory person is named or has the email `{who}`"
        )),
        many => Err(format!(
            "{} people match `{who}`: name one as SOURCE:OBJECT_ID ({})",
            many.len(),
            many.iter()
                .map(|h| format!("{}:{}", h.source, h.oid))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    })
}
