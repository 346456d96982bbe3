//! Settings from flags, each with an environment fallback. Parsing is strict and names the
//! setting that is wrong; secrets never reach a log line or an error message.

use std::{fmt, net::SocketAddr, time::Duration};

use clap::{Args, Parser, Subcommand};
use url::Url;
use uuid::Uuid;

use crate::backend::auth::roles::RoleMapping;

mod aws;
pub mod push;
pub use aws::AwsTarget;
use aws::{check_account, check_region};
pub use push::PushSettings;

#[derive(Parser, Debug)]
#[command(
    name = "gatehouse",
    version,
    about = "Reviewed, audited access from directory groups to AWS API Gateway"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web dashboard (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Create the sample REST APIs and IAM roles of the local demo in the AWS endpoint (idempotent).
    SeedDemo,
    /// Fill an empty database with a mid-sized company's data, for `bench/scale.sh`.
    SeedScale {
        /// 1: 5,000 groups, 50 APIs, 500 roles, 10,000 mappings, 1,000,000 events; 2 doubles.
        #[arg(long, default_value_t = 1)]
        factor: usize,
    },
    /// Sync a catalog from AWS or the directory into the database now.
    Sync {
        #[arg(value_enum)]
        catalog: SyncCatalog,
        /// Groups: list everything, ignoring the stored delta links.
        #[arg(long)]
        full: bool,
        /// Groups: apply removals the mass-removal guard held back (audited).
        #[arg(long)]
        allow_removals: bool,
    },
    /// Create a change set from a file (YAML or JSON, as the REST API's `POST /api/v1/change-sets`
    /// takes it: title, justification, ticket, items, submit) as a named service identity: what a
    /// pipeline runs instead of calling the REST API. Nothing is made if one item does not fit.
    Changes {
        /// The file (`-`: standard input).
        file: std::path::PathBuf,
        /// The service identity the change set is made by (it can never approve it).
        #[arg(long = "as", value_name = "SERVICE")]
        service: String,
        /// Submit it for review (as `"submit": true` in the file).
        #[arg(long)]
        submit: bool,
        /// One JSON object on standard output instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print every AWS call pushing a change set would make now and how each policy changes
    /// (reads AWS, writes nothing). Exit status 0 nothing to do, 2 calls to make, 1 error (as
    /// `terraform plan -detailed-exitcode`).
    Plan {
        /// The change set's number.
        change_set: i64,
        /// One JSON object on standard output instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Push an approved change set to IAM and API Gateway, with progress; resumes an
    /// interrupted push of it.
    Push {
        change_set: i64,
        /// The outcome as one JSON object on standard output (progress stays on standard error).
        #[arg(long)]
        json: bool,
    },
    /// Print the REST API's OpenAPI 3.1 document (what `/api/v1/openapi.json` serves), for
    /// client generators and contract checks in a pipeline.
    Openapi,
    /// Ask a running server whether it is ready (`GET /readyz`): exit 0 ready, 1 not. What a
    /// container's HEALTHCHECK runs (the image has no shell or curl).
    Ready {
        /// The address to ask.
        #[arg(long, default_value = "http://127.0.0.1:3000/readyz")]
        url: String,
    },
    /// Print the IAM policy Gatehouse itself needs for this configuration (every action the code
    /// calls, role writes limited to managed roles and, with GATEHOUSE_PERMISSIONS_BOUNDARY, to
    /// roles carrying that boundary); `--boundary`: the boundary policy to create instead.
    AwsPolicy {
        #[arg(long)]
        boundary: bool,
    },
    /// Compare AWS with the desired state for every managed role and mapped API; print each
    /// difference (exit status 3 when there is drift).
    Drift {
        /// One JSON object on standard output instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Would Gatehouse's authorizer let a token's bearer (or a directory person) call a route,
    /// and why: `gatehouse authorize --token JWT --api ID --stage prod GET /orders/42`. Decides
    /// on the last published access bundle; exit status 0 allowed, 4 refused.
    Authorize {
        /// An API access token (as the caller sends it, with or without `Bearer `).
        #[arg(long, conflicts_with = "person", required_unless_present = "person")]
        token: Option<String>,
        /// A directory person instead: `SOURCE:OBJECT_ID` (file:…, graph:…, ldap:…).
        #[arg(long)]
        person: Option<String>,
        /// The API's id.
        #[arg(long)]
        api: String,
        #[arg(long, default_value = "prod")]
        stage: String,
        /// GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
        method: String,
        /// A request path (`/orders/42`) or a resource (`/orders/{id}`).
        path: String,
    },
    /// Can a directory person call a route, and why: `gatehouse explain alice@contoso.test
    /// DELETE /payments/42 --api ID --stage prod`. From the approved mappings, the directory's
    /// nesting and what the catalog says decides the method; prints the link that decides and
    /// the chain. Exit status 0 allowed, 4 refused.
    Explain {
        /// `SOURCE:OBJECT_ID`, an email (user principal name) or a display name.
        person: String,
        /// GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
        method: String,
        /// A request path (`/payments/42`) or a resource (`/payments/{id}`).
        path: String,
        /// The API's id.
        #[arg(long)]
        api: String,
        #[arg(long, default_value = "prod")]
        stage: String,
        /// One JSON object on standard output instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The audit log: check its hash chain, or export it.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the chain in the database (the first broken link is named), or with --export and
    /// --manifest an exported file, offline.
    Verify {
        #[arg(long, requires = "manifest")]
        export: Option<std::path::PathBuf>,
        #[arg(long, requires = "export")]
        manifest: Option<std::path::PathBuf>,
        /// The audit key's public half (64 hex digits): checkpoints and manifests must carry its
        /// signature. Without it, the key file's public half is used, if configured.
        #[arg(long)]
        public_key: Option<String>,
        /// The checkpoint file to check the chain against (else GATEHOUSE_AUDIT_ANCHOR_FILE).
        #[arg(long, conflicts_with = "export")]
        anchors: Option<std::path::PathBuf>,
    },
    /// Make a new audit key file (mode 600) and print its public key.
    Keygen {
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Sign the chain's current head into the anchor file now.
    Checkpoint,
    /// Write the events that match to a file (CSV or JSON Lines) and FILE.manifest.json.
    Export {
        /// From this date or time (UTC): 2026-10-01 or 2026-10-01T08:00.
        #[arg(long, default_value = "")]
        from: String,
        /// Up to this date (the whole day) or time (UTC).
        #[arg(long, default_value = "")]
        to: String,
        #[arg(long, default_value = "")]
        actor: String,
        /// An action (change_set.approved) or an area (push, change_set, auth).
        #[arg(long, default_value = "")]
        action: String,
        #[arg(long, default_value = "")]
        change_set: String,
        /// A group, role or API the event mentions.
        #[arg(long, default_value = "")]
        mentions: String,
        /// A review campaign's number: its evidence (start, decisions, close, revocation).
        #[arg(long, default_value = "")]
        campaign: String,
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum SyncCatalog {
    /// REST APIs, stages, resources and methods from API Gateway.
    Apis,
    /// IAM roles with their trust policies and tags.
    Roles,
    /// Directory groups (GATEHOUSE_DIRECTORY).
    Groups,
    /// Every catalog in turn.
    All,
}

/// Holds secrets as typed (the client secret, database URLs): its `Debug` prints none of them.
#[derive(Args, Default, Clone)]
pub struct ServeArgs {
    /// PostgreSQL connection URL.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,
    /// The database owner's URL, for migrations (`gatehouse migrate`, or `serve` when given it).
    /// The server itself runs as DATABASE_URL's role, which may only add to the audit log.
    #[arg(
        long,
        env = "GATEHOUSE_OWNER_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub owner_database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "GATEHOUSE_LISTEN", global = true)]
    pub listen: Option<String>,
    /// How often notifications are made from new events and sent, in milliseconds.
    #[arg(long, env = "GATEHOUSE_WEBHOOK_POLL_MS", global = true)]
    pub webhook_poll_ms: Option<String>,
    /// The first wait before a notification is sent again, in milliseconds (doubled per attempt,
    /// at most an hour).
    #[arg(long, env = "GATEHOUSE_WEBHOOK_RETRY_MS", global = true)]
    pub webhook_retry_ms: Option<String>,
    /// How often time-bound access that has ended is looked for and revoked, in seconds.
    #[arg(long, env = "GATEHOUSE_EXPIRY_CHECK_SECONDS", global = true)]
    pub expiry_check_seconds: Option<String>,
    /// A file holding seconds to add to Gatehouse's clock for its deadlines (demos and browser
    /// tests move time forward with it; never set it in production).
    #[arg(long, env = "GATEHOUSE_CLOCK_SKEW_FILE", global = true)]
    pub clock_skew_file: Option<std::path::PathBuf>,
    /// After SIGTERM, how long requests under way may take before the process stops anyway,
    /// in seconds.
    #[arg(long, env = "GATEHOUSE_SHUTDOWN_GRACE_SECONDS", global = true)]
    pub shutdown_grace_seconds: Option<String>,
    /// Where to serve `/metrics` (Prometheus) instead of the main address, e.g. 127.0.0.1:9464.
    #[arg(long, env = "GATEHOUSE_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<String>,
    /// The URL people use to reach Gatehouse; sign-in redirects and the same-origin check use it.
    #[arg(long, env = "GATEHOUSE_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// OpenID Connect issuer, e.g. https://login.microsoftonline.com/{tenant-id}/v2.0
    #[arg(long, env = "GATEHOUSE_OIDC_ISSUER", global = true)]
    pub oidc_issuer: Option<String>,
    #[arg(long, env = "GATEHOUSE_OIDC_CLIENT_ID", global = true)]
    pub oidc_client_id: Option<String>,
    #[arg(
        long,
        env = "GATEHOUSE_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub oidc_client_secret: Option<String>,
    /// Comma-separated tenant ids (GUIDs) whose people may sign in.
    #[arg(long, env = "GATEHOUSE_ALLOWED_TENANTS", global = true)]
    pub allowed_tenants: Option<String>,
    /// Comma-separated group object ids whose members are admins.
    #[arg(long, env = "GATEHOUSE_ADMIN_GROUPS", global = true)]
    pub admin_groups: Option<String>,
    #[arg(long, env = "GATEHOUSE_REVIEWER_GROUPS", global = true)]
    pub reviewer_groups: Option<String>,
    #[arg(long, env = "GATEHOUSE_AUDITOR_GROUPS", global = true)]
    pub auditor_groups: Option<String>,
    /// Comma-separated app-role names (the `roles` claim) that make a person admin.
    #[arg(long, env = "GATEHOUSE_ADMIN_APP_ROLES", global = true)]
    pub admin_app_roles: Option<String>,
    #[arg(long, env = "GATEHOUSE_REVIEWER_APP_ROLES", global = true)]
    pub reviewer_app_roles: Option<String>,
    #[arg(long, env = "GATEHOUSE_AUDITOR_APP_ROLES", global = true)]
    pub auditor_app_roles: Option<String>,
    /// Minutes without a request after which a session ends.
    #[arg(long, env = "GATEHOUSE_SESSION_IDLE_MINUTES", global = true)]
    pub session_idle_minutes: Option<String>,
    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, env = "GATEHOUSE_SESSION_MAX_HOURS", global = true)]
    pub session_max_hours: Option<String>,
    /// The Ed25519 key (64 hex digits, mode 600) that signs audit checkpoints and export
    /// manifests; made by `gatehouse audit keygen`. Keep it outside the database.
    #[arg(long, env = "GATEHOUSE_AUDIT_KEY_FILE", global = true)]
    pub audit_key_file: Option<std::path::PathBuf>,
    /// The append-only file signed checkpoints of the audit chain are written to.
    #[arg(long, env = "GATEHOUSE_AUDIT_ANCHOR_FILE", global = true)]
    pub audit_anchor_file: Option<std::path::PathBuf>,
    /// Minutes between checkpoints (one is also written at every export).
    #[arg(long, env = "GATEHOUSE_AUDIT_CHECKPOINT_MINUTES", global = true)]
    pub audit_checkpoint_minutes: Option<String>,
    /// Minutes after which a signed-in person's roles are read again from the directory.
    #[arg(long, env = "GATEHOUSE_ROLE_TTL_MINUTES", global = true)]
    pub role_ttl_minutes: Option<String>,
    /// Pages and server functions served at once; more wait (then get 503). Health checks,
    /// assets and sign-in never wait.
    #[arg(long, env = "GATEHOUSE_MAX_CONCURRENT_REQUESTS", global = true)]
    pub max_concurrent_requests: Option<String>,
    /// Seconds a page or server function may take before it is abandoned with 503.
    #[arg(long, env = "GATEHOUSE_REQUEST_TIMEOUT_SECONDS", global = true)]
    pub request_timeout_seconds: Option<String>,
    /// AWS region (else the standard AWS configuration chain).
    #[arg(long, env = "AWS_REGION", global = true)]
    pub aws_region: Option<String>,
    /// The AWS account id (12 digits) the catalog and the invoke ARNs belong to.
    #[arg(long, env = "GATEHOUSE_AWS_ACCOUNT_ID", global = true)]
    pub aws_account_id: Option<String>,
    /// Send AWS calls here instead of AWS (the local demo's moto_server).
    #[arg(long, env = "AWS_ENDPOINT_URL", global = true)]
    pub aws_endpoint_url: Option<String>,
    /// Several AWS targets, comma-separated: `ACCOUNT/REGION` or `ACCOUNT/REGION=ROLE_ARN` to
    /// assume that role for the target, optionally led by an enforcement mode
    /// (`identity-center:ACCOUNT/REGION`) that overrides GATEHOUSE_ENFORCEMENT for it. Without
    /// it, one target from AWS_REGION and GATEHOUSE_AWS_ACCOUNT_ID.
    #[arg(long, env = "GATEHOUSE_AWS_TARGETS", global = true)]
    pub aws_targets: Option<String>,
    /// Minutes between scheduled syncs of every catalog; 0 turns the schedule off.
    #[arg(long, env = "GATEHOUSE_SYNC_INTERVAL_MINUTES", global = true)]
    pub sync_interval_minutes: Option<String>,
    /// Approvals a change set needs, each from a different reviewer who is not its author.
    #[arg(long, env = "GATEHOUSE_REQUIRED_APPROVALS", global = true)]
    pub required_approvals: Option<String>,
    #[command(flatten)]
    pub directory: crate::backend::directory::settings::DirectoryArgs,
    #[command(flatten)]
    pub push: push::PushArgs,
    /// Folder with the compiled site (wasm, js, css) that cargo-leptos builds.
    #[arg(long, env = "LEPTOS_SITE_ROOT", global = true)]
    pub site_root: Option<String>,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServeArgs { (redacted: holds secrets) }")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("configuration: {env} (--{flag}) is not set")]
    Missing {
        env: &'static str,
        flag: &'static str,
    },
    #[error("configuration: {env} (--{flag}) is invalid: {reason}")]
    Invalid {
        env: &'static str,
        flag: &'static str,
        reason: String,
    },
}

/// A value that must never be printed: `secrecy` redacts it from `Debug` and wipes it from
/// memory when dropped; `expose` is the one way to read it.
#[derive(Clone)]
pub struct Secret(secrecy::SecretString);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    pub url: Secret,
    /// Set: migrations run with it before the server starts.
    pub owner_url: Option<Secret>,
}

#[derive(Clone, Debug)]
pub struct OidcSettings {
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: Secret,
    pub allowed_tenants: Vec<Uuid>,
}

#[derive(Clone, Debug)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub account_id: Option<String>,
    pub endpoint_url: Option<Url>,
    /// Where catalogs are read from; never empty.
    pub targets: Vec<AwsTarget>,
}

impl AwsSettings {
    /// How bindings to roles in `account` are enforced (`none` for an account no target names).
    pub fn enforcement_of(&self, account: &str) -> crate::domain::enforcement::Enforcement {
        self.targets
            .iter()
            .find(|t| t.account_id == account)
            .and_then(|t| t.enforcement)
            .unwrap_or_default()
    }

    /// Whether any target records bindings only.
    pub fn any_recorded_only(&self) -> bool {
        self.targets
            .iter()
            .any(|t| !t.enforcement.unwrap_or_default().enforces_bindings())
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub listen: SocketAddr,
    /// `/metrics` is served here only, when set (else on `listen`).
    pub metrics_listen: Option<SocketAddr>,
    pub base_url: Url,
    pub oidc: OidcSettings,
    pub roles: RoleMapping,
    pub session_idle: Duration,
    pub session_max: Duration,
    /// How long roles read at sign-in (or at the last refresh) are trusted.
    pub role_ttl: Duration,
    /// Pages and server functions served at once, and how long one may take.
    pub max_concurrent_requests: usize,
    pub request_timeout: Duration,
    /// How often notifications are made and sent.
    pub webhook_poll: Duration,
    /// The first wait before a notification is sent again.
    pub webhook_retry: Duration,
    /// After SIGTERM, how long requests under way may take.
    pub shutdown_grace: Duration,
    /// How often ended time-bound access is revoked.
    pub expiry_every: Duration,
    /// Where the clock's skew is read from (tests and demos only).
    pub clock_skew_file: Option<std::path::PathBuf>,
    /// Signed checkpoints and manifests; `None` when no key is configured.
    pub anchoring: Option<std::sync::Arc<crate::backend::history::anchor::Anchoring>>,
    pub aws: AwsSettings,
    pub directory: crate::backend::directory::settings::DirectorySettings,
    /// How often every catalog syncs by itself; `None`: never.
    pub sync_interval: Option<Duration>,
    pub required_approvals: usize,
    pub push: PushSettings,
    pub site_root: String,
}

impl Settings {
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }
}

pub(crate) type Name = (&'static str, &'static str);

pub(crate) fn missing((env, flag): Name) -> ConfigError {
    ConfigError::Missing { env, flag }
}

pub(crate) fn invalid((env, flag): Name, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        env,
        flag,
        reason: reason.into(),
    }
}

pub(crate) fn required(value: &Option<String>, name: Name) -> Result<String, ConfigError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(missing(name)),
    }
}

pub(crate) fn list(value: &Option<String>) -> Vec<String> {
    value
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn uuid_list(value: &Option<String>, name: Name) -> Result<Vec<Uuid>, ConfigError> {
    list(value)
        .iter()
        .map(|s| Uuid::parse_str(s).map_err(|_| invalid(name, format!("`{s}` is not a GUID"))))
        .collect()
}

pub(crate) fn http_url(value: &str, name: Name) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| invalid(name, format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(name, "must start with http:// or https://"));
    }
    Ok(url)
}

pub(crate) fn positive(
    value: &Option<String>,
    default: u64,
    name: Name,
) -> Result<u64, ConfigError> {
    match value.as_deref() {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid(
                name,
                format!("`{v}` is not a whole number above 0"),
            )),
        },
    }
}

/// A period in minutes: `0` is off (`None`), unset is `default`; fractions are taken (`0.5` is
/// 30 seconds), down to one second.
pub(crate) fn minutes(
    value: &Option<String>,
    default: u64,
    name: Name,
) -> Result<Option<Duration>, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(Some(Duration::from_secs(default * 60))),
        Some("0") => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(m) if m.is_finite() && m * 60.0 >= 1.0 && m <= 525_600.0 => {
                Ok(Some(Duration::from_millis((m * 60_000.0).round() as u64)))
            }
            _ => Err(invalid(
                name,
                format!(
                    "`{v}` is not a number of minutes: 0 (off), or from 0.02 (a second) to 525600 (a year)"
                ),
            )),
        },
    }
}

impl ServeArgs {
    /// The audit key and anchor file: both or neither.
    pub fn anchoring(
        &self,
    ) -> Result<Option<std::sync::Arc<crate::backend::history::anchor::Anchoring>>, ConfigError>
    {
        use crate::backend::history::anchor::{AnchorFile, Anchoring, AuditKey};
        let key_name = ("GATEHOUSE_AUDIT_KEY_FILE", "audit-key-file");
        let file_name = ("GATEHOUSE_AUDIT_ANCHOR_FILE", "audit-anchor-file");
        let every = positive(
            &self.audit_checkpoint_minutes,
            5,
            (
                "GATEHOUSE_AUDIT_CHECKPOINT_MINUTES",
                "audit-checkpoint-minutes",
            ),
        )?;
        match (&self.audit_key_file, &self.audit_anchor_file) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(missing(file_name)),
            (None, Some(_)) => Err(missing(key_name)),
            (Some(key), Some(file)) => {
                let key = AuditKey::load(key).map_err(|why| invalid(key_name, &why))?;
                Ok(Some(std::sync::Arc::new(Anchoring {
                    key,
                    file: AnchorFile(file.clone()),
                    every: Duration::from_secs(every * 60),
                })))
            }
        }
    }

    pub fn database(&self) -> Result<DatabaseSettings, ConfigError> {
        let postgres_url = |value: &Option<String>, name: Name| match value {
            Some(url) if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) => {
                Err(invalid(
                    name,
                    "must start with postgres:// or postgresql://",
                ))
            }
            other => Ok(other.clone().map(Secret::new)),
        };
        let name = ("DATABASE_URL", "database-url");
        required(&self.database_url, name)?;
        Ok(DatabaseSettings {
            url: postgres_url(&self.database_url, name)?.expect("checked above"),
            owner_url: postgres_url(
                &self.owner_database_url,
                ("GATEHOUSE_OWNER_DATABASE_URL", "owner-database-url"),
            )?,
        })
    }

    pub fn aws(&self) -> Result<AwsSettings, ConfigError> {
        let endpoint_url = match self
            .aws_endpoint_url
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            Some(v) => Some(http_url(
                v.trim(),
                ("AWS_ENDPOINT_URL", "aws-endpoint-url"),
            )?),
            None => None,
        };
        let region = self.aws_region.clone().filter(|s| !s.trim().is_empty());
        if let Some(r) = &region {
            check_region(r).map_err(|e| invalid(("AWS_REGION", "aws-region"), e))?;
        }
        let account_id = self.aws_account_id.clone().filter(|s| !s.trim().is_empty());
        if let Some(a) = &account_id {
            check_account(a)
                .map_err(|e| invalid(("GATEHOUSE_AWS_ACCOUNT_ID", "aws-account-id"), e))?;
        }
        let targets_name = ("GATEHOUSE_AWS_TARGETS", "aws-targets");
        let mut targets = list(&self.aws_targets)
            .iter()
            .map(|t| AwsTarget::parse(t).map_err(|e| invalid(targets_name, e)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut names: Vec<String> = targets.iter().map(AwsTarget::name).collect();
        names.sort();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(invalid(targets_name, "a target appears twice"));
        }
        if targets.is_empty() {
            targets.push(AwsTarget {
                account_id: account_id.clone().unwrap_or_else(|| "000000000000".into()),
                region: region.clone().unwrap_or_else(|| "us-east-1".into()),
                role_arn: None,
                enforcement: None,
            });
        }
        let default_mode = self.push.enforcement()?;
        for t in &mut targets {
            t.enforcement.get_or_insert(default_mode);
        }
        // A role lives in an account: its bindings cannot be enforced two ways.
        for t in &targets {
            if let Some(other) = targets
                .iter()
                .find(|o| o.account_id == t.account_id && o.enforcement != t.enforcement)
            {
                return Err(invalid(
                    targets_name,
                    format!(
                        "targets {} and {} are in one account but use different enforcement modes",
                        t.name(),
                        other.name()
                    ),
                ));
            }
        }
        Ok(AwsSettings {
            region,
            account_id,
            endpoint_url,
            targets,
        })
    }

    fn sync_interval(&self) -> Result<Option<Duration>, ConfigError> {
        minutes(
            &self.sync_interval_minutes,
            60,
            ("GATEHOUSE_SYNC_INTERVAL_MINUTES", "sync-interval-minutes"),
        )
    }

    /// What checking an API access token needs (`gatehouse authorize --token`): the issuer,
    /// the allowed tenants and the APIs' audiences.
    pub fn api_tokens(&self) -> Result<(Url, Vec<Uuid>, Vec<String>), ConfigError> {
        let issuer_name = ("GATEHOUSE_OIDC_ISSUER", "oidc-issuer");
        let issuer = http_url(&required(&self.oidc_issuer, issuer_name)?, issuer_name)?;
        let tenants_name = ("GATEHOUSE_ALLOWED_TENANTS", "allowed-tenants");
        let allowed_tenants = uuid_list(&self.allowed_tenants, tenants_name)?;
        if allowed_tenants.is_empty() {
            return Err(missing(tenants_name));
        }
        Ok((issuer, allowed_tenants, self.push.settings()?.api_audiences))
    }

    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let database = self.database()?;
        let listen_name = ("GATEHOUSE_LISTEN", "listen");
        let listen_raw = self
            .listen
            .clone()
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let listen = listen_raw.trim().parse::<SocketAddr>().map_err(|_| {
            invalid(
                listen_name,
                format!("`{listen_raw}` is not an address such as 127.0.0.1:3000"),
            )
        })?;
        let metrics_listen = match self.metrics_listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(raw.parse::<SocketAddr>().map_err(|_| {
                invalid(
                    ("GATEHOUSE_METRICS_LISTEN", "metrics-listen"),
                    format!("`{raw}` is not an address such as 127.0.0.1:9464"),
                )
            })?),
        };
        let base_name = ("GATEHOUSE_BASE_URL", "base-url");
        let base_url = http_url(
            self.base_url
                .as_deref()
                .unwrap_or("http://127.0.0.1:3000")
                .trim(),
            base_name,
        )?;
        if base_url.path() != "/" || base_url.query().is_some() {
            return Err(invalid(
                base_name,
                "must be an origin without a path, such as https://gatehouse.example.com",
            ));
        }

        let issuer_name = ("GATEHOUSE_OIDC_ISSUER", "oidc-issuer");
        let issuer = http_url(&required(&self.oidc_issuer, issuer_name)?, issuer_name)?;
        let client_id = required(
            &self.oidc_client_id,
            ("GATEHOUSE_OIDC_CLIENT_ID", "oidc-client-id"),
        )?;
        let client_secret = Secret::new(required(
            &self.oidc_client_secret,
            ("GATEHOUSE_OIDC_CLIENT_SECRET", "oidc-client-secret"),
        )?);
        let tenants_name = ("GATEHOUSE_ALLOWED_TENANTS", "allowed-tenants");
        let allowed_tenants = uuid_list(&self.allowed_tenants, tenants_name)?;
        if allowed_tenants.is_empty() {
            return Err(missing(tenants_name));
        }

        let roles = RoleMapping {
            admin_groups: uuid_list(
                &self.admin_groups,
                ("GATEHOUSE_ADMIN_GROUPS", "admin-groups"),
            )?,
            reviewer_groups: uuid_list(
                &self.reviewer_groups,
                ("GATEHOUSE_REVIEWER_GROUPS", "reviewer-groups"),
            )?,
            auditor_groups: uuid_list(
                &self.auditor_groups,
                ("GATEHOUSE_AUDITOR_GROUPS", "auditor-groups"),
            )?,
            admin_app_roles: list(&self.admin_app_roles),
            reviewer_app_roles: list(&self.reviewer_app_roles),
            auditor_app_roles: list(&self.auditor_app_roles),
        };
        if roles.is_empty() {
            return Err(missing(("GATEHOUSE_ADMIN_GROUPS", "admin-groups")));
        }

        let idle = positive(
            &self.session_idle_minutes,
            60,
            ("GATEHOUSE_SESSION_IDLE_MINUTES", "session-idle-minutes"),
        )?;
        let max = positive(
            &self.session_max_hours,
            12,
            ("GATEHOUSE_SESSION_MAX_HOURS", "session-max-hours"),
        )?;
        let role_ttl = positive(
            &self.role_ttl_minutes,
            15,
            ("GATEHOUSE_ROLE_TTL_MINUTES", "role-ttl-minutes"),
        )?;

        Ok(Settings {
            database,
            listen,
            metrics_listen,
            base_url,
            oidc: OidcSettings {
                issuer,
                client_id,
                client_secret,
                allowed_tenants,
            },
            roles,
            session_idle: Duration::from_secs(idle * 60),
            session_max: Duration::from_secs(max * 3600),
            role_ttl: Duration::from_secs(role_ttl * 60),
            // As many as the pool has connections: each request holds at most one at a time.
            max_concurrent_requests: positive(
                &self.max_concurrent_requests,
                16,
                (
                    "GATEHOUSE_MAX_CONCURRENT_REQUESTS",
                    "max-concurrent-requests",
                ),
            )? as usize,
            webhook_poll: Duration::from_millis(positive(
                &self.webhook_poll_ms,
                2000,
                ("GATEHOUSE_WEBHOOK_POLL_MS", "webhook-poll-ms"),
            )?),
            webhook_retry: Duration::from_millis(positive(
                &self.webhook_retry_ms,
                5000,
                ("GATEHOUSE_WEBHOOK_RETRY_MS", "webhook-retry-ms"),
            )?),
            expiry_every: Duration::from_secs(positive(
                &self.expiry_check_seconds,
                60,
                ("GATEHOUSE_EXPIRY_CHECK_SECONDS", "expiry-check-seconds"),
            )?),
            clock_skew_file: self.clock_skew_file.clone(),
            shutdown_grace: Duration::from_secs(positive(
                &self.shutdown_grace_seconds,
                20,
                ("GATEHOUSE_SHUTDOWN_GRACE_SECONDS", "shutdown-grace-seconds"),
            )?),
            request_timeout: Duration::from_secs(positive(
                &self.request_timeout_seconds,
                30,
                (
                    "GATEHOUSE_REQUEST_TIMEOUT_SECONDS",
                    "request-timeout-seconds",
                ),
            )?),
            anchoring: self.anchoring()?,
            aws: self.aws()?,
            directory: self.directory.settings()?,
            sync_interval: self.sync_interval()?,
            required_approvals: positive(
                &self.required_approvals,
                1,
                ("GATEHOUSE_REQUIRED_APPROVALS", "required-approvals"),
            )? as usize,
            push: {
                let push = self.push.settings()?;
                let aws = self.aws()?;
                let saml = aws
                    .targets
                    .iter()
                    .any(|t| t.enforcement == Some(crate::domain::enforcement::Enforcement::Saml));
                // SAML mode writes app role assignments through Graph: all three are needed.
                let needed = [
                    (
                        push.saml_provider.is_none(),
                        "GATEHOUSE_SAML_PROVIDER",
                        "saml-provider",
                    ),
                    (
                        push.saml_service_principal.is_none(),
                        "GATEHOUSE_SAML_SERVICE_PRINCIPAL_ID",
                        "saml-service-principal-id",
                    ),
                    (
                        self.directory.settings()?.graph.is_none(),
                        "GATEHOUSE_GRAPH_CLIENT_ID",
                        "graph-client-id",
                    ),
                ];
                if let Some((_, env, flag)) = needed.iter().find(|(missing, ..)| saml && *missing) {
                    return Err(ConfigError::Missing { env, flag });
                }
                push
            },
            site_root: self
                .site_root
                .clone()
                .unwrap_or_else(|| "target/site".into()),
        })
    }
}

#[cfg(test)]
mod tests;
