//! The documents other servers and browsers read: actors (a bot channel is a `Service`),
//! the instance actor, collections, and the HTML pages behind the actors' `url`s.

use crate::harness::TestInstance;
use herald::db::{self, ChannelName, NewChannel};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actors_collections_and_pages() {
    let herald = TestInstance::start().await;
    let person = herald.create_channel("ceo").await;
    let (public_key_pem, private_key_pem) = herald::delivery::signing::generate_keypair().unwrap();
    db::create_channel(
        &herald.state().db,
        NewChannel {
            name: ChannelName::parse("status_bot").unwrap(),
            display_name: String::new(),
            summary: String::new(),
            bot: true,
            public_key_pem,
            private_key_pem,
        },
    )
    .await
    .unwrap();

    let response = herald
        .client
        .get(herald.url("/channels/ceo"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/activity+json"));
    assert_eq!(response.headers()["vary"], "Accept");
    let actor: Value = response.json().await.unwrap();
    assert_eq!(actor["type"], "Person");
    assert_eq!(actor["name"], "The ceo channel");
    assert_eq!(actor["summary"], "<p>News from <strong>ceo</strong></p>");
    assert_eq!(actor["publicKey"]["publicKeyPem"], person.public_key_pem);
    assert_eq!(actor["endpoints"]["sharedInbox"], herald.url("/inbox"));
    // Every extension term is defined inline, so receivers need not fetch a context.
    let terms = &actor["@context"][2];
    for term in [
        "toot",
        "discoverable",
        "indexable",
        "featured",
        "manuallyApprovesFollowers",
        "schema",
        "PropertyValue",
    ] {
        assert!(
            terms.get(term).is_some(),
            "{term} undefined in {}",
            actor["@context"]
        );
    }

    let (_, bot) = herald
        .get_activity_json(&herald.url("/channels/status_bot"))
        .await;
    assert_eq!(
        bot["type"], "Service",
        "a bot channel shows the Automated badge"
    );
    assert_eq!(
        bot["name"], "status_bot",
        "the name stands in for an empty display name"
    );

    let (status, instance) = herald.get_activity_json(&herald.url("/actor")).await;
    assert_eq!(status, 200);
    assert_eq!(instance["type"], "Application");
    assert_eq!(instance["preferredUsername"], herald.domain);
    assert_eq!(instance["publicKey"]["id"], herald.url("/actor#main-key"));
    assert_eq!(
        instance["publicKey"]["publicKeyPem"],
        herald.state().instance_keys.public_key_pem
    );

    for (path, total) in [("following", 0), ("featured", 0), ("outbox", 0)] {
        let (status, collection) = herald
            .get_activity_json(&herald.url(&format!("/channels/ceo/{path}")))
            .await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(collection["type"], "OrderedCollection");
        assert_eq!(collection["totalItems"], total);
    }
    let (status, body) = herald
        .get_activity_json(&herald.url("/channels/nobody"))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("channel_not_found"))
    );
    let (status, _) = herald
        .get_activity_json(&herald.url("/posts/not-a-post"))
        .await;
    assert_eq!(status, 404);

    // The profile page behind the actor's url: HTML, strict CSP, no cookie.
    let page = herald
        .client
        .get(actor["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert!(page.headers().get("set-cookie").is_none());
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("@ceo@{}", herald.domain)), "{html}");
    assert!(html.contains("rel=\"alternate\" type=\"application/activity+json\""));
}
