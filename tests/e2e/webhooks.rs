//! Signed webhooks: a channel's events reach the owner's URL signed the Standard Webhooks
//! way (verified by the specification's reference library from PyPI), through the delivery
//! queue: retried on 500 with backoff, given up after the last attempt, and a 410 stops
//! the webhook. Bad URLs and events are refused.

use crate::harness::{
    eventually, followed, instance::Options, receiver::Receiver, Tamper, TestInstance,
};
use herald::db::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::{collections::BTreeSet, sync::Arc, time::Duration};

const WAIT: Duration = Duration::from_secs(10);

/// Verifies `messages` (secret, headers, body) with Python's `standardwebhooks`.
fn verify_independently(secret: &str, got: &[crate::harness::receiver::Got]) {
    let Some(python) = crate::harness::python_with("standardwebhooks") else {
        return;
    };
    let messages: Vec<Value> = got
        .iter()
        .map(|g| {
            let headers: serde_json::Map<String, Value> = g
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                .collect();
            json!({ "secret": secret, "headers": headers, "body": g.body })
        })
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/verify_webhooks.py");
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::from(messages).to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(output.status.success(), "{report}");
    assert_eq!(report["verified"], got.len(), "{report}");
    // And a tampered body does not verify: the check can fail.
    let mut tampered = got[0].clone();
    tampered.body.push(' ');
    let mut child = std::process::Command::new(
        std::env::var("HERALD_TEST_PYTHON").unwrap_or_else(|_| "python3".into()),
    )
    .arg(script)
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let headers: serde_json::Map<String, Value> = tampered
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    let one = json!([{ "secret": secret, "headers": headers, "body": tampered.body }]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(one.to_string().as_bytes())
        .unwrap();
    assert!(!child.wait_with_output().unwrap().status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channels_events_reach_its_webhook_signed() {
    let f = followed(Options::default(), true, "alice").await;
    let herald = &f.herald;
    let receiver = Receiver::start().await;
    let events = [
        "follower.added",
        "follower.removed",
        "reply",
        "mention",
        "like",
        "boost",
        "report",
        "post.published",
    ];
    let (status, hook, _) = herald
        .api(
            &f.token,
            Method::POST,
            "/api/v1/channels/ceo/webhooks",
            Some(json!({ "url": receiver.url, "events": events, "description": "ops" })),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let (_, listed, _) = herald
        .api(&f.token, Method::GET, "/api/v1/channels/ceo/webhooks", None)
        .await;
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once: {listed}"
    );
    herald.worker().drain().await.unwrap();

    let inbox: url::Url = herald.url("/channels/ceo/inbox").parse().unwrap();
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    let bob = f.remote.add_user("bob");
    let follow = f.remote.follow(&bob, &actor);
    f.remote.send(&bob, follow.clone(), &inbox).await;
    let (_, post) = herald
        .post("ceo", Some(&f.token), &json!({ "text": "Hello" }))
        .await;
    let carol = f.remote.add_user("carol");
    let base = carol.id.to_string();
    let activities = [
        json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{base}/like/1"),
            "type": "Like", "actor": carol.id, "object": post["uri"] }),
        json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{base}/boost/1"),
            "type": "Announce", "actor": carol.id, "object": post["uri"],
            "to": "https://www.w3.org/ns/activitystreams#Public" }),
        json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{base}/note/1/activity"),
            "type": "Create", "actor": carol.id,
            "object": { "id": format!("{base}/note/1"), "type": "Note", "attributedTo": carol.id,
                "inReplyTo": post["uri"], "content": "<p>Well done</p>",
                "to": "https://www.w3.org/ns/activitystreams#Public" } }),
        json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{base}/note/2/activity"),
            "type": "Create", "actor": carol.id,
            "object": { "id": format!("{base}/note/2"), "type": "Note", "attributedTo": carol.id,
                "content": "<p>Have you seen @ceo?</p>", "tag": [{ "type": "Mention", "href": actor }],
                "to": "https://www.w3.org/ns/activitystreams#Public" } }),
        json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{base}/flag/1"),
            "type": "Flag", "actor": carol.id, "object": [actor], "content": "spam" }),
        json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{}/undo/1", bob.id),
            "type": "Undo", "actor": bob.id, "object": follow }),
    ];
    for activity in activities {
        let sender = if activity["type"] == "Undo" {
            &bob
        } else {
            &carol
        };
        let (status, body) = f
            .remote
            .post_signed(sender, &inbox, &activity.to_string(), Tamper::Nothing)
            .await;
        assert_eq!(status, 202, "{activity}: {body}");
    }
    herald.worker().drain().await.unwrap();
    let got = eventually("every event arrives", WAIT, || async {
        let got = receiver.got();
        (got.len() >= events.len()).then_some(got)
    })
    .await;
    let types: BTreeSet<String> = got
        .iter()
        .map(|g| g.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, events.iter().map(|e| e.to_string()).collect());
    let ids: BTreeSet<&str> = got
        .iter()
        .map(|g| g.header("webhook-id").unwrap())
        .collect();
    assert_eq!(ids.len(), got.len(), "each message has its own id");
    for g in &got {
        assert_eq!(g.header("content-type"), Some("application/json"));
        assert!(g.header("webhook-signature").unwrap().starts_with("v1,"));
        let body = g.json();
        let data = &body["data"];
        match body["type"].as_str().unwrap() {
            "follower.added" | "follower.removed" => assert_eq!(data["actor"], bob.id.to_string()),
            "like" | "boost" => {
                // Counted per server, naming no one.
                assert_eq!(data["post_id"], post["id"]);
                assert!(data.get("actor").is_none(), "{data}");
            }
            "reply" => assert_eq!(data["content"], "<p>Well done</p>"),
            "post.published" => assert_eq!(data["uri"], post["uri"]),
            "report" => assert_eq!(data["comment"], "spam"),
            "mention" => assert_eq!(data["actor"], carol.id.to_string()),
            other => panic!("unexpected {other}"),
        }
    }
    verify_independently(&secret, &got);
    let id = hook["id"].as_i64().unwrap();
    // The worker records each outcome just after the receiver answers: wait for them.
    let messages = eventually("every message is recorded delivered", WAIT, || async {
        let (status, messages, _) = herald
            .api(
                &f.token,
                Method::GET,
                &format!("/api/v1/channels/ceo/webhooks/{id}/deliveries"),
                None,
            )
            .await;
        assert_eq!(status, 200);
        let messages = messages.as_array().cloned().unwrap_or_default();
        let done = messages.len() == events.len()
            && messages
                .iter()
                .all(|m| m["state"] == "delivered" && m["attempts"] == 1);
        done.then_some(messages)
    })
    .await;
    assert_eq!(messages.len(), events.len());
}

/// A receiver that fails gets the message again with backoff, the same id each time, until
/// the last attempt; then it is a dead letter (and no `delivery.failed` is sent about a
/// webhook). A 410 disables the webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_receivers_get_retries_then_a_dead_letter() {
    let herald = TestInstance::with(Options {
        max_attempts: 3,
        workers: false,
        // Failing for days would mark the receiver unreachable (parked) first.
        unreachable_after_secs: 30 * 86400,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (status, hook, _) = herald
        .api(
            &token,
            Method::POST,
            "/api/v1/channels/ceo/webhooks",
            Some(json!({ "url": receiver.url, "events": ["post.published", "delivery.failed"] })),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let id = hook["id"].as_i64().unwrap();
    herald
        .post("ceo", Some(&token), &json!({ "text": "One" }))
        .await;
    let offset = Arc::new(std::sync::Mutex::new(chrono::Duration::zero()));
    let worker = herald.worker_with_clock(offset.clone());
    worker.drain().await.unwrap();
    for _ in 0..4 {
        *offset.lock().unwrap() += chrono::Duration::days(2);
        worker.drain().await.unwrap();
    }
    let got = receiver.got();
    assert_eq!(got.len(), 3, "three attempts, no more");
    let first = got[0].header("webhook-id").unwrap();
    assert!(
        got.iter().all(|g| g.header("webhook-id") == Some(first)),
        "retries keep the id"
    );
    let (_, messages, _) = herald
        .api(
            &token,
            Method::GET,
            &format!("/api/v1/channels/ceo/webhooks/{id}/deliveries"),
            None,
        )
        .await;
    assert_eq!(
        messages.as_array().unwrap().len(),
        1,
        "no delivery.failed about a webhook: {messages}"
    );
    let message = &messages[0];
    assert_eq!(
        (message["state"].as_str(), message["attempts"].as_u64()),
        (Some("failed"), Some(3)),
        "{message}"
    );
    assert_eq!(message["last_status"], 500);
    assert!(
        message["last_error"].as_str().unwrap().contains("gave up"),
        "{message}"
    );

    receiver.answer(410);
    herald
        .post("ceo", Some(&token), &json!({ "text": "Two" }))
        .await;
    worker.drain().await.unwrap();
    let (_, listed, _) = herald
        .api(&token, Method::GET, "/api/v1/channels/ceo/webhooks", None)
        .await;
    assert!(listed[0]["disabled_at"].is_string(), "{listed}");
    receiver.answer(200);
    herald
        .post("ceo", Some(&token), &json!({ "text": "Three" }))
        .await;
    worker.drain().await.unwrap();
    assert_eq!(
        receiver.got().len(),
        4,
        "nothing more goes to a disabled webhook"
    );
}

/// Refusals: an unknown event, a URL that is not one, a private address outside debug
/// mode, a person whose role is not owner.
#[tokio::test]
async fn bad_webhooks_are_refused() {
    let herald = TestInstance::with(Options {
        debug: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let cases = [
        (
            json!({ "url": "https://hooks.example.com/x", "events": ["post.eaten"] }),
            422,
            "event_unknown",
        ),
        (
            json!({ "url": "https://hooks.example.com/x", "events": [] }),
            422,
            "events_missing",
        ),
        (
            json!({ "url": "not a url", "events": ["reply"] }),
            422,
            "url_invalid",
        ),
        (
            json!({ "url": "https://127.0.0.1/x", "events": ["reply"] }),
            422,
            "url_refused",
        ),
        (
            json!({ "url": "https://localhost/x", "events": ["reply"] }),
            422,
            "url_refused",
        ),
        (
            json!({ "url": "http://hooks.example.com/x", "events": ["reply"] }),
            422,
            "url_refused",
        ),
    ];
    for (body, status, code) in cases {
        let (got, answer, _) = herald
            .api(
                &token,
                Method::POST,
                "/api/v1/channels/ceo/webhooks",
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (got, answer["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }
    let editor = herald
        .person("ed@example.com", "Ed", &channel, Role::Editor)
        .await;
    let editor_token = herald.person_token(&channel, &editor).await;
    let (status, _, _) = herald
        .api(
            &editor_token,
            Method::POST,
            "/api/v1/channels/ceo/webhooks",
            Some(json!({ "url": "https://hooks.example.com/x", "events": ["reply"] })),
        )
        .await;
    assert_eq!(status, 403);
    let (status, listed, _) = herald
        .api(&token, Method::GET, "/api/v1/channels/ceo/webhooks", None)
        .await;
    assert_eq!((status, listed), (200, json!([])), "nothing was stored");
}

/// A post that will not reach a follower's server (500 until the last attempt) is a dead
/// letter, and the webhook hears of it: the server, the post, why; not the inbox, which
/// is a reader's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_is_reported_as_delivery_failed() {
    let f = followed(
        Options {
            max_attempts: 2,
            workers: false,
            unreachable_after_secs: 30 * 86400,
            ..Options::default()
        },
        false,
        "alice",
    )
    .await;
    let herald = &f.herald;
    herald.worker().drain().await.unwrap();
    let receiver = Receiver::start().await;
    let (status, _, _) = herald
        .api(
            &f.token,
            Method::POST,
            "/api/v1/channels/ceo/webhooks",
            Some(json!({ "url": receiver.url, "events": ["delivery.failed"] })),
        )
        .await;
    assert_eq!(status, 201);
    f.remote.set_mode(crate::harness::Mode::Fail);
    let (_, post) = herald
        .post("ceo", Some(&f.token), &json!({ "text": "Unlucky" }))
        .await;
    let offset = Arc::new(std::sync::Mutex::new(chrono::Duration::zero()));
    let worker = herald.worker_with_clock(offset.clone());
    worker.drain().await.unwrap();
    for _ in 0..3 {
        *offset.lock().unwrap() += chrono::Duration::days(2);
        worker.drain().await.unwrap();
    }
    let got = receiver.got();
    assert_eq!(got.len(), 1, "one report of the dead letter");
    let body = got[0].json();
    assert_eq!(body["type"], "delivery.failed");
    let data = &body["data"];
    assert_eq!(data["post_id"], post["id"]);
    assert_eq!(data["activity_type"], "Create");
    assert_eq!(data["server"], f.remote.domain);
    assert!(
        data["reason"]
            .as_str()
            .unwrap()
            .contains("gave up after 2 attempts"),
        "{data}"
    );
    assert!(!got[0].body.contains("/inbox"), "no inbox: {}", got[0].body);
}
