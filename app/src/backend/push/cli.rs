//! `gatehouse plan` and `gatehouse push`: the plan as a list, the push with a progress bar.

use crate::push::{RunState, StepState};
use std::{io::Write, sync::Arc, time::Duration};

use super::{store, PushError, Pusher};
use crate::backend::{audit::Actor, mappings::store as cs_store};
use crate::domain::change_set::State;

pub async fn print_plan(pusher: &Pusher, change_set: i64) -> anyhow::Result<()> {
    let steps = pusher.plan(change_set).await?;
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
    Ok(())
}

/// `gatehouse drift`: the differences, each with both sides; exit status 3 when any.
pub async fn drift(pusher: &Pusher) -> anyhow::Result<()> {
    let (report, items) = pusher.check_drift(&Actor::system("command line")).await?;
    if items.is_empty() {
        println!("drift report {report}: AWS matches the desired state");
        return Ok(());
    }
    println!("drift report {report}: {} differences", items.len());
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
    std::process::exit(3);
}

fn bar(done: usize, total: usize) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    format!(
        "[{}{}] {done}/{total}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled)
    )
}

/// Pushes (or resumes the interrupted push of) `change_set`, drawing progress on stderr.
pub async fn push(pusher: Arc<Pusher>, change_set: i64) -> anyhow::Result<()> {
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
                println!("change set {change_set} is pushed and AWS still matches: no call made");
                return Ok(());
            }
        }
    };
    let worker = {
        let pusher = Arc::clone(&pusher);
        tokio::spawn(async move { pusher.execute(run_id).await })
    };
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut last = String::new();
    while !worker.is_finished() {
        let steps = store::steps(&pusher.pool, run_id).await?;
        let done = steps.iter().filter(|s| s.state == StepState::Done).count();
        let current = steps
            .iter()
            .find(|s| s.state != StepState::Done)
            .map(|s| format!("{} {}", s.operation, s.summary))
            .unwrap_or_else(|| "reading AWS back".into());
        let line = format!("{} {current}", bar(done, steps.len()));
        if line != last {
            if tty {
                eprint!("\r\x1b[2K{line}");
            } else {
                eprintln!("{line}");
            }
            let _ = std::io::stderr().flush();
            last = line;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if tty {
        eprintln!();
    }
    let outcome = worker.await??;
    if outcome.succeeded {
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
    #[test]
    fn the_bar_fills_with_the_steps_done() {
        assert_eq!(super::bar(0, 4), format!("[{}] 0/4", "-".repeat(30)));
        assert_eq!(
            super::bar(2, 4),
            format!("[{}{}] 2/4", "#".repeat(15), "-".repeat(15))
        );
        assert_eq!(super::bar(0, 0), format!("[{}] 0/0", "#".repeat(30)));
    }
}
