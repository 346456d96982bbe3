//! The IAM policy a role's grants yield: an `Allow` of `execute-api:Invoke` over the sorted,
//! de-duplicated invoke ARNs and, where a path parameter's `*` would reach catalogued routes
//! that are not granted, a `Deny` of those (see [`super::exact`]); minified, sized the way IAM
//! counts (whitespace not counted).
//!
//! IAM limits a role's inline policies to 10,240 characters *together*, so splitting inline
//! policies cannot make more room. Past that, the ARNs are split across customer managed
//! policies of at most 6,144 characters each, as many as the account lets a role attach; beyond
//! that the change is refused with the sizes.

use serde::{Deserialize, Serialize};

use super::{
    exact::{exact_denies, NotExact, RouteCatalog},
    grant::Grant,
};

pub const INLINE_AGGREGATE_LIMIT: usize = 10_240;
pub const MANAGED_POLICY_LIMIT: usize = 6_144;
/// IAM's default of managed policies per role (`AttachedPoliciesPerRoleQuota`).
pub const DEFAULT_MANAGED_PER_ROLE: usize = 10;

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(rename = "Sid")]
    sid: String,
    #[serde(rename = "Effect")]
    effect: &'static str,
    #[serde(rename = "Action")]
    action: &'static str,
    #[serde(rename = "Resource")]
    resource: &'a [String],
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "Version")]
    version: &'static str,
    #[serde(rename = "Statement")]
    statement: Vec<Statement<'a>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDocument {
    pub name: String,
    /// Minified, as pushed.
    pub json: String,
    /// Characters as IAM counts them.
    pub size: usize,
}

impl PolicyDocument {
    /// For people: two-space indent, keys in a fixed order.
    pub fn pretty(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.json)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_else(|_| self.json.clone())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RolePolicy {
    /// The role has no grants: Gatehouse's policies are removed.
    None,
    /// One inline policy.
    Inline(PolicyDocument),
    /// Too large for inline: customer managed policies, attached to the role.
    Managed(Vec<PolicyDocument>),
}

impl RolePolicy {
    pub fn documents(&self) -> Vec<&PolicyDocument> {
        match self {
            RolePolicy::None => Vec::new(),
            RolePolicy::Inline(d) => vec![d],
            RolePolicy::Managed(ds) => ds.iter().collect(),
        }
    }
}

/// Why a role's grants yield no policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    TooLarge(#[from] PolicyTooLarge),
    #[error(transparent)]
    NotExact(#[from] NotExact),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the policy for role {role} needs {size} characters: more than one inline policy holds ({inline_limit}) and more than {managed} managed policies of {managed_limit} hold; split the grants across roles or use wildcards")]
pub struct PolicyTooLarge {
    pub role: String,
    pub size: usize,
    pub inline_limit: usize,
    pub managed: usize,
    pub managed_limit: usize,
}

fn iam_size(json: &str) -> usize {
    json.chars().filter(|c| !c.is_whitespace()).count()
}

/// The `Deny` statement's `Sid`: the exact-policy denials.
pub const DENY_SID: &str = "GatehouseExact";

/// One document over `arns`, each an (allow?, ARN): the allowed ones in one `Allow`
/// statement, the denied ones in one `Deny`.
fn document(name: String, arns: &[(bool, String)]) -> PolicyDocument {
    let allow: Vec<String> = arns.iter().filter(|a| a.0).map(|a| a.1.clone()).collect();
    let deny: Vec<String> = arns.iter().filter(|a| !a.0).map(|a| a.1.clone()).collect();
    let mut statement = Vec::new();
    if !allow.is_empty() {
        statement.push(Statement {
            sid: "GatehouseInvoke".into(),
            effect: "Allow",
            action: "execute-api:Invoke",
            resource: &allow,
        });
    }
    if !deny.is_empty() {
        statement.push(Statement {
            sid: DENY_SID.into(),
            effect: "Deny",
            action: "execute-api:Invoke",
            resource: &deny,
        });
    }
    let doc = Document {
        version: "2012-10-17",
        statement,
    };
    let json = serde_json::to_string(&doc).expect("a policy serialises");
    PolicyDocument {
        size: iam_size(&json),
        name,
        json,
    }
}

/// The policy for `role_name` from its grants, exact over `catalog`; `managed_per_role` is the
/// account's quota.
pub fn role_policy(
    role_name: &str,
    grants: &[&Grant],
    catalog: &RouteCatalog,
    managed_per_role: usize,
) -> Result<RolePolicy, PolicyError> {
    let mut allow: Vec<String> = grants.iter().map(|g| g.invoke_arn()).collect();
    allow.sort();
    allow.dedup();
    if allow.is_empty() {
        return Ok(RolePolicy::None);
    }
    let denies = exact_denies(grants, catalog)?;
    let arns: Vec<(bool, String)> = allow
        .into_iter()
        .map(|a| (true, a))
        .chain(denies.into_iter().map(|d| (false, d)))
        .collect();
    let inline = document("gatehouse-invoke".into(), &arns);
    if inline.size <= INLINE_AGGREGATE_LIMIT {
        return Ok(RolePolicy::Inline(inline));
    }
    // Fill each managed policy as far as it goes, in ARN order (so the split is stable).
    let mut docs = Vec::new();
    let mut start = 0;
    while start < arns.len() {
        let mut end = start + 1;
        while end < arns.len()
            && document(String::new(), &arns[start..=end]).size <= MANAGED_POLICY_LIMIT
        {
            end += 1;
        }
        let doc = document(
            format!("gatehouse-{role_name}-{}", docs.len() + 1),
            &arns[start..end],
        );
        if doc.size > MANAGED_POLICY_LIMIT || docs.len() == managed_per_role {
            return Err(PolicyTooLarge {
                role: role_name.into(),
                size: inline.size,
                inline_limit: INLINE_AGGREGATE_LIMIT,
                managed: managed_per_role,
                managed_limit: MANAGED_POLICY_LIMIT,
            }
            .into());
        }
        docs.push(doc);
        start = end;
    }
    Ok(RolePolicy::Managed(docs))
}

/// Why a change cannot be approved: a role it touches would get a policy Gatehouse cannot push.
/// Checked when an item is added, at submit and at approval, so nothing unpushable reaches the
/// desired state (where it would block every later push of the role, revocations included).
pub fn unpushable(
    roles: &std::collections::BTreeSet<super::names::RoleArn>,
    after: &super::desired::DesiredState,
) -> Option<String> {
    roles.iter().find_map(|role| {
        match role_policy(
            role.name(),
            &after.grants_of(role),
            &after.catalog,
            DEFAULT_MANAGED_PER_ROLE,
        ) {
            Err(e) => Some(e.to_string()),
            Ok(RolePolicy::Managed(docs)) => Some(format!(
                "the policy of role {role} would need {} characters in {} managed policies; Gatehouse pushes one inline policy of at most {INLINE_AGGREGATE_LIMIT} characters: split the grants across roles, or grant a subtree (/path/*) instead of its routes one by one",
                docs.iter().map(|d| d.size).sum::<usize>(),
                docs.len()
            )),
            Ok(_) => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::grant::GrantInput;

    fn grant(path: &str, method: &str) -> Grant {
        Grant::parse(&GrantInput {
            role_arn: "arn:aws:iam::123456789012:role/readers".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: method.into(),
            path: path.into(),
        })
        .unwrap()
    }

    #[test]
    fn a_small_policy_is_one_minified_inline_document_in_a_fixed_order() {
        let (a, b) = (grant("/orders", "GET"), grant("/health", "GET"));
        let one = role_policy("readers", &[&a, &b, &a], &RouteCatalog::new(), 10).unwrap();
        let other = role_policy("readers", &[&b, &a], &RouteCatalog::new(), 10).unwrap();
        assert_eq!(one, other, "order and duplicates do not matter");
        let RolePolicy::Inline(doc) = one else {
            panic!("inline expected")
        };
        assert_eq!(
            doc.json,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"GatehouseInvoke","Effect":"Allow","Action":"execute-api:Invoke","Resource":["arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/health","arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/orders"]}]}"#
        );
        assert_eq!(doc.size, doc.json.len());
        assert!(doc.pretty().contains("\n  \"Version\": \"2012-10-17\""));
        assert_eq!(
            role_policy("readers", &[], &RouteCatalog::new(), 10).unwrap(),
            RolePolicy::None
        );
    }

    #[test]
    fn past_the_inline_limit_grants_split_into_managed_policies_then_refuse() {
        let grants: Vec<Grant> = (0..200)
            .map(|i| grant(&format!("/resource-{i:04}"), "GET"))
            .collect();
        let refs: Vec<&Grant> = grants.iter().collect();
        let RolePolicy::Managed(docs) =
            role_policy("readers", &refs, &RouteCatalog::new(), 10).unwrap()
        else {
            panic!("managed expected")
        };
        assert!(docs.len() >= 2);
        assert!(docs.iter().all(|d| d.size <= MANAGED_POLICY_LIMIT));
        let total: usize = docs
            .iter()
            .map(|d| d.json.matches("execute-api:us-east-1").count())
            .sum();
        assert_eq!(total, 200, "every ARN lands in exactly one policy");
        assert_eq!(docs[0].name, "gatehouse-readers-1");

        let err = role_policy("readers", &refs, &RouteCatalog::new(), 1).unwrap_err();
        assert!(err.to_string().contains("needs") && err.to_string().contains("10240"));
    }
}
