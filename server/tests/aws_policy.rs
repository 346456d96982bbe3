//! Gatehouse's own IAM policy: every AWS SDK operation the code calls is in it (read from the
//! source, against the operations each SDK crate has), nothing it lists is no longer called, the
//! command prints it, and a role Gatehouse makes carries the configured permissions boundary.

use crate::common;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use app::domain::aws_policy::{allowed_actions, CALLS, DEMO_ONLY};
use common::pushing::{orders_readers_get, push_planned, push_settings, setup, through};
use gatehouse::push::Pusher;

/// The triple this machine builds for (`rustc -vV`'s `host:`).
fn host_target() -> String {
    let out = std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc names its host")
        .trim()
        .to_string()
}

/// Each AWS SDK crate's operations (the modules under its `src/operation`), by SDK name
/// (`iam`, `apigateway`, …), from the crates this build uses.
fn sdk_operations() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        // The host's dependencies only: the others (Android's, Windows') need not be here.
        .args([
            "metadata",
            "--offline",
            "--format-version",
            "1",
            "--filter-platform",
            &host_target(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut sdks = BTreeMap::new();
    for package in meta["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        let Some(sdk) = name.strip_prefix("aws-sdk-") else {
            continue;
        };
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap());
        let dir = manifest.parent().unwrap().join("src/operation");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let ops = entries
            .filter_map(|e| {
                let path = e.ok()?.path();
                Some(path.file_stem()?.to_str()?.to_string())
            })
            .collect();
        sdks.insert(sdk.to_string(), ops);
    }
    sdks
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The SDK operations the server's and the app's code call: `.operation()` (across lines, as
/// the fluent builders are written), where some SDK has an operation of that name. The demo's
/// seeding commands are left out: they run against the local endpoint only.
fn called_operations(sdks: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("app/src"), &mut files);
    rust_files(&root.join("server/src"), &mut files);
    let method = regex_lite::Regex::new(r"\.\s*([a-z][a-z0-9_]*)\s*\(\s*\)").unwrap();
    let mut called: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap();
        if name.starts_with("seed_demo") || name == "aws_policy.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for m in method.captures_iter(&text) {
            let op = &m[1];
            if sdks.values().any(|ops| ops.contains(op)) {
                called
                    .entry(op.to_string())
                    .or_default()
                    .push(file.display().to_string());
            }
        }
    }
    called
}

#[test]
fn every_sdk_operation_the_code_calls_is_in_the_policy_and_no_other() {
    let sdks = sdk_operations();
    assert!(
        [
            "iam",
            "apigateway",
            "apigatewayv2",
            "ssoadmin",
            "identitystore",
            "s3"
        ]
        .iter()
        .all(|s| sdks.contains_key(*s)),
        "the SDK crates were found: {:?}",
        sdks.keys()
    );
    // The table names real operations of real SDKs.
    for c in CALLS {
        assert!(
            sdks.get(c.sdk).is_some_and(|ops| ops.contains(c.operation)),
            "{}::{} is no operation of that SDK",
            c.sdk,
            c.operation
        );
    }
    let called = called_operations(&sdks);
    let listed: BTreeSet<&str> = CALLS
        .iter()
        .map(|c| c.operation)
        .chain(DEMO_ONLY.iter().map(|(_, op)| *op))
        .collect();
    let missing: Vec<_> = called
        .iter()
        .filter(|(op, _)| !listed.contains(op.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "called, and missing from app::domain::aws_policy::CALLS: {missing:?}"
    );
    let stale: Vec<_> = listed
        .iter()
        .filter(|op| !called.contains_key(**op))
        .collect();
    assert!(stale.is_empty(), "listed, and no longer called: {stale:?}");
}

#[test]
fn the_command_prints_a_policy_that_allows_every_call() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(args)
            .env("GATEHOUSE_AWS_ACCOUNT_ID", "123456789012")
            .env("GATEHOUSE_ENFORCEMENT", "identity-center")
            .env(
                "GATEHOUSE_ACCESS_BUNDLE",
                "s3://gatehouse-bundles/access.json",
            )
            .env("GATEHOUSE_PERMISSIONS_BOUNDARY", "gatehouse-invoke-only")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let policy = run(&["aws-policy"]);
    let allowed = allowed_actions(&policy);
    for c in CALLS {
        assert!(
            allowed.iter().any(|a| a == c.action),
            "{} missing",
            c.action
        );
    }
    assert!(policy
        .to_string()
        .contains("arn:aws:iam::123456789012:policy/gatehouse-invoke-only"));
    let boundary = run(&["aws-policy", "--boundary"]);
    assert_eq!(allowed_actions(&boundary), ["execute-api:Invoke"]);

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["aws-policy"])
        .env("GATEHOUSE_PERMISSIONS_BOUNDARY", "no spaces/allowed")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("GATEHOUSE_PERMISSIONS_BOUNDARY"));
}

#[tokio::test]
async fn a_role_gatehouse_makes_carries_the_permissions_boundary() {
    let (pool, moto, proxy, direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    let mut settings = push_settings();
    settings.permissions_boundary = Some("gatehouse-invoke-only".into());
    let pusher = Pusher::new(pool.clone(), &through(&moto, &proxy), settings).await;
    push_planned(&pusher, id).await;
    let role = direct
        .iam
        .get_role()
        .role_name("orders-readers")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(
        role.permissions_boundary
            .and_then(|b| b.permissions_boundary_arn),
        Some("arn:aws:iam::123456789012:policy/gatehouse-invoke-only".to_string())
    );
}
