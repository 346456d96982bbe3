//! How a binding "group G uses role R" is made true in AWS, chosen per AWS target.

use serde::{Deserialize, Serialize};

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Enforcement {
    /// Bindings are recorded only: who may assume a role is managed outside Gatehouse.
    #[default]
    None,
    /// A role is an IAM Identity Center permission set; a binding is an account assignment of
    /// the group's identity-store group (SCIM-provisioned from Entra).
    IdentityCenter,
    /// A role is an IAM role trusting the SAML provider; a binding is an app role assignment of
    /// the group on the Entra enterprise application for AWS.
    Saml,
}

/// What the notice says wherever bindings are shown in `none` mode.
pub const RECORDED_ONLY: &str =
    "bindings are recorded only: who may assume a role is managed outside Gatehouse";

impl Enforcement {
    pub const ALL: [Enforcement; 3] = [
        Enforcement::None,
        Enforcement::IdentityCenter,
        Enforcement::Saml,
    ];

    /// The name used in settings (`GATEHOUSE_ENFORCEMENT`).
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::None => "none",
            Enforcement::IdentityCenter => "identity-center",
            Enforcement::Saml => "saml",
        }
    }

    pub fn parse(text: &str) -> Result<Enforcement, String> {
        let text = text.trim();
        Enforcement::ALL
            .into_iter()
            .find(|e| e.as_str() == text)
            .ok_or_else(|| {
                format!("`{text}` is not an enforcement mode: use none, identity-center or saml")
            })
    }

    /// How people get to use a role, for sentences ("… through IAM Identity Center").
    pub fn broker(self) -> &'static str {
        match self {
            Enforcement::None => "outside Gatehouse (bindings are recorded only)",
            Enforcement::IdentityCenter => "IAM Identity Center",
            Enforcement::Saml => "SAML federation through Entra ID",
        }
    }

    /// Whether a binding becomes something in AWS or the directory.
    pub fn enforces_bindings(self) -> bool {
        self != Enforcement::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_by_name_and_anything_else_is_named() {
        for mode in Enforcement::ALL {
            assert_eq!(Enforcement::parse(mode.as_str()), Ok(mode));
        }
        let err = Enforcement::parse("sso").unwrap_err();
        assert!(err.contains("`sso`") && err.contains("identity-center"));
        assert!(!Enforcement::None.enforces_bindings());
    }
}
