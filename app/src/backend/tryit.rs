//! The server side of "Try a call" and `gatehouse authorize`: the bundle that decides, the
//! caller's groups (from the directory, or from a token checked as the authorizer checks it),
//! and the decision with the chain of links that makes it.

use std::{collections::HashMap, sync::Arc};

use authorizer::{
    bundle::Compiled,
    decide::{decide, Decision, Membership, RequestPath, RouteRequest},
    jwks::Jwks,
    token::{self, TokenSettings},
};
use sqlx::PgPool;

use crate::{
    backend::{mappings::store as cs_store, push::bundle, state::AppState},
    domain::access_bundle,
    error::AppError,
    tryit::{TryChoices, TryOutcome, TryRoute},
};

const VERBS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The route as typed, checked field by field.
pub fn check(route: &TryRoute) -> Result<TryRoute, AppError> {
    let api_id = route.api_id.trim();
    if api_id.is_empty() {
        return Err(AppError::invalid("api_id", "choose an API"));
    }
    let stage = route.stage.trim();
    if stage.is_empty() || stage.contains(['/', ' ']) {
        return Err(AppError::invalid("stage", "a stage name such as prod"));
    }
    let method = route.method.trim().to_ascii_uppercase();
    if !VERBS.contains(&method.as_str()) {
        return Err(AppError::invalid(
            "method",
            format!(
                "`{method}` is not an HTTP method: GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS"
            ),
        ));
    }
    let path = route.path.trim();
    if !path.starts_with('/') || path.contains(['?', '#', ' ']) {
        return Err(AppError::invalid(
            "path",
            "a path such as /orders/42 (or a resource such as /orders/{id}), without a query",
        ));
    }
    Ok(TryRoute {
        api_id: api_id.into(),
        stage: stage.into(),
        method,
        path: path.into(),
    })
}

/// The last published bundle, compiled, by its stamp: decoding and indexing a large bundle costs
/// milliseconds, and a published version never changes.
type Published = Option<((u64, String), Arc<Compiled>)>;
static PUBLISHED: std::sync::Mutex<Published> = std::sync::Mutex::new(None);

/// The bundle that decides: the last published, else the approved state's (flagged).
pub async fn current_bundle(pool: &PgPool) -> Result<(Arc<Compiled>, String, bool), AppError> {
    if let Some(stamp) = bundle::latest_stamp(pool).await? {
        let version = stamp.0;
        let cached = PUBLISHED
            .lock()
            .expect("not poisoned")
            .as_ref()
            .filter(|(s, _)| *s == stamp)
            .map(|(_, c)| Arc::clone(c));
        let compiled = match cached {
            Some(compiled) => compiled,
            None => {
                let body = bundle::body_of(pool, version).await?;
                let compiled = Arc::new(
                    authorizer::source::decode(&body)
                        .and_then(|b| b.compile())
                        .map_err(AppError::internal)?,
                );
                *PUBLISHED.lock().expect("not poisoned") = Some((stamp, Arc::clone(&compiled)));
                compiled
            }
        };
        let label = format!("published version {version}, {}", compiled.generated_at);
        return Ok((compiled, label, false));
    }
    let desired = {
        let mut conn = pool.acquire().await?;
        cs_store::desired_state(&mut conn).await?
    };
    let nesting = bundle::nesting(pool).await?;
    let made = access_bundle::build(&desired, &nesting);
    let compiled = made.compile().map_err(AppError::internal)?;
    Ok((
        Arc::new(compiled),
        "the approved state (no bundle has been published yet: the authorizer has nothing to enforce)".into(),
        true,
    ))
}

/// Display names of directory groups, by object id.
async fn group_names(pool: &PgPool, ids: &[String]) -> sqlx::Result<HashMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (object_id) object_id, display_name FROM directory_groups WHERE object_id = ANY($1) ORDER BY object_id, deleted_at NULLS FIRST",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Decides `route` for a caller with `principals` and explains it.
pub async fn explain(
    pool: &PgPool,
    asker: &Asker,
    route: &TryRoute,
) -> Result<TryOutcome, AppError> {
    let (who, principals) = (asker.label.clone(), asker.principals.as_slice());
    let (compiled, label, unpublished) = current_bundle(pool).await?;
    // As the authorizer does: the groups, and the person themselves (an access request's).
    let mut with_self = principals.to_vec();
    with_self.push(asker.oid.clone());
    let membership = Membership::of(&compiled, &with_self);
    let path = if route.path.contains('{') {
        RequestPath::Template(&route.path)
    } else {
        RequestPath::Concrete(&route.path)
    };
    let request = RouteRequest {
        api_id: &route.api_id,
        stage: &route.stage,
        method: &route.method,
        path,
    };
    let decision = decide(&compiled, &membership, principals.len(), &request);
    let mut ids: Vec<String> = principals.to_vec();
    if let Decision::Allow(g) = &decision {
        ids.push(g.group.clone());
    }
    let names = group_names(pool, &ids).await?;
    let name = |id: &str| match names.get(id) {
        Some(n) => format!("{n} ({id})"),
        None => id.to_string(),
    };
    let (allowed, reason, chain) = match &decision {
        Decision::Allow(g) => {
            let mut chain = Vec::new();
            if let Some(through) = &g.through {
                chain.push(format!("{who} is in group {}", name(through)));
                chain.push(format!("which is nested in group {}", name(&g.group)));
            } else {
                chain.push(format!("{who} is in group {}", name(&g.group)));
            }
            chain.push(format!("which is bound to role {}", g.role));
            chain.push(format!("which is granted {}", g.grant));
            chain.push(format!("which covers the resource {}", g.resource));
            (
                true,
                format!("Allowed through group {}", name(&g.group)),
                chain,
            )
        }
        Decision::Deny(r) => {
            let groups = if principals.is_empty() {
                format!("{who} is in no group")
            } else {
                let listed: Vec<String> = principals.iter().take(8).map(|p| name(p)).collect();
                let more = principals.len().saturating_sub(8);
                let tail = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("{who} is in {}{tail}", listed.join(", "))
            };
            (false, format!("Refused: {r}"), vec![groups])
        }
    };
    Ok(TryOutcome {
        allowed,
        who,
        reason,
        chain,
        bundle: label,
        unpublished,
        not_asked: None,
    })
}

/// Who asks whether a call is allowed: how to name them, their groups (or app role values) as
/// the bundle names them, and their own object id.
#[derive(Clone, Debug)]
pub struct Asker {
    pub label: String,
    pub principals: Vec<String>,
    pub oid: String,
}

/// A directory person's direct groups (nesting is the bundle's to follow) and their label.
pub async fn person_groups(pool: &PgPool, key: &str) -> Result<Asker, AppError> {
    let (source, oid) = key
        .split_once(':')
        .ok_or_else(|| AppError::invalid("person", "choose a person"))?;
    let found: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT display_name, user_principal_name FROM directory_people WHERE source = $1 AND object_id = $2 AND deleted_at IS NULL",
    )
    .bind(source)
    .bind(oid)
    .fetch_optional(pool)
    .await?;
    let Some((name, upn)) = found else {
        return Err(AppError::invalid(
            "person",
            "no such person in the directory",
        ));
    };
    let groups: Vec<String> = sqlx::query_scalar(
        "SELECT group_id FROM directory_memberships WHERE source = $1 AND member_id = $2 ORDER BY 1",
    )
    .bind(source)
    .bind(oid)
    .fetch_all(pool)
    .await?;
    let label = match upn {
        Some(upn) => format!("{name} ({upn})"),
        None => name,
    };
    Ok(Asker {
        label,
        principals: groups,
        oid: oid.to_string(),
    })
}

/// What decides the route's method in API Gateway when it is not Gatehouse's authorizer, from
/// the catalog (the resource API Gateway routes the path to, then the method or `ANY`).
async fn not_asked(
    pool: &PgPool,
    route: &TryRoute,
    gatehouse_function: &str,
) -> Result<Option<String>, AppError> {
    use crate::domain::method_access::{decided_by, DecidedBy};
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT r.path, m.http_method, m.authorization_type, m.authorizer_id
         FROM api_resources r JOIN api_methods m USING (target, api_id, resource_id)
         JOIN rest_apis a USING (target, api_id)
         WHERE r.api_id = $1 AND a.gone_at IS NULL AND m.http_method IN ($2, 'ANY')",
    )
    .bind(&route.api_id)
    .bind(&route.method)
    .fetch_all(pool)
    .await?;
    let templates: Vec<Vec<authorizer::route::Segment>> = rows
        .iter()
        .map(|(path, ..)| authorizer::route::template(path).unwrap_or_default())
        .collect();
    let chosen = if route.path.contains('{') {
        rows.iter().position(|(path, ..)| *path == route.path)
    } else {
        authorizer::route::resolve(templates.iter().map(|t| t.as_slice()), &route.path)
    };
    let Some(resource) = chosen.map(|i| rows[i].0.clone()) else {
        return Ok(None);
    };
    // Among the resource's methods, the verb itself before `ANY`.
    let Some((path, verb, auth, authorizer_id)) = rows
        .iter()
        .filter(|(p, ..)| *p == resource)
        .min_by_key(|(_, v, ..)| (v == "ANY") as u8)
    else {
        return Ok(None);
    };
    let authorizers =
        crate::backend::catalog::queries::authorizers_of(pool, None, &route.api_id).await?;
    let authorizer = authorizer_id
        .as_deref()
        .and_then(|id| authorizers.iter().find(|a| a.id == id));
    let what = match decided_by(auth, authorizer, gatehouse_function) {
        DecidedBy::Gatehouse => return Ok(None),
        DecidedBy::Iam => "IAM decides it (AWS_IAM): a caller signs the request with a role's credentials; a token is not asked for".to_string(),
        DecidedBy::Anyone => "its authorization is NONE: anyone who can reach the API may call it, whatever the bundle says".to_string(),
        DecidedBy::Outside(by) => format!("it is decided outside Gatehouse, by {by}"),
    };
    Ok(Some(format!(
        "API Gateway does not ask Gatehouse's authorizer for {verb} {path}: {what}."
    )))
}

pub async fn as_person(
    state: &AppState,
    key: &str,
    route: &TryRoute,
) -> Result<TryOutcome, AppError> {
    let route = check(route)?;
    let asker = person_groups(&state.pool, key).await?;
    decide_for(state, &asker, &route).await
}

/// The decision for a checked caller, and whether API Gateway asks the authorizer at all.
async fn decide_for(
    state: &AppState,
    asker: &Asker,
    route: &TryRoute,
) -> Result<TryOutcome, AppError> {
    let mut outcome = explain(&state.pool, asker, route).await?;
    outcome.not_asked =
        not_asked(&state.pool, route, &state.settings.push.authorizer_function).await?;
    Ok(outcome)
}

/// How Gatehouse checks API access tokens: its own issuer and tenants, the APIs' audiences
/// (`None` when no audience is configured).
pub fn token_settings(
    issuer: &str,
    tenants: &[uuid::Uuid],
    audiences: &[String],
) -> Option<TokenSettings> {
    if audiences.is_empty() {
        return None;
    }
    let tenants: Vec<String> = tenants.iter().map(|t| t.to_string()).collect();
    let mut issuer = issuer.trim_end_matches('/').to_string();
    for t in &tenants {
        issuer = issuer.replace(t.as_str(), "{tenantid}");
    }
    Some(TokenSettings {
        issuer,
        tenants,
        audiences: audiences.to_vec(),
        algorithms: vec![authorizer::token::Algorithm::RS256],
        leeway: 60,
        use_app_roles: false,
    })
}

fn settings_of(settings: &crate::backend::config::Settings) -> Option<TokenSettings> {
    token_settings(
        settings.oidc.issuer.as_str(),
        &settings.oidc.allowed_tenants,
        &settings.push.api_audiences,
    )
}

/// The issuer's signing keys, one cache per issuer for the process (as the Lambda keeps one per
/// instance): keys are fetched once, and again at most once a minute for an unknown key id.
async fn signing_keys(issuer: &str) -> Result<Arc<Jwks>, AppError> {
    static BY_ISSUER: std::sync::Mutex<Vec<(String, Arc<Jwks>)>> =
        std::sync::Mutex::new(Vec::new());
    let issuer = issuer.trim_end_matches('/');
    let known = BY_ISSUER
        .lock()
        .expect("not poisoned")
        .iter()
        .find(|(i, _)| i == issuer)
        .map(|(_, j)| Arc::clone(j));
    if let Some(jwks) = known {
        return Ok(jwks);
    }
    let uri = Jwks::discover(issuer).await.map_err(AppError::internal)?;
    let jwks = Arc::new(Jwks::new(uri, std::time::Duration::from_secs(60)));
    let mut all = BY_ISSUER.lock().expect("not poisoned");
    match all.iter().find(|(i, _)| i == issuer) {
        Some((_, other)) => Ok(Arc::clone(other)),
        None => {
            all.push((issuer.to_string(), Arc::clone(&jwks)));
            Ok(jwks)
        }
    }
}

/// Checks `token` as the authorizer does (`issuer` is Gatehouse's own, where the keys are
/// found); answers the caller's label and principals.
pub async fn caller_of(
    issuer: &str,
    token_settings: Option<TokenSettings>,
    token: &str,
) -> Result<Asker, AppError> {
    let Some(token_settings) = token_settings else {
        return Err(AppError::invalid(
            "token",
            "tokens cannot be checked here: set GATEHOUSE_API_AUDIENCES to the APIs' audiences",
        ));
    };
    let refused = |e: token::TokenRefusal| AppError::invalid("token", format!("refused: {e}"));
    let raw = token::bearer(token).map_err(refused)?;
    let (alg, kid) = token::header(raw, &token_settings).map_err(refused)?;
    let key = signing_keys(issuer)
        .await?
        .key(&kid)
        .await
        .map_err(refused)?;
    let caller = token::verify(raw, alg, &key, &token_settings, authorizer::handler::now())
        .map_err(refused)?;
    let who = match (&caller.name, &caller.username) {
        (Some(n), Some(u)) => format!("{n} ({u})"),
        _ => caller.label().to_string(),
    };
    Ok(Asker {
        label: who,
        principals: caller.principals,
        oid: caller.oid,
    })
}

pub async fn as_token(
    state: &AppState,
    token: &str,
    route: &TryRoute,
) -> Result<TryOutcome, AppError> {
    let route = check(route)?;
    let asker = caller_of(
        state.settings.oidc.issuer.as_str(),
        settings_of(&state.settings),
        token,
    )
    .await?;
    decide_for(state, &asker, &route).await
}

pub async fn choices(state: &AppState) -> Result<TryChoices, AppError> {
    let people: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT source, object_id, display_name, user_principal_name FROM directory_people WHERE deleted_at IS NULL ORDER BY lower(display_name), object_id LIMIT 500",
    )
    .fetch_all(&state.pool)
    .await?;
    let apis: Vec<(String, String)> = sqlx::query_as(
        "SELECT api_id, name FROM rest_apis WHERE gone_at IS NULL ORDER BY lower(name), api_id LIMIT 500",
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(TryChoices {
        people: people
            .into_iter()
            .map(|(source, oid, name, upn)| {
                let label = match upn {
                    Some(u) => format!("{name} ({u})"),
                    None => name,
                };
                (format!("{source}:{oid}"), label)
            })
            .collect(),
        apis: apis
            .into_iter()
            .map(|(id, name)| (id.clone(), format!("{name} ({id})")))
            .collect(),
        tokens: settings_of(&state.settings).is_some(),
    })
}
