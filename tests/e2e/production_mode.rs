//! Outside debug mode Herald refuses plain http and loopback or private addresses, for
//! deliveries and for fetches alike, even when a real server listens there.

use crate::harness::{instance::Options, FakeRemote, Tamper, TestInstance};
use herald::{
    db::{self, NewRemoteActor},
    delivery::guard,
};
use serde_json::json;
use std::time::Duration;
use url::Url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_refuses_to_deliver_to_loopback_or_http() {
    let herald = TestInstance::with(Options {
        debug: false,
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = FakeRemote::start(false).await;
    let port = remote.domain.rsplit(':').next().unwrap().to_string();

    // Followers whose inboxes are a live server on loopback, reached three ways.
    let inboxes = [
        format!("http://localhost:{port}/users/a/inbox"),
        format!("https://127.0.0.1:{port}/users/b/inbox"),
        format!("https://localhost:{port}/users/c/inbox"),
    ];
    for (i, inbox) in inboxes.iter().enumerate() {
        let actor = db::upsert_remote_actor(
            &herald.state().db,
            NewRemoteActor {
                uri: Url::parse(&format!("https://remote{i}.example/users/x")).unwrap(),
                inbox: Url::parse(inbox).unwrap(),
                shared_inbox: None,
                public_key_pem: "unused".into(),
                key_id: None,
                also_known_as: Vec::new(),
            },
        )
        .await
        .unwrap();
        db::add_follower(
            &herald.state().db,
            channel.id,
            &actor,
            "https://remote.example/f",
            false,
        )
        .await
        .unwrap();
    }

    let (status, post) = herald
        .post("ceo", Some(&token), &json!({"text": "hi"}))
        .await;
    assert_eq!(status, 201);
    let handled = herald.herald.worker().unwrap().drain().await.unwrap();
    assert_eq!(handled, 4, "one fan-out and three deliveries");

    let (_, delivery) = herald
        .get_json(
            &format!(
                "/api/v1/channels/ceo/posts/{}/delivery",
                post["id"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(delivery["counts"]["failed"], 3, "{delivery}");
    assert_eq!(delivery["counts"]["delivered"], 0);
    for failure in delivery["failures"].as_array().unwrap() {
        let error = failure["last_error"].as_str().unwrap();
        assert!(error.starts_with("refused:"), "{error}");
        assert_eq!(failure["attempts"], 1, "a refusal is not retried");
    }
    assert_eq!(
        remote.inbox_hits(),
        0,
        "nothing reached the loopback server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_refuses_to_fetch_from_loopback_or_http() {
    let herald = TestInstance::with(Options {
        debug: false,
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let remote = FakeRemote::start(true).await;
    let alice = remote.add_user("alice");

    // A correctly signed Follow whose actor lives on http://localhost: Herald must not
    // fetch the actor to check the signature.
    let follow = remote.follow(
        &alice,
        &Url::parse(&format!("https://{}/channels/ceo", herald.domain)).unwrap(),
    );
    let inbox = Url::parse(&herald.url("/channels/ceo/inbox")).unwrap();
    let (status, body) = remote
        .post_signed(&alice, &inbox, &follow.to_string(), Tamper::Nothing)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "url_refused");
    assert!(
        remote.fetch_key_ids().is_empty(),
        "Herald fetched from loopback"
    );
    assert_eq!(herald.follower_count(&channel).await, 0);

    // The HTTP client Herald uses in production refuses loopback addresses at connect
    // time, whatever the URL looked like before resolution.
    let client = guard::http_client(false, Duration::from_secs(2), "test").unwrap();
    let port = remote.domain.rsplit(':').next().unwrap();
    let error = client
        .get(format!("https://localhost:{port}/users/alice"))
        .send()
        .await
        .unwrap_err();
    assert!(guard::is_refusal(&error), "{error:?}");
    // In debug mode the same client connects.
    let debug_client = guard::http_client(true, Duration::from_secs(2), "test").unwrap();
    let response = debug_client
        .get(format!("http://localhost:{port}/users/alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}
