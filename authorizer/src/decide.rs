//! The decision: may a caller in these groups call this route? Pure, and the same for the
//! Lambda, `gatehouse authorize` and the "try it" page.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{
    bundle::{Compiled, CompiledApi, CompiledGrant},
    route::{self, method_covers, Segment},
};

/// The route a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRequest<'a> {
    pub api_id: &'a str,
    pub stage: &'a str,
    /// The HTTP verb (`GET`).
    pub method: &'a str,
    pub path: RequestPath<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestPath<'a> {
    /// The resource template API Gateway routed to (`/orders/{id}`).
    Template(&'a str),
    /// Only the request's path (`/orders/42`), as a TOKEN authorizer's method ARN gives it.
    Concrete(&'a str),
}

/// Which bundle groups the caller is in, each with the token's group it comes through (itself,
/// or a group nested in it).
#[derive(Clone, Debug, Default)]
pub struct Membership {
    by_group: HashMap<u32, u32>,
}

impl Membership {
    /// The caller's groups from the token's principals (group ids, or app role values standing
    /// for groups), closed over nested membership. Principals the bundle does not know are
    /// ignored: no grant names them.
    pub fn of(bundle: &Compiled, principals: &[String]) -> Membership {
        let mut by_group = HashMap::with_capacity(principals.len() * 2);
        let mut queue: Vec<(u32, u32)> = principals
            .iter()
            .filter_map(|p| bundle.group_index.get(p).map(|g| (*g, *g)))
            .collect();
        while let Some((group, through)) = queue.pop() {
            if by_group.contains_key(&group) {
                continue;
            }
            by_group.insert(group, through);
            for parent in &bundle.parents[group as usize] {
                queue.push((*parent, through));
            }
        }
        Membership { by_group }
    }

    pub fn is_empty(&self) -> bool {
        self.by_group.is_empty()
    }

    /// The first of `groups` the caller is in, with the token group it comes through.
    fn first_of(&self, groups: &[u32]) -> Option<(u32, u32)> {
        groups
            .iter()
            .find_map(|g| self.by_group.get(g).map(|through| (*g, *through)))
    }
}

/// Why a call is allowed: the chain of links from the token to the grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grounds {
    /// The group the grant's role is bound to.
    pub group: String,
    /// The token's group, when the caller is in `group` through a nested group.
    pub through: Option<String>,
    pub role: String,
    /// `GET /orders/{id} on stage prod`.
    pub grant: String,
    /// The resource the request was routed to.
    pub resource: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    #[error("API {0} is not in the access bundle (no grant names it)")]
    UnknownApi(String),
    #[error("{method} {path} is no route of API {api_id}")]
    UnknownRoute {
        api_id: String,
        method: String,
        path: String,
    },
    #[error("none of the caller's groups ({0}) is granted anything")]
    NoKnownGroup(usize),
    #[error("no grant of the caller's groups covers {route}")]
    NotGranted { route: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Allow(Grounds),
    Deny(Refusal),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

/// The template `req` was routed to: as given, or resolved from a concrete path against the
/// API's catalogued routes (`None` with no catalogue: grants then match the concrete path).
fn resolve_template(
    api: &CompiledApi,
    req: &RouteRequest,
) -> Result<Option<Vec<Segment>>, Refusal> {
    match req.path {
        RequestPath::Template(t) => {
            route::template(t)
                .map(Some)
                .map_err(|_| Refusal::UnknownRoute {
                    api_id: req.api_id.into(),
                    method: req.method.into(),
                    path: t.into(),
                })
        }
        RequestPath::Concrete(_) if api.routes.is_empty() => Ok(None),
        RequestPath::Concrete(path) => {
            let i = route::resolve(api.routes.iter().map(|r| r.template.as_slice()), path)
                .ok_or_else(|| Refusal::UnknownRoute {
                    api_id: req.api_id.into(),
                    method: req.method.into(),
                    path: path.into(),
                })?;
            Ok(Some(api.routes[i].template.clone()))
        }
    }
}

/// Whether `grant` covers the request's stage, verb and resource.
pub fn grant_covers(
    grant: &CompiledGrant,
    stage: &str,
    method: &str,
    template: Option<&[Segment]>,
    path: &str,
) -> bool {
    (grant.stage == "*" || grant.stage == stage)
        && method_covers(&grant.method, method)
        && match template {
            Some(t) => grant.pattern.covers_template(t),
            None => grant.pattern.matches_path(path),
        }
}

fn describe(grant: &CompiledGrant) -> String {
    format!("{} {} on stage {}", grant.method, grant.path, grant.stage)
}

fn path_text(template: Option<&[Segment]>, req: &RouteRequest) -> String {
    match (template, req.path) {
        (Some(t), _) => {
            let segs: Vec<String> = t
                .iter()
                .map(|s| match s {
                    Segment::Literal(l) => l.clone(),
                    Segment::Param => "{…}".into(),
                    Segment::Greedy => "{…+}".into(),
                })
                .collect();
            format!("/{}", segs.join("/"))
        }
        (None, RequestPath::Concrete(p) | RequestPath::Template(p)) => p.to_string(),
    }
}

/// Decides `req` for a caller with `membership`.
pub fn decide(
    bundle: &Compiled,
    membership: &Membership,
    principals: usize,
    req: &RouteRequest,
) -> Decision {
    let Some(api) = bundle.apis.get(req.api_id) else {
        return Decision::Deny(Refusal::UnknownApi(req.api_id.into()));
    };
    let template = match resolve_template(api, req) {
        Ok(t) => t,
        Err(refusal) => return Decision::Deny(refusal),
    };
    let resource = match (&template, req.path) {
        (Some(_), RequestPath::Template(t)) => t.to_string(),
        _ => path_text(template.as_deref(), req),
    };
    if membership.is_empty() {
        return Decision::Deny(Refusal::NoKnownGroup(principals));
    }
    let raw = match req.path {
        RequestPath::Concrete(p) | RequestPath::Template(p) => p,
    };
    for grant in &api.grants {
        if !grant_covers(grant, req.stage, req.method, template.as_deref(), raw) {
            continue;
        }
        let role = &bundle.roles[grant.role as usize];
        if let Some((group, through)) = membership.first_of(&role.groups) {
            return Decision::Allow(Grounds {
                group: bundle.groups[group as usize].clone(),
                through: (through != group).then(|| bundle.groups[through as usize].clone()),
                role: role.arn.clone(),
                grant: describe(grant),
                resource,
            });
        }
    }
    Decision::Deny(Refusal::NotGranted {
        route: format!(
            "{} {} on stage {} of API {}",
            req.method, resource, req.stage, req.api_id
        ),
    })
}

/// The grants of `api` the caller holds through some group.
pub fn held_grants<'a>(
    bundle: &'a Compiled,
    membership: &Membership,
    api: &'a CompiledApi,
) -> Vec<&'a CompiledGrant> {
    api.grants
        .iter()
        .filter(|g| {
            membership
                .first_of(&bundle.roles[g.role as usize].groups)
                .is_some()
        })
        .collect()
}

#[cfg(test)]
mod tests;
