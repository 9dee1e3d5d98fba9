//! The pages in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them). Each page is loaded at
//! desktop and phone width; the test asserts what a reader sees, that no request left the
//! origin (the browser's own resource timing entries), that the browser logged no error,
//! that nothing overflows a phone's width, and saves screenshots under
//! `target/tmp/screenshots/`.
//!
//! The WebDriver calls are a few JSON requests, made here with reqwest.

use crate::harness::TestInstance;
use base64::Engine;
use serde_json::{json, Value};
use std::{process::Child, time::Duration};

struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session; `None` when they are not
    /// installed (outside CI; in CI that fails the test).
    async fn start() -> Option<Browser> {
        let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(driver_path) = driver_path else {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromedriver is missing: .ci/run installs chromium-driver"
            );
            eprintln!("chromedriver is not installed: the browser test is skipped");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = std::process::Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        crate::harness::eventually("chromedriver answers", Duration::from_secs(20), || {
            let http = http.clone();
            let url = format!("{base}/status");
            async move {
                let status: Value = http.get(url).send().await.ok()?.json().await.ok()?;
                (status["value"]["ready"] == true).then_some(())
            }
        })
        .await;
        let profile = tempfile::tempdir().unwrap();
        let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromium is installed with its driver");
        let session: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": binary,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--disable-default-apps",
                        format!("--user-data-dir={}", profile.path().display()),
                    ],
                },
                "goog:loggingPrefs": {"browser": "ALL"},
            }}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = session["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {session}"))
            .to_string();
        Some(Browser {
            driver,
            base,
            session,
            http,
            _profile: profile,
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        assert!(
            answer["value"].get("error").is_none(),
            "WebDriver {path}: {answer}"
        );
        answer["value"].clone()
    }

    async fn size(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The WebDriver id of the element `css` selects.
    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    /// Types `text` into the element `css` selects (for a file input: a file's path).
    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// What `location.href` and the resources the page loaded came from must be
    /// `origin`; the browser logged no error; nothing overflows the window's width.
    async fn check_page(&self, name: &str, origin: &str) {
        let requests = self
            .run("return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name))")
            .await;
        for request in requests.as_array().unwrap() {
            let request = request.as_str().unwrap();
            assert!(
                request.starts_with(origin),
                "{name}: a request left the origin: {request}"
            );
        }
        let errors = self.errors().await;
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let overflow = self
            .run("return document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{name} overflows by {overflow}"
        );
    }

    /// Waits (a form's answer loading) until `script` returns something other than
    /// `null`, and returns it.
    async fn wait_for(&self, what: &str, script: &str) -> Value {
        crate::harness::eventually(what, Duration::from_secs(10), || async {
            let value = self.run(script).await;
            (!value.is_null()).then_some(value)
        })
        .await
    }

    async fn run(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    async fn screenshot(&self, name: &str) {
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 2000, "{name}");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The browser's log entries since the last call (errors, CSP violations …).
    async fn errors(&self) -> Vec<Value> {
        let logs = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        logs.as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|entry| entry["level"] == "SEVERE" || entry["level"] == "WARNING")
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_a_real_browser_load_nothing_from_elsewhere() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let herald = TestInstance::start().await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let (status, body, _) = herald
        .api(
            &token,
            reqwest::Method::PATCH,
            "/api/v1/channels/ceo",
            Some(json!({
                "display_name": "Chief Executive",
                "fields": [{"name": "Website", "value": "https://example.com/a-rather-long-path/that-should-wrap-on-a-phone"}],
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let media = herald.upload_image(&token, "The launch pad").await;
    let (_, post) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "We launch **today**. #launch", "media_ids": [media["id"]]}),
        )
        .await;
    let (_, warned) = herald
        .post(
            "ceo",
            Some(&token),
            &json!({"text": "The numbers are in.", "summary": "Quarterly figures"}),
        )
        .await;

    let pages = [
        (
            "channel",
            herald.url("/@ceo"),
            vec![
                "Chief Executive",
                "We launch today.",
                "Follow Chief Executive",
                "Website",
            ],
        ),
        (
            "post",
            herald.url(&format!("/@ceo/{}", post["id"].as_str().unwrap())),
            vec!["We launch today.", "The launch pad"],
        ),
        (
            "warning",
            herald.url(&format!("/@ceo/{}", warned["id"].as_str().unwrap())),
            vec!["Quarterly figures"],
        ),
        (
            "follow",
            herald.url("/@ceo/follow"),
            vec!["Your account", "Follow"],
        ),
        ("home", herald.url("/"), vec!["@ceo"]),
    ];
    let origin = herald.url("");
    for (width, height, device) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        browser.size(width, height).await;
        for (name, url, visible) in &pages {
            browser.goto(url).await;
            let text = browser.run("return document.body.innerText").await;
            let text = text.as_str().unwrap();
            for expected in visible {
                assert!(
                    text.contains(expected),
                    "{name} ({device}): {expected:?} not in {text:?}"
                );
            }
            browser
                .check_page(&format!("{name} ({device})"), &origin)
                .await;
            browser.screenshot(&format!("{name}-{device}")).await;
        }
    }
    // The content warning hides the text until opened; the image has its alt text.
    browser.goto(&pages[2].1).await;
    let hidden = browser
        .run("return document.querySelector('details').open")
        .await;
    assert_eq!(hidden, json!(false));
    browser.goto(&pages[1].1).await;
    let alt = browser
        .run("return document.querySelector('article img').alt")
        .await;
    assert_eq!(alt, json!("The launch pad"));
    // The stylesheet loaded (from this origin): the page has its colours.
    let loaded = browser
        .run(
            "return document.styleSheets.length > 0 && document.styleSheets[0].cssRules.length > 0",
        )
        .await;
    assert_eq!(loaded, json!(true));
}

/// The team console as a person uses it: sign in, write a post with an image and its alt
/// text, watch the live preview follow the text, publish; the follower's server gets the
/// Create signed by the channel, and the post list shows it delivered. At desktop and
/// phone width, nothing loaded from elsewhere, no console error, screenshots saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let f =
        crate::harness::followed(crate::harness::instance::Options::default(), true, "alice").await;
    let herald = &f.herald;
    let channel = herald::db::channel_by_name(&herald.state().db, "ceo")
        .await
        .unwrap();
    herald
        .person(
            "jane@example.com",
            "Jane Doe",
            &channel,
            herald::db::Role::Editor,
        )
        .await;
    herald.worker().drain().await.unwrap();
    let origin = herald.url("");
    let image = concat!(env!("CARGO_MANIFEST_DIR"), "/media/gps.jpg");

    browser.size(1280, 1000).await;
    browser.goto(&herald.url("/console/sign-in")).await;
    browser.check_page("sign-in", &origin).await;
    browser.screenshot("console-sign-in-desktop").await;
    browser.type_into("#email", "jane@example.com").await;
    browser
        .type_into("#password", crate::harness::console::PASSWORD)
        .await;
    browser.click("form.console-form button[type=submit]").await;
    browser
        .wait_for(
            "the console's home",
            "return location.pathname === '/console' ? true : null",
        )
        .await;
    browser.goto(&herald.url("/console/channels/ceo")).await;
    browser.check_page("composer", &origin).await;

    // The live preview follows the text as it is typed (the page's own script).
    browser
        .type_into("#text", "Our new office opens **Monday**. #office")
        .await;
    let live = browser
        .wait_for(
            "the live preview shows the text",
            "const html = document.getElementById('live-preview').innerHTML; return html.includes('<strong>Monday</strong>') ? html : null",
        )
        .await;
    let live = live.as_str().unwrap();
    assert!(
        live.contains("mastodon-preview") && live.contains("@ceo@"),
        "{live}"
    );

    // An image with its alt text, previewed with the button: the card shows both.
    browser.type_into("#image0", image).await;
    browser.type_into("#alt0", "A desk by a tall window").await;
    browser.click("button[value=preview]").await;
    let alt = browser
        .wait_for(
            "the preview with the image",
            "const img = document.querySelector('#live-preview .preview-media img'); return img && img.alt",
        )
        .await;
    assert_eq!(alt, json!("A desk by a tall window"));
    browser.check_page("preview", &origin).await;
    browser.screenshot("console-preview-desktop").await;
    browser.size(390, 844).await;
    browser.check_page("preview (phone)", &origin).await;
    browser.screenshot("console-preview-phone").await;

    // Publish: the follower's server gets the Create, signed by the channel's key.
    browser.click("button[value=publish]").await;
    browser
        .wait_for(
            "the post's page",
            "return document.body.innerText.includes('Posted: it is on its way') ? true : null",
        )
        .await;
    herald.worker().drain().await.unwrap();
    let create =
        crate::harness::eventually("the Create arrives", Duration::from_secs(10), || async {
            f.remote.received_of("Create").into_iter().next()
        })
        .await;
    assert_eq!(create.key_id, herald.url("/channels/ceo#main-key"));
    let note = &create.activity["object"];
    assert!(
        note["content"]
            .as_str()
            .unwrap()
            .contains("<strong>Monday</strong>"),
        "{note}"
    );
    assert_eq!(note["attachment"][0]["name"], "A desk by a tall window");

    // The post list shows it delivered.
    browser.goto(&herald.url("/console/channels/ceo")).await;
    let listed = browser
        .run("return document.querySelector('ul.post-list .delivered').innerText")
        .await;
    assert_eq!(listed, json!("1 delivered"));
    browser.check_page("posts (phone)", &origin).await;
    browser.screenshot("console-posts-phone").await;
    browser.size(1280, 1000).await;
    browser.screenshot("console-posts-desktop").await;
}
