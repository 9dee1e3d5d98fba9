//! A channel run by a team: people and roles (through the API's personal tokens and the
//! command line), the audit log and the author signature. The console is `console.rs`.

use crate::harness::{console::PASSWORD, eventually, followed, instance::Options, TestInstance};
use herald::db::{self, Role};
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

    // A Mastodon app signed in with the viewer's token is held to the same role.
    let app = herald
        .client
        .post(herald.url("/api/v1/statuses"))
        .bearer_auth(&viewer_token)
        .form(&[("status", "from an app")])
        .send()
        .await
        .unwrap();
    assert_eq!(app.status(), 403);
    let app = herald
        .client
        .get(herald.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(&viewer_token)
        .send()
        .await
        .unwrap();
    assert_eq!(app.status(), 200);
    // Who follows is the owners' to see.
    let app = herald
        .client
        .get(herald.url("/api/v1/follow_requests"))
        .bearer_auth(&viewer_token)
        .send()
        .await
        .unwrap();
    assert_eq!(app.status(), 403);

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

/// Who follows is the owners' to see through the Mastodon API too: a viewer's
/// notifications leave the follows out; an owner's show them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_owners_see_who_follows_in_their_notifications() {
    let f = followed(Options::default(), true, "alice").await;
    let herald = &f.herald;
    let channel = db::channel_by_name(&herald.state().db, "ceo")
        .await
        .unwrap();
    let vera = herald
        .person("vera@example.com", "Vera", &channel, Role::Viewer)
        .await;
    let olga = herald
        .person("olga@example.com", "Olga", &channel, Role::Owner)
        .await;
    let kinds = |token: String| async move {
        let notes: serde_json::Value = herald
            .client
            .get(herald.url("/api/v1/notifications"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        notes
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    let owner = kinds(herald.person_token(&channel, &olga).await).await;
    assert!(owner.contains(&"follow".to_string()), "{owner:?}");
    let viewer = kinds(herald.person_token(&channel, &vera).await).await;
    assert!(!viewer.contains(&"follow".to_string()), "{viewer:?}");
}
