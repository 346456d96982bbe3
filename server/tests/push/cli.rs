//! The command line for pipelines: `plan` exits 2 when a push would make calls (0 when none,
//! as `terraform plan -detailed-exitcode`) and shows each policy against what AWS holds;
//! `--json` on plan, push and drift gives one object a pipeline can read.

use serde_json::Value;

use crate::common::{
    aws_proxy::AwsProxy,
    pushing::{cli_env, orders_readers_get, setup},
};

/// Runs `gatehouse ARGS` against the test's database and AWS: (exit status, stdout, stderr).
/// Awaited, not blocked on: the AWS proxy runs on this test's runtime.
async fn gatehouse(pool: &sqlx::PgPool, proxy: &AwsProxy, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .envs(cli_env(pool, proxy))
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not one JSON object ({e}): {out}"))
}

#[tokio::test]
async fn plan_exits_2_with_calls_and_policy_diffs_push_and_drift_answer_json() {
    let (pool, _moto, proxy, _direct, api_id) = setup().await;
    let id = orders_readers_get(&pool, &api_id).await;
    let id = id.to_string();

    let (code, out, err) = gatehouse(&pool, &proxy, &["plan", &id]).await;
    assert_eq!(code, 2, "calls to make: {out}{err}");
    assert!(
        out.contains("CreateRole") && out.contains("PutRolePolicy"),
        "{out}"
    );
    assert!(
        out.contains("inline policy gatehouse-invoke of role orders-readers:"),
        "{out}"
    );

    let (code, out, err) = gatehouse(&pool, &proxy, &["plan", &id, "--json"]).await;
    assert_eq!(code, 2, "{err}");
    let plan = json(&out);
    assert_eq!(plan["changes"], true);
    let ops: Vec<&str> = plan["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "CreateRole",
            "PutRolePolicy",
            "UpdateRestApi",
            "CreateDeployment"
        ]
    );
    let role_policy = plan["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["subject"] == "inline policy gatehouse-invoke of role orders-readers")
        .unwrap_or_else(|| panic!("{plan:#}"));
    let diff: Vec<&str> = role_policy["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        diff.iter().all(|l| l.starts_with("+ ")),
        "a new role's policy is all added: {diff:?}"
    );
    assert!(
        diff.iter().any(|l| l.contains("/prod/GET/orders")),
        "{diff:?}"
    );

    let (code, out, err) = gatehouse(&pool, &proxy, &["push", &id, "--json"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let pushed = json(&out);
    assert_eq!(pushed["succeeded"], true, "{pushed}");
    assert_eq!(pushed["calls_made"], 4);

    let (code, out, err) = gatehouse(&pool, &proxy, &["plan", &id, "--json"]).await;
    assert_eq!(code, 0, "nothing left to do: {out}{err}");
    let plan = json(&out);
    assert_eq!(plan["changes"], false);
    assert_eq!(plan["calls"], serde_json::json!([]));

    let (code, out, err) = gatehouse(&pool, &proxy, &["drift", "--json"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let drift = json(&out);
    assert_eq!(drift["drift"], false, "{drift:#}");
    assert!(drift["report"].as_i64().unwrap() > 0);

    // A change set that does not exist is an error: exit status 1, said on stderr.
    let (code, out, err) = gatehouse(&pool, &proxy, &["plan", "999999", "--json"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("999999"), "{err}");
}
