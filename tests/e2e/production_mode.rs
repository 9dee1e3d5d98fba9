//! Outside debug mode Herald refuses plain http and loopback or private addresses, for
//! deliveries and for fetches alike, even when a real server listens there.

use crate::harness::{instance::Options, FakeRemote, Tamper, TestInstance};
use herald::{
    db::{self, NewRemoteActor},
    guard,
};
use serde_json::json;
use std::time::Duration;
use url::Url;

/// Makes `https://remoteN.example/users/x`, whose inbox is `inbox`, a follower of `channel`
/// (as a malicious actor document could say).
async fn add_follower_at(herald: &TestInstance, channel: &db::Channel, n: usize, inbox: &str) {
    let actor = db::upsert_remote_actor(
        &herald.state().db,
        NewRemoteActor {
            uri: Url::parse(&format!("https://remote{n}.example/users/x")).unwrap(),
            inbox: Url::parse(inbox).unwrap(),
            shared_inbox: None,
            public_key_pem: "unused".into(),
            key_id: None,
            also_known_as: Vec::new(),
        },
    )
    .await
    .unwrap();
    db::add_follower(
        &herald.state().db,
        channel.id,
        &actor,
        "https://remote.example/f",
        false,
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_refuses_to_deliver_to_loopback_or_http() {
    let herald = TestInstance::with(Options {
        debug: false,
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = FakeRemote::start(false).await;
    let port = remote.domain.rsplit(':').next().unwrap().to_string();

    // Followers whose inboxes are a live server on loopback, reached three ways.
    let inboxes = [
        format!("http://localhost:{port}/users/a/inbox"),
        format!("https://127.0.0.1:{port}/users/b/inbox"),
        format!("https://localhost:{port}/users/c/inbox"),
    ];
    for (i, inbox) in inboxes.iter().enumerate() {
        add_follower_at(&herald, &channel, i, inbox).await;
    }

    let (status, post) = herald
        .post("ceo", Some(&token), &json!({"text": "hi"}))
        .await;
    assert_eq!(status, 201);
    let handled = herald.herald.worker().unwrap().drain().await.unwrap();
    assert_eq!(handled, 4, "one fan-out and three deliveries");

    let (_, delivery) = herald
        .get_json(
            &format!(
                "/api/v1/channels/ceo/posts/{}/delivery",
                post["id"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(delivery["counts"]["failed"], 3, "{delivery}");
    assert_eq!(delivery["counts"]["delivered"], 0);
    for failure in delivery["failures"].as_array().unwrap() {
        let error = failure["last_error"].as_str().unwrap();
        assert!(error.starts_with("refused:"), "{error}");
        assert_eq!(failure["attempts"], 1, "a refusal is not retried");
    }
    assert_eq!(
        remote.inbox_hits(),
        0,
        "nothing reached the loopback server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_refuses_to_fetch_from_loopback_or_http() {
    let herald = TestInstance::with(Options {
        debug: false,
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let remote = FakeRemote::start(true).await;
    let alice = remote.add_user("alice");

    // A correctly signed Follow whose actor lives on http://localhost: Herald must not
    // fetch the actor to check the signature.
    let follow = remote.follow(
        &alice,
        &Url::parse(&format!("https://{}/channels/ceo", herald.domain)).unwrap(),
    );
    let inbox = Url::parse(&herald.url("/channels/ceo/inbox")).unwrap();
    let (status, body) = remote
        .post_signed(&alice, &inbox, &follow.to_string(), Tamper::Nothing)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "url_refused");
    assert!(
        remote.fetch_key_ids().is_empty(),
        "Herald fetched from loopback"
    );
    assert_eq!(herald.follower_count(&channel).await, 0);

    // The HTTP client Herald uses in production refuses loopback addresses at connect
    // time, whatever the URL looked like before resolution.
    let client = guard::http_client(false, Duration::from_secs(2), "test").unwrap();
    let port = remote.domain.rsplit(':').next().unwrap();
    let error = client
        .get(format!("https://localhost:{port}/users/alice"))
        .send()
        .await
        .unwrap_err();
    assert!(guard::is_refusal(&error), "{error:?}");
    // In debug mode the same client connects.
    let debug_client = guard::http_client(true, Duration::from_secs(2), "test").unwrap();
    let response = debug_client
        .get(format!("http://localhost:{port}/users/alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

/// Listens on loopback (IPv4, and IPv6 where the machine has it) on one port and counts
/// the connections it accepts: the proof that nothing connected.
struct ConnectionRecorder {
    port: u16,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ConnectionRecorder {
    async fn start() -> ConnectionRecorder {
        let v4 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = v4.local_addr().unwrap().port();
        let v6 = tokio::net::TcpListener::bind(("::1", port)).await.ok();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for listener in std::iter::once(v4).chain(v6) {
            let connections = connections.clone();
            tokio::spawn(async move {
                while let Ok((_socket, _)) = listener.accept().await {
                    connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
        ConnectionRecorder { port, connections }
    }

    fn count(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A host name (not `localhost`) that this machine resolves to a loopback address, when
/// it has one: its own host name usually is, in /etc/hosts.
async fn name_resolving_to_loopback() -> Option<String> {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    for name in [hostname.trim(), "ip6-localhost", "ip6-loopback"] {
        if name.is_empty() || name.contains("localhost") && !name.starts_with("ip6") {
            continue;
        }
        if let Ok(addrs) = tokio::net::lookup_host((name, 0)).await {
            let addrs: Vec<_> = addrs.collect();
            if !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()) {
                return Some(name.to_string());
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_mode_never_connects_to_private_addresses() {
    let recorder = ConnectionRecorder::start().await;
    let port = recorder.port;
    let herald = TestInstance::with(Options {
        debug: false,
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = FakeRemote::start(true).await;
    let signer = remote.add_user("mallory");
    let mut bases = vec![
        format!("https://127.0.0.1:{port}"),
        "https://10.0.0.1".to_string(),
        "https://169.254.169.254".to_string(),
        "https://100.64.0.1".to_string(),
        format!("https://[::1]:{port}"),
        format!("https://[::ffff:127.0.0.1]:{port}"),
        format!("https://localhost:{port}"),
        format!("https://x.localhost:{port}"),
    ];
    match name_resolving_to_loopback().await {
        Some(name) => bases.push(format!("https://{name}:{port}")),
        None => eprintln!("no host name resolves to loopback here; that case is skipped"),
    }
    let channel_url = format!("https://{}/channels/ceo", herald.domain);
    let inbox: Url = herald.url("/channels/ceo/inbox").parse().unwrap();

    // Follows whose actors live there: refused before (IP literals) or at (names) the
    // connection, which never happens.
    for base in &bases {
        let follow = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{base}/follows/1"),
            "type": "Follow",
            "actor": format!("{base}/users/a"),
            "object": channel_url,
        });
        let (status, body) = remote
            .post_signed(&signer, &inbox, &follow.to_string(), Tamper::Nothing)
            .await;
        let code = body["error"]["code"].as_str().unwrap_or("");
        assert!(
            (status == 400 && code == "url_refused")
                || (status == 401 && code == "actor_unverifiable"),
            "{base}: {status} {body}"
        );
    }
    assert_eq!(herald.follower_count(&channel).await, 0);

    // Followers whose inboxes are there (as a malicious actor document could say).
    for (i, base) in bases.iter().enumerate() {
        add_follower_at(&herald, &channel, i, &format!("{base}/inbox")).await;
    }
    let (status, post) = herald
        .post("ceo", Some(&token), &json!({"text": "hi"}))
        .await;
    assert_eq!(status, 201);
    herald.herald.worker().unwrap().drain().await.unwrap();
    let (_, delivery) = herald
        .get_json(
            &format!(
                "/api/v1/channels/ceo/posts/{}/delivery",
                post["id"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(delivery["counts"]["failed"], bases.len(), "{delivery}");
    for failure in delivery["failures"].as_array().unwrap() {
        let error = failure["last_error"].as_str().unwrap();
        assert!(error.starts_with("refused:"), "{error}");
    }
    assert_eq!(recorder.count(), 0, "something connected to loopback");
}

/// A redirect chain on loopback: `/r/N` redirects to `/r/N-1`, `/r/0` answers.
async fn redirector() -> (String, actix_web::dev::ServerHandle) {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(|| {
        App::new().route(
            "/r/{n}",
            web::get().to(|n: web::Path<u32>| async move {
                match n.into_inner() {
                    0 => HttpResponse::Ok().body("here"),
                    n => HttpResponse::Found()
                        .insert_header(("Location", format!("/r/{}", n - 1)))
                        .finish(),
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://localhost:{port}"), handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_follow_few_redirects_and_deliveries_none() {
    let (base, _server) = redirector().await;
    // (Debug mode, to reach loopback at all: which targets a redirect may name outside it
    // is `guard::check_redirect`'s unit test.)
    let fetch = guard::fetch_client(true, Duration::from_secs(2), "test").unwrap();
    let response = fetch.get(format!("{base}/r/3")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let error = fetch.get(format!("{base}/r/4")).send().await.unwrap_err();
    assert!(guard::is_refusal(&error), "{error:?}");
    let deliver = guard::http_client(true, Duration::from_secs(2), "test").unwrap();
    let response = deliver.get(format!("{base}/r/1")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
}
