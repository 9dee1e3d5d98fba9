//! Herald as separate processes on one database and Redis: `herald worker` ×2 share the
//! queue without double delivery, and `herald deliveries` shows and mends it.

use crate::harness::{eventually, instance::Options, FakeRemote, Mode, TestInstance, WAIT};
use serde_json::json;
use std::process::Child;

/// A child process killed (SIGKILL) when dropped, even if the test panics.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_deliver_each_post_once() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    let inbox: url::Url = herald.url("/channels/ceo/inbox").parse().unwrap();
    let mut remotes = Vec::new();
    for shared in [true, false, true, false, true, false] {
        let remote = FakeRemote::start(shared).await;
        for name in ["a", "b"] {
            let user = remote.add_user(name);
            remote
                .send(&user, remote.follow(&user, &actor), &inbox)
                .await;
        }
        remotes.push(remote);
    }
    let workers = [
        Killed(herald.spawn_herald(&["worker"], &[])),
        Killed(herald.spawn_herald(&["worker"], &[])),
    ];
    // Shared-inbox servers get one Create, the others one per follower.
    let expected = |shared: bool| if shared { 1 } else { 2 };
    for text in ["one", "two", "three"] {
        let (status, _) = herald
            .post("ceo", Some(&token), &json!({ "text": text }))
            .await;
        assert_eq!(status, 201);
    }
    eventually("every server has every post", WAIT, || async {
        remotes
            .iter()
            .zip([true, false, true, false, true, false])
            .all(|(r, shared)| r.received_of("Create").len() == 3 * expected(shared))
            .then_some(())
    })
    .await;
    // Let anything duplicated arrive, then count again: exactly once each.
    herald.worker().drain().await.unwrap();
    for (remote, shared) in remotes.iter().zip([true, false, true, false, true, false]) {
        let creates = remote.received_of("Create");
        assert_eq!(creates.len(), 3 * expected(shared), "{}", remote.domain);
        let mut ids: Vec<_> = creates
            .iter()
            .map(|c| (c.path.clone(), c.activity["id"].to_string()))
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            ids.len(),
            creates.len(),
            "no duplicates at {}",
            remote.domain
        );
    }
    drop(workers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deliveries_command_shows_and_mends_the_queue() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = FakeRemote::start(false).await;
    let alice = remote.add_user("alice");
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    remote
        .send(
            &alice,
            remote.follow(&alice, &actor),
            &herald.url("/inbox").parse().unwrap(),
        )
        .await;
    let worker = herald.worker();
    worker.drain().await.unwrap();
    remote.set_mode(Mode::Status(403));
    herald
        .post("ceo", Some(&token), &json!({"text": "one"}))
        .await;
    herald
        .post("ceo", Some(&token), &json!({"text": "two"}))
        .await;
    worker.drain().await.unwrap();

    let (code, out, err) = herald.run_herald(&["deliveries", "status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("failed (dead letters) 2"), "{out}");
    assert!(out.contains("delivered             1"), "{out}");

    // Retry the dead letters once the server takes them.
    remote.set_mode(Mode::Accept);
    let (code, out, err) = herald.run_herald(&["deliveries", "retry", "--server", &remote.domain]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("2 dead letter(s) queued again"), "{out}");
    worker.drain().await.unwrap();
    assert_eq!(remote.received_of("Create").len(), 2);

    // Drop a dead letter.
    remote.set_mode(Mode::Status(400));
    herald
        .post("ceo", Some(&token), &json!({"text": "three"}))
        .await;
    worker.drain().await.unwrap();
    let (code, out, _) = herald.run_herald(&["deliveries", "drop"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("1 dead letter(s) deleted"), "{out}");
    let (_, out, _) = herald.run_herald(&["deliveries", "status"]);
    assert!(out.contains("failed (dead letters) 0"), "{out}");
}
