//! The access bundle of a desired state: every group bound to a role with grants, the role's
//! grants per API (with the API's catalogued routes), and the nesting that leads to those groups.
//! Built in a fixed order, so the same state always gives the same content hash.

use std::collections::{BTreeMap, BTreeSet};

use authorizer::bundle::{Bundle, BundleApi, BundleGrant, BundleRole, FORMAT};
use sha2::{Digest, Sha256};

use super::{desired::DesiredState, grant::ApiRef, names::RoleArn, route_key::ApiKind};

/// `[child, parent]` group object ids: members of `child` are members of `parent`.
pub type Nesting = Vec<(String, String)>;

/// The bundle of `desired`, without version or time (see [`stamped`]).
pub fn build(desired: &DesiredState, nesting: &Nesting) -> Bundle {
    let mut roles_with_grants: BTreeMap<&RoleArn, Vec<usize>> = BTreeMap::new();
    for (i, g) in desired.grants.iter().enumerate() {
        roles_with_grants.entry(&g.role).or_default().push(i);
    }
    let mut bound: BTreeMap<&RoleArn, BTreeSet<&str>> = BTreeMap::new();
    for b in &desired.bindings {
        if roles_with_grants.contains_key(&b.role) {
            bound.entry(&b.role).or_default().insert(&b.group.object_id);
        }
    }
    // The granted groups, and every group nested (at any depth) in one of them.
    let mut groups: BTreeSet<&str> = bound.values().flatten().copied().collect();
    let mut nested: BTreeSet<(&str, &str)> = BTreeSet::new();
    loop {
        let before = nested.len();
        for (child, parent) in nesting {
            if groups.contains(parent.as_str()) {
                nested.insert((child, parent));
            }
        }
        groups.extend(nested.iter().map(|(c, _)| *c));
        if nested.len() == before {
            break;
        }
    }
    let groups: Vec<&str> = groups.into_iter().collect();
    let index = |g: &str| groups.binary_search(&g).expect("a listed group") as u32;
    let roles: Vec<(&RoleArn, &BTreeSet<&str>)> = bound.iter().map(|(r, g)| (*r, g)).collect();
    let role_index: BTreeMap<&RoleArn, u32> = roles
        .iter()
        .enumerate()
        .map(|(i, (r, _))| (*r, i as u32))
        .collect();
    let mut apis: BTreeMap<&ApiRef, Vec<BundleGrant>> = BTreeMap::new();
    for g in &desired.grants {
        let Some(role) = role_index.get(&g.role) else {
            continue;
        };
        apis.entry(&g.api).or_default().push(BundleGrant {
            role: *role,
            stage: g.stage.as_str().to_string(),
            method: g.method.as_str().to_string(),
            path: g.path.as_str().to_string(),
        });
    }
    Bundle {
        format: FORMAT.into(),
        version: 0,
        generated_at: String::new(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        nested: nested.iter().map(|(c, p)| (index(c), index(p))).collect(),
        roles: roles
            .iter()
            .map(|(r, gs)| BundleRole {
                arn: r.to_string(),
                groups: gs.iter().map(|g| index(g)).collect(),
            })
            .collect(),
        apis: apis
            .into_iter()
            .map(|(api, grants)| {
                let catalogued = desired.catalog.get(api);
                let mut routes: Vec<(String, String)> = catalogued
                    .map(|r| {
                        r.methods
                            .iter()
                            .map(|(path, method)| (method.clone(), path.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                routes.sort();
                BundleApi {
                    api_id: api.api_id.as_str().to_string(),
                    account: api.account.as_str().to_string(),
                    region: api.region.as_str().to_string(),
                    kind: match catalogued.map(|r| r.kind).unwrap_or_default() {
                        ApiKind::Rest => "rest",
                        ApiKind::Http => "http",
                    }
                    .into(),
                    grants,
                    routes,
                }
            })
            .collect(),
    }
}

/// The hash of a bundle's content (its version and time left out), hex.
pub fn content_sha256(bundle: &Bundle) -> String {
    let mut content = bundle.clone();
    content.version = 0;
    content.generated_at = String::new();
    hex::encode(Sha256::digest(content.to_json()))
}

/// The bundle as published: with its version and time.
pub fn stamped(mut bundle: Bundle, version: u64, generated_at: String) -> Bundle {
    bundle.version = version;
    bundle.generated_at = generated_at;
    bundle
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        grant::{Binding, Grant, GrantInput, GroupRef},
        names::RoleArn,
    };

    fn state() -> DesiredState {
        let role = "arn:aws:iam::123456789012:role/orders-readers";
        let grant = |path: &str| {
            Grant::parse(&GrantInput {
                role_arn: role.into(),
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                api_id: "a1b2c3d4e5".into(),
                stage: "prod".into(),
                method: "GET".into(),
                path: path.into(),
            })
            .unwrap()
        };
        let bind = |group: &str, role: &str| Binding {
            group: GroupRef::group("file", group),
            role: RoleArn::parse(role).unwrap(),
        };
        DesiredState {
            bindings: [
                bind("g-orders", role),
                // Bound to a role without grants: not in the bundle.
                bind("g-idle", "arn:aws:iam::123456789012:role/idle"),
            ]
            .into(),
            grants: [grant("/orders/{id}"), grant("/orders")].into(),
            catalog: Default::default(),
        }
    }

    #[test]
    fn the_bundle_holds_the_approved_groups_roles_grants_and_nesting() {
        let nesting = vec![
            ("g-team".to_string(), "g-orders".to_string()),
            ("g-squad".to_string(), "g-team".to_string()),
            ("g-other".to_string(), "g-idle".to_string()),
        ];
        let b = build(&state(), &nesting);
        assert_eq!(b.groups, vec!["g-orders", "g-squad", "g-team"]);
        assert_eq!(b.nested, vec![(1, 2), (2, 0)]);
        assert_eq!(b.roles.len(), 1);
        assert_eq!(b.roles[0].groups, vec![0]);
        assert_eq!(b.apis[0].grants.len(), 2);
        // The decision reads it as intended: a member of the doubly nested group may call.
        let compiled = b.clone().compile().unwrap();
        let m = authorizer::decide::Membership::of(&compiled, &["g-squad".to_string()]);
        let req = authorizer::decide::RouteRequest {
            api_id: "a1b2c3d4e5",
            stage: "prod",
            method: "GET",
            path: authorizer::decide::RequestPath::Template("/orders/{id}"),
        };
        assert!(authorizer::decide::decide(&compiled, &m, 1, &req).is_allowed());
    }

    #[test]
    fn a_person_bound_by_a_request_is_allowed_by_their_own_object_id() {
        let mut desired = state();
        desired.bindings.insert(Binding {
            group: GroupRef::person("graph", "oid-nora"),
            role: RoleArn::parse("arn:aws:iam::123456789012:role/orders-readers").unwrap(),
        });
        let b = build(&desired, &vec![]);
        assert_eq!(b.groups, vec!["g-orders", "oid-nora"]);
        let compiled = b.compile().unwrap();
        let req = authorizer::decide::RouteRequest {
            api_id: "a1b2c3d4e5",
            stage: "prod",
            method: "GET",
            path: authorizer::decide::RequestPath::Template("/orders"),
        };
        // The token's principals are its groups plus the caller's own oid.
        let nora = ["g-elsewhere".to_string(), "oid-nora".to_string()];
        let m = authorizer::decide::Membership::of(&compiled, &nora);
        assert!(authorizer::decide::decide(&compiled, &m, 2, &req).is_allowed());
        let someone = ["g-elsewhere".to_string(), "oid-someone".to_string()];
        let m = authorizer::decide::Membership::of(&compiled, &someone);
        assert!(!authorizer::decide::decide(&compiled, &m, 2, &req).is_allowed());
    }

    #[test]
    fn the_content_hash_ignores_version_and_time_only() {
        let b = build(&state(), &vec![]);
        let sha = content_sha256(&b);
        assert_eq!(
            sha,
            content_sha256(&stamped(b.clone(), 9, "2026-12-03T00:00:00Z".into()))
        );
        let mut other = state();
        other.grants.pop_first();
        assert_ne!(sha, content_sha256(&build(&other, &vec![])));
    }
}
