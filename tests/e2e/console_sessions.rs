//! Console sessions: one answer for an unknown email and a wrong password, the sign-in
//! limit and its delay, the cookie's attributes, expiry, signing out, sign-out-everywhere
//! and disabling.

use crate::harness::{console::PASSWORD, instance::Options, TestInstance};
use herald::db::{self, ConnectionTrait, Role};
use serde_json::json;
use std::time::Duration;

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

    // A new password from a sign-in link ends the sessions the old one began.
    let mut old_session = herald.console();
    old_session.sign_in("ed@example.com").await;
    let (code, link, err) = herald.run_herald(&["user", "link", "ed@example.com"]);
    assert_eq!(code, 0, "{err}");
    let path = link.trim().strip_prefix(&herald.base).unwrap().to_string();
    let fresh = "a brand new password";
    let page = herald
        .console()
        .post(&path, &[("password", fresh), ("again", fresh)])
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(old_session.get("/console").await.status, 303);
    let page = herald
        .console()
        .post(
            "/console/sign-in",
            &[("email", "ed@example.com"), ("password", fresh)],
        )
        .await;
    assert_eq!(page.status, 303);
    herald::people::set_password(
        &herald.state().db,
        page_user(&herald, "ed@example.com").await,
        PASSWORD,
    )
    .await
    .unwrap();

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

async fn page_user(herald: &TestInstance, email: &str) -> db::UserId {
    db::user_by_email(&herald.state().db, email)
        .await
        .unwrap()
        .id
}
