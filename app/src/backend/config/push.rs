//! Push settings: what a push may change, how fast it may call AWS, and how long a process holds
//! a push before another may take it over.

use std::time::Duration;

use clap::Args;

use super::{invalid, positive, ConfigError};
use crate::domain::{
    attach::{AttachScope, MAX_TTL_SECONDS},
    enforcement::Enforcement,
};

#[derive(Args, Debug, Default, Clone)]
pub struct PushArgs {
    /// `true`: a push sets each granted method's authorization type to AWS_IAM (and redeploys
    /// the stages concerned). Default `false`: methods are left as they are.
    #[arg(long, env = "GATEHOUSE_ENFORCE_IAM_AUTH", global = true)]
    pub enforce_iam_auth: Option<String>,
    /// `true`: a push keeps each REST API's resource policy allowing every role its granted
    /// routes (one statement per role; others' statements are kept) and redeploys the stages
    /// concerned. Needed for callers in other accounts.
    #[arg(long, env = "GATEHOUSE_RESOURCE_POLICY", global = true)]
    pub resource_policy: Option<String>,
    /// Trust policy (JSON) of the roles a push creates. Default: the role's own account may
    /// assume it.
    #[arg(long, env = "GATEHOUSE_NEW_ROLE_TRUST_POLICY", global = true)]
    pub new_role_trust_policy: Option<String>,
    /// AWS calls per second a push makes per account (API Gateway allows 10).
    #[arg(long, env = "GATEHOUSE_PUSH_CALLS_PER_SECOND", global = true)]
    pub push_calls_per_second: Option<String>,
    /// Milliseconds between two CreateDeployment calls in one account (API Gateway: 5000).
    #[arg(long, env = "GATEHOUSE_PUSH_DEPLOY_INTERVAL_MS", global = true)]
    pub push_deploy_interval_ms: Option<String>,
    /// `true`: an approved change set is pushed at once, without an admin's click.
    #[arg(long, env = "GATEHOUSE_PUSH_ON_APPROVAL", global = true)]
    pub push_on_approval: Option<String>,
    /// Minutes between scheduled drift checks; 0 turns the schedule off (default 60).
    #[arg(long, env = "GATEHOUSE_DRIFT_INTERVAL_MINUTES", global = true)]
    pub drift_interval_minutes: Option<String>,
    /// Seconds a process holds a push; if it dies, another takes the push over after this.
    #[arg(long, env = "GATEHOUSE_PUSH_LEASE_SECONDS", global = true)]
    pub push_lease_seconds: Option<String>,
    /// How bindings (group → role) are made true: `none` (recorded only), `identity-center`
    /// (permission sets and account assignments) or `saml` (role trust and Entra app role
    /// assignments). A target may override it in GATEHOUSE_AWS_TARGETS.
    #[arg(long, env = "GATEHOUSE_ENFORCEMENT", global = true)]
    pub enforcement: Option<String>,
    /// The IAM Identity Center instance (`arn:aws:sso:::instance/ssoins-…`); default: the only
    /// one ListInstances answers.
    #[arg(long, env = "GATEHOUSE_IDENTITY_CENTER_INSTANCE_ARN", global = true)]
    pub identity_center_instance_arn: Option<String>,
    /// The region of the Identity Center instance (default: AWS_REGION).
    #[arg(long, env = "GATEHOUSE_IDENTITY_CENTER_REGION", global = true)]
    pub identity_center_region: Option<String>,
    /// SAML mode: the name of the IAM SAML provider for Entra ID in each account.
    #[arg(long, env = "GATEHOUSE_SAML_PROVIDER", global = true)]
    pub saml_provider: Option<String>,
    /// The name of the managed policy every role Gatehouse makes carries as its permissions
    /// boundary (in each account; `gatehouse aws-policy --boundary` prints one that allows
    /// `execute-api:Invoke` only).
    #[arg(long, env = "GATEHOUSE_PERMISSIONS_BOUNDARY", global = true)]
    pub permissions_boundary: Option<String>,
    /// SAML mode: the object id of the service principal of the Entra enterprise application
    /// for AWS (its app roles and their assignments are written through Microsoft Graph).
    #[arg(long, env = "GATEHOUSE_SAML_SERVICE_PRINCIPAL_ID", global = true)]
    pub saml_service_principal_id: Option<String>,
    /// Token mode: where each push publishes the access bundle Gatehouse's Lambda authorizer
    /// reads (`s3://BUCKET/KEY`). Unset: no bundle is published.
    #[arg(long, env = "GATEHOUSE_ACCESS_BUNDLE", global = true)]
    pub access_bundle: Option<String>,
    /// Token mode: the audiences (application id URIs or client ids) of the APIs' access
    /// tokens, comma-separated; "Try a call" and `gatehouse authorize` check pasted tokens
    /// against them.
    #[arg(long, env = "GATEHOUSE_API_AUDIENCES", global = true)]
    pub api_audiences: Option<String>,
    /// The Lambda function (name or ARN) of Gatehouse's authorizer: a method whose authorizer
    /// invokes it is decided by the access bundle (default `gatehouse-authorizer`).
    #[arg(long, env = "GATEHOUSE_AUTHORIZER_FUNCTION", global = true)]
    pub authorizer_function: Option<String>,
    /// Token mode: the APIs a push attaches Gatehouse's authorizer to (creates it, sets each
    /// granted method to CUSTOM with it, redeploys): comma-separated `*`, targets
    /// (`ACCOUNT/REGION`), API ids and API names. Unset: methods are left as they are.
    #[arg(long, env = "GATEHOUSE_ATTACH_AUTHORIZER", global = true)]
    pub attach_authorizer: Option<String>,
    /// Token mode: seconds API Gateway caches the authorizer's answer for a token (0 to 3600,
    /// default 60). An approved change reaches callers within this plus the bundle's refresh.
    #[arg(long, env = "GATEHOUSE_AUTHORIZER_TTL_SECONDS", global = true)]
    pub authorizer_ttl_seconds: Option<String>,
}

/// How long API Gateway caches an answer of the authorizer it is given by default.
pub const DEFAULT_AUTHORIZER_TTL_SECONDS: u32 = 60;

/// The function name `cargo lambda deploy` gives the authorizer by default.
pub const DEFAULT_AUTHORIZER_FUNCTION: &str = "gatehouse-authorizer";

#[derive(Clone, Debug)]
pub struct PushSettings {
    pub enforce_iam: bool,
    pub resource_policy: bool,
    pub trust_policy: Option<String>,
    pub calls_per_second: f64,
    pub deploy_interval: Duration,
    pub push_on_approval: bool,
    pub lease: Duration,
    /// `None`: no scheduled drift check.
    pub drift_interval: Option<Duration>,
    /// The Identity Center instance and its region (`None` for both: discovered, AWS_REGION).
    pub identity_center_instance: Option<String>,
    pub identity_center_region: Option<String>,
    /// The IAM SAML provider's name in each account (SAML mode).
    pub saml_provider: Option<String>,
    /// The permissions boundary's policy name, set on every role Gatehouse makes.
    pub permissions_boundary: Option<String>,
    /// The enterprise application's service principal (SAML mode).
    pub saml_service_principal: Option<String>,
    /// Token mode: the S3 bucket and key of the access bundle.
    pub access_bundle: Option<(String, String)>,
    /// Token mode: accepted audiences of API access tokens.
    pub api_audiences: Vec<String>,
    /// Gatehouse's authorizer's Lambda function (name or ARN).
    pub authorizer_function: String,
    /// Token mode: the APIs pushes attach the authorizer to.
    pub attach_authorizer: AttachScope,
    /// Token mode: the authorizer's answer cache, in seconds.
    pub authorizer_ttl_seconds: u32,
}

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            enforce_iam: false,
            resource_policy: false,
            trust_policy: None,
            calls_per_second: 10.0,
            deploy_interval: Duration::from_secs(5),
            push_on_approval: false,
            lease: Duration::from_secs(30),
            drift_interval: None,
            identity_center_instance: None,
            identity_center_region: None,
            saml_provider: None,
            permissions_boundary: None,
            saml_service_principal: None,
            access_bundle: None,
            api_audiences: Vec::new(),
            authorizer_function: DEFAULT_AUTHORIZER_FUNCTION.into(),
            attach_authorizer: AttachScope::default(),
            authorizer_ttl_seconds: DEFAULT_AUTHORIZER_TTL_SECONDS,
        }
    }
}

fn flag(value: &Option<String>, name: super::Name) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(invalid(
            name,
            format!("`{other}` is neither true nor false"),
        )),
    }
}

fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

impl PushArgs {
    /// GATEHOUSE_ENFORCEMENT (default `none`).
    pub fn enforcement(&self) -> Result<Enforcement, ConfigError> {
        match text(&self.enforcement) {
            None => Ok(Enforcement::None),
            Some(mode) => Enforcement::parse(&mode)
                .map_err(|e| invalid(("GATEHOUSE_ENFORCEMENT", "enforcement"), e)),
        }
    }

    pub fn settings(&self) -> Result<PushSettings, ConfigError> {
        let instance = text(&self.identity_center_instance_arn);
        if let Some(arn) = &instance {
            if !(arn.starts_with("arn:") && arn.contains(":sso:::instance/")) {
                return Err(invalid(
                    ("GATEHOUSE_IDENTITY_CENTER_INSTANCE_ARN", "identity-center-instance-arn"),
                    format!("`{arn}` is not an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)"),
                ));
            }
        }
        let permissions_boundary = text(&self.permissions_boundary);
        if let Some(name) = &permissions_boundary {
            if name.len() > 128
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
            {
                return Err(invalid(
                    ("GATEHOUSE_PERMISSIONS_BOUNDARY", "permissions-boundary"),
                    format!("`{name}` is not an IAM policy name (letters, digits and +=,.@-_, at most 128)"),
                ));
            }
        }
        let saml_provider = text(&self.saml_provider);
        if let Some(name) = &saml_provider {
            let ok = name.len() <= 128
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !ok {
                return Err(invalid(
                    ("GATEHOUSE_SAML_PROVIDER", "saml-provider"),
                    format!("`{name}` is not a SAML provider name (letters, digits, . _ -)"),
                ));
            }
        }
        let trust_name = ("GATEHOUSE_NEW_ROLE_TRUST_POLICY", "new-role-trust-policy");
        let trust_policy = match self.new_role_trust_policy.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let doc: serde_json::Value = serde_json::from_str(text)
                    .map_err(|e| invalid(trust_name, format!("not JSON: {e}")))?;
                if doc.get("Statement").is_none() {
                    return Err(invalid(trust_name, "a policy document needs a Statement"));
                }
                Some(doc.to_string())
            }
        };
        let deploy_name = (
            "GATEHOUSE_PUSH_DEPLOY_INTERVAL_MS",
            "push-deploy-interval-ms",
        );
        let deploy_ms = match self.push_deploy_interval_ms.as_deref().map(str::trim) {
            Some("0") => 0,
            _ => positive(&self.push_deploy_interval_ms, 5000, deploy_name)?,
        };
        let attach_name = ("GATEHOUSE_ATTACH_AUTHORIZER", "attach-authorizer");
        let attach_authorizer = AttachScope::parse(self.attach_authorizer.as_deref().unwrap_or(""))
            .map_err(|e| invalid(attach_name, e))?;
        if !attach_authorizer.is_empty() && text(&self.access_bundle).is_none() {
            return Err(invalid(
                attach_name,
                "the authorizer decides from the access bundle pushes publish: set GATEHOUSE_ACCESS_BUNDLE too",
            ));
        }
        let ttl_name = ("GATEHOUSE_AUTHORIZER_TTL_SECONDS", "authorizer-ttl-seconds");
        let authorizer_ttl_seconds = match text(&self.authorizer_ttl_seconds) {
            None => DEFAULT_AUTHORIZER_TTL_SECONDS,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n <= MAX_TTL_SECONDS => n,
                _ => {
                    return Err(invalid(
                        ttl_name,
                        format!("`{v}` is not a number of seconds from 0 to {MAX_TTL_SECONDS}"),
                    ))
                }
            },
        };
        Ok(PushSettings {
            attach_authorizer,
            authorizer_ttl_seconds,
            enforce_iam: flag(
                &self.enforce_iam_auth,
                ("GATEHOUSE_ENFORCE_IAM_AUTH", "enforce-iam-auth"),
            )?,
            resource_policy: flag(
                &self.resource_policy,
                ("GATEHOUSE_RESOURCE_POLICY", "resource-policy"),
            )?,
            trust_policy,
            calls_per_second: positive(
                &self.push_calls_per_second,
                10,
                ("GATEHOUSE_PUSH_CALLS_PER_SECOND", "push-calls-per-second"),
            )? as f64,
            deploy_interval: Duration::from_millis(deploy_ms),
            push_on_approval: flag(
                &self.push_on_approval,
                ("GATEHOUSE_PUSH_ON_APPROVAL", "push-on-approval"),
            )?,
            drift_interval: super::minutes(
                &self.drift_interval_minutes,
                60,
                ("GATEHOUSE_DRIFT_INTERVAL_MINUTES", "drift-interval-minutes"),
            )?,
            identity_center_instance: instance,
            identity_center_region: text(&self.identity_center_region),
            saml_provider,
            permissions_boundary,
            saml_service_principal: match text(&self.saml_service_principal_id) {
                Some(id) if uuid::Uuid::parse_str(&id).is_err() => {
                    return Err(invalid(
                        (
                            "GATEHOUSE_SAML_SERVICE_PRINCIPAL_ID",
                            "saml-service-principal-id",
                        ),
                        format!("`{id}` is not an object id (a GUID)"),
                    ))
                }
                other => other,
            },
            access_bundle: match text(&self.access_bundle) {
                None => None,
                Some(location) => Some(
                    authorizer::config::s3_location(&location)
                        .map_err(|e| invalid(("GATEHOUSE_ACCESS_BUNDLE", "access-bundle"), e))?,
                ),
            },
            authorizer_function: text(&self.authorizer_function)
                .unwrap_or_else(|| DEFAULT_AUTHORIZER_FUNCTION.into()),
            api_audiences: text(&self.api_audiences)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            lease: Duration::from_secs(positive(
                &self.push_lease_seconds,
                30,
                ("GATEHOUSE_PUSH_LEASE_SECONDS", "push-lease-seconds"),
            )?),
        })
    }
}

/// The trust policy Gatehouse keeps on a role in SAML mode: only Entra ID's sign-in through the
/// account's SAML provider may assume it, for the AWS sign-in audience.
pub fn saml_trust_policy(partition: &str, account: &str, provider: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": saml_provider_arn(partition, account, provider)},
            "Action": "sts:AssumeRoleWithSAML",
            "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
        }]
    })
    .to_string()
}

pub fn saml_provider_arn(partition: &str, account: &str, provider: &str) -> String {
    format!("arn:{partition}:iam::{account}:saml-provider/{provider}")
}

/// The trust policy of a role Gatehouse creates in `account` when none is configured.
pub fn default_trust_policy(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_push_settings_are_named() {
        let args = PushArgs {
            enforce_iam_auth: Some("yes".into()),
            ..Default::default()
        };
        assert!(args
            .settings()
            .unwrap_err()
            .to_string()
            .contains("GATEHOUSE_ENFORCE_IAM_AUTH"));
        let args = PushArgs {
            new_role_trust_policy: Some("{\"Version\":1}".into()),
            ..Default::default()
        };
        assert!(args
            .settings()
            .unwrap_err()
            .to_string()
            .contains("needs a Statement"));
        let ok = PushArgs {
            enforce_iam_auth: Some("true".into()),
            push_deploy_interval_ms: Some("0".into()),
            ..Default::default()
        }
        .settings()
        .unwrap();
        assert!(ok.enforce_iam && ok.deploy_interval.is_zero() && !ok.push_on_approval);
    }

    #[test]
    fn attaching_the_authorizer_needs_the_bundle_and_a_sane_cache() {
        let error = |args: PushArgs| args.settings().unwrap_err().to_string();
        let attach = |bundle: Option<&str>, ttl: Option<&str>| PushArgs {
            attach_authorizer: Some("inventory-api".into()),
            access_bundle: bundle.map(String::from),
            authorizer_ttl_seconds: ttl.map(String::from),
            ..Default::default()
        };
        assert!(error(attach(None, None)).contains("set GATEHOUSE_ACCESS_BUNDLE too"));
        let bundle = Some("s3://b/k.json.gz");
        assert!(error(attach(bundle, Some("3601"))).contains("GATEHOUSE_AUTHORIZER_TTL_SECONDS"));
        let bad_target = PushArgs {
            attach_authorizer: Some("1234/eu-west-1".into()),
            ..attach(bundle, None)
        };
        assert!(error(bad_target).contains("GATEHOUSE_ATTACH_AUTHORIZER"));
        let ok = attach(bundle, Some("0")).settings().unwrap();
        assert!(!ok.attach_authorizer.is_empty() && ok.authorizer_ttl_seconds == 0);
        assert_eq!(
            PushArgs::default()
                .settings()
                .unwrap()
                .authorizer_ttl_seconds,
            DEFAULT_AUTHORIZER_TTL_SECONDS
        );
    }
}
