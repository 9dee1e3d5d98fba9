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

fn options(max_attempts: u32, unreachable_after_secs: u64) -> Options {
    Options {
        workers: false,
        max_attempts,
        unreachable_after_secs,
        ..Options::default()
    }
}

/// A channel followed by alice on `remote` (no shared inbox), Accept delivered.
async fn followed(herald: &TestInstance, remote: &FakeRemote) -> (herald::db::Channel, String) {
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let alice = remote.add_user("alice");
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    remote
        .send(
            &alice,
            remote.follow(&alice, &actor),
            &herald.url("/channels/ceo/inbox").parse().unwrap(),
        )
        .await;
    herald.worker().drain().await.unwrap();
    assert_eq!(remote.received_of("Accept").len(), 1);
    (channel, token)
}

/// Makes every parked retry due and runs the queue empty.
async fn retry_now(herald: &TestInstance, worker: &herald::delivery::Worker) {
    herald
        .state()
        .queue
        .move_due_retries(i64::MAX)
        .await
        .unwrap();
    worker.drain().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_retry_with_backoff_then_become_dead_letters() {
    let herald = TestInstance::with(options(3, 86400)).await;
    let remote = FakeRemote::start(false).await;
    let (_, token) = followed(&herald, &remote).await;
    let worker = herald.worker();

    // 503: retried on a backoff schedule, then given up after the last attempt.
    remote.set_mode(Mode::Status(503));
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "one"}))
        .await;
    let before = chrono::Utc::now();
    worker.drain().await.unwrap();
    let delivery = only_delivery(&herald, &post).await;
    assert_eq!(
        (delivery.state.as_str(), delivery.attempts),
        ("retrying", 1)
    );
    let due = delivery.next_attempt_at.unwrap();
    assert!(
        due > before && due <= before + chrono::Duration::seconds(31),
        "{due} after {before}"
    );
    retry_now(&herald, &worker).await;
    assert_eq!(only_delivery(&herald, &post).await.attempts, 2);
    retry_now(&herald, &worker).await;
    let report = status(&herald, &token, &post).await;
    assert_eq!(report["counts"]["failed"], 1, "{report}");
    assert_eq!(report["failures"][0]["attempts"], 3);
    assert_eq!(
        report["failures"][0]["last_error"],
        "gave up after 3 attempts; last: HTTP 503"
    );
    // A dead letter stays dead: nothing left in the queue, no further attempt.
    retry_now(&herald, &worker).await;
    assert_eq!(only_delivery(&herald, &post).await.attempts, 3);

    // 429 with Retry-After: the next attempt waits as long as the server asked.
    remote.set_mode(Mode::RetryAfter(120));
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "two"}))
        .await;
    let before = chrono::Utc::now();
    worker.drain().await.unwrap();
    let delivery = only_delivery(&herald, &post).await;
    assert_eq!(delivery.state, "retrying");
    let wait = delivery.next_attempt_at.unwrap() - before;
    assert!((118..=125).contains(&wait.num_seconds()), "waited {wait}");

    // Other 4xx: dropped at once, with the reason.
    remote.set_mode(Mode::Status(403));
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "three"}))
        .await;
    worker.drain().await.unwrap();
    let report = status(&herald, &token, &post).await;
    assert_eq!(report["counts"]["failed"], 1, "{report}");
    assert_eq!(report["failures"][0]["last_status"], 403);
    assert_eq!(report["failures"][0]["attempts"], 1);
}

async fn only_delivery(herald: &TestInstance, post: &Value) -> herald::db::Delivery {
    let id = uuid::Uuid::parse_str(post["id"].as_str().unwrap()).unwrap();
    let db = &herald.state().db;
    let failures = db::troubled_deliveries(db, id, 10).await.unwrap();
    match failures.as_slice() {
        [one] => one.clone(),
        [] => panic!("no troubled delivery for {id}"),
        many => panic!("{} deliveries for {id}", many.len()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_parked_probed_and_revived() {
    let herald = TestInstance::with(options(12, 86400)).await;
    let remote = FakeRemote::start(false).await;
    let (_, token) = followed(&herald, &remote).await;
    let offset = std::sync::Arc::new(std::sync::Mutex::new(chrono::Duration::zero()));
    let worker = herald.worker_with_clock(offset.clone());
    let advance = |by: chrono::Duration| *offset.lock().unwrap() += by;

    // Failures in a row over more than a day make the server unreachable.
    remote.set_mode(Mode::Fail);
    let (_, first) = herald
        .post("ceo", Some(&token), &json!({"text": "one"}))
        .await;
    worker.drain().await.unwrap();
    advance(chrono::Duration::hours(1));
    retry_now(&herald, &worker).await;
    assert_eq!(
        only_delivery(&herald, &first).await.state,
        "retrying",
        "2 failures in 1 h"
    );
    advance(chrono::Duration::hours(24));
    retry_now(&herald, &worker).await;
    assert_eq!(only_delivery(&herald, &first).await.state, "parked");
    let server = db::instance_by_authority(&herald.state().db, &remote.domain)
        .await
        .unwrap()
        .unwrap();
    assert!(
        server.unreachable && server.consecutive_failures == 3,
        "{server:?}"
    );

    // New deliveries to it are parked without a request.
    let hits = remote.inbox_hits();
    let (_, second) = herald
        .post("ceo", Some(&token), &json!({"text": "two"}))
        .await;
    worker.drain().await.unwrap();
    assert_eq!(only_delivery(&herald, &second).await.state, "parked");
    assert_eq!(
        remote.inbox_hits(),
        hits,
        "no request to an unreachable server"
    );
    assert_eq!(
        status(&herald, &token, &second).await["counts"]["parked"],
        1
    );

    // Before the probe is due, the sweep sends nothing.
    assert_eq!(worker.sweep_now().await.unwrap().probes, 0);
    // The server comes back; the next probe finds it, and everything parked goes out.
    remote.set_mode(Mode::Accept);
    advance(chrono::Duration::hours(2));
    assert_eq!(worker.sweep_now().await.unwrap().probes, 1);
    worker.drain().await.unwrap();
    assert_eq!(remote.received_of("Create").len(), 2);
    for post in [&first, &second] {
        assert_eq!(
            status(&herald, &token, post).await["counts"]["delivered"],
            1
        );
    }
    let server = db::instance_by_authority(&herald.state().db, &remote.domain)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !server.unreachable && server.consecutive_failures == 0,
        "{server:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_from_an_unreachable_server_revives_it() {
    // unreachable_after 0: three failures in a row are enough.
    let herald = TestInstance::with(options(12, 0)).await;
    let remote = FakeRemote::start(false).await;
    let (_, token) = followed(&herald, &remote).await;
    let worker = herald.worker();
    remote.set_mode(Mode::Fail);
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "one"}))
        .await;
    worker.drain().await.unwrap();
    retry_now(&herald, &worker).await;
    retry_now(&herald, &worker).await;
    assert_eq!(only_delivery(&herald, &post).await.state, "parked");

    // The server is back and one of its users follows: Herald takes that as a sign of life.
    remote.set_mode(Mode::Accept);
    let bob = remote.add_user("bob");
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    remote
        .send(
            &bob,
            remote.follow(&bob, &actor),
            &herald.url("/inbox").parse().unwrap(),
        )
        .await;
    worker.drain().await.unwrap();
    assert_eq!(
        status(&herald, &token, &post).await["counts"]["delivered"],
        1
    );
    assert_eq!(remote.received_of("Create").len(), 1);
    assert_eq!(remote.received_of("Accept").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_a_few_requests_at_once_go_to_one_server() {
    let herald = TestInstance::with(options(12, 86400)).await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    // A server without a shared inbox and twelve followers on it: twelve deliveries.
    let remote = FakeRemote::start(false).await;
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    for i in 0..12 {
        let user = remote.add_user(&format!("u{i}"));
        remote
            .send(
                &user,
                remote.follow(&user, &actor),
                &herald.url("/inbox").parse().unwrap(),
            )
            .await;
    }
    remote.set_delay(std::time::Duration::from_millis(150));
    herald
        .post("ceo", Some(&token), &json!({"text": "to everyone"}))
        .await;
    let worker = herald.worker();
    crate::harness::eventually("twelve Creates", crate::harness::WAIT, || async {
        worker.run_once().await.unwrap();
        (remote.received_of("Create").len() == 12).then_some(())
    })
    .await;
    let most = remote.max_in_flight();
    assert!(
        (2..=4).contains(&most),
        "{most} requests at once (delivery.per_host is 4)"
    );
}
