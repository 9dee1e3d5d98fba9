//! The Mastodon client API, as apps use it: Mastodon.py (from PyPI, unmodified; `.ci/run`
//! installs the pinned version) signs in through OAuth with PKCE, reads the account and
//! the instance, posts with an image, edits, pins, schedules and deletes while a fake
//! remote follower receives each activity signed, and reads the notifications after a
//! remote like and reply; and every refusal of the OAuth flow, in OAuth's error shape.

use crate::harness::{eventually, followed, instance::Options, TestInstance, WAIT};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::process::Command;

/// Runs the Mastodon.py script with `args` and returns what it printed.
async fn mastodon_py(python: &str, args: Vec<String>) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/mastodon_py_flow.py");
    let python = python.to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "Mastodon.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_py_signs_in_posts_reads_notifications_and_revokes() {
    let Some(python) = crate::harness::python_with("mastodon") else {
        return;
    };
    let f = followed(Options::default(), true, "alice").await;
    let channel = herald::db::channel_by_name(&f.herald.state().db, "ceo")
        .await
        .unwrap();
    let image = concat!(env!("CARGO_MANIFEST_DIR"), "/media/gps.jpg");
    let base = f.herald.url("");
    let seen = mastodon_py(
        &python,
        vec!["post".into(), base.clone(), f.token.clone(), image.into()],
    )
    .await;
    // Sign-in with PKCE: the consent page carries the challenge and sets no cookie.
    assert_eq!(seen["authorize_page_status"], 200, "{seen}");
    assert_eq!(
        seen["authorize_page_cookies"],
        json!([]),
        "no cookie: {seen}"
    );
    assert_eq!(seen["consent_status"], 200, "{seen}");
    assert_eq!(seen["form_has_challenge"], true, "{seen}");
    assert_eq!(seen["granted_scope"], "read write follow push");
    assert!(
        seen["reused_code"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{seen}"
    );
    // The account and the instance.
    assert_eq!(seen["acct"], "ceo");
    assert_eq!(seen["id"], channel.id.0.to_string());
    assert_eq!(seen["source_note"], channel.summary);
    assert!(
        seen["version"]
            .as_str()
            .unwrap()
            .starts_with("4.3.0 (compatible; Herald "),
        "{seen}"
    );
    assert_eq!(seen["v1_version"], seen["version"]);
    assert_eq!(
        seen["max_characters"],
        f.herald.state().config.posts.max_chars
    );
    assert_eq!(seen["max_media"], 4);
    // Publishing went through the one post lifecycle.
    assert_eq!(seen["media_alt"], "A rising chart");
    assert_eq!(seen["status_alt"], "A rising chart");
    assert!(
        seen["status_content"]
            .as_str()
            .unwrap()
            .contains("<strong>Mastodon.py</strong>"),
        "{seen}"
    );
    assert_eq!(seen["status_tags"], json!(["herald"]));
    assert_eq!(seen["fetched_id"], seen["status_id"]);
    assert!(
        seen["edited_content"]
            .as_str()
            .unwrap()
            .contains("Hello again"),
        "{seen}"
    );
    assert_ne!(seen["edited_at"], "None", "{seen}");
    assert_eq!(seen["edited_media"], 1, "the image stays through the edit");
    assert_eq!(seen["source_text"], "Hello again from Mastodon.py #herald");
    assert_eq!(seen["scheduled_ids"], json!([seen["scheduled_id"]]));
    assert_eq!(seen["home_ids"], json!([seen["status_id"]]));
    assert_eq!(
        (&seen["pinned"], &seen["unpinned"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(seen["history_len"], 1);
    assert_eq!(seen["account_acct"], "ceo");
    assert_eq!(seen["account_status_ids"], json!([seen["status_id"]]));
    assert_eq!(seen["rescheduled"], true);
    assert_eq!(seen["scheduled_after_delete"], json!([]));
    assert_eq!(seen["profile_name"], "News desk");
    assert_eq!(seen["profile_note_source"], "Official *news*");
    assert_eq!(seen["profile_fields"], json!(["Site"]));
    assert!(
        seen["profile_avatar"].as_str().unwrap().contains("/media/"),
        "{seen}"
    );
    assert_eq!(seen["deleted_text"], "Delete me");
    // The follower's server got each activity, signed by the channel (the fake remote
    // verifies every signature).
    let id = seen["status_id"].as_str().unwrap();
    let note_id = f.herald.url(&format!("/posts/{id}"));
    let deleted_id = f
        .herald
        .url(&format!("/posts/{}", seen["deleted_id"].as_str().unwrap()));
    eventually(
        "Create, Update, Add, Remove and Delete arrive",
        WAIT,
        || async {
            let kinds: Vec<String> = f
                .remote
                .received()
                .iter()
                .map(|r| r.activity["type"].as_str().unwrap_or_default().to_string())
                .collect();
            ["Create", "Update", "Add", "Remove", "Delete"]
                .iter()
                .all(|k| kinds.iter().any(|got| got == k))
                .then_some(())
        },
    )
    .await;
    let create = f
        .remote
        .received_of("Create")
        .into_iter()
        .find(|c| c.activity["object"]["id"] == note_id.as_str())
        .unwrap();
    assert_eq!(
        create.activity["object"]["attachment"][0]["name"],
        "A rising chart"
    );
    let updates = f.remote.received_of("Update");
    let edit = updates
        .iter()
        .find(|u| u.activity["object"]["type"] == "Note")
        .unwrap();
    assert!(edit.activity["object"]["content"]
        .as_str()
        .unwrap()
        .contains("Hello again"));
    eventually("the profile's Update arrives", WAIT, || async {
        f.remote
            .received_of("Update")
            .iter()
            .find(|u| u.activity["object"]["name"] == "News desk")
            .map(|u| assert!(u.activity["object"]["icon"]["url"].is_string()))
    })
    .await;
    let delete = &f.remote.received_of("Delete")[0].activity;
    assert_eq!(delete["object"]["id"], deleted_id.as_str());
    for received in f.remote.received() {
        assert!(
            received.key_id.ends_with("/channels/ceo#main-key"),
            "{}",
            received.key_id
        );
    }
    // A remote user likes the post and replies to it; the app reads the notifications.
    let bob = f.remote.add_user("bob");
    let inbox: url::Url = f.herald.url("/inbox").parse().unwrap();
    for (n, activity) in [
        json!({"type": "Like", "object": note_id}),
        json!({"type": "Create", "object": {
            "id": format!("{}/statuses/1", bob.id), "type": "Note", "attributedTo": bob.id,
            "inReplyTo": note_id, "content": "<p>Congratulations!</p>",
            "to": "https://www.w3.org/ns/activitystreams#Public",
        }}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut activity = activity;
        activity["@context"] = json!("https://www.w3.org/ns/activitystreams");
        activity["id"] = json!(format!("{}/activities/{n}", bob.id));
        activity["actor"] = json!(bob.id);
        let (status, body) = f
            .remote
            .post_signed(
                &bob,
                &inbox,
                &activity.to_string(),
                crate::harness::Tamper::Nothing,
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    let read = mastodon_py(
        &python,
        vec![
            "notifications".into(),
            base,
            seen["access_token"].as_str().unwrap().into(),
            seen["client_id"].as_str().unwrap().into(),
            seen["client_secret"].as_str().unwrap().into(),
        ],
    )
    .await;
    let kinds: Vec<&str> = read["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["mention", "favourite", "follow"], "{read}");
    let mention = &read["notifications"][0];
    assert_eq!(mention["acct"], format!("bob@{}", f.remote.domain));
    assert_eq!(read["notifications"][1]["status_id"], seen["status_id"]);
    // Signing out: the token is revoked, a Herald token of the channel like any other.
    assert!(
        read["after_revoke"].as_str().unwrap().contains("401"),
        "{read}"
    );
    let tokens = herald::db::list_tokens(&f.herald.state().db, channel.id)
        .await
        .unwrap();
    assert_eq!(tokens.len(), 2, "the owner's and the app's");
    assert_eq!(tokens.iter().filter(|t| t.revoked_at.is_some()).count(), 1);
}

/// A registered app and an owner's token, for the refusal tests.
struct Flow {
    herald: TestInstance,
    owner_token: String,
    client_id: String,
    client_secret: String,
}

const REDIRECT: &str = "https://app.example/callback";

async fn flow() -> Flow {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("news").await;
    let owner_token = herald.token(&channel).await;
    let app: Value = herald
        .client
        .post(herald.url("/api/v1/apps"))
        .json(&json!({
            "client_name": "Elk-like",
            "redirect_uris": [REDIRECT, "urn:ietf:wg:oauth:2.0:oob"],
            "scopes": "read write follow push",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Flow {
        client_id: app["client_id"].as_str().unwrap().into(),
        client_secret: app["client_secret"].as_str().unwrap().into(),
        herald,
        owner_token,
    }
}

impl Flow {
    /// Consents on the form and returns the status and the redirect's `code`.
    async fn consent(&self, extra: &[(&str, &str)]) -> (u16, Option<String>) {
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &self.client_id),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "read write"),
            ("token", &self.owner_token),
        ];
        for (key, value) in extra {
            form.retain(|(k, _)| k != key);
            form.push((key, value));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .post(self.herald.url("/oauth/authorize"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("set-cookie").is_none());
        let status = response.status().as_u16();
        let code = response
            .headers()
            .get("location")
            .and_then(|l| url::Url::parse(l.to_str().unwrap()).ok())
            .and_then(|l| {
                l.query_pairs()
                    .find(|(k, _)| k == "code")
                    .map(|(_, v)| v.into_owned())
            });
        (status, code)
    }

    async fn token(&self, extra: &[(&str, &str)]) -> (u16, Value) {
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("redirect_uri", REDIRECT),
        ];
        for (key, value) in extra {
            form.retain(|(k, _)| k != key);
            form.push((key, value));
        }
        form.retain(|(_, v)| !v.is_empty());
        let response = self
            .herald
            .client
            .post(self.herald.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn verify_credentials(&self, token: &str) -> (u16, Value) {
        let response = self
            .herald
            .client
            .get(self.herald.url("/api/v1/accounts/verify_credentials"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json().await.unwrap_or(Value::Null),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_of_the_oauth_flow_has_its_error() {
    let f = flow().await;
    // PKCE S256: the right verifier works once; a wrong one, or none, is refused.
    let verifier = "a-verifier-of-enough-length-for-pkce-0123456789abcdef";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let (status, code) = f.consent(&pkce).await;
    assert_eq!(status, 303);
    let code = code.unwrap();
    let (status, body) = f
        .token(&[
            ("code", &code),
            ("code_verifier", "wrong"),
            ("client_secret", ""),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // The wrong verifier used the code up: it cannot be tried again.
    let (status, body) = f
        .token(&[
            ("code", &code),
            ("code_verifier", verifier),
            ("client_secret", ""),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (_, code) = f.consent(&pkce).await;
    let code = code.unwrap();
    let (status, body) = f.token(&[("code", &code)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "no verifier: {body}"
    );
    let (_, code) = f.consent(&pkce).await;
    let code = code.unwrap();
    let (status, granted) = f
        .token(&[
            ("code", &code),
            ("code_verifier", verifier),
            ("client_secret", ""),
        ])
        .await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["scope"], "read write");
    assert!(granted["error_description"].is_null());
    let access = granted["access_token"].as_str().unwrap().to_string();
    let (status, me) = f.verify_credentials(&access).await;
    assert_eq!((status, me["acct"].as_str()), (200, Some("news")), "{me}");
    // Reused code.
    let (status, body) = f
        .token(&[
            ("code", &code),
            ("code_verifier", verifier),
            ("client_secret", ""),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // Without PKCE (Elk): the secret is required, and must be right.
    let (_, code) = f.consent(&[]).await;
    let code = code.unwrap();
    let (status, body) = f.token(&[("code", &code), ("client_secret", "nope")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    let (_, code) = f.consent(&[]).await;
    let code = code.unwrap();
    let (status, body) = f
        .token(&[("code", &code), ("redirect_uri", "https://evil.example/")])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (_, code) = f.consent(&[]).await;
    let (status, body) = f.token(&[("code", &code.unwrap())]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = f.token(&[("grant_type", "password")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type")),
        "{body}"
    );
    // The consent: a redirect_uri the app did not register, an unknown scope, a token
    // that is no channel's: the page again, with the reason, and no redirect.
    assert_eq!(
        f.consent(&[("redirect_uri", "https://evil.example/")])
            .await,
        (400, None)
    );
    assert_eq!(
        f.consent(&[("scope", "read everything")]).await,
        (400, None)
    );
    assert_eq!(f.consent(&[("token", "not-a-token")]).await, (400, None));
    let page = f
        .herald
        .client
        .get(
            f.herald
                .url("/oauth/authorize?client_id=unknown&response_type=code"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("No app with this client_id"));
    // An app that returns to its own scheme may be redirected to from the consent form.
    let app: Value = f
        .herald
        .client
        .post(f.herald.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Elk"),
            ("redirect_uris", "elk://signin"),
            ("scopes", "read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page = f
        .herald
        .client
        .get(f.herald.url(&format!(
            "/oauth/authorize?client_id={}&redirect_uri=elk%3A%2F%2Fsignin&response_type=code&scope=read",
            app["client_id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("form-action 'self' https: elk:"), "{csp}");
    // An app with a scope no Mastodon defines is refused at registration.
    let response = f
        .herald
        .client
        .post(f.herald.url("/api/v1/apps"))
        .form(&[
            ("client_name", "x"),
            ("redirect_uris", REDIRECT),
            ("scopes", "read root"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("root"), "{body}");
    // A revoked token: Mastodon's error shape, 401.
    let response = f
        .herald
        .client
        .post(f.herald.url("/oauth/revoke"))
        .form(&[
            ("client_id", f.client_id.as_str()),
            ("client_secret", f.client_secret.as_str()),
            ("token", access.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, body) = f.verify_credentials(&access).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "the token was revoked", "{body}");
    // A pasted token that expires makes an access token that expires with it.
    let channel = herald::db::channel_by_name(&f.herald.state().db, "news")
        .await
        .unwrap();
    let until = chrono::Utc::now() + chrono::Duration::hours(1);
    let short = f
        .herald
        .token_with(&channel, &herald::api::Scope::ALL, Some(until))
        .await;
    let (_, code) = f.consent(&[("token", short.as_str())]).await;
    let (status, granted) = f.token(&[("code", &code.unwrap())]).await;
    assert_eq!(status, 200, "{granted}");
    let tokens = herald::db::list_tokens(&f.herald.state().db, channel.id)
        .await
        .unwrap();
    let expiring = tokens.iter().filter(|t| t.expires_at.is_some()).count();
    assert_eq!(expiring, 2, "the pasted token and the app's: {tokens:?}");
    // Redirect URIs are single URIs, without whitespace that could split them.
    let response = f
        .herald
        .client
        .post(f.herald.url("/api/v1/apps"))
        .json(&json!({"client_name": "x", "redirect_uris": ["https://a.example/cb\nfoo"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    // The client credentials grant: a token of the app, good for the app alone.
    let (status, granted) = f
        .token(&[("grant_type", "client_credentials"), ("scope", "read")])
        .await;
    assert_eq!(status, 200, "{granted}");
    let app_token = granted["access_token"].as_str().unwrap().to_string();
    let app = f
        .herald
        .client
        .get(f.herald.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(&app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(app.status(), 200);
    assert_eq!(app.json::<Value>().await.unwrap()["name"], "Elk-like");
    let (status, _) = f.verify_credentials(&app_token).await;
    assert_eq!(status, 401, "an app token is no channel's");
    let (status, body) = f
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_secret", "nope"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let response = f
        .herald
        .client
        .post(f.herald.url("/oauth/revoke"))
        .form(&[("token", app_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let app = f
        .herald
        .client
        .get(f.herald.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(&app_token)
        .send()
        .await
        .unwrap();
    assert_eq!(app.status(), 401);
    let (status, body) = f.verify_credentials("garbage").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("the token is not valid"))
    );
}

/// What Phanpy and Elk call before their first screen answers JSON (an empty list where
/// a channel has nothing behind it), never an error page; unknown ids are 404 in
/// Mastodon's shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoints_apps_call_at_start_answer_json() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("news").await;
    let token = herald.token(&channel).await;
    let get = |path: &'static str| {
        let request = herald.client.get(herald.url(path)).bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let json_type = response
                .headers()
                .get("content-type")
                .is_some_and(|v| v.to_str().unwrap().starts_with("application/json"));
            (
                status,
                json_type,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/notifications",
        "/api/v1/follow_requests?limit=1",
        "/api/v1/custom_emojis",
        "/api/v1/markers?timeline[]=home",
        "/api/v1/announcements",
        "/api/v1/lists",
        "/api/v1/followed_tags",
        "/api/v2/filters",
        "/api/v1/timelines/public",
        "/api/v1/trends/tags",
        "/api/v1/scheduled_statuses",
        "/api/v1/preferences",
        "/api/v2/notifications",
        "/api/v2/instance",
    ] {
        let (status, json_type, body) = get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(json_type, "{path} answers JSON");
        assert!(body.is_array() || body.is_object(), "{path}: {body}");
    }
    let (status, json_type, body) = get("/api/v1/push/subscription").await;
    assert_eq!((status, json_type), (404, true));
    assert_eq!(body["error"], "Record not found");
    let (status, _, body) = get("/api/v1/statuses/01890000-0000-7000-8000-000000000000").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("Record not found"))
    );
    let (status, _, body) = get("/api/v1/media/not-an-id").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("Record not found"))
    );
    // Web apps on other origins: the preflight is answered, and answers carry CORS.
    let preflight = herald
        .client
        .request(reqwest::Method::OPTIONS, herald.url("/api/v1/statuses"))
        .header("Origin", "https://phanpy.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("Authorization") && allowed.contains("Idempotency-Key"));
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let answer = herald
        .client
        .get(herald.url("/api/v1/timelines/home"))
        .header("Origin", "https://elk.example")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["access-control-allow-origin"], "*");
    // The consent page is for the owner's own browser: no CORS there.
    let page = herald
        .client
        .get(herald.url("/oauth/authorize"))
        .header("Origin", "https://elk.example")
        .send()
        .await
        .unwrap();
    assert!(page.headers().get("access-control-allow-origin").is_none());
    // Without a token: Mastodon's 401 with its error shape.
    let response = herald
        .client
        .get(herald.url("/api/v1/timelines/home"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
}

/// A Mastodon app's token is its channel: another channel's statuses are not there for it,
/// a token without `posts:write` cannot post, and an expired one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_keep_to_their_channel_and_scope() {
    let herald = TestInstance::start().await;
    let news = herald.create_channel("news").await;
    let other = herald.create_channel("other").await;
    let news_token = herald.token(&news).await;
    let other_token = herald.token(&other).await;
    let (status, theirs) = herald
        .post("other", Some(&other_token), &json!({ "text": "Theirs" }))
        .await;
    assert_eq!(status, 201, "{theirs}");
    let theirs = theirs["id"].as_str().unwrap();
    let send = |method: reqwest::Method, path: String, token: String| {
        let request = herald
            .client
            .request(method, herald.url(&path))
            .bearer_auth(token)
            .form(&[("status", "Hello")]);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let (status, body) = send(
            method.clone(),
            format!("/api/v1/statuses/{theirs}"),
            news_token.clone(),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("Record not found")),
            "{method}"
        );
    }
    let (status, body) = send(
        reqwest::Method::GET,
        format!("/api/v1/statuses/{theirs}"),
        other_token.clone(),
    )
    .await;
    assert_eq!(
        (status, body["content"].as_str()),
        (200, Some("<p>Theirs</p>"))
    );
    let read_only = herald
        .token_with(&news, &[herald::api::Scope::PostsRead], None)
        .await;
    let (status, body) = send(reqwest::Method::POST, "/api/v1/statuses".into(), read_only).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("posts:write"),
        "{body}"
    );
    // Reading drafts and sources needs posts:read: a profile-only token is refused.
    let profile_only = herald
        .token_with(&other, &[herald::api::Scope::ProfileWrite], None)
        .await;
    let (status, body) = send(
        reqwest::Method::GET,
        format!("/api/v1/statuses/{theirs}/source"),
        profile_only,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let expired = herald
        .token_with(
            &news,
            &herald::api::Scope::ALL,
            Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .await;
    let (status, body) = send(reqwest::Method::POST, "/api/v1/statuses".into(), expired).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("the token has expired"))
    );
    // A visibility a channel cannot have is refused, and nothing is posted.
    let response = herald
        .client
        .post(herald.url("/api/v1/statuses"))
        .bearer_auth(&news_token)
        .json(&json!({ "status": "Secret", "visibility": "direct" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let posts = herald::db::list_posts(&herald.state().db, news.id, None, 10)
        .await
        .unwrap();
    assert!(posts.is_empty());
}

/// What the owner sees in an app: follow requests to authorize or reject (the requester's
/// server gets the Accept or the Reject), notifications of followers and replies, and
/// the followers list, for the channel's own token only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_and_follow_requests_reach_the_owner() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let (status, body, _) = herald
        .api(
            &token,
            reqwest::Method::PATCH,
            "/api/v1/channels/ceo",
            Some(json!({"manually_approves_followers": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let remote = crate::harness::FakeRemote::start(true).await;
    let alice = remote.add_user("alice");
    let bob = remote.add_user("bob");
    let inbox: url::Url = herald.url("/inbox").parse().unwrap();
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    for user in [&alice, &bob] {
        let follow = remote.follow(user, &actor).to_string();
        let (status, body) = remote
            .post_signed(user, &inbox, &follow, crate::harness::Tamper::Nothing)
            .await;
        assert_eq!(status, 202, "{body}");
    }
    let get = |path: &str| {
        let request = herald.client.get(herald.url(path)).bearer_auth(&token);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let requests = get("/api/v1/follow_requests").await;
    let accts: Vec<&str> = requests
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["acct"].as_str().unwrap())
        .collect();
    assert_eq!(
        accts,
        [
            format!("bob@{}", remote.domain),
            format!("alice@{}", remote.domain)
        ],
        "newest first"
    );
    let id_of = |name: &str| {
        requests
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let answer = |id: String, verb: &'static str| {
        let request = herald
            .client
            .post(herald.url(&format!("/api/v1/follow_requests/{id}/{verb}")))
            .bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, relationship) = answer(id_of("alice"), "authorize").await;
    assert_eq!((status, &relationship["followed_by"]), (200, &json!(true)));
    let (status, relationship) = answer(id_of("bob"), "reject").await;
    assert_eq!((status, &relationship["followed_by"]), (200, &json!(false)));
    let (status, _) = answer("r999999".into(), "authorize").await;
    assert_eq!(status, 404);
    herald.worker().drain().await.unwrap();
    assert_eq!(remote.received_of("Accept").len(), 1);
    assert_eq!(remote.received_of("Reject").len(), 1);
    assert_eq!(herald.follower_count(&channel).await, 1);
    // alice replies to a post.
    let (_, post) = herald
        .post("ceo", Some(&token), &json!({ "text": "News" }))
        .await;
    let note = format!("{}/statuses/1", alice.id);
    let reply = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{note}/activity"),
        "type": "Create",
        "actor": alice.id,
        "object": {
            "id": note, "type": "Note", "attributedTo": alice.id, "inReplyTo": post["uri"],
            "to": "https://www.w3.org/ns/activitystreams#Public", "content": "<p>Thanks!</p>",
        },
    });
    let (status, body) = remote
        .post_signed(
            &alice,
            &inbox,
            &reply.to_string(),
            crate::harness::Tamper::Nothing,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    // alice's server also likes, boosts and reports the post: they name no one.
    let send = |kind: &str, n: u32, object: Value, extra: Value| {
        let mut activity = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/{kind}-{n}", alice.id),
            "type": kind,
            "actor": alice.id,
            "object": object,
            "to": "https://www.w3.org/ns/activitystreams#Public",
        });
        if let (Some(a), Some(e)) = (activity.as_object_mut(), extra.as_object()) {
            a.extend(e.clone());
        }
        let (remote, alice, inbox) = (&remote, &alice, &inbox);
        async move {
            let (status, body) = remote
                .post_signed(
                    alice,
                    inbox,
                    &activity.to_string(),
                    crate::harness::Tamper::Nothing,
                )
                .await;
            assert_eq!(status, 202, "{body}");
        }
    };
    send("Like", 1, post["uri"].clone(), json!({})).await;
    send("Announce", 2, post["uri"].clone(), json!({})).await;
    send(
        "Flag",
        3,
        json!([actor.as_str(), post["uri"]]),
        json!({"content": "spam?"}),
    )
    .await;
    let everything = get("/api/v1/notifications?limit=40").await;
    let others: Vec<(&str, &str)> = everything
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["account"]["username"] == "someone")
        .map(|n| {
            (
                n["type"].as_str().unwrap(),
                n["account"]["acct"].as_str().unwrap(),
            )
        })
        .collect();
    let server = format!("someone@{}", remote.domain);
    for kind in ["favourite", "reblog", "admin.report"] {
        assert!(
            others.contains(&(kind, server.as_str())),
            "{kind} from the server: {everything}"
        );
    }
    let favourite = everything
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "favourite")
        .unwrap();
    assert_eq!(favourite["status"]["id"], post["id"]);
    assert_eq!(favourite["status"]["favourites_count"], 1);
    let report = everything
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "admin.report")
        .unwrap();
    assert_eq!(report["report"]["comment"], "spam?");
    let notifications = get("/api/v1/notifications").await;
    let notifications = json!(notifications
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["account"]["username"] != "someone")
        .cloned()
        .collect::<Vec<_>>());
    let kinds: Vec<(&str, &str)> = notifications
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap(),
                n["account"]["username"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("mention", "alice"), ("follow", "alice")],
        "{notifications}"
    );
    let mention = &notifications[0];
    assert_eq!(mention["status"]["content"], "<p>Thanks!</p>");
    assert_eq!(mention["status"]["in_reply_to_id"], post["id"]);
    assert_eq!(mention["account"]["id"], notifications[1]["account"]["id"]);
    let all = everything.as_array().unwrap();
    let page = get(&format!(
        "/api/v1/notifications?limit=40&max_id={}",
        all[0]["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(page.as_array().unwrap().len(), all.len() - 1, "{page}");
    let grouped = get("/api/v2/notifications?limit=40").await;
    assert_eq!(
        grouped["notification_groups"].as_array().unwrap().len(),
        all.len()
    );
    assert_eq!(
        grouped["accounts"].as_array().unwrap().len(),
        2,
        "alice and her server"
    );
    // The followers list answers the channel's own token only.
    let followers = get(&format!("/api/v1/accounts/{}/followers", channel.id.0)).await;
    assert_eq!(followers.as_array().unwrap().len(), 1, "{followers}");
    let other = herald.create_channel("other").await;
    let other_token = herald.token(&other).await;
    let response = herald
        .client
        .get(herald.url(&format!("/api/v1/accounts/{}/followers", channel.id.0)))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

/// Timelines page as Mastodon's: `max_id` back in time, `since_id` the newest after an id,
/// `min_id` the ones just after it, each page newest first with `next` and `prev` links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelines_page_by_max_since_and_min_id() {
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("news").await;
    let token = herald.token(&channel).await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        let (status, post) = herald
            .post(
                "news",
                Some(&token),
                &json!({ "text": format!("Post {n}") }),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(post["id"].as_str().unwrap().to_string());
    }
    let page = |query: String| {
        let request = herald.client.get(herald.url(&format!(
            "/api/v1/accounts/{}/statuses?{query}",
            channel.id.0
        )));
        async move {
            let response = request.send().await.unwrap();
            let link = response
                .headers()
                .get("link")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default();
            let body: Value = response.json().await.unwrap();
            let got: Vec<String> = body
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string())
                .collect();
            (got, link)
        }
    };
    let (first, link) = page("limit=2".into()).await;
    assert_eq!(first, [ids[4].clone(), ids[3].clone()]);
    assert!(
        link.contains(&format!("max_id={}", ids[3])) && link.contains("rel=\"next\""),
        "{link}"
    );
    assert!(
        link.contains(&format!("min_id={}", ids[4])) && link.contains("rel=\"prev\""),
        "{link}"
    );
    let (second, _) = page(format!("limit=2&max_id={}", ids[3])).await;
    assert_eq!(second, [ids[2].clone(), ids[1].clone()]);
    let (since, _) = page(format!("limit=2&since_id={}", ids[1])).await;
    assert_eq!(
        since,
        [ids[4].clone(), ids[3].clone()],
        "the newest after it"
    );
    let (min, _) = page(format!("limit=2&min_id={}", ids[1])).await;
    assert_eq!(
        min,
        [ids[3].clone(), ids[2].clone()],
        "the ones just after it"
    );
    let (empty, link) = page(format!("max_id={}", ids[0])).await;
    assert!(empty.is_empty() && link.is_empty());
}

/// Elk's edit: `GET …/source`, then `PUT` as JSON with `media_attributes` and no
/// visibility. A changed alt text alone is an edit followers see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_sets_alt_text_through_media_attributes() {
    let f = followed(Options::default(), true, "alice").await;
    let image = include_bytes!("../media/gps.jpg").to_vec();
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(image).file_name("chart.jpg"),
        )
        .text("thumbnail", "ignored");
    let media: Value = f
        .herald
        .client
        .post(f.herald.url("/api/v1/media"))
        .bearer_auth(&f.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let media_id = media["id"].as_str().unwrap().to_string();
    let send = |method: reqwest::Method, path: String, body: Value| {
        let request = f
            .herald
            .client
            .request(method, f.herald.url(&path))
            .bearer_auth(&f.token)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let (status, posted) = send(
        reqwest::Method::POST,
        "/api/v1/statuses".into(),
        json!({ "status": "Chart", "media_ids": [media_id], "quote_approval_policy": "public" }),
    )
    .await;
    assert_eq!(status, 200, "{posted}");
    assert!(posted["media_attachments"][0]["description"].is_null());
    let id = posted["id"].as_str().unwrap();
    let (status, edited) = send(
        reqwest::Method::PUT,
        format!("/api/v1/statuses/{id}"),
        json!({
            "status": "Chart",
            "media_ids": [media_id],
            "media_attributes": [{ "id": media_id, "description": "Sales up 20%", "focus": "0.0,0.5" }],
        }),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        edited["media_attachments"][0]["description"],
        "Sales up 20%"
    );
    assert_eq!(edited["media_attachments"][0]["meta"]["focus"]["y"], 0.5);
    assert!(edited["edited_at"].is_string());
    eventually("the Update with the alt text arrives", WAIT, || async {
        f.remote
            .received_of("Update")
            .iter()
            .find(|u| u.activity["object"]["attachment"][0]["name"] == "Sales up 20%")
            .map(|_| ())
    })
    .await;
}
