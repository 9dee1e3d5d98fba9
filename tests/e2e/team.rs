//! A channel run by a team: people and roles (through the API's personal tokens and the
//! console), sessions (expiry, sign-out everywhere, disabling), CSRF, the audit log, the
//! author signature, and readers left without cookies.

use crate::harness::{console::PASSWORD, eventually, followed, instance::Options, TestInstance};
use herald::db::{self, ConnectionTrait, Role};
use serde_json::json;
use std::time::Duration;

/// Each role through the owner API with a personal token: what it may do, what it may
/// not, and that a changed or removed role, or a disabled person, changes the same token
/// at once. Channel tokens are unchanged.
#[tokio::test]
async fn each_role_is_allowed_and_refused_its_actions_in_the_api() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("news").await;
    let viewer = herald
        .person("vera@example.com", "Vera", &channel, Role::Viewer)
        .await;
    let editor = herald
        .person("ed@example.com", "Ed", &channel, Role::Editor)
        .await;
    let owner = herald
        .person("olga@example.com", "Olga", &channel, Role::Owner)
        .await;
    let (viewer_token, editor_token, owner_token) = (
        herald.person_token(&channel, &viewer).await,
        herald.person_token(&channel, &editor).await,
        herald.person_token(&channel, &owner).await,
    );
    let post = json!({ "text": "From the team" });
    let profile = |token: &str| {
        let request = herald
            .client
            .patch(herald.url("/api/v1/channels/news"))
            .bearer_auth(token)
            .json(&json!({ "display_name": "News" }));
        async move { request.send().await.unwrap() }
    };

    // Viewer: reads, posts nothing.
    let (status, _) = herald
        .get_json("/api/v1/channels/news/posts", &viewer_token)
        .await;
    assert_eq!(status, 200);
    let (status, body) = herald.post("news", Some(&viewer_token), &post).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "role_forbids");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("editor"),
        "{body}"
    );

    // Editor: posts, but changes no profile.
    let (status, created) = herald.post("news", Some(&editor_token), &post).await;
    assert_eq!(status, 201, "{created}");
    let response = profile(&editor_token).await;
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "role_forbids");

    // Owner: both.
    assert_eq!(profile(&owner_token).await.status(), 200);
    let (status, _) = herald.post("news", Some(&owner_token), &post).await;
    assert_eq!(status, 201);

    // The editor demoted to viewer: the same token posts no more.
    herald::people::grant(
        &herald.state().db,
        &db::Actor::CommandLine,
        &channel,
        &editor,
        Role::Viewer,
    )
    .await
    .unwrap();
    let (status, _) = herald.post("news", Some(&editor_token), &post).await;
    assert_eq!(status, 403);
    // No role at all: refused even reading.
    herald::people::revoke(
        &herald.state().db,
        &db::Actor::CommandLine,
        &channel,
        &editor,
    )
    .await
    .unwrap();
    let (status, body) = herald
        .get_json("/api/v1/channels/news/posts", &editor_token)
        .await;
    assert_eq!(status, 403, "{body}");

    // A disabled person's token stops at once; enabled again, it works again.
    db::set_disabled(&herald.state().db, owner.id, true)
        .await
        .unwrap();
    let (status, body) = herald.post("news", Some(&owner_token), &post).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("user_disabled"))
    );
    db::set_disabled(&herald.state().db, owner.id, false)
        .await
        .unwrap();
    let (status, _) = herald.post("news", Some(&owner_token), &post).await;
    assert_eq!(status, 201);

    // The last owner cannot be demoted or removed.
    let err = herald::people::revoke(
        &herald.state().db,
        &db::Actor::CommandLine,
        &channel,
        &owner,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, herald::people::PeopleError::LastOwner),
        "{err}"
    );

    // A channel token (a bot) keeps every scope it was given.
    let bot = herald.token(&channel).await;
    assert_eq!(profile(&bot).await.status(), 200);
}

/// People and roles from the command line: a sign-in link for a new person that works
/// once, grants and refusals with clear messages, and the list.
#[tokio::test]
async fn people_and_roles_from_the_command_line() {
    let herald = TestInstance::start().await;
    herald.create_channel("news").await;
    let (code, link, err) =
        herald.run_herald(&["user", "create", "Jane@Example.com", "--name", "Jane Doe"]);
    assert_eq!(code, 0, "{err}");
    let link = link.trim();
    assert!(
        link.starts_with(&format!("{}/console/welcome/", herald.base)),
        "{link}"
    );
    let path = link.strip_prefix(&herald.base).unwrap();

    // The same email again is refused.
    let (code, _, err) = herald.run_herald(&["user", "create", "jane@example.com"]);
    assert_ne!(code, 0);
    assert!(err.contains("already has an account"), "{err}");
    let (code, _, err) = herald.run_herald(&["user", "create", "not-an-email"]);
    assert_ne!(code, 0);
    assert!(err.contains("not an email address"), "{err}");

    // Grant, with refusals for unknown people, channels and roles.
    let (code, out, err) = herald.run_herald(&[
        "channel",
        "grant",
        "news",
        "jane@example.com",
        "--role",
        "owner",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("owner of news"), "{out}");
    let (code, _, err) = herald.run_herald(&[
        "channel",
        "grant",
        "news",
        "nobody@example.com",
        "--role",
        "editor",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("no person with the email"), "{err}");
    let (code, _, err) = herald.run_herald(&[
        "channel",
        "grant",
        "nope",
        "jane@example.com",
        "--role",
        "editor",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("no channel named"), "{err}");
    let (code, _, _) = herald.run_herald(&[
        "channel",
        "grant",
        "news",
        "jane@example.com",
        "--role",
        "admin",
    ]);
    assert_ne!(code, 0);
    // The last owner stays.
    let (code, _, err) = herald.run_herald(&["channel", "revoke", "news", "jane@example.com"]);
    assert_ne!(code, 0);
    assert!(err.contains("last owner"), "{err}");
    let (code, _, err) = herald.run_herald(&["user", "delete", "jane@example.com"]);
    assert_ne!(code, 0);
    assert!(err.contains("last owner"), "{err}");

    let (code, out, _) = herald.run_herald(&["user", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("jane@example.com\tJane Doe\tinvited\tnews:owner"),
        "{out}"
    );
    let (_, out, _) = herald.run_herald(&["channel", "people", "news"]);
    assert!(out.contains("jane@example.com\tJane Doe\towner"), "{out}");

    // The link: a password too short is refused; a good one signs in, once.
    let mut console = herald.console();
    let page = console.get(path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Welcome, Jane Doe"), "{}", page.body);
    let page = console
        .post(path, &[("password", "short"), ("again", "short")])
        .await;
    assert_eq!(page.status, 422);
    assert!(
        page.body.contains("at least 10 characters"),
        "{}",
        page.body
    );
    let page = console
        .post(path, &[("password", PASSWORD), ("again", PASSWORD)])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(console.cookie.is_some());
    let page = console.get("/console").await;
    assert!(page.body.contains("@news"), "{}", page.body);
    let mut again = herald.console();
    let page = again
        .post(path, &[("password", PASSWORD), ("again", PASSWORD)])
        .await;
    assert_eq!(page.status, 404, "a link works once");
    // And the password it set signs in.
    herald.console().sign_in("jane@example.com").await;
    let (_, out, _) = herald.run_herald(&["user", "list"]);
    assert!(out.contains("jane@example.com\tJane Doe\tactive"), "{out}");
}

/// Signing in: one answer for an unknown email and a wrong password; the cookie's
/// attributes; expiry; signing out; sign-out-everywhere and disabling from the CLI.
#[tokio::test]
async fn console_sessions_end_when_they_should() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("news").await;
    herald
        .person("ed@example.com", "Ed", &channel, Role::Editor)
        .await;

    let mut console = herald.console();
    let unknown = console
        .post(
            "/console/sign-in",
            &[("email", "who@example.com"), ("password", PASSWORD)],
        )
        .await;
    let wrong = console
        .post(
            "/console/sign-in",
            &[
                ("email", "ed@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.status, 401);
    let message = "that email and password do not match an account";
    assert!(unknown.body.contains(message) && wrong.body.contains(message));
    assert!(unknown.set_cookie.is_none() && wrong.set_cookie.is_none());

    // Not signed in: to the sign-in page.
    let page = console.get("/console/channels/news").await;
    assert_eq!(
        (page.status.as_u16(), page.location.as_deref()),
        (303, Some("/console/sign-in"))
    );

    let page = console.sign_in("ed@example.com").await;
    let cookie = page.set_cookie.unwrap();
    for attribute in [
        "Path=/console",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "debug mode serves http: {cookie}"
    );
    let page = console.get("/console/channels/news").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("form-action 'self'"));

    // Signing out ends the session on the server: the old cookie is refused.
    let old = console.cookie.clone();
    let csrf = page.csrf();
    let page = console.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(page.status, 303);
    assert!(page.set_cookie.unwrap().contains("Max-Age=0"));
    console.cookie = old;
    assert_eq!(console.get("/console").await.status, 303);

    // Expiry: a session past its time is refused (and removed).
    let mut console = herald.console();
    console.sign_in("ed@example.com").await;
    herald
        .state()
        .db
        .execute_unprepared("UPDATE sessions SET expires_at = created_at")
        .await
        .unwrap();
    assert_eq!(console.get("/console").await.status, 303);

    // Sign-out-everywhere ends every session of the person.
    let mut laptop = herald.console();
    let mut phone = herald.console();
    laptop.sign_in("ed@example.com").await;
    phone.sign_in("ed@example.com").await;
    let (code, out, err) = herald.run_herald(&["user", "sign-out-everywhere", "ed@example.com"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ended 2 session(s)"), "{out}");
    assert_eq!(laptop.get("/console").await.status, 303);
    assert_eq!(phone.get("/console").await.status, 303);

    // Disabling: the session ends, the token stops, signing in says so.
    let mut console = herald.console();
    console.sign_in("ed@example.com").await;
    let ed = db::user_by_email(&herald.state().db, "ed@example.com")
        .await
        .unwrap();
    let token = herald.person_token(&channel, &ed).await;
    let (code, _, err) = herald.run_herald(&["user", "disable", "ed@example.com"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(console.get("/console").await.status, 303);
    let (status, _) = herald
        .post("news", Some(&token), &json!({ "text": "hi" }))
        .await;
    assert_eq!(status, 401);
    let page = herald
        .console()
        .post(
            "/console/sign-in",
            &[("email", "ed@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("disabled"), "{}", page.body);
}

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

/// The audit log: who created, edited, pinned, deleted, granted and revoked what, through
/// the API, the console and the CLI alike; for owners only.
#[tokio::test]
async fn the_audit_log_records_who_did_what() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("news").await;
    let ed = herald
        .person("ed@example.com", "Ed", &channel, Role::Editor)
        .await;
    herald
        .person("olga@example.com", "Olga", &channel, Role::Owner)
        .await;
    let bot = herald.token(&channel).await;
    let ed_token = herald.person_token(&channel, &ed).await;

    let (_, created) = herald
        .post("news", Some(&ed_token), &json!({ "text": "first" }))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (status, _, _) = herald
        .api(
            &bot,
            reqwest::Method::PATCH,
            &format!("/api/v1/channels/news/posts/{id}"),
            Some(json!({ "text": "first, edited" })),
        )
        .await;
    assert_eq!(status, 200);
    let mut olga = herald.console();
    olga.sign_in("olga@example.com").await;
    let csrf = olga.csrf().await;
    let page = olga
        .post(
            &format!("/console/channels/news/posts/{id}/pin"),
            &[("csrf", &csrf), ("pinned", "true")],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = olga
        .post(
            &format!("/console/channels/news/posts/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let (code, _, err) = herald.run_herald(&[
        "channel",
        "grant",
        "news",
        "ed@example.com",
        "--role",
        "viewer",
    ]);
    assert_eq!(code, 0, "{err}");

    let entries = db::audit_log(&herald.state().db, channel.id, 50)
        .await
        .unwrap();
    let seen: Vec<(String, String)> = entries
        .iter()
        .rev()
        .map(|e| (e.action.clone(), e.actor.clone()))
        .collect();
    let bot_id = db::list_tokens(&herald.state().db, channel.id)
        .await
        .unwrap()[0]
        .id;
    let expected = [
        ("role.granted", "command line".to_string()),
        ("role.granted", "command line".to_string()),
        ("post.created", "Ed <ed@example.com>".to_string()),
        ("post.edited", format!("token {bot_id}")),
        ("post.pinned", "Olga <olga@example.com>".to_string()),
        ("post.deleted", "Olga <olga@example.com>".to_string()),
        ("role.granted", "command line".to_string()),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, w)| (a.to_string(), w.clone()))
        .collect();
    assert_eq!(seen, expected);
    assert!(entries
        .iter()
        .filter(|e| e.action.starts_with("post."))
        .all(|e| e.target == id));
    // The owner reads it in the console; the demoted editor may not.
    let page = olga.get("/console/channels/news/audit").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("post.pinned") && page.body.contains("ed@example.com as viewer"),
        "{}",
        page.body
    );
    let mut ed_console = herald.console();
    ed_console.sign_in("ed@example.com").await;
    assert_eq!(
        ed_console.get("/console/channels/news/audit").await.status,
        403
    );
}

/// A channel that signs its posts: a person's post carries their name as its last line,
/// in the Note its followers receive and on edits by someone else; a bot's carries none.
#[tokio::test]
async fn signed_posts_carry_their_authors_name() {
    let f = followed(Options::default(), true, "alice").await;
    let herald = &f.herald;
    let channel = db::channel_by_name(&herald.state().db, "ceo")
        .await
        .unwrap();
    let jane = herald
        .person("jane@example.com", "Jane <Doe>", &channel, Role::Editor)
        .await;
    let jane_token = herald.person_token(&channel, &jane).await;
    let (status, _, _) = herald
        .api(
            &f.token,
            reqwest::Method::PATCH,
            "/api/v1/channels/ceo",
            Some(json!({ "sign_posts": true })),
        )
        .await;
    assert_eq!(status, 200);
    herald.worker().drain().await.unwrap();

    let (status, created) = herald
        .post(
            "ceo",
            Some(&jane_token),
            &json!({ "text": "We ship today." }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    herald.worker().drain().await.unwrap();
    let signature = "<p>— Jane &lt;Doe&gt;</p>";
    let note = eventually("the Create arrives", Duration::from_secs(10), || async {
        f.remote
            .received()
            .into_iter()
            .find(|r| r.activity["type"] == "Create")
            .map(|r| r.activity["object"].clone())
    })
    .await;
    let content = note["content"].as_str().unwrap();
    assert!(content.ends_with(signature), "{content}");
    assert_eq!(note["attributedTo"], herald.url("/channels/ceo"));

    // Edited with the channel token: the signature stays Jane's.
    let id = created["id"].as_str().unwrap();
    let (status, edited, _) = herald
        .api(
            &f.token,
            reqwest::Method::PATCH,
            &format!("/api/v1/channels/ceo/posts/{id}"),
            Some(json!({ "text": "We ship tomorrow." })),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    herald.worker().drain().await.unwrap();
    let update = eventually("the Update arrives", Duration::from_secs(10), || async {
        f.remote
            .received()
            .into_iter()
            .find(|r| r.activity["type"] == "Update" && r.activity["object"]["type"] == "Note")
            .map(|r| {
                r.activity["object"]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
    })
    .await;
    assert!(
        update.contains("tomorrow") && update.ends_with(signature),
        "{update}"
    );

    // The bot's post is unsigned.
    let (_, bot_post) = herald
        .post("ceo", Some(&f.token), &json!({ "text": "Automated." }))
        .await;
    let post = db::post_by_uuid(
        &herald.state().db,
        db::PostId::parse(bot_post["id"].as_str().unwrap()).unwrap(),
    )
    .await
    .unwrap();
    assert!(!post.content_html.contains("—"), "{}", post.content_html);
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

/// Sign-in attempts beyond `limits.sign_in_per_minute` for one account wait (429), even
/// with the right password; a wrong password is answered only after a delay.
#[tokio::test]
async fn sign_in_attempts_are_limited_and_slowed() {
    let herald = TestInstance::with(Options {
        sign_in_per_minute: 2,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("news").await;
    herald
        .person("ed@example.com", "Ed", &channel, Role::Editor)
        .await;
    let mut console = herald.console();
    let started = std::time::Instant::now();
    let wrong = console
        .post(
            "/console/sign-in",
            &[
                ("email", "ed@example.com"),
                ("password", "guess number one"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "a failure is slowed down"
    );
    console
        .post(
            "/console/sign-in",
            &[
                ("email", "ED@example.com"),
                ("password", "guess number two"),
            ],
        )
        .await;
    let limited = console
        .post(
            "/console/sign-in",
            &[("email", "ed@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(
        limited.body.contains("too many sign-in attempts"),
        "{}",
        limited.body
    );
    assert!(console.cookie.is_none());
    // Another account is not held up by it.
    herald
        .person("vera@example.com", "Vera", &channel, Role::Viewer)
        .await;
    herald.console().sign_in("vera@example.com").await;
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
