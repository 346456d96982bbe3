//! The access bundle: what Gatehouse publishes for its authorizer after each push that changes
//! it. Groups are listed once and named by index; a role lists the groups bound to it; a grant
//! names its role, stage, method and path — the approved mappings, nothing else. A person bound
//! on their own (an access request) is listed as a group of one, by their object id, which the
//! authorizer matches against the token's `oid`.
//!
//! ```json
//! {"format":"gatehouse-access-bundle/1","version":7,"generated_at":"2026-12-02T10:00:00Z",
//!  "groups":["<group object id>",…], "nested":[[child, parent],…],
//!  "roles":[{"arn":"arn:aws:iam::…:role/orders-readers","groups":[0,3]}],
//!  "apis":[{"api_id":"a1b2c3d4e5","account":"123456789012","region":"eu-west-1","kind":"rest",
//!           "grants":[{"role":0,"stage":"prod","method":"GET","path":"/orders/{id}"}],
//!           "routes":[["GET","/orders/{id}"],…]}]}
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::route::{self, Pattern, Segment};

pub const FORMAT: &str = "gatehouse-access-bundle/1";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    /// Grows by one with each published change.
    pub version: u64,
    /// RFC 3339, UTC.
    pub generated_at: String,
    /// Directory group object ids (or the app role values that stand for them).
    pub groups: Vec<String>,
    /// `[child, parent]`: a member of `child` is a member of `parent` (nested groups the
    /// directory knows of).
    #[serde(default)]
    pub nested: Vec<(u32, u32)>,
    pub roles: Vec<BundleRole>,
    pub apis: Vec<BundleApi>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRole {
    pub arn: String,
    pub groups: Vec<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleApi {
    pub api_id: String,
    pub account: String,
    pub region: String,
    /// `rest` (API Gateway v1) or `http` (v2).
    #[serde(default = "rest")]
    pub kind: String,
    pub grants: Vec<BundleGrant>,
    /// The API's catalogued routes `(method, template)`: a concrete path is resolved against
    /// them, and policies deny what a wildcard would otherwise reach.
    #[serde(default)]
    pub routes: Vec<(String, String)>,
}

fn rest() -> String {
    "rest".into()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleGrant {
    pub role: u32,
    /// A stage name or `*`.
    pub stage: String,
    /// A verb or `*`.
    pub method: String,
    pub path: String,
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("not an access bundle: {0}")]
    Unreadable(String),
    #[error("access bundle format `{0}` is not `{FORMAT}`")]
    Format(String),
    #[error("the access bundle is inconsistent: {0}")]
    Inconsistent(String),
}

/// A bundle made ready for decisions: indexes by group id and API id, patterns parsed.
#[derive(Debug)]
pub struct Compiled {
    pub version: u64,
    pub generated_at: String,
    pub groups: Vec<String>,
    pub group_index: HashMap<String, u32>,
    /// Per group, the groups it is directly a member of.
    pub parents: Vec<Vec<u32>>,
    pub roles: Vec<CompiledRole>,
    pub apis: HashMap<String, CompiledApi>,
}

#[derive(Debug)]
pub struct CompiledRole {
    pub arn: String,
    /// Sorted.
    pub groups: Vec<u32>,
}

#[derive(Debug)]
pub struct CompiledApi {
    pub account: String,
    pub region: String,
    pub kind: String,
    pub grants: Vec<CompiledGrant>,
    pub routes: Vec<CatalogRoute>,
}

#[derive(Debug)]
pub struct CompiledGrant {
    pub role: u32,
    pub stage: String,
    pub method: String,
    pub path: String,
    pub pattern: Pattern,
}

#[derive(Debug)]
pub struct CatalogRoute {
    pub method: String,
    pub path: String,
    pub template: Vec<Segment>,
}

impl Bundle {
    pub fn from_json(bytes: &[u8]) -> Result<Bundle, BundleError> {
        let bundle: Bundle =
            serde_json::from_slice(bytes).map_err(|e| BundleError::Unreadable(e.to_string()))?;
        if bundle.format != FORMAT {
            return Err(BundleError::Format(bundle.format));
        }
        Ok(bundle)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a bundle serialises")
    }

    /// Checks every index and pattern, and builds the lookups decisions use.
    pub fn compile(self) -> Result<Compiled, BundleError> {
        let n = self.groups.len() as u32;
        let bad = |what: String| BundleError::Inconsistent(what);
        let mut parents = vec![Vec::new(); self.groups.len()];
        for (child, parent) in &self.nested {
            if *child >= n || *parent >= n {
                return Err(bad(format!(
                    "nested pair [{child}, {parent}] names no group"
                )));
            }
            parents[*child as usize].push(*parent);
        }
        let mut roles = Vec::with_capacity(self.roles.len());
        for r in self.roles {
            if let Some(g) = r.groups.iter().find(|g| **g >= n) {
                return Err(bad(format!("role {} names group #{g}", r.arn)));
            }
            let mut groups = r.groups;
            groups.sort_unstable();
            groups.dedup();
            roles.push(CompiledRole { arn: r.arn, groups });
        }
        let mut apis = HashMap::with_capacity(self.apis.len());
        for api in self.apis {
            let mut grants = Vec::with_capacity(api.grants.len());
            for g in api.grants {
                if g.role as usize >= roles.len() {
                    return Err(bad(format!(
                        "a grant on {} names role #{}",
                        api.api_id, g.role
                    )));
                }
                let pattern = Pattern::parse(&g.path)
                    .map_err(|e| bad(format!("a grant on {}: {e}", api.api_id)))?;
                grants.push(CompiledGrant {
                    role: g.role,
                    stage: g.stage,
                    method: g.method.to_ascii_uppercase(),
                    path: g.path,
                    pattern,
                });
            }
            let routes = api
                .routes
                .into_iter()
                .map(|(method, path)| {
                    let template = route::template(&path)
                        .map_err(|e| bad(format!("a route of {}: {e}", api.api_id)))?;
                    Ok(CatalogRoute {
                        method: method.to_ascii_uppercase(),
                        path,
                        template,
                    })
                })
                .collect::<Result<Vec<_>, BundleError>>()?;
            apis.insert(
                api.api_id,
                CompiledApi {
                    account: api.account,
                    region: api.region,
                    kind: api.kind,
                    grants,
                    routes,
                },
            );
        }
        let group_index = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.clone(), i as u32))
            .collect();
        Ok(Compiled {
            version: self.version,
            generated_at: self.generated_at,
            groups: self.groups,
            group_index,
            parents,
            roles,
            apis,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Bundle {
        Bundle {
            format: FORMAT.into(),
            version: 3,
            generated_at: "2026-12-02T10:00:00Z".into(),
            groups: vec!["g-orders".into(), "g-finance".into(), "g-sub".into()],
            nested: vec![(2, 0)],
            roles: vec![BundleRole {
                arn: "arn:aws:iam::123456789012:role/orders-readers".into(),
                groups: vec![0],
            }],
            apis: vec![BundleApi {
                api_id: "a1b2c3d4e5".into(),
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                kind: "rest".into(),
                grants: vec![BundleGrant {
                    role: 0,
                    stage: "prod".into(),
                    method: "GET".into(),
                    path: "/orders/{id}".into(),
                }],
                routes: vec![("GET".into(), "/orders/{id}".into())],
            }],
        }
    }

    #[test]
    fn a_bundle_round_trips_and_compiles() {
        let bundle = sample();
        let back = Bundle::from_json(&bundle.to_json()).unwrap();
        assert_eq!(back, bundle);
        let compiled = back.compile().unwrap();
        assert_eq!(compiled.group_index["g-sub"], 2);
        assert_eq!(compiled.parents[2], vec![0]);
    }

    #[test]
    fn a_wrong_format_or_a_dangling_index_is_refused() {
        let mut other = sample();
        other.format = "something/2".into();
        assert_eq!(
            Bundle::from_json(&other.to_json()).unwrap_err(),
            BundleError::Format("something/2".into())
        );
        let mut dangling = sample();
        dangling.roles[0].groups.push(9);
        assert!(dangling
            .compile()
            .unwrap_err()
            .to_string()
            .contains("group #9"));
        let mut bad_path = sample();
        bad_path.apis[0].grants[0].path = "orders".into();
        assert!(bad_path.compile().is_err());
        assert!(Bundle::from_json(b"{").is_err());
    }
}
