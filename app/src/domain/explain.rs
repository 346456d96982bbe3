//! "Can this person call `DELETE /payments/{id}` in prod, and why?": from the approved state,
//! the directory's nesting and what the catalog says decides the method, the answer and the
//! first link of the chain that decides it. No IO.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    effective::{person_roles, person_routes, Approved, CatalogMethod, GroupPath},
    grant::GroupRef,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub allowed: bool,
    /// The link that decides, in a sentence.
    pub decided_by: String,
    /// The whole chain when allowed through Gatehouse's mappings.
    pub chain: Vec<String>,
}

fn no(decided_by: String) -> Explanation {
    Explanation {
        allowed: false,
        decided_by,
        chain: Vec::new(),
    }
}

/// Explains whether a person reaching `groups` may call `verb` on the catalogued `method` (the
/// route the request goes to; `None`: no catalogued route takes it) on `stage`. `name` says a
/// group's name.
pub fn explain(
    groups: &BTreeMap<GroupRef, GroupPath>,
    approved: &impl Approved,
    method: Option<&CatalogMethod>,
    verb: &str,
    stage: &str,
    name: &dyn Fn(&GroupRef) -> String,
) -> Explanation {
    let Some(method) = method else {
        return no(format!(
            "no route of the API takes {verb} there (as last synced): API Gateway answers 404 or 403 before any check"
        ));
    };
    let route = format!("{} {} on {stage}", method.http_method, method.path);
    match method.authorization_type.as_str() {
        "NONE" => {
            return Explanation {
                allowed: true,
                decided_by: format!(
                    "{route} has authorization NONE: anyone who can reach the API may call it, mapped or not"
                ),
                chain: Vec::new(),
            }
        }
        "AWS_IAM" | "CUSTOM" => {}
        other => {
            return no(format!(
                "{route} is decided outside Gatehouse (authorization {other}): its authorizer answers"
            ))
        }
    }
    let covering: Vec<_> = person_routes(groups, approved, std::slice::from_ref(method))
        .into_iter()
        .filter(|r| r.stage == "*" || r.stage == stage)
        .collect();
    let path_text = |path: &GroupPath| path.iter().map(name).collect::<Vec<_>>().join(" ⊂ ");
    if let Some(r) = covering.first() {
        return Explanation {
            allowed: true,
            decided_by: format!("grant {} of role {}", r.grant, r.role.name()),
            chain: vec![
                super::effective::through(&r.groups, name),
                format!("role {}", r.role.name()),
                format!("grant {}", r.grant),
                format!("method {}", r.authorization_type),
            ],
        };
    }
    // `groups` may hold the person themselves (their own bindings, access requests'): the
    // counts people read are of groups only.
    let group_count = groups.keys().filter(|g| !g.is_person()).count();
    let roles = person_roles(groups, approved);
    if roles.is_empty() {
        if group_count == 0 {
            return no("they are in no group (as of the last directory sync)".into());
        }
        return no(format!(
            "none of their {group_count} groups is bound to a role"
        ));
    }
    let names: Vec<String> = roles
        .iter()
        .map(|(r, p)| format!("{} (through {})", r.name(), path_text(p)))
        .collect();
    no(format!(
        "no grant of their roles covers {route}: {}",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::desired::DesiredState;
    use crate::domain::{
        desired::ChangeItem,
        effective::reachable_groups,
        grant::{Binding, Grant, GrantInput},
        names::RoleArn,
    };

    fn group(id: &str) -> GroupRef {
        GroupRef::group("file", id)
    }

    fn role(name: &str) -> RoleArn {
        RoleArn::parse(&format!("arn:aws:iam::123456789012:role/{name}")).unwrap()
    }

    fn grant(method: &str, path: &str, stage: &str) -> Grant {
        Grant::parse(&GrantInput {
            role_arn: role("payments-reader").to_string(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: stage.into(),
            method: method.into(),
            path: path.into(),
        })
        .unwrap()
    }

    fn method(verb: &str, auth: &str) -> CatalogMethod {
        CatalogMethod {
            api: grant("GET", "/", "prod").api,
            path: "/payments/{id}".into(),
            http_method: verb.into(),
            authorization_type: auth.into(),
        }
    }

    #[test]
    fn each_answer_names_the_link_that_decides_it() {
        let desired = DesiredState::default()
            .apply(&[
                ChangeItem::AddBinding(Binding {
                    group: group("payments-readers"),
                    role: role("payments-reader"),
                }),
                ChangeItem::AddGrant(grant("GET", "/payments/{id}", "prod")),
            ])
            .unwrap();
        let name = |g: &GroupRef| g.object_id.clone();
        let nested = BTreeMap::from([(group("oncall"), vec![group("payments-readers")])]);
        let alice = reachable_groups(&[group("oncall")], &nested);
        let get = method("GET", "AWS_IAM");
        let e = explain(&alice, &desired, Some(&get), "GET", "prod", &name);
        assert!(e.allowed);
        assert_eq!(
            e.chain,
            [
                "member of oncall ⊂ payments-readers",
                "role payments-reader",
                "grant GET /payments/{id} on prod",
                "method AWS_IAM"
            ]
        );
        // Another stage: the roles are named with why they fall short.
        let e = explain(&alice, &desired, Some(&get), "GET", "dev", &name);
        assert!(!e.allowed);
        assert_eq!(
            e.decided_by,
            "no grant of their roles covers GET /payments/{id} on dev: payments-reader (through oncall ⊂ payments-readers)"
        );
        let delete = method("DELETE", "AWS_IAM");
        assert!(!explain(&alice, &desired, Some(&delete), "DELETE", "prod", &name).allowed);
        // NONE lets anyone in; another authorizer decides outside Gatehouse; no route: nobody.
        let nobody = BTreeMap::new();
        let open = explain(
            &nobody,
            &desired,
            Some(&method("DELETE", "NONE")),
            "DELETE",
            "prod",
            &name,
        );
        assert!(open.allowed && open.decided_by.contains("authorization NONE"));
        let jwt = explain(
            &alice,
            &desired,
            Some(&method("GET", "JWT")),
            "GET",
            "prod",
            &name,
        );
        assert!(!jwt.allowed && jwt.decided_by.contains("outside Gatehouse"));
        assert!(explain(&alice, &desired, None, "GET", "prod", &name)
            .decided_by
            .contains("no route"));
        // No group, or groups bound to nothing.
        let e = explain(&nobody, &desired, Some(&get), "GET", "prod", &name);
        assert_eq!(
            e.decided_by,
            "they are in no group (as of the last directory sync)"
        );
        let loner = reachable_groups(&[group("sales")], &BTreeMap::new());
        let e = explain(&loner, &desired, Some(&get), "GET", "prod", &name);
        assert_eq!(e.decided_by, "none of their 1 groups is bound to a role");
    }
}
