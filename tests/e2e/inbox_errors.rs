//! Bad inbox traffic: each refusal has its status and code, and none stores anything.

use crate::harness::{eventually, FakeRemote, Tamper, TestInstance, WAIT};
use serde_json::{json, Value};
use url::Url;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("(none)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inbox_requests_are_refused_and_store_nothing() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("ceo").await;
    let remote = FakeRemote::start(true).await;
    let alice = remote.add_user("alice");
    let mallory = remote.add_user("mallory");
    let actor: Url = herald.url("/channels/ceo").parse().unwrap();
    let inbox: Url = herald.url("/channels/ceo/inbox").parse().unwrap();
    let shared: Url = herald.url("/inbox").parse().unwrap();
    let follow = remote.follow(&alice, &actor).to_string();

    let cases = [
        (Tamper::Unsigned, 401, "signature_invalid"),
        (Tamper::NoDigest, 401, "digest_invalid"),
        (Tamper::WrongKey, 401, "signature_invalid"),
        (Tamper::WrongDigest, 401, "digest_invalid"),
    ];
    for (tamper, status, expected) in cases {
        let (got, body) = remote.post_signed(&alice, &inbox, &follow, tamper).await;
        assert_eq!((got, code(&body)), (status, expected), "{tamper:?}: {body}");
    }

    // An inbox of a channel that does not exist.
    let nowhere: Url = herald.url("/channels/nobody/inbox").parse().unwrap();
    let (got, body) = remote
        .post_signed(&alice, &nowhere, &follow, Tamper::Nothing)
        .await;
    assert_eq!((got, code(&body)), (404, "channel_not_found"), "{body}");

    // A Follow of a channel that does not exist, at the shared inbox.
    let ghost = remote.follow(&alice, &herald.url("/channels/nobody").parse().unwrap());
    let (got, body) = remote
        .post_signed(&alice, &shared, &ghost.to_string(), Tamper::Nothing)
        .await;
    assert_eq!((got, code(&body)), (404, "channel_not_found"), "{body}");

    // Not JSON at all.
    let (got, body) = remote
        .post_signed(&alice, &inbox, "{\"type\": \"Fol", Tamper::Nothing)
        .await;
    assert_eq!((got, code(&body)), (400, "request_invalid"), "{body}");

    // JSON that is not an activity.
    let (got, body) = remote
        .post_signed(&alice, &inbox, "[1, 2]", Tamper::Nothing)
        .await;
    assert_eq!((got, code(&body)), (400, "activity_invalid"), "{body}");

    // Over the body limit.
    let huge = json!({"id": "x", "padding": "x".repeat(300 * 1024)}).to_string();
    let (got, _) = remote
        .post_signed(&alice, &inbox, &huge, Tamper::Nothing)
        .await;
    assert_eq!(got, 413);

    // mallory cannot undo alice's follow.
    let forged = json!({
        "id": format!("{}/undo", mallory.id),
        "type": "Undo",
        "actor": mallory.id,
        "object": serde_json::from_str::<Value>(&follow).unwrap(),
    });
    let (got, body) = remote
        .post_signed(&mallory, &inbox, &forged.to_string(), Tamper::Nothing)
        .await;
    assert_eq!((got, code(&body)), (400, "activity_refused"), "{body}");

    // Nothing was stored and nothing was sent.
    assert_eq!(herald.follower_count(&channel).await, 0);
    herald.worker().drain().await.unwrap();
    assert!(remote.received().is_empty(), "{:?}", remote.received());

    // The same Follow, correctly signed, is taken: the refusals above were about the
    // spoiled parts only.
    let (got, body) = remote
        .post_signed(&alice, &inbox, &follow, Tamper::Nothing)
        .await;
    assert_eq!(got, 202, "{body}");
    assert_eq!(herald.follower_count(&channel).await, 1);
    eventually("the Accept arrives", WAIT, || async {
        (remote.received_of("Accept").len() == 1).then_some(())
    })
    .await;

    // mallory's forged Undo still changes nothing now that the follow exists.
    let (got, _) = remote
        .post_signed(&mallory, &inbox, &forged.to_string(), Tamper::Nothing)
        .await;
    assert_eq!(got, 400);
    assert_eq!(herald.follower_count(&channel).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webfinger_answers_and_refusals() {
    let herald = TestInstance::start().await;
    herald.create_channel("ceo").await;
    let get = |resource: Option<String>| {
        let herald = &herald;
        async move {
            let mut url = herald.url("/.well-known/webfinger");
            if let Some(resource) = resource {
                url = format!("{url}?resource={resource}");
            }
            let response = herald.client.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (
                status,
                content_type,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let domain = herald.domain.clone();
    let (status, content_type, jrd) = get(Some(format!("acct:ceo@{domain}"))).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/jrd+json"),
        "{content_type}"
    );
    assert_eq!(jrd["subject"], format!("acct:ceo@{domain}"));
    let links = jrd["links"].as_array().unwrap();
    assert!(links.iter().any(|l| l["rel"] == "self"
        && l["type"] == "application/activity+json"
        && l["href"] == herald.url("/channels/ceo")));
    assert!(links
        .iter()
        .any(|l| l["rel"] == "http://webfinger.net/rel/profile-page"
            && l["href"] == herald.url("/@ceo")));

    // The actor URL is a resource too.
    let (status, _, by_url) = get(Some(herald.url("/channels/ceo"))).await;
    assert_eq!(status, 200);
    assert_eq!(by_url["subject"], jrd["subject"]);
    // And the instance actor.
    let (status, _, instance) = get(Some(format!("acct:{domain}@{domain}"))).await;
    assert_eq!(status, 200);
    assert_eq!(instance["links"][0]["href"], herald.url("/actor"));

    for (resource, status, code) in [
        (None, 400, "request_invalid"),
        (Some("ceo".to_string()), 400, "request_invalid"),
        (Some("acct:".to_string()), 400, "request_invalid"),
        (Some(format!("acct:nobody@{domain}")), 404, "not_found"),
        (
            Some("acct:ceo@elsewhere.example".to_string()),
            404,
            "not_found",
        ),
    ] {
        let (got, _, body) = get(resource.clone()).await;
        assert_eq!(
            (got, body["error"]["code"].as_str().unwrap_or("")),
            (status, code),
            "{resource:?}"
        );
    }

    // host-meta points at WebFinger; NodeInfo names the software.
    let host_meta = herald
        .client
        .get(herald.url("/.well-known/host-meta"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(host_meta.contains(&format!(
        "{}/.well-known/webfinger?resource={{uri}}",
        herald.base
    )));
    let links: Value = herald
        .client
        .get(herald.url("/.well-known/nodeinfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        links["links"][2]["rel"],
        "https://www.w3.org/ns/activitystreams#Application"
    );
    assert_eq!(links["links"][2]["href"], herald.url("/actor"));
    for (i, version) in ["2.0", "2.1"].iter().enumerate() {
        let href = links["links"][i]["href"].as_str().unwrap();
        let info: Value = herald
            .client
            .get(href)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["version"], *version);
        assert_eq!(info["software"]["name"], "herald");
        assert_eq!(info["openRegistrations"], false);
        assert_eq!(info["usage"]["users"]["total"], 1);
        assert_eq!(info["usage"]["localPosts"], 0);
    }
}
