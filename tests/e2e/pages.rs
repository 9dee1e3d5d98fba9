//! The public face over HTTP: each ActivityPub id answers JSON to servers and a page to
//! browsers (with `Vary: Accept`), and no response sets a cookie while every page carries
//! the Content-Security-Policy.

use crate::harness::TestInstance;
use serde_json::json;

const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
const AS_JSON: [&str; 3] = [
    "application/activity+json",
    "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
    "application/activity+json, text/html;q=0.1",
];

struct Answer {
    status: u16,
    content_type: String,
    vary: String,
    csp: Option<String>,
    cookie: bool,
    body: String,
}

async fn get(herald: &TestInstance, url: &str, accept: &str) -> Answer {
    let response = herald
        .client
        .get(url)
        .header("Accept", accept)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    Answer {
        status: response.status().as_u16(),
        content_type: header("content-type").unwrap_or_default(),
        vary: header("vary").unwrap_or_default(),
        csp: header("content-security-policy"),
        cookie: response.headers().contains_key("set-cookie"),
        body: response.text().await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_answer_json_to_servers_and_pages_to_browsers() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let (status, post) = herald
        .post("ceo", Some(&token), &json!({"text": "Results are *in*"}))
        .await;
    assert_eq!(status, 201);
    let note = post["uri"].as_str().unwrap().to_string();
    let actor = herald.url("/channels/ceo");

    for (id, kind, visible) in [
        (&actor, "Person", "News from"),
        (&note, "Note", "Results are"),
    ] {
        for accept in AS_JSON {
            let answer = get(&herald, id, accept).await;
            assert_eq!(answer.status, 200, "{id} {accept}");
            assert!(
                answer.content_type.starts_with("application/activity+json"),
                "{id} {accept}: {}",
                answer.content_type
            );
            assert!(answer.vary.contains("Accept"), "{id}: {}", answer.vary);
            let json: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
            assert_eq!(json["type"], kind);
            assert_eq!(json["id"], id.as_str());
        }
        let page = get(&herald, id, BROWSER).await;
        assert_eq!(page.status, 200, "{id}");
        assert!(page.content_type.starts_with("text/html"), "{id}");
        assert!(page.vary.contains("Accept"), "{id}: {}", page.vary);
        assert!(page.body.contains(visible), "{id}: {}", page.body);
        // The page points back at the JSON.
        assert!(
            page.body.contains(&format!(
                "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{id}\">"
            )),
            "{id}: {}",
            page.body
        );
    }

    // A deleted post's id: a Tombstone to servers, a 410 page to browsers.
    let (status, _, _) = herald
        .api(
            &token,
            reqwest::Method::DELETE,
            &format!(
                "/api/v1/channels/ceo/posts/{}",
                post["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(get(&herald, &note, AS_JSON[0]).await.status, 410);
    let gone = get(&herald, &note, BROWSER).await;
    assert_eq!(gone.status, 410);
    assert!(gone.content_type.starts_with("text/html"));
    // Unknown ids: 404 either way.
    let nobody = herald.url("/channels/nobody");
    assert_eq!(get(&herald, &nobody, AS_JSON[0]).await.status, 404);
    assert_eq!(get(&herald, &nobody, BROWSER).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_response_sets_a_cookie_and_every_page_has_the_policy() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "Hello #news"}))
        .await;
    let id = post["id"].as_str().unwrap();
    let pages = [
        "/".to_string(),
        "/@ceo".to_string(),
        format!("/@ceo/{id}"),
        "/@ceo/tags/news".to_string(),
        "/@ceo/follow".to_string(),
        "/@ceo/follow?account=%3Cx%3E".to_string(),
        "/channels/ceo".to_string(),
        format!("/posts/{id}"),
        "/@nobody".to_string(),
        "/nothing/here".to_string(),
    ];
    for path in &pages {
        let answer = get(&herald, &herald.url(path), BROWSER).await;
        assert!(!answer.cookie, "{path} sets a cookie");
        if answer.content_type.starts_with("text/html") {
            let csp = answer.csp.unwrap_or_default();
            assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
            assert!(
                !csp.contains("script-src"),
                "{path}: scripts allowed: {csp}"
            );
        }
    }
    // Nor do the machine-facing answers.
    for path in [
        "/channels/ceo",
        "/.well-known/webfinger?resource=acct:ceo@x",
        "/api/v1/channels/ceo/posts",
    ] {
        let answer = get(&herald, &herald.url(path), "application/activity+json").await;
        assert!(!answer.cookie, "{path} sets a cookie");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_previews_verification_links_and_alt_text() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let (status, body, _) = herald
        .api(
            &token,
            reqwest::Method::PATCH,
            "/api/v1/channels/ceo",
            Some(json!({"fields": [{"name": "Mastodon", "value": "https://social.example/@ceo"}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let media = herald.upload_image(&token, "A \"quoted\" pad").await;
    let (_, post) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "Launch day", "media_ids": [media["id"]], "language": "en"}),
        )
        .await;
    let post_page = herald.url(&format!("/@ceo/{}", post["id"].as_str().unwrap()));

    let profile = get(&herald, &herald.url("/@ceo"), BROWSER).await.body;
    let creator = format!(
        "<meta name=\"fediverse:creator\" content=\"@ceo@{}\">",
        herald.domain
    );
    assert!(profile.contains(&creator), "{profile}");
    assert!(profile.contains("<meta property=\"og:type\" content=\"profile\">"));
    assert!(profile.contains("<meta property=\"og:title\" content=\"The ceo channel\">"));
    assert!(
        profile.contains("<meta property=\"og:description\" content=\"News from ceo\">"),
        "{profile}"
    );
    assert!(
        profile.contains(
            "<a href=\"https://social.example/@ceo\" rel=\"me nofollow noopener noreferrer\">"
        ),
        "{profile}"
    );

    let page = get(&herald, &post_page, BROWSER).await.body;
    assert!(page.contains(&creator));
    assert!(page.contains("<meta property=\"og:type\" content=\"article\">"));
    assert!(page.contains(&format!(
        "<meta property=\"og:url\" content=\"{post_page}\">"
    )));
    assert!(
        page.contains("<meta property=\"og:description\" content=\"Launch day\">"),
        "{page}"
    );
    assert!(page.contains(&format!(
        "<meta property=\"og:image\" content=\"{}\">",
        media["url"].as_str().unwrap()
    )));
    assert!(page.contains("alt=\"A &quot;quoted&quot; pad\""), "{page}");
    assert!(page.contains("<article lang=\"en\">"), "{page}");

    // The actor's field carries rel="me" too, as Mastodon's do.
    let (_, actor) = herald.get_activity_json(&herald.url("/channels/ceo")).await;
    assert!(actor["attachment"][0]["value"]
        .as_str()
        .unwrap()
        .contains("rel=\"me nofollow noopener noreferrer\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_follow_form_sends_readers_to_their_own_server() {
    let herald = TestInstance::start().await;
    herald.create_channel("ceo").await;
    let remote = crate::harness::FakeRemote::start(true).await;
    remote.add_user("alice");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let follow = |account: Option<String>| {
        let client = no_redirects.clone();
        let mut url = herald.url("/@ceo/follow");
        if let Some(account) = account {
            url = format!(
                "{url}?account={}",
                url::form_urlencoded::byte_serialize(account.as_bytes()).collect::<String>()
            );
        }
        async move {
            let response = client.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string());
            (status, location, response.text().await.unwrap())
        }
    };
    let actor = url::form_urlencoded::byte_serialize(herald.url("/channels/ceo").as_bytes())
        .collect::<String>();

    // The form, on its own and on the channel page.
    let (status, _, form) = follow(None).await;
    assert_eq!(status, 200);
    let handle = format!("@ceo@{}", herald.domain);
    assert!(form.contains(&format!("value=\"{handle}\"")), "{form}");
    assert!(form.contains("name=\"account\""));
    let channel_page = get(&herald, &herald.url("/@ceo"), BROWSER).await.body;
    assert!(channel_page.contains("action=\"") && channel_page.contains("/@ceo/follow\""));

    // An account: its server's subscribe template, found by WebFinger.
    let (status, location, _) = follow(Some(format!("@alice@{}", remote.domain))).await;
    assert_eq!(status, 303);
    assert_eq!(
        location.unwrap(),
        format!("http://{}/share/follow?uri={actor}", remote.domain)
    );
    // A server alone, or an account its server does not know: Mastodon's fallback.
    for account in [remote.domain.clone(), format!("nobody@{}", remote.domain)] {
        let (status, location, _) = follow(Some(account.clone())).await;
        assert_eq!(status, 303, "{account}");
        assert_eq!(
            location.unwrap(),
            format!("http://{}/authorize_interaction?uri={actor}", remote.domain),
            "{account}"
        );
    }
    // Nonsense: the form again, with the reason, escaped.
    let (status, location, body) = follow(Some("<script>x</script>".into())).await;
    assert_eq!((status, location), (400, None));
    assert!(body.contains("role=\"alert\""));
    assert!(!body.contains("<script>"));
    let (status, _, _) = no_redirects
        .get(herald.url("/@nobody/follow"))
        .send()
        .await
        .map(|r| (r.status().as_u16(), (), ()))
        .unwrap();
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channel_page_shows_counts_pins_pages_and_its_stylesheet() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let mut ids = Vec::new();
    for i in 0..22 {
        let (status, post) = herald
            .post(
                "ceo",
                Some(&token),
                &json!({"text": format!("Post number {i}.")}),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(post["id"].as_str().unwrap().to_string());
    }
    let (status, _, _) = herald
        .api(
            &token,
            reqwest::Method::POST,
            &format!("/api/v1/channels/ceo/posts/{}/pin", ids[0]),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let first = get(&herald, &herald.url("/@ceo"), BROWSER).await.body;
    assert!(first.contains("0 followers · 22 posts"), "{first}");
    // The pinned (oldest) post first, then the newest twenty, then a link to the rest.
    let pinned = first.find("<h2>Pinned</h2>").expect("a pinned section");
    let oldest = first.find("Post number 0.").unwrap();
    let newest = first.find("Post number 21.").unwrap();
    assert!(pinned < oldest && oldest < newest, "{first}");
    assert!(
        !first.contains("Post number 1."),
        "only twenty on the first page"
    );
    let next = format!("{}?before={}", herald.url("/@ceo"), ids[2]);
    assert!(
        first.contains(&format!("<a rel=\"next\" href=\"{next}\">")),
        "{first}"
    );
    let second = get(&herald, &next, BROWSER).await.body;
    assert!(second.contains("Post number 1.") && second.contains("Post number 0."));
    assert!(!second.contains("Pinned"));
    assert!(!second.contains("rel=\"next\""));
    assert_eq!(
        get(
            &herald,
            &format!("{}?before=nonsense", herald.url("/@ceo")),
            BROWSER
        )
        .await
        .status,
        404
    );

    // One stylesheet, from this origin, cached for good; no inline styles allowed.
    let href = first
        .split("<link rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(href.starts_with("/static/"), "{href}");
    let response = herald.client.get(herald.url(&href)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("prefers-color-scheme: dark"));
    let csp = get(&herald, &herald.url("/@ceo"), BROWSER)
        .await
        .csp
        .unwrap();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(
        !first.contains("<style") && !first.contains("style=\""),
        "inline styles"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_text_is_escaped_everywhere_on_the_pages() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let evil = "<script>alert(1)</script>\"><b>";
    let (status, body, _) = herald
        .api(
            &token,
            reqwest::Method::PATCH,
            "/api/v1/channels/ceo",
            Some(json!({"display_name": evil, "fields": [{"name": evil, "value": "x"}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({"text": "hi", "summary": evil}))
        .await;
    for path in [
        "/".to_string(),
        "/@ceo".to_string(),
        format!("/@ceo/{}", post["id"].as_str().unwrap()),
        "/@ceo/follow".to_string(),
        "/@ceo/tags/x".to_string(),
    ] {
        let page = get(&herald, &herald.url(&path), BROWSER).await.body;
        assert!(!page.contains("<script>alert"), "{path}: {page}");
        assert!(!page.contains("\"><b>"), "{path}: {page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}: {page}"
        );
    }
}
