//! AWS targets: an account and region, optionally reached through an assumed role.

/// One AWS account and region, optionally reached by assuming a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsTarget {
    pub account_id: String,
    pub region: String,
    pub role_arn: Option<String>,
}

impl AwsTarget {
    /// How the catalog names where its APIs came from: `account/region`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.account_id, self.region)
    }

    /// Parses `ACCOUNT/REGION` or `ACCOUNT/REGION=ROLE_ARN`.
    pub fn parse(text: &str) -> Result<AwsTarget, String> {
        let (place, role) = match text.split_once('=') {
            Some((place, role)) => (place.trim(), Some(role.trim())),
            None => (text.trim(), None),
        };
        let (account, region) = place
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not ACCOUNT/REGION[=ROLE_ARN]"))?;
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
