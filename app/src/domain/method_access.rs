//! What decides who may call a method, from its authorization type and authorizer: IAM (through
//! roles), Gatehouse's own Lambda authorizer (groups directly, with an access token), nobody
//! (`NONE`: anyone who can reach the API), or an authorizer Gatehouse does not run.

use serde::{Deserialize, Serialize};

/// A REST API's authorizer, as the catalog synced it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizerInfo {
    pub id: String,
    pub name: String,
    /// `TOKEN`, `REQUEST` or `COGNITO_USER_POOLS`.
    pub kind: String,
    /// The Lambda's invocation URI (`…:function:NAME/invocations`), when it has one.
    pub uri: Option<String>,
    /// How long API Gateway caches its answer for a token (snapshots synced before this was
    /// kept have none).
    #[serde(default)]
    pub ttl_seconds: Option<u32>,
}

impl AuthorizerInfo {
    /// Whether this authorizer is Gatehouse's: its Lambda function is `function` (a name, or an
    /// ARN ending in it).
    pub fn is_gatehouse(&self, function: &str) -> bool {
        let name = function.rsplit(':').next().unwrap_or(function);
        !name.is_empty()
            && self.uri.as_deref().is_some_and(|uri| {
                uri.contains(&format!(":function:{name}/"))
                    || uri.contains(&format!(":function:{name}:"))
            })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecidedBy {
    /// `AWS_IAM`: identity policies (and the resource policy) decide, so roles do.
    #[default]
    Iam,
    /// `CUSTOM` with Gatehouse's authorizer: the access bundle decides, group by group.
    Gatehouse,
    /// `NONE`: anyone who can reach the API may call it.
    Anyone,
    /// Another authorizer (`CUSTOM`, `COGNITO_USER_POOLS`, `JWT`): outside Gatehouse.
    Outside(String),
}

impl DecidedBy {
    /// A short key for pages and tests.
    pub fn key(&self) -> &'static str {
        match self {
            DecidedBy::Iam => "iam",
            DecidedBy::Gatehouse => "gatehouse",
            DecidedBy::Anyone => "anyone",
            DecidedBy::Outside(_) => "outside",
        }
    }
}

/// What decides a method with `authorization_type`, given its authorizer (if the catalog knows
/// it) and the name of Gatehouse's authorizer function.
pub fn decided_by(
    authorization_type: &str,
    authorizer: Option<&AuthorizerInfo>,
    gatehouse_function: &str,
) -> DecidedBy {
    match authorization_type {
        "AWS_IAM" => DecidedBy::Iam,
        "NONE" => DecidedBy::Anyone,
        "CUSTOM" | "JWT" => match authorizer {
            Some(a) if a.is_gatehouse(gatehouse_function) => DecidedBy::Gatehouse,
            Some(a) => DecidedBy::Outside(format!("authorizer {} ({})", a.name, a.kind)),
            None => DecidedBy::Outside("an authorizer the catalog does not know".into()),
        },
        "COGNITO_USER_POOLS" => DecidedBy::Outside(match authorizer {
            Some(a) => format!("Cognito user pool authorizer {}", a.name),
            None => "a Cognito user pool".into(),
        }),
        other => DecidedBy::Outside(format!("authorization type {other}")),
    }
}

/// One sentence for the method's line on the API page, from the groups the approved mappings
/// let through (as "group via role (stage)") and how many more there are.
pub fn sentence(decided: &DecidedBy, callers: &[String], more: usize) -> String {
    let named = || {
        let more = match more {
            0 => String::new(),
            n => format!("; and {n} more (see the matrix)"),
        };
        format!("{}{more}", callers.join("; "))
    };
    match decided {
        DecidedBy::Iam if callers.is_empty() => "no group may call it through Gatehouse".into(),
        DecidedBy::Iam => format!("callable by {} through their roles", named()),
        DecidedBy::Gatehouse if callers.is_empty() => {
            "Gatehouse's authorizer decides: no group is granted it".into()
        }
        DecidedBy::Gatehouse => format!(
            "callable by {} with an access token (Gatehouse's authorizer)",
            named()
        ),
        DecidedBy::Anyone if callers.is_empty() => {
            "anyone who can reach the API may call it (authorization NONE)".into()
        }
        DecidedBy::Anyone => format!(
            "anyone who can reach the API may call it (authorization NONE): the grants to {} change nothing here",
            named()
        ),
        DecidedBy::Outside(what) => format!("decided outside Gatehouse, by {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer(name: &str, function: &str) -> AuthorizerInfo {
        AuthorizerInfo {
            id: "abc".into(),
            name: name.into(),
            kind: "TOKEN".into(),
            uri: Some(format!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:{function}/invocations")),
            ttl_seconds: None,
        }
    }

    #[test]
    fn each_authorization_type_names_what_decides() {
        let ours = authorizer("gatehouse", "gatehouse-authorizer");
        let theirs = authorizer("token-authorizer", "authorizer");
        let f = "gatehouse-authorizer";
        assert_eq!(decided_by("AWS_IAM", None, f), DecidedBy::Iam);
        assert_eq!(decided_by("NONE", None, f), DecidedBy::Anyone);
        assert_eq!(decided_by("CUSTOM", Some(&ours), f), DecidedBy::Gatehouse);
        // An ARN names the same function.
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:gatehouse-authorizer";
        assert_eq!(decided_by("CUSTOM", Some(&ours), arn), DecidedBy::Gatehouse);
        // A function whose name only starts like Gatehouse's is not Gatehouse's.
        let lookalike = authorizer("x", "gatehouse-authorizer-old");
        assert!(matches!(
            decided_by("CUSTOM", Some(&lookalike), f),
            DecidedBy::Outside(_)
        ));
        assert_eq!(
            decided_by("CUSTOM", Some(&theirs), f),
            DecidedBy::Outside("authorizer token-authorizer (TOKEN)".into())
        );
        assert!(matches!(
            decided_by("COGNITO_USER_POOLS", None, f),
            DecidedBy::Outside(_)
        ));
        assert!(matches!(
            decided_by("CUSTOM", None, f),
            DecidedBy::Outside(_)
        ));
    }

    #[test]
    fn the_sentence_tells_the_truth_for_each() {
        let callers = vec!["Orders team via orders-readers (prod)".to_string()];
        assert_eq!(
            sentence(&DecidedBy::Iam, &callers, 0),
            "callable by Orders team via orders-readers (prod) through their roles"
        );
        assert!(sentence(&DecidedBy::Gatehouse, &callers, 2).contains("with an access token"));
        assert!(sentence(&DecidedBy::Gatehouse, &callers, 2).contains("and 2 more"));
        assert!(sentence(&DecidedBy::Anyone, &callers, 0).contains("change nothing here"));
        assert!(sentence(
            &DecidedBy::Outside("authorizer x (TOKEN)".into()),
            &callers,
            0
        )
        .starts_with("decided outside Gatehouse"));
        assert_eq!(
            sentence(&DecidedBy::Iam, &[], 0),
            "no group may call it through Gatehouse"
        );
    }
}
