//! What a remote server's answer does to a delivery: 500 retries (and then succeeds),
//! 410 on a personal inbox removes the follower, a hanging server times out and retries.

use crate::harness::{instance::Options, FakeRemote, Mode, TestInstance};
use herald::db;
use serde_json::{json, Value};

async fn status(herald: &TestInstance, token: &str, post: &Value) -> Value {
    let path = format!(
        "/api/v1/channels/ceo/posts/{}/delivery",
        post["id"].as_str().unwrap()
    );
    herald.get_json(&path, token).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_answers_decide_retry_drop_or_done() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let worker = herald.worker();
    let remote = FakeRemote::start(false).await;
    let alice = remote.add_user("alice");
    let actor = herald.url("/channels/ceo").parse().unwrap();
    remote
        .send(
            &alice,
            remote.follow(&alice, &actor),
            &actor.join("ceo/inbox").unwrap(),
        )
        .await;
    worker.drain().await.unwrap();
    assert_eq!(remote.received_of("Accept").len(), 1);

    // 500: retried later, and delivered once the server recovers.
    remote.set_mode(Mode::Fail);
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "one"}))
        .await;
    worker.drain().await.unwrap();
    let report = status(&herald, &token, &post).await;
    assert_eq!(report["counts"]["retrying"], 1, "{report}");
    assert_eq!(report["failures"][0]["last_status"], 500);
    assert_eq!(report["failures"][0]["server"], remote.domain);
    remote.set_mode(Mode::Accept);
    // Make every parked retry due now instead of waiting out the backoff.
    herald
        .state()
        .queue
        .move_due_retries(i64::MAX)
        .await
        .unwrap();
    worker.drain().await.unwrap();
    let report = status(&herald, &token, &post).await;
    assert_eq!(report["counts"]["delivered"], 1, "{report}");
    assert_eq!(remote.received_of("Create").len(), 1);

    // A hanging server: the attempt times out and is retried, not waited on forever.
    remote.set_mode(Mode::Hang);
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "two"}))
        .await;
    worker.drain().await.unwrap();
    let report = status(&herald, &token, &post).await;
    assert_eq!(report["counts"]["retrying"], 1, "{report}");
    assert_eq!(report["failures"][0]["last_error"], "timed out");

    // 410 Gone from the personal inbox: the follower is removed, the delivery dropped.
    remote.set_mode(Mode::Gone);
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "three"}))
        .await;
    worker.drain().await.unwrap();
    let report = status(&herald, &token, &post).await;
    assert_eq!(report["counts"]["failed"], 1, "{report}");
    assert_eq!(report["failures"][0]["last_status"], 410);
    assert_eq!(
        db::count_followers(&herald.state().db, channel.id)
            .await
            .unwrap(),
        0
    );
}
