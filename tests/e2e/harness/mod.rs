//! The test harness: a Herald instance per test and fake remote servers, all on loopback
//! with ports chosen by the OS, cleaned up when dropped.

pub mod console;
pub mod feed_server;
pub mod instance;
pub mod receiver;
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

/// A port on 127.0.0.1 that nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The test crate's build of `herald`, with none of this process's `HERALD_*` variables:
/// the caller sets the ones it means.
pub fn herald_binary() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_herald-e2e"));
    for (key, _) in std::env::vars() {
        if key.starts_with("HERALD_") {
            command.env_remove(key);
        }
    }
    command
}

/// The default wait for things that happen in the background.
pub const WAIT: Duration = Duration::from_secs(20);

/// The usual start of a delivery test: an instance with channel `ceo` and a token for it,
/// and `user` on a fake remote (with or without a shared inbox) following it. The Follow
/// is stored; its Accept waits in the queue for the test to deliver.
pub struct Followed {
    pub herald: TestInstance,
    pub token: String,
    pub remote: FakeRemote,
}

pub async fn followed(options: instance::Options, shared_inbox: bool, user: &str) -> Followed {
    let herald = TestInstance::with(options).await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = FakeRemote::start(shared_inbox).await;
    let user = remote.add_user(user);
    let actor: url::Url = herald.url("/channels/ceo").parse().expect("actor URL");
    let inbox: url::Url = herald
        .url("/channels/ceo/inbox")
        .parse()
        .expect("inbox URL");
    remote
        .send(&user, remote.follow(&user, &actor), &inbox)
        .await;
    eventually("the follow is stored", WAIT, || async {
        (herald.follower_count(&channel).await == 1).then_some(())
    })
    .await;
    Followed {
        herald,
        token,
        remote,
    }
}

/// A Python that can import `module`: `HERALD_TEST_PYTHON`, else `python3`. `None` (the
/// test is skipped) where it cannot, except in CI, where that fails: `.ci/run` installs
/// the packages the tests use.
pub fn python_with(module: &str) -> Option<String> {
    let python = std::env::var("HERALD_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let found = std::process::Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(python);
    }
    if std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false")) {
        panic!("{python} cannot import {module}: .ci/run installs it (HERALD_TEST_PYTHON)");
    }
    eprintln!("{python} cannot import {module}: the test that needs it is skipped");
    None
}
