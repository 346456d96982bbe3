//! `gatehouse plan`, `push` and `drift`: text for people, `--json` for pipelines; the plan with
//! each policy's change against what AWS holds, the push with a progress bar.

use crate::push::{RunState, StepState};
use serde_json::json;
use std::{sync::Arc, time::Duration};

use super::{store, Actual, PushError, Pusher};
use crate::backend::{audit::Actor, mappings::store as cs_store};
use crate::domain::{
    call::Call,
    change_set::State,
    diff::{diff_lines, LineKind},
    plan::Step,
};

/// How one policy a plan writes changes: what AWS holds now → what the push puts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyChange {
    /// "inline policy gatehouse-invoke of role orders-readers", "resource policy of API abc".
    pub subject: String,
    /// A line diff, each line prefixed `+ `, `- ` or `  `.
    pub diff: Vec<String>,
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn pretty_text(document: &str) -> String {
    serde_json::from_str::<serde_json::Value>(document)
        .map(|v| pretty(&v))
        .unwrap_or_else(|_| document.to_string())
}

/// The policies the steps write or delete, each against what AWS holds (pure: from the plan
/// and the state it was planned from).
pub fn policy_changes(steps: &[Step], actual: &Actual) -> Vec<PolicyChange> {
    let inline = |role: &str, policy: &str| {
        actual
            .roles
            .iter()
            .find(|(arn, _)| arn.name() == role)
            .and_then(|(_, r)| r.inline.get(policy))
            .map(pretty)
            .unwrap_or_default()
    };
    let change = |subject: String, before: String, after: String| {
        let diff = diff_lines(&before, &after)
            .into_iter()
            .map(|l| {
                let mark = match l.kind {
                    LineKind::Added => "+ ",
                    LineKind::Removed => "- ",
                    LineKind::Same => "  ",
                };
                format!("{mark}{}", l.after_text())
            })
            .collect();
        PolicyChange { subject, diff }
    };
    steps
        .iter()
        .filter_map(|s| match &s.call {
            Call::PutRolePolicy {
                role_name,
                policy_name,
                document,
            } => Some(change(
                format!("inline policy {policy_name} of role {role_name}"),
                inline(role_name, policy_name),
                pretty_text(document),
            )),
            Call::DeleteRolePolicy {
                role_name,
                policy_name,
            } => Some(change(
                format!("inline policy {policy_name} of role {role_name}"),
                inline(role_name, policy_name),
                String::new(),
            )),
            Call::UpdateResourcePolicy { api_id, policy } => {
                let before = actual
                    .apis
                    .iter()
                    .find(|a| a.api.api_id.as_str() == api_id)
                    .and_then(|a| a.policy.as_ref())
                    .map(pretty)
                    .unwrap_or_default();
                Some(change(
                    format!("resource policy of API {api_id}"),
                    before,
                    pretty_text(policy),
                ))
            }
            _ => None,
        })
        .collect()
}

/// `gatehouse plan`: answers whether the push would make any call (exit status 2 then).
pub async fn print_plan(pusher: &Pusher, change_set: i64, as_json: bool) -> anyhow::Result<bool> {
    let (steps, actual) = pusher.plan_with_actual(change_set).await?;
    let policies = policy_changes(&steps, &actual);
    if as_json {
        let out = json!({
            "change_set": change_set,
            "changes": !steps.is_empty(),
            "calls": steps.iter().map(|s| json!({
                "target": s.target,
                "operation": s.call.operation(),
                "summary": s.call.summary(),
                "call": s.call,
            })).collect::<Vec<_>>(),
            "policies": policies.iter().map(|p| json!({"subject": p.subject, "diff": p.diff})).collect::<Vec<_>>(),
        });
        println!("{out}");
        return Ok(!steps.is_empty());
    }
    if steps.is_empty() {
        println!("change set {change_set}: AWS already matches; a push makes no call");
    }
    for (i, s) in steps.iter().enumerate() {
        println!(
            "{:>3}. [{}] {}: {}",
            i + 1,
            s.target,
            s.call.operation(),
            s.call.summary()
        );
    }
    for p in &policies {
        println!("\n{}:", p.subject);
        for line in &p.diff {
            println!("  {line}");
        }
    }
    Ok(!steps.is_empty())
}

/// `gatehouse drift`: the differences, each with both sides; exit status 3 when any.
pub async fn drift(pusher: &Pusher, as_json: bool) -> anyhow::Result<()> {
    let (report, items) = pusher.check_drift(&Actor::system("command line")).await?;
    if as_json {
        let out = json!({
            "report": report,
            "drift": !items.is_empty(),
            "items": items.iter().map(|i| json!({
                "subject": i.subject,
                "kind": i.kind,
                "desired": i.desired,
                "actual": i.actual,
                "fix": i.fix,
            })).collect::<Vec<_>>(),
        });
        println!("{out}");
    } else if items.is_empty() {
        println!("drift report {report}: AWS matches the desired state");
    } else {
        println!("drift report {report}: {} differences", items.len());
    }
    if items.is_empty() {
        return Ok(());
    }
    if !as_json {
        for (i, item) in items.iter().enumerate() {
            println!("\n{}. {}: {}", i + 1, item.subject, item.kind);
            println!(
                "   desired: {}",
                item.desired.replace('\n', "\n            ")
            );
            println!(
                "   in AWS:  {}",
                item.actual.replace('\n', "\n            ")
            );
            println!("   revert:  {}", item.fix);
        }
    }
    std::process::exit(3);
}

/// Pushes (or resumes the interrupted push of) `change_set`, drawing progress on stderr.
pub async fn push(pusher: Arc<Pusher>, change_set: i64, as_json: bool) -> anyhow::Result<()> {
    let actor = Actor::system("command line");
    let state = {
        let mut conn = pusher.pool.acquire().await?;
        cs_store::change_set(&mut conn, change_set, false)
            .await?
            .ok_or(PushError::NotFound(change_set))?
            .state
    };
    let run_id = if state == State::Pushing {
        let run = store::latest_run(&pusher.pool, change_set)
            .await?
            .filter(|r| r.state == RunState::Running)
            .ok_or_else(|| {
                anyhow::anyhow!("change set {change_set} is pushing but has no running push")
            })?;
        eprintln!("resuming push {}", run.id);
        run.id
    } else {
        match pusher.begin(&actor, change_set).await? {
            Some(id) => id,
            None => {
                if as_json {
                    println!(
                        "{}",
                        json!({"change_set": change_set, "run": null, "succeeded": true, "calls_made": 0, "error": null})
                    );
                } else {
                    println!(
                        "change set {change_set} is pushed and AWS still matches: no call made"
                    );
                }
                return Ok(());
            }
        }
    };
    let worker = {
        let pusher = Arc::clone(&pusher);
        tokio::spawn(async move { pusher.execute(run_id).await })
    };
    let mut progress = crate::backend::progress::Progress::new(Some(0));
    while !worker.is_finished() {
        let steps = store::steps(&pusher.pool, run_id).await?;
        let done = steps.iter().filter(|s| s.state == StepState::Done).count();
        let current = steps
            .iter()
            .find(|s| s.state != StepState::Done)
            .map(|s| format!("{} {}", s.operation, s.summary))
            .unwrap_or_else(|| "reading AWS back".into());
        progress.update(done as u64, steps.len() as u64, &current);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    progress.finish();
    let outcome = worker.await??;
    if as_json {
        println!(
            "{}",
            json!({
                "change_set": change_set,
                "run": outcome.run_id,
                "succeeded": outcome.succeeded,
                "calls_made": outcome.calls_made,
                "error": outcome.error,
            })
        );
    }
    if outcome.succeeded {
        if as_json {
            return Ok(());
        }
        println!(
            "push {} of change set {change_set} succeeded: {} calls made, read back and matching",
            outcome.run_id, outcome.calls_made
        );
        Ok(())
    } else {
        anyhow::bail!(
            "push {} of change set {change_set} failed: {}",
            outcome.run_id,
            outcome.error.unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{names::RoleArn, plan::RoleActual};
    use std::collections::BTreeMap;

    fn actual_with(inline: serde_json::Value) -> Actual {
        let role = RoleArn::parse("arn:aws:iam::123456789012:role/orders-readers").unwrap();
        let held = RoleActual {
            exists: true,
            managed: true,
            inline: [("gatehouse-invoke".to_string(), inline)].into(),
            ..Default::default()
        };
        Actual {
            roles: BTreeMap::from([(role, held)]),
            apis: Vec::new(),
            identity_center: Default::default(),
            store_groups: Default::default(),
            saml: Default::default(),
            bundle: None,
        }
    }

    fn put(document: &str) -> Step {
        Step {
            target: "123456789012/us-east-1".into(),
            call: Call::PutRolePolicy {
                role_name: "orders-readers".into(),
                policy_name: "gatehouse-invoke".into(),
                document: document.into(),
            },
        }
    }

    #[test]
    fn a_plan_shows_each_policy_it_writes_against_what_aws_holds() {
        let held = json!({"Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
            "Resource": ["arn:aws:execute-api:us-east-1:123456789012:a/prod/GET/orders"]}]});
        let new = r#"{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["arn:aws:execute-api:us-east-1:123456789012:a/prod/GET/orders","arn:aws:execute-api:us-east-1:123456789012:a/prod/POST/orders"]}]}"#;
        let deploy = Step {
            target: "123456789012/us-east-1".into(),
            call: Call::CreateDeployment {
                api_id: "a".into(),
                stage: "prod".into(),
                kind: Default::default(),
            },
        };
        let changes = policy_changes(&[put(new), deploy], &actual_with(held));
        assert_eq!(
            changes.len(),
            1,
            "only calls that write a policy: {changes:?}"
        );
        assert_eq!(
            changes[0].subject,
            "inline policy gatehouse-invoke of role orders-readers"
        );
        let added: Vec<&String> = changes[0]
            .diff
            .iter()
            .filter(|l| l.starts_with("+ "))
            .collect();
        let removed = changes[0]
            .diff
            .iter()
            .filter(|l| l.starts_with("- "))
            .count();
        assert_eq!(added.len(), 1, "{:#?}", changes[0].diff);
        assert!(added[0].contains("/prod/POST/orders"), "{added:?}");
        assert_eq!(removed, 0, "{:#?}", changes[0].diff);
    }

    #[test]
    fn a_policy_aws_does_not_hold_is_all_added() {
        let mut actual = actual_with(json!({}));
        actual.roles.values_mut().for_each(|r| r.inline.clear());
        let changes = policy_changes(&[put(r#"{"Statement":[]}"#)], &actual);
        assert!(
            changes[0].diff.iter().all(|l| l.starts_with("+ ")),
            "{:?}",
            changes[0].diff
        );
    }
}
