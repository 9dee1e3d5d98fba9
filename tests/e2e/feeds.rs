//! Feeds, read by a well-kept parser (feed-rs) and checked field by field, plus the rules a
//! lenient parser would let pass: Atom's required elements and self link, RFC 822 dates
//! and enclosure lengths in RSS, JSON Feed's version and ids.

use crate::harness::TestInstance;
use feed_rs::model::FeedType;
use serde_json::{json, Value};

struct World {
    herald: TestInstance,
    /// (API id, ActivityPub id) of: a post with an image and #launch, a post with a
    /// content warning, a quiet post.
    image_post: (String, String),
    cw_post: (String, String),
    quiet_post: String,
    media_url: String,
}

async fn world() -> World {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let media = herald.upload_image(&token, "The launch pad at dawn").await;
    let mut ids = Vec::new();
    for body in [
        json!({"text": "We launch when 5 < 6 & tomorrow #launch", "media_ids": [media["id"]], "language": "en"}),
        json!({"text": "The numbers", "summary": "Quarterly figures"}),
        json!({"text": "Only for followers' timelines", "visibility": "quiet"}),
    ] {
        let (status, post) = herald.post("ceo", Some(&token), &body).await;
        assert_eq!(status, 201, "{post}");
        ids.push((
            post["id"].as_str().unwrap().to_string(),
            post["uri"].as_str().unwrap().to_string(),
        ));
    }
    World {
        media_url: media["url"].as_str().unwrap().to_string(),
        image_post: ids[0].clone(),
        cw_post: ids[1].clone(),
        quiet_post: ids[2].1.clone(),
        herald,
    }
}

async fn fetch(herald: &TestInstance, path: &str) -> (u16, String, String) {
    let response = herald.client.get(herald.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_feeds_parse_with_every_field() {
    let w = world().await;
    let page = w.herald.url("/@ceo");
    for (file, media_type, kind) in [
        ("feed.atom", "application/atom+xml", FeedType::Atom),
        ("feed.rss", "application/rss+xml", FeedType::RSS2),
        ("feed.json", "application/feed+json", FeedType::JSON),
    ] {
        let (status, content_type, body) = fetch(&w.herald, &format!("/@ceo/{file}")).await;
        assert_eq!(status, 200, "{file}");
        assert!(
            content_type.starts_with(media_type),
            "{file}: {content_type}"
        );
        let feed = feed_rs::parser::parse(body.as_bytes())
            .unwrap_or_else(|e| panic!("{file}: {e}\n{body}"));
        assert_eq!(feed.feed_type, kind, "{file}");
        assert_eq!(
            feed.title.as_ref().unwrap().content,
            "The ceo channel",
            "{file}"
        );
        assert!(
            feed.links.iter().any(|l| l.href == page),
            "{file}: {:?}",
            feed.links
        );
        // Public posts only, newest first.
        let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
        let expected = [w.cw_post.1.as_str(), w.image_post.1.as_str()];
        let ids_or_links: Vec<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.len(), 2, "{file}: {ids_or_links:?}");
        assert!(!ids.contains(&w.quiet_post.as_str()), "{file}");
        assert_eq!(ids, expected, "{file}");
        let cw = &feed.entries[0];
        let image = &feed.entries[1];
        assert!(
            cw.published.is_some() || cw.updated.is_some(),
            "{file}: no date"
        );
        assert!(
            cw.title
                .as_ref()
                .unwrap()
                .content
                .contains("Quarterly figures"),
            "{file}"
        );
        // Full HTML, escaped once: the text's own < and & survive as text.
        let html = image
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| image.summary.as_ref().map(|s| s.content.clone()))
            .unwrap_or_default();
        assert!(
            html.contains("We launch when 5 &lt; 6 &amp; tomorrow"),
            "{file}: {html}"
        );
        assert!(html.contains("/tags/launch"), "{file}: {html}");
        assert!(
            html.contains("alt=\"The launch pad at dawn\""),
            "{file}: {html}"
        );
        assert!(
            image
                .links
                .iter()
                .any(|l| l.href == w.herald.url(&format!("/@ceo/{}", w.image_post.0))),
            "{file}: {:?}",
            image.links
        );
        // The image as an enclosure, with type and length (feed-rs keeps Atom's and JSON
        // Feed's as links, RSS's as media).
        let (content_type, length) = if kind != FeedType::RSS2 {
            let link = image
                .links
                .iter()
                .find(|l| l.href == w.media_url)
                .unwrap_or_else(|| panic!("{file}: no enclosure in {:?}", image.links));
            (link.media_type.clone(), link.length)
        } else {
            let content = image
                .media
                .iter()
                .flat_map(|m| m.content.iter())
                .find(|c| c.url.as_ref().map(|u| u.as_str()) == Some(w.media_url.as_str()))
                .unwrap_or_else(|| panic!("{file}: no enclosure in {:?}", image.media));
            (
                content.content_type.as_ref().map(|t| t.to_string()),
                content.size,
            )
        };
        assert_eq!(content_type.as_deref(), Some("image/jpeg"), "{file}");
        assert!(length.unwrap_or(0) > 0, "{file}: no length");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_keep_the_rules_lenient_parsers_forgive() {
    let w = world().await;
    let (_, _, atom) = fetch(&w.herald, "/@ceo/feed.atom").await;
    // RFC 4287: feed id, title, updated, author, a self link; each entry id, title, updated.
    for required in [
        "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
        "<updated>",
        "<author><name>",
        &format!(
            "<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
            w.herald.url("/@ceo/feed.atom")
        ),
    ] {
        assert!(atom.contains(required), "atom lacks {required}");
    }
    assert_eq!(atom.matches("<entry>").count(), 2);
    for element in ["<id>", "<title>", "<updated>", "<published>"] {
        assert_eq!(
            atom.matches(element).count(),
            2 + usize::from(element != "<published>"),
            "{element}"
        );
    }
    assert!(
        atom.contains("<content type=\"html\" xml:lang=\"en\">"),
        "{atom}"
    );

    let (_, _, rss) = fetch(&w.herald, "/@ceo/feed.rss").await;
    // RSS 2.0: dates in RFC 822 form, a guid per item, an enclosure with url, length, type,
    // the channel's title, link and description, and an atom:link to itself.
    let feed = feed_rs::parser::parse(rss.as_bytes()).unwrap();
    for date in rss.split("<pubDate>").skip(1) {
        let date = date.split('<').next().unwrap();
        chrono::DateTime::parse_from_rfc2822(date).unwrap_or_else(|e| panic!("{date}: {e}"));
        assert!(date.ends_with("+0000"), "{date}");
    }
    assert_eq!(rss.matches("<guid isPermaLink=\"false\">").count(), 2);
    assert!(rss.contains(&format!(
        "<atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>",
        w.herald.url("/@ceo/feed.rss")
    )));
    let enclosure = rss
        .split("<enclosure ")
        .nth(1)
        .unwrap()
        .split("/>")
        .next()
        .unwrap();
    for attribute in ["url=\"", "length=\"", "type=\"image/jpeg\""] {
        assert!(enclosure.contains(attribute), "{enclosure}");
    }
    assert!(feed.description.is_some());

    let (_, _, json_feed) = fetch(&w.herald, "/@ceo/feed.json").await;
    let json: Value = serde_json::from_str(&json_feed).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["feed_url"], w.herald.url("/@ceo/feed.json"));
    for item in json["items"].as_array().unwrap() {
        chrono::DateTime::parse_from_rfc3339(item["date_published"].as_str().unwrap()).unwrap();
        assert!(item["id"].as_str().unwrap().starts_with("http"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashtag_feeds_and_the_pages_that_link_them() {
    let w = world().await;
    let (status, _, body) = fetch(&w.herald, "/@ceo/tags/launch/feed.atom").await;
    assert_eq!(status, 200);
    let feed = feed_rs::parser::parse(body.as_bytes()).unwrap();
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [w.image_post.1.as_str()]);
    assert!(feed.title.unwrap().content.ends_with("#launch"));
    let (status, _, _) = fetch(&w.herald, "/@ceo/tags/nothing/feed.rss").await;
    assert_eq!(status, 200);
    let (status, _, _) = fetch(&w.herald, "/@nobody/feed.atom").await;
    assert_eq!(status, 404);
    let (status, _, _) = fetch(&w.herald, "/@ceo/feed.xml").await;
    assert_eq!(status, 404);

    // The pages link their feeds.
    for (page, base) in [
        ("/@ceo", "/@ceo"),
        ("/@ceo/tags/launch", "/@ceo/tags/launch"),
    ] {
        let (_, _, html) = fetch(&w.herald, page).await;
        for (media_type, file) in [
            ("application/atom+xml", "feed.atom"),
            ("application/rss+xml", "feed.rss"),
            ("application/feed+json", "feed.json"),
        ] {
            let href = w.herald.url(&format!("{base}/{file}"));
            assert!(
                html.contains(&format!("<link rel=\"alternate\" type=\"{media_type}\""))
                    && html.contains(&format!("href=\"{href}\"")),
                "{page} lacks its {file} link"
            );
        }
    }
}
