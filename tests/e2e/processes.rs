//! Herald as separate processes on one database and Redis: `herald worker` ×2 share the
//! queue without double delivery, two `herald serve --no-workers` answer as one instance
//! beside two workers (and one can die), and `herald deliveries` shows and mends it.

use crate::harness::{
    eventually, instance::Options, Backend, FakeRemote, Mode, TestInstance, WAIT,
};
use serde_json::{json, Value};
use std::{net::SocketAddr, process::Child, time::Duration};

/// A child process killed (SIGKILL) when dropped, even if the test panics.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_deliver_each_post_once() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    let inbox: url::Url = herald.url("/channels/ceo/inbox").parse().unwrap();
    let mut remotes = Vec::new();
    for shared in [true, false, true, false, true, false] {
        let remote = FakeRemote::start(shared).await;
        for name in ["a", "b"] {
            let user = remote.add_user(name);
            remote
                .send(&user, remote.follow(&user, &actor), &inbox)
                .await;
        }
        remotes.push(remote);
    }
    let workers = [
        Killed(herald.spawn_herald(&["worker"], &[])),
        Killed(herald.spawn_herald(&["worker"], &[])),
    ];
    // Shared-inbox servers get one Create, the others one per follower.
    let expected = |shared: bool| if shared { 1 } else { 2 };
    for text in ["one", "two", "three"] {
        let (status, _) = herald
            .post("ceo", Some(&token), &json!({ "text": text }))
            .await;
        assert_eq!(status, 201);
    }
    eventually("every server has every post", WAIT, || async {
        remotes
            .iter()
            .zip([true, false, true, false, true, false])
            .all(|(r, shared)| r.received_of("Create").len() == 3 * expected(shared))
            .then_some(())
    })
    .await;
    // Let anything duplicated arrive, then count again: exactly once each.
    herald.worker().drain().await.unwrap();
    for (remote, shared) in remotes.iter().zip([true, false, true, false, true, false]) {
        let creates = remote.received_of("Create");
        assert_eq!(creates.len(), 3 * expected(shared), "{}", remote.domain);
        let mut ids: Vec<_> = creates
            .iter()
            .map(|c| (c.path.clone(), c.activity["id"].to_string()))
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            ids.len(),
            creates.len(),
            "no duplicates at {}",
            remote.domain
        );
    }
    drop(workers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deliveries_command_shows_and_mends_the_queue() {
    let herald = TestInstance::with(Options {
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let remote = FakeRemote::start(false).await;
    let alice = remote.add_user("alice");
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    remote
        .send(
            &alice,
            remote.follow(&alice, &actor),
            &herald.url("/inbox").parse().unwrap(),
        )
        .await;
    let worker = herald.worker();
    worker.drain().await.unwrap();
    remote.set_mode(Mode::Status(403));
    herald
        .post("ceo", Some(&token), &json!({"text": "one"}))
        .await;
    herald
        .post("ceo", Some(&token), &json!({"text": "two"}))
        .await;
    worker.drain().await.unwrap();

    let (code, out, err) = herald.run_herald(&["deliveries", "status"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("failed (dead letters) 2"), "{out}");
    assert!(out.contains("delivered             1"), "{out}");

    // Retry the dead letters once the server takes them.
    remote.set_mode(Mode::Accept);
    let (code, out, err) = herald.run_herald(&["deliveries", "retry", "--server", &remote.domain]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("2 dead letter(s) queued again"), "{out}");
    worker.drain().await.unwrap();
    assert_eq!(remote.received_of("Create").len(), 2);

    // Drop a dead letter.
    remote.set_mode(Mode::Status(400));
    herald
        .post("ceo", Some(&token), &json!({"text": "three"}))
        .await;
    worker.drain().await.unwrap();
    let (code, out, _) = herald.run_herald(&["deliveries", "drop"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("1 dead letter(s) deleted"), "{out}");
    let (_, out, _) = herald.run_herald(&["deliveries", "status"]);
    assert!(out.contains("failed (dead letters) 0"), "{out}");
}

/// A `herald serve --no-workers` process on its own port, answering as the instance (same
/// domain), as one of several web processes behind a load balancer.
struct WebProcess {
    address: SocketAddr,
    host: String,
    client: reqwest::Client,
    process: Killed,
}

impl WebProcess {
    fn spawn(herald: &TestInstance) -> WebProcess {
        let address = SocketAddr::from(([127, 0, 0, 1], crate::harness::free_port()));
        let listen = address.to_string();
        let process = Killed(herald.spawn_herald(
            &["serve", "--no-workers"],
            &[("HERALD_LISTEN", listen.as_str())],
        ));
        WebProcess {
            address,
            host: herald.domain.clone(),
            client: reqwest::Client::new(),
            process,
        }
    }

    /// A request to this process, with the instance's name in `Host`.
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("http://{}{path}", self.address))
            .header("Host", &self.host)
    }

    async fn ready(&self) -> bool {
        match self.request(reqwest::Method::GET, "/readyz").send().await {
            Ok(response) => response.status().as_u16() == 200,
            Err(_) => false,
        }
    }

    /// Posts `text` to channel `ceo`; returns the post's id.
    async fn post(&self, token: &str, text: &str) -> String {
        let (status, post) = self.post_json(token, json!({ "text": text }), None).await;
        assert_eq!(status, 201, "post {text:?}: {post}");
        post["id"].as_str().unwrap().to_string()
    }

    /// Posts `body` to channel `ceo` with an `Idempotency-Key` when given; returns
    /// (status, body).
    async fn post_json(&self, token: &str, body: Value, key: Option<&str>) -> (u16, Value) {
        let mut request = self
            .request(reqwest::Method::POST, "/api/v1/channels/ceo/posts")
            .bearer_auth(token)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("web process answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        let mut request = self
            .request(reqwest::Method::GET, path)
            .header("Accept", "application/activity+json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("web process answers");
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        response.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_web_and_two_worker_processes_share_one_database_and_redis() {
    // PostgreSQL, the production setup for several processes, when a server is configured
    // (HERALD_TEST_DATABASE_URL); SQLite (one file, WAL) otherwise.
    let backend = if Backend::postgres_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    // The instance's own in-process web server takes no part: requests go to the two
    // web processes, deliveries to the two worker processes.
    let herald = TestInstance::with(Options {
        backend,
        workers: false,
        ..Options::default()
    })
    .await;
    let channel = herald.create_channel("ceo").await;
    let token = herald.token(&channel).await;
    let webs = [WebProcess::spawn(&herald), WebProcess::spawn(&herald)];
    let workers = [
        Killed(herald.spawn_herald(&["worker"], &[])),
        Killed(herald.spawn_herald(&["worker"], &[])),
    ];
    for web in &webs {
        eventually("the web process is ready", WAIT, || async {
            web.ready().await.then_some(())
        })
        .await;
    }

    // Follows arrive alternately at web 1 and web 2, at the channel's and the shared inbox.
    let actor: url::Url = herald.url("/channels/ceo").parse().unwrap();
    let inboxes: [url::Url; 2] = [
        herald.url("/channels/ceo/inbox").parse().unwrap(),
        herald.url("/inbox").parse().unwrap(),
    ];
    let shared = [true, false, true, false, true];
    let mut remotes = Vec::new();
    let mut sent = 0;
    for shared in shared {
        let remote = FakeRemote::start(shared).await;
        for name in ["a", "b"] {
            let user = remote.add_user(name);
            let web = &webs[sent % 2];
            let status = remote
                .send_via(
                    &user,
                    &remote.follow(&user, &actor),
                    &inboxes[(sent / 2) % 2],
                    web.address,
                )
                .await;
            assert!((200..300).contains(&status), "Follow answered {status}");
            sent += 1;
        }
        remotes.push(remote);
    }
    let followers = sent as u64;
    eventually("every Follow is stored", WAIT, || async {
        (herald.follower_count(&channel).await == followers).then_some(())
    })
    .await;

    // Posts, alternately through web 1 and web 2.
    let mut posted = Vec::new();
    for (i, text) in ["one", "two"].iter().enumerate() {
        posted.push(webs[i % 2].post(&token, text).await);
    }
    // A post sent with one Idempotency-Key to both at once (a client retrying through
    // the load balancer) is created once: the other answer replays it or says it is
    // still in progress.
    let three = json!({ "text": "three" });
    let (a, b) = tokio::join!(
        webs[0].post_json(&token, three.clone(), Some("retried")),
        webs[1].post_json(&token, three.clone(), Some("retried")),
    );
    let created: Vec<_> = [&a, &b].into_iter().filter(|(s, _)| *s == 201).collect();
    assert!(!created.is_empty(), "{a:?} {b:?}");
    assert!(
        [&a, &b].iter().all(|(s, _)| *s == 201 || *s == 409),
        "{a:?} {b:?}"
    );
    assert!(
        created.iter().all(|(_, p)| p["id"] == created[0].1["id"]),
        "one post: {a:?} {b:?}"
    );
    posted.push(created[0].1["id"].as_str().unwrap().to_string());
    posted.push(webs[1].post(&token, "four").await);
    // A post scheduled for a moment later: both workers' schedulers look for it, one
    // publishes it.
    let at = chrono::Utc::now() + chrono::Duration::seconds(2);
    let (status, scheduled) = webs[0]
        .post_json(&token, json!({ "text": "five", "scheduled_at": at }), None)
        .await;
    assert_eq!(status, 201, "{scheduled}");
    assert!(scheduled["published_at"].is_null(), "{scheduled}");
    posted.push(scheduled["id"].as_str().unwrap().to_string());
    // Shared-inbox servers get one Create per post, the others one per follower.
    let per_post = |shared: bool| if shared { 1usize } else { 2 };
    let everything_arrives = |posts: usize| {
        let remotes = &remotes;
        async move {
            eventually("every server has every Accept and post", WAIT, || async {
                remotes
                    .iter()
                    .zip(shared)
                    .all(|(r, shared)| {
                        r.received_of("Accept").len() == 2
                            && r.received_of("Create").len() == posts * per_post(shared)
                    })
                    .then_some(())
            })
            .await;
        }
    };
    everything_arrives(posted.len()).await;
    let all_delivered = |posts: u64| {
        let herald = &herald;
        async move {
            // Every follower's Accept plus every post's deliveries, all delivered.
            let per_post: usize = shared.iter().map(|s| per_post(*s)).sum();
            let deliveries = followers + posts * per_post as u64;
            eventually("every delivery is recorded as delivered", WAIT, || async {
                let counts = herald::db::delivery_counts(&herald.state().db, None)
                    .await
                    .unwrap();
                (counts["delivered"] == deliveries
                    && counts.iter().all(|(s, n)| s == "delivered" || *n == 0))
                .then_some(())
            })
            .await;
        }
    };
    all_delivered(posted.len() as u64).await;
    // Every delivery is recorded: a second send of any of them would be in flight now.
    // Give it a moment, then count again: exactly once each.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let exactly_once = |posts: usize| {
        for (remote, shared) in remotes.iter().zip(shared) {
            let accepts = remote.received_of("Accept");
            let mut paths: Vec<_> = accepts.iter().map(|a| a.path.clone()).collect();
            paths.sort();
            assert_eq!(
                paths,
                ["/users/a/inbox", "/users/b/inbox"],
                "one Accept per follower at {}",
                remote.domain
            );
            let creates = remote.received_of("Create");
            assert_eq!(
                creates.len(),
                posts * per_post(shared),
                "Creates at {}",
                remote.domain
            );
            let mut ids: Vec<_> = creates
                .iter()
                .map(|c| (c.path.clone(), c.activity["object"]["id"].to_string()))
                .collect();
            ids.sort();
            ids.dedup();
            assert_eq!(
                ids.len(),
                creates.len(),
                "no duplicates at {}",
                remote.domain
            );
        }
    };
    exactly_once(posted.len());

    // Both web processes list the same posts, newest first, through the API and the outbox.
    let api = "/api/v1/channels/ceo/posts";
    let lists = [
        webs[0].get_json(api, Some(&token)).await,
        webs[1].get_json(api, Some(&token)).await,
    ];
    assert_eq!(lists[0], lists[1]);
    let listed: Vec<_> = lists[0]["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        listed,
        posted.iter().rev().cloned().collect::<Vec<_>>(),
        "every post, newest first"
    );
    let outbox = webs[0].get_json("/channels/ceo/outbox", None).await;
    assert_eq!(outbox, webs[1].get_json("/channels/ceo/outbox", None).await);
    assert_eq!(outbox["totalItems"], posted.len());
    let first: url::Url = outbox["first"].as_str().unwrap().parse().unwrap();
    let page = format!("{}?{}", first.path(), first.query().unwrap_or_default());
    let pages = [
        webs[0].get_json(&page, None).await,
        webs[1].get_json(&page, None).await,
    ];
    assert_eq!(pages[0], pages[1]);
    assert_eq!(
        pages[0]["orderedItems"].as_array().unwrap().len(),
        posted.len()
    );

    // Web 1 dies (SIGKILL); web 2 carries on alone.
    let [mut web1, web2] = webs;
    web1.process.0.kill().unwrap();
    web1.process.0.wait().unwrap();
    assert!(!web1.ready().await, "web 1 is gone");
    posted.push(web2.post(&token, "six").await);
    everything_arrives(posted.len()).await;
    all_delivered(posted.len() as u64).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    exactly_once(posted.len());
    drop(workers);
}
