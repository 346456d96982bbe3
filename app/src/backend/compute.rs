//! The CPU-heavy part of a request (indexing the approved state, applying a draft to it,
//! building a matrix's rows) runs here: on tokio's blocking threads, never on the async workers
//! that answer every other request, and at most one fewer at a time than the machine has cores,
//! so a core always stays free for the rest, and the threads doing it (each with its own stack
//! and allocator caches) stay few however many requests ask at once.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(slots()));

/// One fewer than the cores, at least one.
fn slots() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

/// Runs `work` off the async workers once a slot is free; `what` names it in the error when
/// it panicked.
pub async fn run<T, F>(what: &str, work: F) -> sqlx::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("{what}: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_and_answers_and_a_panic_is_an_error() {
        assert_eq!(run("adding", || 2 + 2).await.unwrap(), 4);
        let e = run("failing", || -> u8 { panic!("boom") })
            .await
            .unwrap_err();
        assert!(e.to_string().contains("failing"), "{e}");
        assert!(slots() >= 1);
    }
}
