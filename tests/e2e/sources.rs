//! Feed sources against a local feed server serving real feeds' formats (a GitHub releases
//! Atom, a WordPress RSS 2.0, a Ghost-style JSON Feed) and changing them between polls:
//! the first poll posts the newest entry, a new entry posts once, an edited entry sends an
//! Update, a 304 is honoured, two processes post nothing twice, a WebSub push arrives at
//! once; and the refusals.

use crate::harness::{
    eventually, feed_server::FeedServer, followed, instance::Options, receiver::Receiver,
    TestInstance,
};
use herald::db::{self, Channel, ConnectionTrait};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);
const ATOM: &str = include_str!("../feeds/github-releases.atom");
const RSS: &str = include_str!("../feeds/wordpress.rss");
const JSON_FEED: &str = include_str!("../feeds/ghost.json");

/// The Atom feed with a new release on top.
fn with_release(feed: &str, tag: &str, title: &str, updated: &str) -> String {
    let entry = format!(
        "<entry>\n    <id>tag:github.com,2008:Repository/123456789/{tag}</id>\n    <updated>{updated}</updated>\n    <link rel=\"alternate\" type=\"text/html\" href=\"https://github.com/example/herald/releases/tag/{tag}\"/>\n    <title>{title}</title>\n    <content type=\"html\">&lt;p&gt;Notes for {tag}.&lt;/p&gt;</content>\n  </entry>\n  "
    );
    feed.replacen("<entry>", &format!("{entry}<entry>"), 1)
}

async fn posts(herald: &TestInstance, channel: &Channel) -> Vec<db::Post> {
    db::list_posts(&herald.state().db, channel.id, None, 100)
        .await
        .unwrap()
}

/// Makes every source due now and polls them, as the poller does (the test instances run
/// no poller of their own, so each poll happens when the test says).
async fn poll_now(herald: &TestInstance) {
    herald
        .state()
        .db
        .execute_unprepared("UPDATE sources SET next_poll_at = created_at")
        .await
        .unwrap();
    let data = herald.herald.federation.to_request_data();
    let client = herald::sources::client(&data.config, Duration::from_secs(10)).unwrap();
    herald::sources::poll_due(&data, &client, db::now())
        .await
        .unwrap();
}

/// The instance, without a worker, scheduler or poller of its own.
fn quiet() -> Options {
    Options {
        workers: false,
        ..Options::default()
    }
}

async fn add_source(
    herald: &TestInstance,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let (status, answer, _) = herald
        .api(
            token,
            Method::POST,
            "/api/v1/channels/ceo/sources",
            Some(body),
        )
        .await;
    (status, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_feed_posts_each_entry_once_and_edits_follow() {
    let f = followed(quiet(), true, "alice").await;
    let herald = &f.herald;
    let channel = db::channel_by_name(&herald.state().db, "ceo")
        .await
        .unwrap();
    let feeds = FeedServer::start().await;
    feeds.set("/releases.atom", "application/atom+xml", ATOM);
    let (status, source) = add_source(
        herald,
        &f.token,
        json!({ "url": feeds.url("/releases.atom") }),
    )
    .await;
    assert_eq!(status, 201, "{source}");

    // The first poll posts the newest entry only.
    poll_now(herald).await;
    let first = posts(herald, &channel).await;
    assert_eq!(first.len(), 1);
    assert!(
        first[0].source.contains("**v1.1.0**"),
        "{}",
        first[0].source
    );
    assert!(first[0]
        .source
        .contains("https://github.com/example/herald/releases/tag/v1.1.0"));
    assert!(
        first[0].source.contains("Faster fan-out"),
        "the summary is the content's text: {}",
        first[0].source
    );

    // A new release: posted once.
    let newer = with_release(ATOM, "v1.2.0", "v1.2.0", "2026-12-03T10:00:00Z");
    feeds.set("/releases.atom", "application/atom+xml", newer.clone());
    poll_now(herald).await;
    let posts_now = posts(herald, &channel).await;
    assert_eq!(posts_now.len(), 2);
    assert!(posts_now[0].source.contains("v1.2.0"));

    // Unchanged: the server's 304 is honoured, nothing is posted.
    let (_, not_modified) = feeds.requests("/releases.atom");
    poll_now(herald).await;
    assert_eq!(
        feeds.requests("/releases.atom").1,
        not_modified + 1,
        "a conditional GET, answered 304"
    );
    assert_eq!(posts(herald, &channel).await.len(), 2);

    // The release is edited (a newer `updated`): its post is edited, followers get the Update.
    herald.worker().drain().await.unwrap();
    let edited = with_release(
        ATOM,
        "v1.2.0",
        "v1.2.0 (security fix)",
        "2026-12-03T12:00:00Z",
    );
    feeds.set("/releases.atom", "application/atom+xml", edited);
    poll_now(herald).await;
    herald.worker().drain().await.unwrap();
    let update = eventually("the Update arrives", WAIT, || async {
        f.remote.received_of("Update").into_iter().find(|r| {
            r.activity["object"]["content"]
                .as_str()
                .unwrap_or_default()
                .contains("security fix")
        })
    })
    .await;
    assert_eq!(update.activity["object"]["type"], "Note");
    assert_eq!(
        posts(herald, &channel).await.len(),
        2,
        "an edit is no new post"
    );

    // A second process polls too: a new release is still posted once.
    let mut other = herald.spawn_herald(&["worker"], &[]);
    let three = with_release(
        &with_release(
            ATOM,
            "v1.2.0",
            "v1.2.0 (security fix)",
            "2026-12-03T12:00:00Z",
        ),
        "v1.3.0",
        "v1.3.0",
        "2026-12-04T10:00:00Z",
    );
    feeds.set("/releases.atom", "application/atom+xml", three);
    for _ in 0..3 {
        poll_now(herald).await;
    }
    let _ = other.kill();
    let _ = other.wait();
    let all = posts(herald, &channel).await;
    assert_eq!(
        all.len(),
        3,
        "{:?}",
        all.iter().map(|p| &p.source).collect::<Vec<_>>()
    );
    let (status, listed, _) = herald
        .api(&f.token, Method::GET, "/api/v1/channels/ceo/sources", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["failures"], 0, "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rss_and_json_feeds_become_posts_with_their_hashtags() {
    let herald = TestInstance::with(quiet()).await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let feeds = FeedServer::start().await;
    // The newest post has an image, as WordPress (with Jetpack) gives it in Media RSS.
    feeds.set(
        "/office.jpg",
        "image/jpeg",
        include_bytes!("../media/gps.jpg").to_vec(),
    );
    let rss = RSS
        .replacen(
            "xmlns:content=",
            "xmlns:media=\"http://search.yahoo.com/mrss/\" xmlns:content=",
            1,
        )
        .replacen(
            "<guid isPermaLink=\"false\">https://blog.example.com/?p=1042</guid>",
            &format!(
                "<guid isPermaLink=\"false\">https://blog.example.com/?p=1042</guid>\n\t\t<media:content url=\"{}\" medium=\"image\"><media:description type=\"plain\">Our new office, by the window</media:description></media:content>",
                feeds.url("/office.jpg")
            ),
            1,
        );
    feeds.set("/feed/", "application/rss+xml; charset=UTF-8", rss);
    feeds.set("/feed.json", "application/feed+json", JSON_FEED);
    let (status, _) = add_source(
        &herald,
        &token,
        json!({ "url": feeds.url("/feed/"), "initial_entries": 2 }),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = add_source(
        &herald,
        &token,
        json!({ "url": feeds.url("/feed.json"), "template": "{title}: {summary} {link} {hashtags}" }),
    )
    .await;
    assert_eq!(status, 201);
    poll_now(&herald).await;
    let all = posts(&herald, &channel).await;
    assert_eq!(all.len(), 3);
    let text: Vec<&str> = all.iter().map(|p| p.source.as_str()).collect();
    let office = text
        .iter()
        .find(|t| t.contains("new office"))
        .expect("the newest blog post");
    assert!(office.contains("#Company #OpenSource"), "{office}");
    assert!(
        office.contains("After two years of remote work"),
        "{office}"
    );
    let office_post = all
        .iter()
        .find(|p| p.source.contains("new office"))
        .unwrap();
    let media = db::media_for_posts(&herald.state().db, &[office_post.id])
        .await
        .unwrap();
    assert_eq!(media.len(), 1, "the entry's image is attached");
    assert_eq!(
        media[0].description.as_deref(),
        Some("Our new office, by the window")
    );
    assert_eq!(media[0].media_type, "image/jpeg");
    assert!(text.iter().any(|t| t.contains("Our year in review")));
    assert!(
        !text.iter().any(|t| t.contains("Hello world")),
        "only the newest two"
    );
    let status_post = all
        .iter()
        .find(|p| p.source.contains("Elevated API latency"))
        .unwrap();
    assert_eq!(
        status_post.source,
        "Elevated API latency: We are investigating slower API responses in eu-west. https://status.example.com/incident-api-latency/ #incident #api"
    );
    assert_eq!(status_post.language.as_deref(), Some("en"));
    assert!(
        status_post
            .content_html
            .contains("class=\"mention hashtag\""),
        "{}",
        status_post.content_html
    );
    // Each post names its feed in the audit log.
    let log = db::audit_log(&herald.state().db, channel.id, 20)
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "post.created" && e.actor.starts_with("feed source")),
        "{log:?}"
    );
}

/// A broken feed: entries whose ids change every poll are known by their links, and one
/// poll posts at most `max_per_poll` entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_feed_cannot_flood_followers() {
    let herald = TestInstance::with(quiet()).await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let feeds = FeedServer::start().await;
    let feed = |round: u32, count: u32| {
        let items: String = (0..count)
            .map(|i| {
                format!(
                    "<item><title>Item {i}</title><link>https://example.com/items/{i}</link><guid isPermaLink=\"false\">round-{round}-item-{i}</guid><pubDate>Tue, 01 Dec 2026 {:02}:00:00 +0000</pubDate></item>",
                    i % 24
                )
            })
            .collect();
        format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Broken</title><link>https://example.com</link><description>x</description>{items}</channel></rss>")
    };
    feeds.set("/rss", "application/rss+xml", feed(0, 1));
    let (status, _) = add_source(&herald, &token, json!({ "url": feeds.url("/rss") })).await;
    assert_eq!(status, 201);
    poll_now(&herald).await;
    assert_eq!(posts(&herald, &channel).await.len(), 1);
    // Eleven entries, ten of them new: five are posted, the rest passed over.
    feeds.set("/rss", "application/rss+xml", feed(1, 11));
    poll_now(&herald).await;
    assert_eq!(posts(&herald, &channel).await.len(), 6);
    // The same entries under new ids: nothing is new.
    feeds.set("/rss", "application/rss+xml", feed(2, 11));
    poll_now(&herald).await;
    assert_eq!(posts(&herald, &channel).await.len(), 6);
}

/// A feed that names a WebSub hub: the source subscribes, answers the hub's verification
/// with its challenge, and takes a signed push at once; an unsigned push is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websub_pushes_arrive_without_waiting_for_a_poll() {
    let herald = TestInstance::with(quiet()).await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let feeds = FeedServer::start().await;
    let hubbed = ATOM.replacen(
        "<link type=\"application/atom+xml\" rel=\"self\" href=\"https://github.com/example/herald/releases.atom\"/>",
        &format!(
            "<link rel=\"self\" href=\"{}\"/>\n  <link rel=\"hub\" href=\"{}\"/>",
            feeds.url("/releases.atom"),
            feeds.url("/hub")
        ),
        1,
    );
    feeds.set("/releases.atom", "application/atom+xml", hubbed.clone());
    let (status, _) = add_source(
        &herald,
        &token,
        json!({ "url": feeds.url("/releases.atom") }),
    )
    .await;
    assert_eq!(status, 201);
    poll_now(&herald).await;
    let subscription = eventually("the hub verified the subscription", WAIT, || async {
        feeds
            .subscriptions()
            .into_iter()
            .find(|s| s.verified.is_some())
    })
    .await;
    assert_eq!(subscription.topic, feeds.url("/releases.atom"));
    assert_eq!(
        subscription.verified,
        Some((200, "a-challenge-of-the-hub".to_string()))
    );
    let (_, listed, _) = herald
        .api(&token, Method::GET, "/api/v1/channels/ceo/sources", None)
        .await;
    assert_eq!(listed[0]["websub"], "active", "{listed}");
    poll_now(&herald).await;
    assert_eq!(posts(&herald, &channel).await.len(), 1);

    let pushed = with_release(&hubbed, "v2.0.0", "v2.0.0", "2026-12-05T10:00:00Z");
    assert_eq!(feeds.push(&subscription, &pushed, false).await, 202);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        posts(&herald, &channel).await.len(),
        1,
        "an unsigned push is ignored"
    );
    assert_eq!(feeds.push(&subscription, &pushed, true).await, 202);
    let all = posts(&herald, &channel).await;
    assert_eq!(all.len(), 2, "taken at once");
    assert!(all[0].source.contains("v2.0.0"));
    // A stranger cannot switch the subscription off: `denied` answers only a request.
    let denied = reqwest::get(format!(
        "{}?hub.mode=denied&hub.topic={}",
        subscription.callback,
        url::form_urlencoded::byte_serialize(subscription.topic.as_bytes()).collect::<String>()
    ))
    .await
    .unwrap();
    assert_eq!(denied.status(), 404);
    let (_, listed, _) = herald
        .api(&token, Method::GET, "/api/v1/channels/ceo/sources", None)
        .await;
    assert_eq!(listed[0]["websub"], "active", "{listed}");
    // A verification for a topic the source never asked for is refused.
    let wrong = reqwest::get(format!(
        "{}?hub.mode=subscribe&hub.topic=https%3A%2F%2Fevil.example%2F&hub.challenge=x",
        subscription.callback
    ))
    .await
    .unwrap();
    assert_eq!(wrong.status(), 404);
}

/// Refusals: not a feed (naming what was found), too large, an entity bomb, a private URL
/// outside debug mode; a source that keeps failing tells the webhook (`source.failed`),
/// and its imported posts announce themselves (`post.published`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_feeds_are_refused_and_failures_reported() {
    let herald = TestInstance::with(quiet()).await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let feeds = FeedServer::start().await;
    feeds.set(
        "/page",
        "text/html; charset=utf-8",
        "<!doctype html><html><body>A blog</body></html>",
    );
    feeds.set("/huge", "application/rss+xml", vec![b' '; 6 * 1024 * 1024]);
    let bomb = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">{}]><rss version=\"2.0\"><channel><title>&lol9;</title><link>https://example.com</link><description>x</description><item><title>&lol9;</title><link>https://example.com/1</link></item></channel></rss>",
        (1..10)
            .map(|n| format!("<!ENTITY lol{n} \"{}\">", format!("&lol{};", if n == 1 { String::new() } else { (n - 1).to_string() }).repeat(10)))
            .collect::<String>()
    );
    feeds.set("/bomb", "application/rss+xml", bomb);
    let (status, answer) = add_source(&herald, &token, json!({ "url": feeds.url("/page") })).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("not_a_feed")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("text/html"),
        "{answer}"
    );
    let (status, answer) = add_source(&herald, &token, json!({ "url": feeds.url("/huge") })).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("feed_too_large")),
        "{answer}"
    );
    let (status, answer) = add_source(&herald, &token, json!({ "url": feeds.url("/bomb") })).await;
    // feed-rs expands no entity the document declares: the entry is taken as written.
    assert_eq!(status, 201, "{answer}");
    poll_now(&herald).await;
    let post = posts(&herald, &channel)
        .await
        .into_iter()
        .next()
        .expect("the bomb's entry");
    assert!(
        post.source.len() < 1000,
        "entities were expanded: {} bytes",
        post.source.len()
    );
    assert!(post.source.contains("&lol9;"), "{}", post.source);
    db::delete_source(
        &herald.state().db,
        db::SourceId(answer["id"].as_i64().unwrap()),
    )
    .await
    .unwrap();
    let (status, answer) =
        add_source(&herald, &token, json!({ "url": feeds.url("/nowhere") })).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (422, Some("source_unreachable")),
        "{answer}"
    );

    // Failing three times in a row: the webhook hears of it.
    let receiver = Receiver::start().await;
    let (status, _, _) = herald
        .api(
            &token,
            Method::POST,
            "/api/v1/channels/ceo/webhooks",
            Some(json!({ "url": receiver.url, "events": ["source.failed", "post.published"] })),
        )
        .await;
    assert_eq!(status, 201);
    feeds.set("/ok.atom", "application/atom+xml", ATOM);
    let (status, _) = add_source(&herald, &token, json!({ "url": feeds.url("/ok.atom") })).await;
    assert_eq!(status, 201);
    let before = posts(&herald, &channel).await.len();
    poll_now(&herald).await;
    assert_eq!(posts(&herald, &channel).await.len(), before + 1);
    feeds.answer("/ok.atom", Some(500));
    for _ in 0..3 {
        poll_now(&herald).await;
    }
    herald.worker().drain().await.unwrap();
    let got = eventually("source.failed arrives", WAIT, || async {
        let got = receiver.got();
        got.iter()
            .any(|g| g.json()["type"] == "source.failed")
            .then_some(got)
    })
    .await;
    let failed = got
        .iter()
        .find(|g| g.json()["type"] == "source.failed")
        .unwrap()
        .json();
    assert_eq!(failed["data"]["failures"], 3);
    assert_eq!(failed["data"]["status"], 500);
    let published = got
        .iter()
        .find(|g| g.json()["type"] == "post.published")
        .expect("the import announced itself")
        .json();
    assert!(
        published["data"]["by"]
            .as_str()
            .unwrap()
            .starts_with("feed source"),
        "{published}"
    );
    let (_, listed, _) = herald
        .api(&token, Method::GET, "/api/v1/channels/ceo/sources", None)
        .await;
    assert_eq!(listed[0]["failures"], 3, "{listed}");
    assert_eq!(listed[0]["last_error"], "HTTP 500");

    // The doctor names the failing source.
    let (_, stdout, _) = herald.run_herald(&["doctor"]);
    let line = crate::doctor::line(&stdout, "sources and webhooks");
    assert!(
        line.starts_with("warn") && line.contains("failed 3 polls in a row: HTTP 500"),
        "{stdout}"
    );
    // And /metrics counts the polls by outcome.
    let metrics = herald
        .client
        .get(herald.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("herald_source_polls_total{outcome=\"failed\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("herald_source_entries_posted_total 2"),
        "{metrics}"
    );

    // Outside debug mode, a private address is refused before anything is fetched.
    let strict = TestInstance::with(Options {
        debug: false,
        ..Options::default()
    })
    .await;
    let channel = strict.create_channel("ceo").await;
    let token = strict.token(&channel).await;
    for url in [
        "https://127.0.0.1/feed",
        "https://localhost/feed",
        "http://blog.example.com/feed",
    ] {
        let (status, answer) = add_source(&strict, &token, json!({ "url": url })).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (422, Some("url_refused")),
            "{url}: {answer}"
        );
    }
}
