//! A REST API's resource policy is one document shared with whoever else edits it. A push
//! changes only Gatehouse's statements (`Sid` starting `Gatehouse`): just before writing, the
//! planned statements are merged into the document AWS holds *then*, so a statement someone
//! added after the plan was made is kept, not overwritten by a replace based on an old read.

use super::plan::STATEMENT_PREFIX;

fn is_gatehouse(statement: &serde_json::Value) -> bool {
    statement
        .get("Sid")
        .and_then(|s| s.as_str())
        .is_some_and(|s| s.starts_with(STATEMENT_PREFIX))
}

fn statements(policy: Option<&serde_json::Value>) -> Vec<serde_json::Value> {
    match policy.and_then(|p| p.get("Statement")) {
        Some(serde_json::Value::Array(all)) => all.clone(),
        // IAM allows a single statement as an object.
        Some(one @ serde_json::Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The document to write: `current`'s statements that are not Gatehouse's, then `planned`'s
/// that are (the plan's document carries Gatehouse's wanted statements).
pub fn merge(current: Option<&serde_json::Value>, planned: &serde_json::Value) -> String {
    let version = current
        .and_then(|c| c.get("Version"))
        .cloned()
        .unwrap_or_else(|| "2012-10-17".into());
    let merged: Vec<serde_json::Value> = statements(current)
        .into_iter()
        .filter(|s| !is_gatehouse(s))
        .chain(statements(Some(planned)).into_iter().filter(is_gatehouse))
        .collect();
    serde_json::json!({"Version": version, "Statement": merged}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_statement_added_after_the_plan_is_kept_and_gatehouse_statements_are_replaced() {
        let planned = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Partner", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "old"},
            {"Sid": "Gatehouse1", "Effect": "Allow", "Principal": {"AWS": "r2"}, "Action": "execute-api:Invoke", "Resource": ["b"]},
        ]});
        let current = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Partner", "Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "new"},
            {"Sid": "Gatehouse1", "Effect": "Allow", "Principal": {"AWS": "r1"}, "Action": "execute-api:Invoke", "Resource": ["a"]},
            {"Sid": "AddedLater", "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "x"},
        ]});
        let out: serde_json::Value =
            serde_json::from_str(&merge(Some(&current), &planned)).unwrap();
        let sids: Vec<&str> = out["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids, ["Partner", "AddedLater", "Gatehouse1"]);
        assert_eq!(
            out["Statement"][0]["Resource"], "new",
            "the current text of others wins"
        );
        assert_eq!(
            out["Statement"][2]["Principal"]["AWS"], "r2",
            "Gatehouse's come from the plan"
        );
        let none: serde_json::Value = serde_json::from_str(&merge(None, &planned)).unwrap();
        assert_eq!(none["Statement"].as_array().unwrap().len(), 1);
    }
}
