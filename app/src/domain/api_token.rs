//! REST API tokens, with no IO: what a token may do (its scopes), who may make which, and the
//! names and lifetimes people type. Shared by the tokens page (checks as you type) and the server.

use serde::{Deserialize, Serialize};

use crate::roles::Role;

/// What a token may do. Reviewing is no scope: approvals are made by a person, in the browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Read the catalog, mappings, change sets, pushes, drift, history and explain.
    Read,
    /// Create change sets, add items, submit and withdraw them.
    Draft,
    /// Push approved change sets and check for drift.
    Push,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Draft, Scope::Push];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Draft => "draft",
            Scope::Push => "push",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    pub fn describe(self) -> &'static str {
        match self {
            Scope::Read => "read everything a reader sees",
            Scope::Draft => "create, submit and withdraw change sets",
            Scope::Push => "push approved change sets, check drift",
        }
    }

    /// The Gatehouse role a person needs to give a token this scope.
    pub fn needs(self) -> &'static [Role] {
        match self {
            Scope::Read => crate::roles::READERS,
            Scope::Draft | Scope::Push => &[Role::Admin],
        }
    }
}

/// Who a token acts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenKind {
    /// The person who made it, within the roles they had then.
    Person,
    /// A named service identity (a pipeline): it may draft, submit and push, never review.
    Service,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Person => "person",
            TokenKind::Service => "service",
        }
    }

    pub fn parse(text: &str) -> Option<TokenKind> {
        match text.trim() {
            "person" => Some(TokenKind::Person),
            "service" => Some(TokenKind::Service),
            _ => None,
        }
    }
}

/// Longest lifetime a token may have, in days.
pub const MAX_DAYS: u32 = 365;

/// A request to make a token, as typed; [`TokenRequest::check`] says what is wrong per field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub name: String,
    pub kind: String,
    /// The service identity's name (service tokens only).
    pub service: String,
    pub scopes: Vec<String>,
    pub days: String,
}

/// A request that passed [`TokenRequest::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedToken {
    pub name: String,
    pub kind: TokenKind,
    pub service: Option<String>,
    pub scopes: Vec<Scope>,
    pub days: u32,
}

impl TokenRequest {
    /// Checks every field against the maker's roles; answers each wrong field with why.
    pub fn check(&self, maker_roles: &[Role]) -> Result<CheckedToken, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            errors.push(("name", "Name the token after what uses it.".to_string()));
        } else if name.chars().count() > 80 {
            errors.push(("name", "At most 80 characters.".to_string()));
        }
        let kind = TokenKind::parse(&self.kind);
        let service = match kind {
            None => {
                errors.push(("kind", "Choose a personal or a service token.".to_string()));
                None
            }
            Some(TokenKind::Service) if !maker_roles.contains(&Role::Admin) => {
                errors.push(("kind", "Only admins make service tokens.".to_string()));
                None
            }
            Some(TokenKind::Service) => match service_name(&self.service) {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.push(("service", e));
                    None
                }
            },
            Some(TokenKind::Person) => None,
        };
        let mut scopes = Vec::new();
        for s in &self.scopes {
            match Scope::parse(s) {
                Some(scope) => {
                    if kind == Some(TokenKind::Person)
                        && !scope.needs().iter().any(|r| maker_roles.contains(r))
                    {
                        errors.push((
                            "scopes",
                            format!(
                                "Your roles do not allow the {} scope (it needs {}).",
                                scope.as_str(),
                                scope
                                    .needs()
                                    .iter()
                                    .map(|r| r.label())
                                    .collect::<Vec<_>>()
                                    .join(" or ")
                            ),
                        ));
                    } else if !scopes.contains(&scope) {
                        scopes.push(scope);
                    }
                }
                None => errors.push(("scopes", format!("`{}` is not a scope.", s.trim()))),
            }
        }
        if self.scopes.is_empty() {
            errors.push(("scopes", "Choose at least one scope.".to_string()));
        }
        scopes.sort();
        let days = match self.days.trim().parse::<u32>() {
            Ok(d) if (1..=MAX_DAYS).contains(&d) => d,
            _ => {
                errors.push((
                    "days",
                    format!("A whole number of days from 1 to {MAX_DAYS}."),
                ));
                0
            }
        };
        match (errors.is_empty(), kind) {
            (true, Some(kind)) => Ok(CheckedToken {
                name,
                kind,
                service,
                scopes,
                days,
            }),
            _ => Err(errors),
        }
    }
}

/// A service identity's name: lower-case letters, digits and `-`, 3 to 40, starting with a
/// letter (it is how change sets name their author: `service deploy-pipeline`).
pub fn service_name(text: &str) -> Result<String, String> {
    let t = text.trim();
    let ok = (3..=40).contains(&t.len())
        && t.starts_with(|c: char| c.is_ascii_lowercase())
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(t.to_string())
    } else {
        Err("3 to 40 lower-case letters, digits or `-`, starting with a letter (e.g. `deploy-pipeline`).".into())
    }
}

/// The secret's fixed beginning: a leaked token is easy to find (secret scanners match it).
pub const SECRET_PREFIX: &str = "gth_";

/// Whether `text` is shaped like a Gatehouse token (before any lookup).
pub fn looks_like_secret(text: &str) -> bool {
    text.strip_prefix(SECRET_PREFIX).is_some_and(|rest| {
        rest.len() == 64
            && rest
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: &str, scopes: &[&str]) -> TokenRequest {
        TokenRequest {
            name: "CI".into(),
            kind: kind.into(),
            service: "deploy-pipeline".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            days: "30".into(),
        }
    }

    fn fields(e: Vec<(&'static str, String)>) -> Vec<&'static str> {
        e.into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn an_admin_makes_a_service_token_with_every_scope() {
        let t = request("service", &["push", "read", "draft", "read"])
            .check(&[Role::Admin])
            .unwrap();
        assert_eq!(t.kind, TokenKind::Service);
        assert_eq!(t.service.as_deref(), Some("deploy-pipeline"));
        assert_eq!(t.scopes, vec![Scope::Read, Scope::Draft, Scope::Push]);
        assert_eq!(t.days, 30);
    }

    #[test]
    fn only_admins_make_service_tokens() {
        let e = request("service", &["read"])
            .check(&[Role::Reviewer])
            .unwrap_err();
        assert_eq!(fields(e), vec!["kind"]);
    }

    #[test]
    fn a_person_token_stays_within_the_persons_roles() {
        assert!(request("person", &["read"]).check(&[Role::Auditor]).is_ok());
        let e = request("person", &["read", "draft"])
            .check(&[Role::Auditor])
            .unwrap_err();
        assert_eq!(fields(e.clone()), vec!["scopes"]);
        assert!(e[0].1.contains("draft"), "{e:?}");
    }

    #[test]
    fn every_wrong_field_is_named() {
        let r = TokenRequest {
            name: " ".into(),
            kind: "robot".into(),
            service: String::new(),
            scopes: vec!["approve".into()],
            days: "366".into(),
        };
        let e = r.check(&[Role::Admin]).unwrap_err();
        assert_eq!(fields(e), vec!["name", "kind", "scopes", "days"]);
        let none = request("person", &[]).check(&[Role::Admin]).unwrap_err();
        assert_eq!(fields(none), vec!["scopes"]);
    }

    #[test]
    fn service_names_are_plain() {
        assert!(service_name("deploy-pipeline").is_ok());
        for bad in [
            "",
            "ab",
            "Deploy",
            "1deploy",
            "deploy pipeline",
            &"x".repeat(41),
        ] {
            assert!(service_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_have_one_shape() {
        let good = format!("gth_{}", "0a".repeat(32));
        assert!(looks_like_secret(&good));
        assert!(!looks_like_secret(&good[..good.len() - 1]));
        assert!(!looks_like_secret(&format!("ghp_{}", "0a".repeat(32))));
        assert!(!looks_like_secret(&format!("gth_{}g", "0a".repeat(31))));
    }
}
