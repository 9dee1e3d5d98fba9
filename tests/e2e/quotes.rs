//! Quote posts as Mastodon 4.5 asks for them (FEP-044f): a `QuoteRequest` for a post that
//! anyone may quote gets an `Accept` whose `result` is a `QuoteAuthorization` the channel
//! serves; one for a post nobody may quote gets a `Reject`.

use crate::harness::{eventually, followed, instance::Options, Tamper};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_requests_are_answered_by_the_posts_policy() {
    let f = followed(Options::default(), true, "alice").await;
    let herald = &f.herald;
    herald.worker().drain().await.unwrap();
    let (_, open) = herald
        .post("ceo", Some(&f.token), &json!({ "text": "Quote me" }))
        .await;
    let (status, closed) = herald
        .post(
            "ceo",
            Some(&f.token),
            &json!({ "text": "Do not quote me", "policy": { "quote": "nobody" } }),
        )
        .await;
    assert_eq!(status, 201, "{closed}");
    let bob = f.remote.add_user("bob");
    let inbox: url::Url = herald.url("/channels/ceo/inbox").parse().unwrap();
    let request = |n: u32, post: &serde_json::Value, instrument: String| {
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", { "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest" }],
            "id": format!("{}/quote_requests/{n}", bob.id),
            "type": "QuoteRequest",
            "actor": bob.id,
            "object": post["uri"],
            "instrument": instrument,
        })
    };
    let quoting = format!("{}/statuses/9", bob.id);
    for (n, post) in [(1, &open), (2, &closed)] {
        let (status, body) = f
            .remote
            .post_signed(
                &bob,
                &inbox,
                &request(n, post, quoting.clone()).to_string(),
                Tamper::Nothing,
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    // A quoting post on another server than the sender's is refused.
    let (status, _) = f
        .remote
        .post_signed(
            &bob,
            &inbox,
            &request(3, &open, "https://elsewhere.example/statuses/1".into()).to_string(),
            Tamper::Nothing,
        )
        .await;
    assert!((400..500).contains(&status), "{status}");
    herald.worker().drain().await.unwrap();

    let accept = eventually("the Accept arrives", Duration::from_secs(10), || async {
        f.remote
            .received_of("Accept")
            .into_iter()
            .find(|r| r.activity["object"] == format!("{}/quote_requests/1", bob.id))
    })
    .await;
    assert_eq!(accept.path, "/users/bob/inbox");
    assert_eq!(accept.key_id, herald.url("/channels/ceo#main-key"));
    let stamp_url = accept.activity["result"].as_str().unwrap().to_string();
    let (status, stamp) = herald.get_activity_json(&stamp_url).await;
    assert_eq!(status, 200, "{stamp}");
    assert_eq!(stamp["type"], "QuoteAuthorization");
    assert_eq!(stamp["id"], stamp_url);
    assert_eq!(stamp["attributedTo"], herald.url("/channels/ceo"));
    assert_eq!(stamp["interactingObject"], quoting);
    assert_eq!(stamp["interactionTarget"], open["uri"]);
    eventually("the Reject arrives", Duration::from_secs(10), || async {
        f.remote
            .received_of("Reject")
            .into_iter()
            .find(|r| r.activity["object"] == format!("{}/quote_requests/2", bob.id))
    })
    .await;
    assert!(
        !f.remote
            .received_of("Accept")
            .iter()
            .any(|r| r.activity["object"] == format!("{}/quote_requests/2", bob.id)),
        "the closed post is not authorized"
    );

    // The authorization goes with its post.
    let id = open["id"].as_str().unwrap();
    let (status, _, _) = herald
        .api(
            &f.token,
            Method::DELETE,
            &format!("/api/v1/channels/ceo/posts/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = herald.get_activity_json(&stamp_url).await;
    assert_eq!(status, 410);
}
