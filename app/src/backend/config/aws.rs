//! AWS targets: an account and region, optionally reached through an assumed role, each with
//! the way bindings are enforced there.

use crate::domain::enforcement::Enforcement;

/// One AWS account and region, optionally reached by assuming a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsTarget {
    pub account_id: String,
    pub region: String,
    pub role_arn: Option<String>,
    /// `None`: GATEHOUSE_ENFORCEMENT decides.
    pub enforcement: Option<Enforcement>,
}

impl AwsTarget {
    /// How the catalog names where its APIs came from: `account/region`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.account_id, self.region)
    }

    /// Parses `[MODE:]ACCOUNT/REGION[=ROLE_ARN]`, MODE being an enforcement mode.
    pub fn parse(text: &str) -> Result<AwsTarget, String> {
        let (enforcement, text) = match text.split_once(':') {
            Some((mode, rest)) if !mode.starts_with("arn") && !mode.contains('/') => {
                (Some(Enforcement::parse(mode)?), rest)
            }
            _ => (None, text),
        };
        let (place, role) = match text.split_once('=') {
            Some((place, role)) => (place.trim(), Some(role.trim())),
            None => (text.trim(), None),
        };
        let (account, region) = place
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not [MODE:]ACCOUNT/REGION[=ROLE_ARN]"))?;
        check_account(account)?;
        check_region(region)?;
        if let Some(role) = role {
            let parts: Vec<&str> = role.splitn(6, ':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[2] == "iam"
                && parts[5].starts_with("role/");
            if !ok {
                return Err(format!("`{role}` is not an IAM role ARN"));
            }
        }
        Ok(AwsTarget {
            account_id: account.to_string(),
            region: region.to_string(),
            role_arn: role.map(String::from),
            enforcement,
        })
    }
}

pub(super) fn check_account(a: &str) -> Result<(), String> {
    if a.len() != 12 || !a.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{a}` is not a 12-digit account id"));
    }
    Ok(())
}

pub(super) fn check_region(r: &str) -> Result<(), String> {
    let ok = r.split('-').count() >= 3
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(format!("`{r}` is not a region name such as eu-west-1"));
    }
    Ok(())
}
