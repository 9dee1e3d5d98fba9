//! The team console in HTTP terms: CSRF, each role's pages and forms, the composer's
//! refusals and preview, followers and the profile, and readers left without cookies.
//! Sessions are `console_sessions.rs`; the browser test (`browser.rs`) drives the console
//! in Chromium.

use crate::harness::{eventually, followed, instance::Options, TestInstance};
use herald::db::{self, Role};
use serde_json::json;
use std::time::Duration;

/// Forms without the session's CSRF token change nothing; each role's console actions
/// are allowed or refused on the server.
#[tokio::test]
async fn console_forms_need_the_csrf_token_and_the_role() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("news").await;
    herald
        .person("vera@example.com", "Vera", &channel, Role::Viewer)
        .await;
    herald
        .person("ed@example.com", "Ed", &channel, Role::Editor)
        .await;
    herald
        .person("olga@example.com", "Olga", &channel, Role::Owner)
        .await;
    let posts = || async {
        db::list_posts(&herald.state().db, channel.id, None, 10)
            .await
            .unwrap()
            .len()
    };

    let mut ed = herald.console();
    ed.sign_in("ed@example.com").await;
    let csrf = ed.csrf().await;
    let compose = "/console/channels/news/compose";
    for form in [
        vec![("text", "forged"), ("action", "publish")],
        vec![
            ("csrf", "not-the-token"),
            ("text", "forged"),
            ("action", "publish"),
        ],
    ] {
        let page = ed.post(compose, &form).await;
        assert_eq!(page.status, 403, "{}", page.body);
        assert!(page.body.contains("nothing was changed"), "{}", page.body);
    }
    assert_eq!(posts().await, 0, "no forged post was stored");
    // With the token, the editor posts.
    let page = ed
        .post(
            compose,
            &[
                ("csrf", &csrf),
                ("text", "Hello **team**"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(posts().await, 1);
    // But reaches no owner page.
    for path in [
        "/console/channels/news/people",
        "/console/channels/news/tokens",
        "/console/channels/news/audit",
        "/console/channels/news/profile",
    ] {
        let page = ed.get(path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(page.body.contains("needs the owner role"), "{}", page.body);
    }
    let page = ed
        .post(
            "/console/channels/news/people",
            &[
                ("csrf", &csrf),
                ("op", "add"),
                ("email", "x@example.com"),
                ("role", "owner"),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(db::user_by_email(&herald.state().db, "x@example.com")
        .await
        .is_err());

    // A viewer sees the posts, no composer, and may not post.
    let mut vera = herald.console();
    vera.sign_in("vera@example.com").await;
    let page = vera.get("/console/channels/news").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Hello team"), "{}", page.body);
    assert!(
        !page.body.contains("name=\"text\""),
        "no composer for a viewer"
    );
    let csrf = page.csrf();
    let page = vera
        .post(
            compose,
            &[
                ("csrf", &csrf),
                ("text", "viewer post"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(posts().await, 1);
    // A channel the person has no role in is not there for them.
    herald.create_channel("other").await;
    assert_eq!(vera.get("/console/channels/other").await.status, 404);

    // The owner adds a person: a new one gets a sign-in link shown once.
    let mut olga = herald.console();
    olga.sign_in("olga@example.com").await;
    let csrf = olga.csrf().await;
    let page = olga
        .post(
            "/console/channels/news/people",
            &[
                ("csrf", &csrf),
                ("op", "add"),
                ("email", "new@example.com"),
                ("name", "Nina"),
                ("role", "editor"),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("/console/welcome/"), "{}", page.body);
    let nina = db::user_by_email(&herald.state().db, "new@example.com")
        .await
        .unwrap();
    assert_eq!(
        db::role_of(&herald.state().db, channel.id, nina.id)
            .await
            .unwrap(),
        Some(Role::Editor)
    );
    // And issues a token, shown once, that works.
    let page = olga
        .post(
            "/console/channels/news/tokens",
            &[
                ("csrf", &csrf),
                ("op", "issue"),
                ("label", "CI bot"),
                ("scope", "posts:read"),
                ("scope", "posts:write"),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let start = page.body.find("id=\"issued-token\">").unwrap() + "id=\"issued-token\">".len();
    let token = &page.body[start..start + page.body[start..].find('<').unwrap()];
    let (status, _) = herald
        .post("news", Some(token), &json!({ "text": "from the bot" }))
        .await;
    assert_eq!(status, 201);
    let listed = db::list_tokens(&herald.state().db, channel.id)
        .await
        .unwrap();
    let bot = listed
        .iter()
        .find(|t| t.label.as_deref() == Some("CI bot"))
        .unwrap();
    let id = bot.id.to_string();
    let page = olga
        .post(
            "/console/channels/news/tokens",
            &[("csrf", &csrf), ("op", "revoke"), ("token", &id)],
        )
        .await;
    assert_eq!(page.status, 303);
    let (status, _) = herald
        .post("news", Some(token), &json!({ "text": "again" }))
        .await;
    assert_eq!(status, 401);
}

/// The composer: an image without alt text is asked about, an image over the limit
/// shows the form again as filled in, nothing is posted in either case; the preview
/// shows the post as Mastodon will; publishing attaches the image with its alt text.
#[tokio::test]
async fn the_composer_previews_and_refuses_without_losing_anything() {
    let herald = TestInstance::with(Options {
        max_upload_bytes: 200_000,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("news").await;
    herald
        .person("ed@example.com", "Ed", &channel, Role::Editor)
        .await;
    let mut ed = herald.console();
    ed.sign_in("ed@example.com").await;
    let csrf = ed.csrf().await;
    let image = include_bytes!("../media/gps.jpg").to_vec();
    let form = |alt: &str, action: &str, bytes: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("text", "Our new office, **finally**")
            .text("summary", "")
            .text("alt0", alt.to_string())
            .text("action", action.to_string())
            .part(
                "image0",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("office.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            )
    };
    let compose = "/console/channels/news/compose";
    let nothing_stored = || async {
        let posts = db::list_posts(&herald.state().db, channel.id, None, 10)
            .await
            .unwrap();
        posts.is_empty()
    };

    let page = ed
        .post_multipart(compose, form("", "publish", image.clone()))
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(
        page.body.contains("Image 1 has no alt text"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Our new office, **finally**"),
        "the text is kept"
    );
    assert!(nothing_stored().await);

    let page = ed
        .post_multipart(compose, form("desk", "publish", vec![0u8; 300_000]))
        .await;
    assert_eq!(page.status, 413, "{}", page.body);
    assert!(
        page.body.contains("larger than the upload limit"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Our new office, **finally**"),
        "the text is kept"
    );
    assert!(nothing_stored().await);

    let page = ed
        .post_multipart(
            compose,
            form("A desk by a window", "preview", image.clone()),
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("mastodon-preview"), "{}", page.body);
    assert!(
        page.body.contains("<strong>finally</strong>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("ALT: A desk by a window"),
        "{}",
        page.body
    );
    assert!(nothing_stored().await, "a preview posts nothing");
    // The stored image rides along in the form; publishing uses it.
    let start =
        page.body.find("name=\"media0\" value=\"").unwrap() + "name=\"media0\" value=\"".len();
    let media_id = page.body[start..start + 36].to_string();
    let publish = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("text", "Our new office, **finally**")
        .text("media0", media_id.clone())
        .text("alt0", "A desk by a window")
        .text("action", "publish");
    let page = ed.post_multipart(compose, publish).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let posts = db::list_posts(&herald.state().db, channel.id, None, 10)
        .await
        .unwrap();
    assert_eq!(posts.len(), 1);
    let media = db::media_for_posts(&herald.state().db, &[posts[0].id])
        .await
        .unwrap();
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].id.to_string(), media_id);
    assert_eq!(media[0].description.as_deref(), Some("A desk by a window"));
    // The post's page shows its delivery.
    let page = ed.get(page.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Posted") && page.body.contains("delivered"),
        "{}",
        page.body
    );
}

/// Readers stay untracked: the public pages, feeds and ActivityPub answers set no cookie,
/// even for a browser that holds a console session.
#[tokio::test]
async fn public_answers_set_no_cookie() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("news").await;
    herald
        .person("ed@example.com", "Ed", &channel, Role::Editor)
        .await;
    let mut console = herald.console();
    console.sign_in("ed@example.com").await;
    let cookie = console.cookie.clone().unwrap();
    let webfinger = format!(
        "/.well-known/webfinger?resource=acct:news@{}",
        herald.domain
    );
    for (path, accept) in [
        ("/@news", "text/html"),
        ("/", "text/html"),
        ("/@news/feed.atom", "*/*"),
        ("/channels/news", "application/activity+json"),
        (webfinger.as_str(), "*/*"),
    ] {
        let response = herald
            .client
            .get(herald.url(path))
            .header("Accept", accept)
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert!(
            response.headers().get("set-cookie").is_none(),
            "{path} sets a cookie"
        );
    }
}

/// What comes in, in the console: a viewer reads replies and reports; the owner answers a
/// follow request and removes a follower (their servers get Accept and Reject), and changes
/// the profile with an avatar and fields (followers get the actor's Update); the audit log
/// has each.
#[tokio::test]
async fn the_console_answers_followers_and_changes_the_profile() {
    let f = followed(Options::default(), true, "alice").await;
    let herald = &f.herald;
    let channel = db::channel_by_name(&herald.state().db, "ceo")
        .await
        .unwrap();
    herald
        .person("vera@example.com", "Vera", &channel, Role::Viewer)
        .await;
    herald
        .person("olga@example.com", "Olga", &channel, Role::Owner)
        .await;
    herald.worker().drain().await.unwrap();
    let carol = f.remote.add_user("carol");
    let inbox: url::Url = herald.url("/channels/ceo/inbox").parse().unwrap();
    let (_, post) = herald
        .post("ceo", Some(&f.token), &json!({ "text": "News" }))
        .await;
    let note = format!("{}/statuses/1", carol.id);
    let reply = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{note}/activity"), "type": "Create", "actor": carol.id,
        "object": { "id": note, "type": "Note", "attributedTo": carol.id, "inReplyTo": post["uri"],
            "to": "https://www.w3.org/ns/activitystreams#Public", "content": "<p>Congratulations, team!</p>" },
    });
    let flag = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/flags/1", carol.id), "type": "Flag", "actor": carol.id,
        "object": [herald.url("/channels/ceo")], "content": "Looks like spam to me",
    });
    for activity in [reply, flag] {
        let (status, body) = f
            .remote
            .post_signed(
                &carol,
                &inbox,
                &activity.to_string(),
                crate::harness::Tamper::Nothing,
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    let mut vera = herald.console();
    vera.sign_in("vera@example.com").await;
    let page = vera.get("/console/channels/ceo/inbox").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<p>Congratulations, team!</p>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Looks like spam to me"), "{}", page.body);
    assert_eq!(
        vera.get("/console/channels/ceo/followers").await.status,
        403
    );

    // The owner asks for approval, bob asks to follow, the owner approves, removes alice.
    let mut olga = herald.console();
    olga.sign_in("olga@example.com").await;
    let csrf = olga.csrf().await;
    let avatar = include_bytes!("../media/gps.jpg").to_vec();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("display_name", "The CEO")
        .text("summary", "Straight from the top.")
        .text("field_name0", "Website")
        .text("field_value0", "https://example.com")
        .text("manually_approves", "on")
        .text("sign_posts", "on")
        .part(
            "avatar",
            reqwest::multipart::Part::bytes(avatar)
                .file_name("me.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let page = olga
        .post_multipart("/console/channels/ceo/profile", form)
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let changed = db::channel_by_name(&herald.state().db, "ceo")
        .await
        .unwrap();
    assert_eq!(changed.display_name, "The CEO");
    assert_eq!(changed.fields.len(), 1);
    assert!(changed.avatar.is_some() && changed.manually_approves && changed.sign_posts);
    herald.worker().drain().await.unwrap();
    let update = eventually(
        "the actor's Update arrives",
        Duration::from_secs(10),
        || async {
            f.remote
                .received_of("Update")
                .into_iter()
                .find(|r| r.activity["object"]["name"] == "The CEO")
        },
    )
    .await;
    assert!(
        update.activity["object"]["icon"]["url"].is_string(),
        "{}",
        update.activity
    );

    let bob = f.remote.add_user("bob");
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    f.remote
        .send(&bob, f.remote.follow(&bob, &actor), &inbox)
        .await;
    let pending = eventually(
        "bob's request is listed",
        Duration::from_secs(10),
        || async {
            db::list_followers(&herald.state().db, channel.id, true, None, 10)
                .await
                .unwrap()
                .into_iter()
                .next()
        },
    )
    .await;
    let page = olga.get("/console/channels/ceo/followers").await;
    assert!(
        page.body.contains("Follow requests") && page.body.contains(&bob.id.to_string()),
        "{}",
        page.body
    );
    let page = olga
        .post(
            &format!("/console/channels/ceo/followers/{}", pending.id),
            &[("csrf", &csrf), ("answer", "approve")],
        )
        .await;
    assert_eq!(page.status, 303);
    let alice_entry = db::list_followers(&herald.state().db, channel.id, false, None, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.actor_uri.ends_with("/users/alice"))
        .unwrap();
    // Without the token, nothing happens.
    let forged = olga
        .post(
            &format!("/console/channels/ceo/followers/{}", alice_entry.id),
            &[("answer", "remove")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(herald.follower_count(&channel).await, 2);
    let page = olga
        .post(
            &format!("/console/channels/ceo/followers/{}", alice_entry.id),
            &[("csrf", &csrf), ("answer", "remove")],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(herald.follower_count(&channel).await, 1);
    herald.worker().drain().await.unwrap();
    eventually(
        "Accept and Reject arrive",
        Duration::from_secs(10),
        || async {
            (!f.remote.received_of("Reject").is_empty()
                && f.remote
                    .received_of("Accept")
                    .iter()
                    .any(|r| r.activity["object"]["actor"] == bob.id.to_string()))
            .then_some(())
        },
    )
    .await;
    let actions: Vec<String> = db::audit_log(&herald.state().db, channel.id, 20)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor.starts_with("Olga"))
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["follower.removed", "follower.approved", "profile.changed"]
    );
}
