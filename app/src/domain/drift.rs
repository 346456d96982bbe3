//! Drift: what AWS holds that differs from the desired state, and the change that would make
//! AWS's state the desired one ("adopt"). No IO.

use std::collections::BTreeSet;

use super::{
    desired::{ChangeItem, DesiredState},
    grant::{ApiRef, Grant, GrantInput},
    names::RoleArn,
};

/// The `execute-api` ARNs of policy documents (their `Allow` statements' resources).
pub fn policy_arns<'a>(docs: impl IntoIterator<Item = &'a serde_json::Value>) -> BTreeSet<String> {
    let mut arns = BTreeSet::new();
    for doc in docs {
        let statements = match &doc["Statement"] {
            serde_json::Value::Array(all) => all.clone(),
            one @ serde_json::Value::Object(_) => vec![one.clone()],
            _ => Vec::new(),
        };
        for st in statements.iter().filter(|s| s["Effect"] == "Allow") {
            match &st["Resource"] {
                serde_json::Value::String(r) => {
                    arns.insert(r.clone());
                }
                serde_json::Value::Array(rs) => {
                    arns.extend(rs.iter().filter_map(|r| r.as_str().map(String::from)))
                }
                _ => {}
            }
        }
    }
    arns
}

/// The grant an invoke ARN read back from AWS stands for, when it can be read as one.
fn grant_from_arn(role: &RoleArn, arn: &str) -> Option<Grant> {
    let parsed = super::grant::InvokeArn::parse(arn).ok()?;
    Grant::parse(&GrantInput {
        role_arn: role.to_string(),
        account: parsed.account.as_str().into(),
        region: parsed.region.as_str().into(),
        api_id: parsed.api_id.as_str().into(),
        stage: parsed.stage.as_str().into(),
        method: parsed.method.as_str().into(),
        path: parsed.path,
    })
    .ok()
}

/// The items that make `role`'s grants in the desired state those AWS's policies for it allow
/// (`aws_arns`; `None`: the role is gone, so its grants and bindings go).
/// ARNs that cannot be read as a grant are left out (and named in the second value).
pub fn adopt_role(
    desired: &DesiredState,
    role: &RoleArn,
    aws_arns: Option<&BTreeSet<String>>,
) -> (Vec<ChangeItem>, Vec<String>) {
    let mine: Vec<&Grant> = desired.grants_of(role);
    let Some(aws) = aws_arns else {
        let mut items: Vec<ChangeItem> = mine
            .into_iter()
            .cloned()
            .map(ChangeItem::RemoveGrant)
            .collect();
        items.extend(
            desired
                .bindings
                .iter()
                .filter(|b| &b.role == role)
                .cloned()
                .map(ChangeItem::RemoveBinding),
        );
        return (items, Vec::new());
    };
    let mut items: Vec<ChangeItem> = mine
        .iter()
        .filter(|g| !aws.contains(&g.invoke_arn()))
        .map(|g| ChangeItem::RemoveGrant((*g).clone()))
        .collect();
    let have: BTreeSet<String> = mine.iter().map(|g| g.invoke_arn()).collect();
    let mut unreadable = Vec::new();
    for arn in aws.iter().filter(|a| !have.contains(*a)) {
        match grant_from_arn(role, arn) {
            Some(g) if !desired.grants.contains(&g) => items.push(ChangeItem::AddGrant(g)),
            Some(_) => {}
            None => unreadable.push(arn.clone()),
        }
    }
    (items, unreadable)
}

/// The API a drift item concerns, for re-pushing it.
pub fn api_key(api: &ApiRef) -> String {
    format!(
        "{}/{}/{}",
        api.account.as_str(),
        api.region.as_str(),
        api.api_id.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::123456789012:role/readers";

    fn grant(path: &str) -> Grant {
        Grant::parse(&GrantInput {
            role_arn: ROLE.into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            api_id: "a1b2c3d4e5".into(),
            stage: "prod".into(),
            method: "GET".into(),
            path: path.into(),
        })
        .unwrap()
    }

    #[test]
    fn adopting_takes_what_aws_allows_and_drops_what_it_does_not() {
        let desired = DesiredState::default()
            .apply(&[
                ChangeItem::AddGrant(grant("/orders")),
                ChangeItem::AddGrant(grant("/health")),
            ])
            .unwrap();
        let role = RoleArn::parse(ROLE).unwrap();
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "execute-api:Invoke", "Resource": [grant("/orders").invoke_arn(), grant("/items").invoke_arn(), "*"]}]});
        let arns = policy_arns([&doc]);
        let (items, unreadable) = adopt_role(&desired, &role, Some(&arns));
        assert_eq!(
            items,
            vec![
                ChangeItem::RemoveGrant(grant("/health")),
                ChangeItem::AddGrant(grant("/items"))
            ]
        );
        assert_eq!(unreadable, vec!["*".to_string()]);
        let (gone, _) = adopt_role(&desired, &role, None);
        assert_eq!(gone.len(), 2);
        assert!(gone.iter().all(|i| matches!(i, ChangeItem::RemoveGrant(_))));
    }
}
