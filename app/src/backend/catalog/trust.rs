//! Who a trust policy lets assume the role: the principals of its Allow statements for
//! `sts:AssumeRole*`, as the Roles table shows them.

use serde_json::Value;

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

pub fn trusted_principals(policy: &Value) -> Vec<String> {
    let statements = match policy.get("Statement") {
        Some(Value::Array(s)) => s.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => return Vec::new(),
    };
    let mut principals = Vec::new();
    for st in statements {
        let allows = st.get("Effect").and_then(Value::as_str) == Some("Allow");
        let assumes = st
            .get("Action")
            .map(strings)
            .unwrap_or_default()
            .iter()
            .any(|a| a.starts_with("sts:AssumeRole") || a == "sts:*" || a == "*");
        if !(allows && assumes) {
            continue;
        }
        match st.get("Principal") {
            Some(Value::String(s)) => principals.push(s.clone()),
            Some(Value::Object(kinds)) => {
                for values in kinds.values() {
                    principals.extend(strings(values));
                }
            }
            _ => {}
        }
    }
    principals.sort();
    principals.dedup();
    principals
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn allow_statements_for_assume_role_name_their_principals() {
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRoleWithSAML",
                 "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/EntraID"}},
                {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"],
                 "Principal": {"AWS": ["arn:aws:iam::123456789012:root"], "Service": "lambda.amazonaws.com"}},
                {"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}},
                {"Effect": "Allow", "Action": "s3:GetObject", "Principal": "*"}
            ]
        });
        assert_eq!(
            trusted_principals(&policy),
            [
                "arn:aws:iam::123456789012:root",
                "arn:aws:iam::123456789012:saml-provider/EntraID",
                "lambda.amazonaws.com"
            ]
        );
        assert!(trusted_principals(&json!({"Statement": "nonsense"})).is_empty());
    }
}
