//! A post's life as followers' servers see it: edits arrive as `Update` with `updated`,
//! deletions as `Delete` with a `Tombstone`, pins as `Add`/`Remove` on the featured
//! collection, mentions at the mentioned server, scheduled posts once at their time.

use crate::harness::{instance::Options, FakeRemote, TestInstance};
use herald::db::Channel;
use serde_json::{json, Value};

struct World {
    herald: TestInstance,
    channel: Channel,
    token: String,
    /// A Mastodon-like server where alice follows the channel.
    followers: FakeRemote,
}

async fn world() -> World {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let followers = FakeRemote::start(true).await;
    let alice = followers.add_user("alice");
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    followers
        .send(
            &alice,
            followers.follow(&alice, &actor),
            &herald.url("/inbox").parse().unwrap(),
        )
        .await;
    herald.worker().drain().await.unwrap();
    World {
        herald,
        channel,
        token,
        followers,
    }
}

impl World {
    async fn drain(&self) {
        self.herald.worker().drain().await.unwrap();
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .herald
            .client
            .request(
                method,
                self.herald.url(&format!("/api/v1/channels/ceo{path}")),
            )
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    fn received(&self, kind: &str) -> Vec<Value> {
        self.followers
            .received_of(kind)
            .into_iter()
            .map(|r| r.activity)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_pins_and_deletes_reach_followers() {
    let w = world().await;
    let (status, post) = w
        .herald
        .post(
            "ceo",
            Some(&w.token),
            &json!({"text": "First version #news"}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    let id = post["id"].as_str().unwrap().to_string();
    let uri = post["uri"].as_str().unwrap().to_string();
    w.drain().await;
    let created = &w.received("Create")[0]["object"];
    assert_eq!(created["tag"][0]["type"], "Hashtag");
    assert_eq!(created["tag"][0]["name"], "#news");
    assert_eq!(created["source"]["mediaType"], "text/markdown");
    // The hashtag links to the channel's page of posts with that hashtag.
    let tag_page = created["tag"][0]["href"].as_str().unwrap().to_string();
    assert_eq!(tag_page, w.herald.url("/@ceo/tags/news"));
    let html = w
        .herald
        .client
        .get(&tag_page)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("First version"), "{html}");

    // An edit: Update with `updated` later than `published`, and the Note shows it.
    let (status, edited) = w
        .send(
            reqwest::Method::PATCH,
            &format!("/posts/{id}"),
            Some(json!({"text": "Second **version**"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    w.drain().await;
    let updates = w.received("Update");
    assert_eq!(updates.len(), 1);
    let note = &updates[0]["object"];
    assert_eq!(note["id"], uri);
    assert_eq!(note["content"], "<p>Second <strong>version</strong></p>");
    let published =
        chrono::DateTime::parse_from_rfc3339(note["published"].as_str().unwrap()).unwrap();
    let updated = chrono::DateTime::parse_from_rfc3339(note["updated"].as_str().unwrap()).unwrap();
    assert!(updated > published);
    let (_, served) = w.herald.get_activity_json(&uri).await;
    assert_eq!(served["content"], note["content"]);
    assert_eq!(served["updated"], note["updated"]);
    // An edit that changes nothing a reader sees sends nothing.
    w.send(
        reqwest::Method::PATCH,
        &format!("/posts/{id}"),
        Some(json!({"text": "Second **version**"})),
    )
    .await;
    w.drain().await;
    assert_eq!(w.received("Update").len(), 1);
    // A second real edit is newer still.
    w.send(
        reqwest::Method::PATCH,
        &format!("/posts/{id}"),
        Some(json!({"summary": "spoiler"})),
    )
    .await;
    w.drain().await;
    let second = &w.received("Update")[1]["object"];
    assert!(second["updated"].as_str().unwrap() > note["updated"].as_str().unwrap());
    assert_eq!(second["summary"], "spoiler");
    assert_eq!(second["sensitive"], true);

    // Pin: Add to the featured collection, which then embeds the whole Note.
    let (status, pinned) = w
        .send(reqwest::Method::POST, &format!("/posts/{id}/pin"), None)
        .await;
    assert_eq!((status, &pinned["pinned"]), (200, &json!(true)));
    w.drain().await;
    let add = &w.received("Add")[0];
    assert_eq!(add["target"], w.herald.url("/channels/ceo/featured"));
    assert_eq!(add["object"]["id"], uri);
    let (_, featured) = w
        .herald
        .get_activity_json(&w.herald.url("/channels/ceo/featured"))
        .await;
    assert_eq!(featured["totalItems"], 1);
    assert_eq!(featured["orderedItems"][0]["id"], uri);
    assert_eq!(featured["orderedItems"][0]["summary"], "spoiler");
    // Pinning twice sends nothing more; unpinning sends Remove.
    w.send(reqwest::Method::POST, &format!("/posts/{id}/pin"), None)
        .await;
    w.send(reqwest::Method::POST, &format!("/posts/{id}/unpin"), None)
        .await;
    w.drain().await;
    assert_eq!(w.received("Add").len(), 1);
    assert_eq!(w.received("Remove").len(), 1);

    // Another channel's post cannot be pinned from here.
    let other = w.herald.create_channel("other").await;
    let other_token = w.herald.token(&other).await;
    let (_, foreign) = w
        .herald
        .post("other", Some(&other_token), &json!({"text": "mine"}))
        .await;
    let (status, body) = w
        .send(
            reqwest::Method::POST,
            &format!("/posts/{}/pin", foreign["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("post_not_found"))
    );

    // Delete: a Tombstone goes out and the Note answers 410.
    let (status, _) = w
        .send(reqwest::Method::DELETE, &format!("/posts/{id}"), None)
        .await;
    assert_eq!(status, 204);
    w.drain().await;
    let delete = &w.received("Delete")[0];
    assert_eq!(delete["object"]["type"], "Tombstone");
    assert_eq!(delete["object"]["id"], uri);
    let (status, tombstone) = w.herald.get_activity_json(&uri).await;
    assert_eq!((status, &tombstone["type"]), (410, &json!("Tombstone")));
    for (method, path) in [
        (reqwest::Method::PATCH, format!("/posts/{id}")),
        (reqwest::Method::DELETE, format!("/posts/{id}")),
        (reqwest::Method::POST, format!("/posts/{id}/pin")),
        (reqwest::Method::GET, format!("/posts/{id}")),
    ] {
        let body = (method == reqwest::Method::PATCH).then(|| json!({"text": "too late"}));
        let (status, answer) = w.send(method.clone(), &path, body).await;
        assert_eq!(
            (status, &answer["error"]["code"]),
            (410, &json!("post_gone")),
            "{method} {path}"
        );
    }
    let (_, featured) = w
        .herald
        .get_activity_json(&w.herald.url("/channels/ceo/featured"))
        .await;
    assert_eq!(featured["totalItems"], 0);
    let _ = &w.channel;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_reaches_the_mentioned_server() {
    let w = world().await;
    let elsewhere = FakeRemote::start(false).await;
    let carol = elsewhere.add_user("carol");
    let text = format!(
        "Thanks @carol@{} and @nobody@{}!",
        elsewhere.domain, elsewhere.domain
    );
    let (status, post) = w
        .herald
        .post("ceo", Some(&w.token), &json!({ "text": text }))
        .await;
    assert_eq!(status, 201, "{post}");
    w.drain().await;
    // carol's server is not following, yet gets the post, addressed to carol.
    let creates = elsewhere.received_of("Create");
    assert_eq!(creates.len(), 1);
    assert_eq!(creates[0].path, carol.inbox.path());
    let note = &creates[0].activity["object"];
    assert!(note["cc"].as_array().unwrap().contains(&json!(carol.id)));
    let mention = note["tag"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "Mention")
        .unwrap();
    assert_eq!(mention["href"], carol.id.as_str());
    assert_eq!(mention["name"], format!("@carol@{}", elsewhere.domain));
    let content = note["content"].as_str().unwrap();
    assert!(content.contains("class=\"u-url mention\""), "{content}");
    // The unknown one stays plain text.
    assert!(
        content.contains(&format!("@nobody@{}", elsewhere.domain)),
        "{content}"
    );
    // The followers got it too.
    assert_eq!(w.received("Create").len(), 1);
}

/// The API never waits on a remote server: a mentioned server that never answers delays
/// nothing but its own mention, which stays plain text; the Create goes out once the
/// lookups are done or timed out, carrying the mentions that resolved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_at_once_while_a_mentioned_server_hangs() {
    let w = world().await;
    let elsewhere = FakeRemote::start(false).await;
    let carol = elsewhere.add_user("carol");
    // Accepts connections (the kernel does) and never answers them.
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dave = format!("dave@localhost:{}", hanging.local_addr().unwrap().port());
    let text = format!("Thanks @carol@{} and @{dave}!", elsewhere.domain);
    let started = std::time::Instant::now();
    let (status, post) = w
        .herald
        .post("ceo", Some(&w.token), &json!({ "text": text }))
        .await;
    let took = started.elapsed();
    assert_eq!(status, 201, "{post}");
    // A lookup may take 5 s before it gives up; the answer did not wait for one.
    assert!(
        took < std::time::Duration::from_secs(3),
        "the API waited {took:?}"
    );
    w.drain().await;
    let creates = elsewhere.received_of("Create");
    assert_eq!(creates.len(), 1, "carol's server gets the post once");
    let note = &creates[0].activity["object"];
    let mentions: Vec<&Value> = note["tag"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "Mention")
        .collect();
    assert_eq!(mentions.len(), 1, "{note}");
    assert_eq!(mentions[0]["href"], carol.id.as_str());
    let content = note["content"].as_str().unwrap();
    assert!(content.contains("class=\"u-url mention\""), "{content}");
    assert!(content.contains(&format!("@{dave}")), "{content}");
    assert_eq!(w.received("Create").len(), 1, "the followers get it too");
    // The stored post shows the resolved mention from then on.
    let id = post["id"].as_str().unwrap();
    let (status, stored) = w
        .send(reqwest::Method::GET, &format!("/posts/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(stored["content"], note["content"]);
    drop(hanging);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_posts_go_out_once_at_their_time() {
    let w = world().await;
    let at = chrono::Utc::now() + chrono::Duration::hours(1);
    let (status, post) = w
        .herald
        .post(
            "ceo",
            Some(&w.token),
            &json!({"text": "Later", "scheduled_at": at.to_rfc3339()}),
        )
        .await;
    assert_eq!(status, 201, "{post}");
    assert_eq!(post["published_at"], Value::Null);
    let id = post["id"].as_str().unwrap().to_string();
    let (status, past) = w
        .herald
        .post(
            "ceo",
            Some(&w.token),
            &json!({"text": "Too late", "scheduled_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (status, &past["error"]["code"]),
        (422, &json!("schedule_in_past"))
    );
    let (_, cancelled) = w
        .herald
        .post(
            "ceo",
            Some(&w.token),
            &json!({"text": "Never", "scheduled_at": at.to_rfc3339()}),
        )
        .await;
    w.drain().await;
    assert!(w.received("Create").is_empty());
    let (status, _) = w
        .herald
        .get_activity_json(post["uri"].as_str().unwrap())
        .await;
    assert_eq!(status, 404, "not public before its time");

    // Listed, edited and cancelled before it goes out.
    let (_, scheduled) = w
        .herald
        .get_json("/api/v1/channels/ceo/posts?scheduled=true", &w.token)
        .await;
    assert_eq!(scheduled["posts"].as_array().unwrap().len(), 2);
    let (status, _) = w
        .send(
            reqwest::Method::PATCH,
            &format!("/posts/{id}"),
            Some(json!({"text": "Later, edited"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = w
        .send(
            reqwest::Method::DELETE,
            &format!("/posts/{}", cancelled["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 204);

    // Not yet due: nothing happens. Due: two schedulers race, one publishes.
    let data = w.herald.herald.federation.to_request_data();
    assert_eq!(
        herald::posts::publish_due(&data, chrono::Utc::now())
            .await
            .unwrap(),
        0
    );
    let when = at + chrono::Duration::seconds(5);
    let other = w.herald.herald.federation.to_request_data();
    let (a, b) = tokio::join!(
        herald::posts::publish_due(&data, when),
        herald::posts::publish_due(&other, when)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    w.drain().await;
    let creates = w.received("Create");
    assert_eq!(creates.len(), 1, "exactly once");
    let note = &creates[0]["object"];
    assert_eq!(note["content"], "<p>Later, edited</p>");
    let published =
        chrono::DateTime::parse_from_rfc3339(note["published"].as_str().unwrap()).unwrap();
    assert_eq!(
        published.timestamp(),
        when.timestamp(),
        "published is the real publishing time"
    );
    let (_, scheduled) = w
        .herald
        .get_json("/api/v1/channels/ceo/posts?scheduled=true", &w.token)
        .await;
    assert_eq!(scheduled["posts"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_and_previews() {
    let w = world().await;
    let url = w.herald.url("/api/v1/channels/ceo/posts");
    let post = |key: &'static str, text: &'static str| {
        w.herald
            .client
            .post(&url)
            .bearer_auth(&w.token)
            .header("Idempotency-Key", key)
            .json(&json!({ "text": text }))
            .send()
    };
    let first = post("key-1", "Once").await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    let again = post("key-1", "Once").await.unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let other = post("key-1", "Twice").await.unwrap();
    assert_eq!(other.status().as_u16(), 422);
    let other: Value = other.json().await.unwrap();
    assert_eq!(other["error"]["code"], "idempotency_key_reused");
    // A refused request does not burn its key.
    let empty = post("key-2", " ").await.unwrap();
    assert_eq!(empty.status().as_u16(), 422);
    assert_eq!(post("key-2", "Fixed").await.unwrap().status().as_u16(), 201);

    // A preview stores and sends nothing.
    let (status, preview) = w
        .send(
            reqwest::Method::POST,
            "/posts/preview",
            Some(json!({"text": "Draft *one*", "language": "fr"})),
        )
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["html"], "<p>Draft <em>one</em></p>");
    assert_eq!(preview["note"]["type"], "Note");
    assert_eq!(preview["note"]["contentMap"]["fr"], preview["html"]);
    let (_, list) = w
        .herald
        .get_json("/api/v1/channels/ceo/posts", &w.token)
        .await;
    assert_eq!(
        list["posts"].as_array().unwrap().len(),
        2,
        "Once and Fixed, no Draft"
    );
    w.drain().await;
    assert_eq!(w.received("Create").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_changes_visibility_and_interaction_policies() {
    let w = world().await;
    let (status, profile) = w
        .send(
            reqwest::Method::PATCH,
            "",
            Some(json!({
                "display_name": "The Chief",
                "summary": "Announcements from the **top**",
                "fields": [
                    {"name": "Website", "value": "https://example.com"},
                    {"name": "Office hours", "value": "Mondays"}
                ],
                "default_language": "de",
                "policy": {"reply": "nobody", "quote": "nobody", "boost": "everyone"}
            })),
        )
        .await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["display_name"], "The Chief");
    w.drain().await;
    let update = &w.received("Update")[0];
    let actor = &update["object"];
    assert_eq!(actor["id"], w.herald.url("/channels/ceo"));
    assert_eq!(update["actor"], actor["id"]);
    assert_eq!(actor["name"], "The Chief");
    assert_eq!(actor["attachment"][0]["type"], "PropertyValue");
    assert_eq!(actor["attachment"][1]["name"], "Office hours");
    assert_eq!(
        actor["interactionPolicy"]["canFeature"]["automaticApproval"][0],
        herald::federation::protocol::PUBLIC
    );
    let (_, served) = w
        .herald
        .get_activity_json(&w.herald.url("/channels/ceo"))
        .await;
    assert_eq!(
        served["summary"],
        "<p>Announcements from the <strong>top</strong></p>"
    );

    // Posts take the channel's language and policy; a quiet post keeps Public in cc.
    w.herald
        .post("ceo", Some(&w.token), &json!({"text": "Hallo"}))
        .await;
    w.herald
        .post(
            "ceo",
            Some(&w.token),
            &json!({"text": "Leise", "visibility": "quiet", "policy": {"reply": "everyone"}}),
        )
        .await;
    w.drain().await;
    // The two deliveries run concurrently: find each by its text, not its arrival order.
    let creates = w.received("Create");
    let with_text = |text: &str| {
        creates
            .iter()
            .map(|create| &create["object"])
            .find(|note| note["source"]["content"] == text)
            .unwrap_or_else(|| panic!("no Create of {text:?} in {creates:?}"))
    };
    let loud = with_text("Hallo");
    assert_eq!(loud["contentMap"]["de"], "<p>Hallo</p>");
    assert_eq!(loud["to"], json!([herald::federation::protocol::PUBLIC]));
    let channel_id = w.herald.url("/channels/ceo");
    assert_eq!(
        loud["interactionPolicy"]["canReply"]["automaticApproval"],
        json!([channel_id])
    );
    assert_eq!(
        loud["interactionPolicy"]["canQuote"]["automaticApproval"],
        json!([channel_id])
    );
    assert_eq!(
        loud["interactionPolicy"]["canAnnounce"]["automaticApproval"],
        json!([herald::federation::protocol::PUBLIC])
    );
    let quiet = with_text("Leise");
    assert_eq!(
        quiet["to"],
        json!([w.herald.url("/channels/ceo/followers")])
    );
    assert!(quiet["cc"]
        .as_array()
        .unwrap()
        .contains(&json!(herald::federation::protocol::PUBLIC)));
    assert_eq!(
        quiet["interactionPolicy"]["canReply"]["automaticApproval"],
        json!([herald::federation::protocol::PUBLIC])
    );

    // Refusals: too many fields, a posting-only token.
    let fields: Vec<Value> = (0..5)
        .map(|i| json!({"name": format!("f{i}"), "value": "v"}))
        .collect();
    let (status, body) = w
        .send(
            reqwest::Method::PATCH,
            "",
            Some(json!({ "fields": fields })),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("too_many_fields"))
    );
    let posting_only = w
        .herald
        .token_with(&w.channel, &[herald::api::Scope::PostsWrite], None)
        .await;
    let response = w
        .herald
        .client
        .patch(w.herald.url("/api/v1/channels/ceo"))
        .bearer_auth(posting_only)
        .json(&json!({"display_name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
}
