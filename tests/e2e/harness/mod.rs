//! The test harness: a Herald instance per test and fake remote servers, all on loopback
//! with ports chosen by the OS, cleaned up when dropped.

pub mod instance;
pub mod remote;

pub use instance::{Backend, TestInstance};
pub use remote::{FakeRemote, Forgery, Mode, Tamper};

use std::{future::Future, time::Duration};

/// Polls `condition` until it yields a value or `timeout` passes (then panics with `what`).
/// Tests wait on facts, never on fixed sleeps.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut condition: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = condition().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The default wait for things that happen in the background.
pub const WAIT: Duration = Duration::from_secs(20);
