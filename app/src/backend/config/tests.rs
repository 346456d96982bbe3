//! Settings parsing: every bad value is named, secrets never printed.
use super::*;

fn complete() -> ServeArgs {
    ServeArgs {
        database_url: Some("postgres://localhost/gatehouse".into()),
        oidc_issuer: Some("http://127.0.0.1:9400/11111111-1111-1111-1111-111111111111/v2.0".into()),
        oidc_client_id: Some("gatehouse".into()),
        oidc_client_secret: Some("very-secret".into()),
        allowed_tenants: Some("11111111-1111-1111-1111-111111111111".into()),
        admin_groups: Some("22222222-2222-2222-2222-222222222222".into()),
        reviewer_app_roles: Some("Gatehouse.Reviewer, Other".into()),
        ..Default::default()
    }
}

#[test]
fn complete_settings_parse_with_defaults() {
    let s = complete().settings().unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:3000");
    assert_eq!(
        s.roles.reviewer_app_roles,
        vec!["Gatehouse.Reviewer", "Other"]
    );
    assert_eq!(s.session_idle, Duration::from_secs(3600));
    assert!(!s.secure_cookies());
}

#[test]
fn missing_setting_is_named() {
    let mut args = complete();
    args.oidc_client_secret = None;
    let err = args.settings().unwrap_err().to_string();
    assert_eq!(
        err,
        "configuration: GATEHOUSE_OIDC_CLIENT_SECRET (--oidc-client-secret) is not set"
    );
}

#[test]
fn invalid_settings_are_named_and_secrets_not_printed() {
    let mut args = complete();
    args.allowed_tenants = Some("not-a-guid".into());
    assert!(args
        .settings()
        .unwrap_err()
        .to_string()
        .contains("GATEHOUSE_ALLOWED_TENANTS"));

    let mut args = complete();
    args.database_url = Some("mysql://user:hunter2@db".into());
    let err = args.settings().unwrap_err().to_string();
    assert!(err.contains("DATABASE_URL") && !err.contains("hunter2"));

    let mut args = complete();
    args.session_idle_minutes = Some("0".into());
    assert!(args
        .settings()
        .unwrap_err()
        .to_string()
        .contains("GATEHOUSE_SESSION_IDLE_MINUTES"));

    let s = complete().settings().unwrap();
    assert!(!format!("{s:?}").contains("very-secret"));
}

#[test]
fn no_role_mapping_at_all_is_refused() {
    let mut args = complete();
    args.admin_groups = None;
    args.reviewer_app_roles = None;
    assert!(matches!(
        args.settings(),
        Err(ConfigError::Missing {
            env: "GATEHOUSE_ADMIN_GROUPS",
            ..
        })
    ));
}

#[test]
fn aws_targets_parse_and_bad_ones_are_named() {
    let mut args = complete();
    args.aws_targets = Some(
        "123456789012/us-east-1, 210987654321/eu-west-1=arn:aws:iam::210987654321:role/GatehouseReader"
            .into(),
    );
    let aws = args.aws().unwrap();
    assert_eq!(aws.targets.len(), 2);
    assert_eq!(aws.targets[1].name(), "210987654321/eu-west-1");
    assert_eq!(
        aws.targets[1].role_arn.as_deref(),
        Some("arn:aws:iam::210987654321:role/GatehouseReader")
    );
    for bad in [
        "12345/us-east-1",
        "123456789012/moon",
        "123456789012/us-east-1=not-an-arn",
        "123456789012/us-east-1,123456789012/us-east-1",
    ] {
        args.aws_targets = Some(bad.into());
        assert!(
            args.aws()
                .unwrap_err()
                .to_string()
                .contains("GATEHOUSE_AWS_TARGETS"),
            "{bad}"
        );
    }
    use crate::domain::enforcement::Enforcement;
    args.push.enforcement = Some("identity-center".into());
    args.aws_targets = Some(
        "saml:210987654321/eu-west-1=arn:aws:iam::210987654321:role/GatehouseReader,123456789012/us-east-1"
            .into(),
    );
    let aws = args.aws().unwrap();
    assert_eq!(aws.targets[0].enforcement, Some(Enforcement::Saml));
    assert_eq!(
        aws.targets[1].enforcement,
        Some(Enforcement::IdentityCenter)
    );
    assert!(aws.targets[0].role_arn.is_some());
    // SAML needs the provider's name; a mode nobody knows is named.
    assert_eq!(
        args.settings().unwrap_err().to_string(),
        "configuration: GATEHOUSE_SAML_PROVIDER (--saml-provider) is not set"
    );
    args.push.saml_provider = Some("EntraID".into());
    assert!(args
        .settings()
        .unwrap_err()
        .to_string()
        .contains("GATEHOUSE_SAML_SERVICE_PRINCIPAL_ID"));
    args.push.saml_service_principal_id = Some("not-a-guid".into());
    assert!(args
        .settings()
        .unwrap_err()
        .to_string()
        .contains("is not an object id"));
    args.push.saml_service_principal_id = Some("7c1e9a52-0d3b-4f6e-8a21-5b9c0e4d7f10".into());
    assert!(args
        .settings()
        .unwrap_err()
        .to_string()
        .contains("GATEHOUSE_GRAPH_CLIENT_ID"));
    for bad in [
        "sso:123456789012/us-east-1",
        "saml:123456789012/us-east-1,123456789012/eu-west-1",
    ] {
        args.aws_targets = Some(bad.into());
        assert!(args.aws().is_err(), "{bad}");
    }
    args.push.enforcement = Some("iam".into());
    args.aws_targets = None;
    assert!(args
        .aws()
        .unwrap_err()
        .to_string()
        .contains("GATEHOUSE_ENFORCEMENT"));
    args.push.enforcement = None;
    args.aws_region = Some("eu-central-1".into());
    args.aws_account_id = Some("111122223333".into());
    assert_eq!(
        args.aws().unwrap().targets[0].name(),
        "111122223333/eu-central-1"
    );
}

#[test]
fn the_sync_schedule_defaults_to_hourly_and_zero_turns_it_off() {
    let mut args = complete();
    assert_eq!(
        args.settings().unwrap().sync_interval,
        Some(Duration::from_secs(3600))
    );
    args.sync_interval_minutes = Some("0".into());
    assert_eq!(args.settings().unwrap().sync_interval, None);
    args.sync_interval_minutes = Some("soon".into());
    assert!(args.settings().is_err());
    // Fractions of a minute, down to a second (replicas' tests run periods of seconds).
    args.sync_interval_minutes = Some("0.1".into());
    assert_eq!(
        args.settings().unwrap().sync_interval,
        Some(Duration::from_secs(6))
    );
    for bad in ["0.001", "-1", "NaN", "inf", "1e9"] {
        args.sync_interval_minutes = Some(bad.into());
        let error = args.settings().unwrap_err().to_string();
        assert!(
            error.contains("GATEHOUSE_SYNC_INTERVAL_MINUTES") && error.contains("a second"),
            "{bad}: {error}"
        );
    }
    args.sync_interval_minutes = None;
    args.push.drift_interval_minutes = Some("0.5".into());
    assert_eq!(
        args.settings().unwrap().push.drift_interval,
        Some(Duration::from_secs(30))
    );
}

#[test]
fn base_url_must_be_an_origin() {
    let mut args = complete();
    args.base_url = Some("https://gatehouse.example.com/app".into());
    assert!(args
        .settings()
        .unwrap_err()
        .to_string()
        .contains("GATEHOUSE_BASE_URL"));
    args.base_url = Some("https://gatehouse.example.com".into());
    assert!(args.settings().unwrap().secure_cookies());
}

#[test]
fn sync_groups_takes_full_and_allow_removals() {
    use clap::Parser;
    let cli =
        Cli::try_parse_from(["gatehouse", "sync", "groups", "--full", "--allow-removals"]).unwrap();
    let Some(Command::Sync {
        catalog: SyncCatalog::Groups,
        full: true,
        allow_removals: true,
    }) = cli.command
    else {
        panic!("parsed as {:?}", cli.command)
    };
    let plain = Cli::try_parse_from(["gatehouse", "sync", "apis"]).unwrap();
    assert!(matches!(
        plain.command,
        Some(Command::Sync {
            full: false,
            allow_removals: false,
            ..
        })
    ));
}

#[test]
fn a_plaintext_ldap_bind_is_refused_unless_allowed_and_args_never_print_secrets() {
    let mut args = complete();
    args.directory.directory = Some("ldap".into());
    args.directory.ldap_url = Some("ldap://dc.example:389".into());
    args.directory.ldap_bind_dn = Some("CN=gatehouse,DC=example".into());
    args.directory.ldap_bind_password = Some("hunter2".into());
    args.directory.ldap_base_dn = Some("DC=example".into());
    let err = args.settings().unwrap_err().to_string();
    assert!(
        err.contains("would send the bind password in clear"),
        "{err}"
    );
    args.directory.ldap_starttls = Some("true".into());
    assert!(args.settings().is_ok());
    args.directory.ldap_starttls = None;
    args.directory.ldap_allow_plaintext = Some("true".into());
    assert!(args.settings().is_ok());
    let printed = format!("{args:?}");
    assert!(
        !printed.contains("hunter2") && !printed.contains("very-secret"),
        "{printed}"
    );
}
